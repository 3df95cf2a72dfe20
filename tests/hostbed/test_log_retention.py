"""R-SEC-2 on the bed: `drill check --live` reads each gateway host's and the log server's
retention settings over drill's SSH and fails the host whose settings keep 30 days.

The bed's hosts share this machine's file system, so each host's settings live in its own
folder and the inventory says where (the `drill_logrotate_conf`, `drill_journald_conf`,
`drill_cron_files` and `drill_syslog_files` host variables a firm uses for a host whose
settings are not in /etc)."""

from __future__ import annotations

import json

import pytest
import yaml
from hostbed import bed as bedlib
from hostbed.inventory import inventory_doc, trust_all

from orchestrator.cli import main

pytestmark = pytest.mark.netns


def _settings(h: bedlib.BedHost, rotate: str, journald: str | None) -> dict:
    etc = h.dir / "etc"
    (etc / "logrotate.d").mkdir(parents=True, exist_ok=True)
    (h.dir / "log").mkdir(exist_ok=True)
    (h.dir / "log" / "syslog").write_text("")
    (etc / "logrotate.conf").write_text(
        "# as shipped\nweekly\nrotate 4\ncreate\n\n"
        f"include {etc}/logrotate.d\n")
    (etc / "logrotate.d" / "sscc-gw").write_text(rotate)
    out = {"drill_logrotate_conf": str(etc / "logrotate.conf"),
           "drill_journald_conf": str(etc / "journald.conf"),
           "drill_cron_files": [str(etc / "cron.d")],
           "drill_syslog_files": [str(h.dir / "log" / "syslog"), str(h.dir / "log" / "messages")]}
    if journald is not None:
        (etc / "journald.conf").write_text(journald)
    return out


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """The extended bed (gw and gw2), settings on gw (a year), gw2 (30 days) and the log
    server (the bastion: a cleanup cron and a declared retention); `drill check --live`."""
    from hostbed.conftest import _require_bed_tools

    _require_bed_tools()
    root = tmp_path_factory.mktemp("logbed")
    bed = bedlib.build(root / "bed", extended=True)
    try:
        gw, gw2, logsrv = bed.host("gw"), bed.host("gw2"), bed.host("bastion")
        year = (f"{gw.dir}/log/*.log {{\n    monthly\n    rotate 12\n    compress\n    postrotate\n"
                f"        kill -HUP $(cat /run/gw.pid) || true  # }}\n    endscript\n}}\n"
                f"{gw.dir}/log/syslog\n{{\n    daily\n    rotate 400\n}}\n")
        month = f"{gw2.dir}/log/*.log {gw2.dir}/log/syslog {{\n    daily\n    rotate 30\n    missingok\n}}\n"
        hv = {"gw": _settings(gw, year, "[Journal]\nStorage=persistent\nMaxRetentionSec=1year\n"),
              "gw2": _settings(gw2, month, None)}
        (logsrv.dir / "etc" / "cron.d").mkdir(parents=True)
        (logsrv.dir / "etc" / "cron.d" / "log-cleanup").write_text(
            f"15 3 * * * root find {logsrv.dir}/remote -type f -name '*.log' -mtime +399 -delete\n")
        (logsrv.dir / "etc" / "log-policy.conf").write_text("# ISMS-LOG-03 v2\nretention_days = 400\n")
        hv["bastion"] = {"drill_logrotate_conf": str(logsrv.dir / "etc" / "logrotate.conf"),
                         "drill_journald_conf": str(logsrv.dir / "etc" / "journald.conf"),
                         "drill_cron_files": [str(logsrv.dir / "etc" / "cron.d")]}
        folder = root / "inv"
        folder.mkdir()
        gateways = [{"id": gid, "kind": "trading", "host": host,
                     "monitor": {"address": "127.0.0.1", "port": port},
                     "config": str(bed.host(host).dir / "gateways" / gid / "server_list.xml"),
                     "config_format": "lab-xml", "service": f"sscc-gateway@{gid}",
                     "log": str(bed.host(host).dir / "log" / f"{gid}.log")}
                    for gid, host, port in (("W000000T", "gw", 17990), ("W000001T", "gw2", 17991))]
        doc = inventory_doc(bed, folder, gateways=gateways)
        drill = doc["all"]["vars"]["drill"]
        drill["log_server"] = {"host": "bastion", "logs": [f"{logsrv.dir}/remote/*.log"],
                               "retention_days": 400, "declared_in": str(logsrv.dir / "etc" / "log-policy.conf")}
        for group in doc["all"]["children"].values():
            for name, host_vars in group["hosts"].items():
                host_vars.update(hv.get(name, {}))
        (folder / "hosts.yml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        trust_all(bed, folder)
        yield bed, folder
    finally:
        left = bed.teardown()
        assert left == [], f"test bed left behind: {left}"


def test_check_reads_each_hosts_retention_and_fails_the_30_day_host(checked, tmp_path, monkeypatch, capsys):
    bed, inv = checked
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    code = main(["check", "--live", "--json", "-i", str(inv)])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and "R-SEC-2" in report["failed"], report
    rows = {r["host"]: r for r in report["rows"] if r["clause"] == "R-SEC-2"}
    assert set(rows) == {"gw", "gw2", "bastion"}, report["rows"]
    gw, gw2, logsrv = rows["gw"], rows["gw2"], rows["bastion"]
    d, d2, dl = bed.host("gw").dir, bed.host("gw2").dir, bed.host("bastion").dir

    assert gw["status"] == "pass" and gw["days"] == 365, gw
    assert {(x["log"], x["status"], x["days"]) for x in gw["logs"]} == {
        (f"{d}/log/W000000T.log", "pass", 365), (f"{d}/log/syslog", "pass", 400)}
    # a journal limit of a year is named, not passed: journald's size limits may remove it sooner
    assert (f"journal: MaxRetentionSec=1year = 365 days ({d}/etc/journald.conf:3; size limits not judged)"
            in gw["evidence"])
    assert gw["read"][:2] == [f"{d}/etc/logrotate.conf", f"{d}/etc/logrotate.d/sscc-gw"]
    assert f"{d}/etc/journald.conf" in gw["read"]
    assert "rotate 12 × monthly = 365 days" in gw["evidence"]
    assert f"absent: {d}/log/messages" in gw["evidence"]

    assert gw2["status"] == "fail" and gw2["days"] == 30, gw2
    assert {(x["log"], x["status"], x["days"]) for x in gw2["logs"]} == {
        (f"{d2}/log/W000001T.log", "fail", 30), (f"{d2}/log/syslog", "fail", 30)}
    assert f"rotate 30 × daily = 30 days ({d2}/etc/logrotate.d/sscc-gw:1)" in gw2["evidence"]
    assert f"{d2}/etc/journald.conf missing" in gw2["evidence"]

    assert logsrv["status"] == "pass" and logsrv["days"] == 400, logsrv
    assert f"{dl}/etc/cron.d/log-cleanup:1" in logsrv["evidence"]
    assert f"{dl}/etc/log-policy.conf:2" in logsrv["evidence"]

    archive = next(r for r in report["rows"] if r["clause"] == "DRILL-ARCHIVE")
    assert archive["status"] == "pass" and archive["part"] == "static"
