"""Run folders whose journals are written exactly per docs/journal.md with orchestrator.journal.Journal.

Until the engine produces real runs, these three runs (passed, failed, aborted on the
carrier-outage drill of the lab topology) stand in for it. They follow the engine's order:
every record up to the reports, then write_run_reports, then run.end binding the hashes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from support import require_tool  # noqa: F401 - re-exported for the report tests

from orchestrator.journal.chain import Journal, iso_ns, stamp

SECRET = "S3cr3t-Vault-Pa55"  # what a lab inventory would hold; must never reach an artifact
S = 1_000_000_000

TOPOLOGY = {
    "centres": [
        {"id": "FT", "role": "production", "name": {"zh": "福田中心", "en": "Futian centre"}},
        {"id": "NF", "role": "production", "name": {"zh": "南方中心", "en": "Nanfang centre"}},
        {"id": "BJ", "role": "dr", "name": {"zh": "北京（亦庄）异地灾备中心", "en": "Beijing (Yizhuang) DR centre"}},
    ],
    "carriers": [
        {"id": "CT", "name": {"zh": "中国电信", "en": "China Telecom"}},
        {"id": "CU", "name": {"zh": "中国联通", "en": "China Unicom"}},
        {"id": "CS", "name": {"zh": "中国卫通", "en": "China Satcom"}},
    ],
    "lines": [
        {"id": "ct-ft", "carrier": "CT", "centre": "FT", "mbps": 10, "port_layer": 3, "medium": "terrestrial",
         "preference": 10, "local_address": "127.1.1.1", "remote_address": "127.1.1.2"},
        {"id": "cu-nf", "carrier": "CU", "centre": "NF", "mbps": 10, "port_layer": 3, "medium": "terrestrial",
         "preference": 10, "local_address": "127.1.2.1", "remote_address": "127.1.2.2"},
        {"id": "ct-nf", "carrier": "CT", "centre": "NF", "mbps": 4, "port_layer": 3, "medium": "terrestrial",
         "preference": 20, "local_address": "127.1.3.1", "remote_address": "127.1.3.2"},
        {"id": "sat-1", "carrier": "CS", "centre": "FT", "mbps": 2, "port_layer": 3,
         "medium": "satellite-oneway", "preference": 90, "local_address": "127.1.4.1",
         "remote_address": "127.1.4.2"},
    ],
    "gateways": [
        {"id": "W000000T", "kind": "trading", "home_centre": "FT", "satellite_only": False},
        {"id": "W000001T", "kind": "trading", "home_centre": "NF", "satellite_only": False},
        {"id": "W00002TF", "kind": "market_data", "home_centre": "FT", "satellite_only": False},
        {"id": "W00003TF", "kind": "market_data", "home_centre": "NF", "satellite_only": False},
        {"id": "W00004JS", "kind": "settlement", "home_centre": "FT", "satellite_only": False},
    ],
    "multicast": {"line": "sat-1"},
}

# (gateway, service, affected, detected +s, restored +s, centre after) relative to the fault.
PASSED_SWITCHES = [
    ("W000000T", "trading", True, 2.0, 3.25, "NF"),
    ("W000001T", "trading", False, None, None, "NF"),
    ("W00002TF", "market_data", True, 0.5, 0.6, "NF"),
    ("W00003TF", "market_data", False, None, None, "NF"),
    ("W00004JS", "settlement", True, 2.0, 4.5, "NF"),
]
TARGETS = {"trading": 30.0, "market_data": 10.0, "settlement": 60.0}


@dataclass(frozen=True)
class FixtureRun:
    run_dir: Path
    outcome: str
    fault_ns: int
    measures: list[dict]
    report_hashes: dict[str, str]


def write_run(root: Path, outcome: str = "passed", *, lang: str = "en", finish: bool = True) -> FixtureRun:
    """A carrier-outage run in root/2026/<run-id>/ whose outcome is passed, failed, aborted or
    inconclusive (a not applicable and a not tested objective)."""
    from orchestrator.reports import write_run_reports

    base = time.time_ns()
    run_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(base // S))}-carrier-outage-{outcome[:2]}{base % 9999:04d}"
    run_dir = root / "2026" / run_id
    j = Journal(run_dir / "journal.jsonl", run_id)
    fault = base + 5 * S

    def at(offset: float, source: str, unc: float = 50.0) -> dict:
        return stamp(fault + int(offset * S), source, unc)

    j.append("run.start", {
        "drill": {"id": "carrier-outage", "title": {"zh": "单运营商故障演练", "en": "Single-carrier outage"},
                  "sha256": "a" * 64, "spec": ["R-NET-1"], "cadence": "quarterly"},
        "params": {"carrier": "CT", "mode": "blackhole", "hold": "5s"},
        "inventory": {"path": "inventories/lab", "environment": "lab", "kind": "lab",
                      "timezone": "Asia/Shanghai", "sha256": "b" * 64, "retention_days": 366},
        "playbooks": {"line.yml": "c" * 64, "verify.yml": "d" * 64},
        "git": {"commit": "0123456789abcdef0123456789abcdef01234567", "dirty": False},
        "operator": "张伟", "os_user": "ops", "host": "drill-ctl", "pid": 4242,
        "ticket": "CHG-2026-1125", "approver": "李娜", "unattended": False,
        "versions": {"drill": "0.1.0", "python": "3.11.7", "ansible_core": "2.19.0", "ansible_runner": "2.4.0"},
        "targets": {"rto_s": TARGETS, "no_double_login": True, "cutover_limit_s": None,
                    "cutover_firm_s": None},
        "plan": [{"phase": "fault", "index": 0, "name": {"zh": "切断运营商 CT 的全部线路",
                                                         "en": "Cut every line of carrier CT"}}],
        "topology": TOPOLOGY,
    })

    def phase(name: str, start: int, end: int, status: str = "ok") -> None:
        j.append("phase.start", {"phase": name, "started": stamp(start, "engine")})
        j.append("phase.end", {"phase": name, "status": status, "started": stamp(start, "engine"),
                               "ended": stamp(end, "engine"), "duration_s": (end - start) / S})

    def step(ph: str, idx: int, zh: str, en: str, kind: str, automated: bool, start: int, end: int,
             status: str = "ok", error: str | None = None, body=None) -> None:
        common = {"phase": ph, "index": idx, "name": {"zh": zh, "en": en}, "step_kind": kind,
                  "automated": automated, "started": stamp(start, "engine")}
        j.append("step.start", {**common, "detail": {}})
        if body:
            body()
        j.append("step.end", {**common, "status": status, "ended": stamp(end, "engine"),
                              "duration_s": (end - start) / S, "error": error})

    step("precheck", 0, "确认全部网关已登录", "Every gateway logged in", "verify", True, base, base + S)
    phase("precheck", base, base + S)
    checks = [{"gateway": g["id"], "check": "logged_in_once", "ok": True, "detail": "1 session"}
              for g in TOPOLOGY["gateways"]]
    j.append("steady_state", {"when": "gate", "ok": True, "checks": checks})

    def cut() -> None:
        for line in ("ct-ft", "ct-nf"):
            j.append("ansible.task", {"step": "fault[0]", "host": "lab", "task": f"Line {line} down",
                                      "action": "ansible.builtin.command", "status": "changed",
                                      "started": stamp(fault - S // 10, "engine"),
                                      "ended": stamp(fault, "engine"),
                                      "duration_s": 0.1, "effective_ns": fault, "msg": "<redacted>"})
        j.append("fault.effective", {"step": "fault[0]", "effect": {"lines_down": ["ct-ft", "ct-nf"],
                                                                    "mode": "blackhole"},
                                     "at": at(0, "fault-task", 1.0),
                                     "affected": {"W000000T": ["trading"], "W00002TF": ["market_data"],
                                                  "W00004JS": ["settlement"]}})

    step("fault", 0, "切断运营商 CT 的全部线路", "Cut every line of carrier CT", "playbook", True,
         fault - S // 5, fault + S // 10, body=cut)

    def ack() -> None:
        j.append("operator.ack", {"step": "fault[1]", "operator": "王芳", "at": at(0.3, "operator", 0),
                                  "unattended": False, "how": "prompt"})

    step("fault", 1, "确认已通知运营商", "Confirm the carrier was told", "manual", False,
         fault + S // 5, fault + S // 2, body=ack)
    phase("fault", fault - S // 5, fault + S // 2)

    switches = [list(s) for s in PASSED_SWITCHES]
    if outcome == "failed":
        switches[0][4] = 34.75  # trading W000000T back after the 30 s target
    aborted = outcome == "aborted"
    measures = []
    rec_end = fault + int(max(s[4] or 0 for s in switches) * S) + S
    def gw_event(gw: str, kind: str, offset: float, **data) -> None:
        ns = fault + int(offset * S)
        j.append("gateway.event", {"seq": 0, "ts": iso_ns(ns), "ts_ns": ns, "gateway": gw, "type": kind,
                                   "data": data, "received_ns": ns + 1_000_000}, sync=False)

    for gw, svc, affected, det, rest, _after in switches:
        if not affected:
            continue
        # drill's own first failing sample (probe.transition ok -> fail), then the gateway's events.
        j.append("probe.transition", {"gateway": gw, "service": svc, "probe": "http-json", "from": "ok",
                                      "to": "fail", "at": at(det + 0.05, "probe-sample")})
        if svc == "market_data":
            gw_event(gw, "md_flow", det, state="stalled", channel=1, seq=100, source="tcp")
            gw_event(gw, "md_source", rest, **{"from": "tcp", "to": "multicast"})
            gw_event(gw, "md_flow", rest, state="flowing", channel=1, seq=101, source="multicast")
        else:
            gw_event(gw, "link_down", det, reason="heartbeat_timeout", centre="FT")
            gw_event(gw, "login", rest if svc == "trading" else rest - 1, centre="NF", address="127.50.101.30",
                     session_id="s2")
            if svc == "settlement":
                gw_event(gw, "transfer", rest, ok=True, file="test.dat", bytes=65536, variant="std", centre="NF")
    j.sync()
    if aborted:
        # Blast radius grew: a gateway not on the failed path lost service.
        gw_event("W000001T", "link_down", 1.5, reason="heartbeat_timeout", centre="NF")
        j.append("abort", {"reason": "blast_radius: W000001T lost trading (not on the failed path)",
                           "phase": "recovery", "step": "recovery[0]"})
    for gw, svc, affected, det, rest, after in switches:
        if aborted and gw == "W000001T":
            affected, det, rest = True, 1.5, None
        interruption = None if rest is None and affected else (rest if affected else 0.0)
        target = TARGETS[svc]
        m = {"gateway": gw, "service": svc, "affected": affected,
             "centre_before": "FT" if gw in ("W000000T", "W00002TF", "W00004JS") else "NF",
             "centre_after": after,
             "link_lost": at(0, "fault-task", 1.0) if affected else None,
             "detected": at(det, "gateway-monitor", 0.0) if affected and det is not None else None,
             "observed": at(det + 0.05, "probe-sample", 50.0) if affected and det is not None else None,
             "restored": at(rest, "gateway-monitor", 0.0) if affected and rest is not None else None,
             "interruption_s": interruption, "target_s": target,
             "passed": interruption is not None and interruption <= target, "phase": "failover"}
        j.append("measure", m)
        measures.append(m)
    rec_status = "aborted" if aborted else ("failed" if outcome == "failed" else "ok")
    step("recovery", 0, "等待全部网关恢复", "Wait for every gateway to recover", "wait", True,
         fault + S // 2, rec_end, status=rec_status,
         error="abort: blast radius" if aborted else ("timeout after 30s" if outcome == "failed" else None))
    phase("recovery", fault + S // 2, rec_end, status=rec_status)

    restore_at = rec_end + S

    def restore() -> None:
        j.append("ansible.task", {"step": "restore[0]", "host": "lab", "task": "Lines up",
                                  "action": "ansible.builtin.command", "status": "changed",
                                  "started": stamp(restore_at - S // 10, "engine"),
                                  "ended": stamp(restore_at, "engine"),
                                  "duration_s": 0.1, "effective_ns": restore_at, "msg": ""})
        j.append("fault.effective", {"step": "restore[0]", "effect": {"lines_up": ["ct-ft", "ct-nf"]},
                                     "at": stamp(restore_at, "fault-task", 1.0), "affected": {}})

    step("restore", 0, "恢复运营商 CT 的全部线路", "Restore every line of carrier CT", "playbook", True,
         restore_at - S // 5, restore_at + S // 10, body=restore)
    phase("restore", restore_at - S // 5, restore_at + S // 10)
    gw_event("W00002TF", "md_source", (restore_at - fault) / S + 1, **{"from": "multicast", "to": "tcp"})
    if aborted:
        gw_event("W000001T", "login", (restore_at - fault) / S + 2, centre="NF", address="127.50.101.30",
                 session_id="s3")
    j.append("steady_state", {"when": "after", "ok": True, "checks": checks})
    j.append("probe.summary", {"gateway": "W000000T", "service": "trading", "probe": "http-json",
                               "samples": 1200, "failures": 64, "period_ms": 50})
    rto = {svc: max((m["interruption_s"] or 0.0) for m in measures if m["service"] == svc)
           for svc in TARGETS}
    untested = outcome == "inconclusive"  # issue 13: one not applicable, one not tested
    for svc, target in TARGETS.items():
        if untested and svc == "settlement":
            j.append("objective", {"name": f"{svc}.rto", "target": f"<= {target:g} s", "measured": None,
                                   "passed": False, "state": "not_applicable",
                                   "detail": "no gateway of this service was on the failed path"})
            continue
        j.append("objective", {"name": f"{svc}.rto", "target": f"<= {target:g} s",
                               "measured": f"{rto[svc]:.3f} s", "passed": rto[svc] <= target and not aborted,
                               "detail": ""})
    if outcome == "unexpected":  # issue 13: a service the drill did not name was interrupted
        j.append("objective", {"name": "unexpected.settlement", "target": 0, "measured": 4.2,
                               "passed": False, "state": "failed",
                               "detail": "interrupted, but the drill neither names this service nor "
                                         "declares its interruption expected: W00004JS (4.200s)"})
    if untested:
        j.append("objective", {"name": "no_double_login", "target": "0", "measured": None, "passed": False,
                               "state": "not_tested", "detail": "session table not visible"})
    else:
        j.append("objective", {"name": "no_double_login", "target": "0", "measured": "0", "passed": True,
                               "detail": ""})
    ev = run_dir / "evidence" / "files" / "lab" / "server_list.xml"
    ev.parent.mkdir(parents=True, exist_ok=True)
    ev.write_text("<server password=\"<redacted>\"/>\n")
    j.append("evidence.file", {"path": "evidence/files/lab/server_list.xml", "sha256": "e" * 64,
                               "source": {"host": "lab", "path": "/etc/gw/server_list.xml"},
                               "redacted": True, "original_sha256": "f" * 64})
    hashes = write_run_reports(run_dir, lang=lang, journal_digest=j.digest)
    if finish:
        status = "failed" if outcome == "unexpected" else outcome
        j.append("run.end", {"status": status,
                             "exit_code": {"passed": 0, "failed": 1, "aborted": 3, "inconclusive": 5,
                                           "unexpected": 1}[outcome],
                             "summary": f"{outcome}: carrier CT cut and restored", "rto_s": rto,
                             "artifacts": {**hashes,
                                                                      "evidence/files/lab/server_list.xml": "e" * 64}})
    j.close()
    return FixtureRun(run_dir, outcome, fault, measures, hashes)
