"""Compliance with the SSCC access spec: readiness check, cadence, schedule, retention, summary.

One small module per concern (docs/compliance.md):
`clauses` (row model), `static` and `live` (drill check), `cadence` (drill due),
`windows` (change windows), `schedule` (systemd/cron units), `retention` (drill prune),
`summary` (yearly filing).
"""
