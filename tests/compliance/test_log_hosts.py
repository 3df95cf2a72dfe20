"""R-SEC-2's reading layer (orchestrator/compliance/log_hosts.py) through a real shell on
this machine (the bed test runs the same over SSH), and the inventory's `log_server`."""

from __future__ import annotations

import json
import os

from compliance_helpers import write_inventory

from orchestrator.cli import main
from orchestrator.compliance.log_hosts import Target, _local, judge_host, read_files


def test_reader_prints_files_folders_and_says_what_it_could_not_read(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a").write_text("x\n\ny")         # no trailing newline, a blank line
    (tmp_path / "d" / "b b").write_text("\x1eOK /etc/passwd\n-- OK x\n")  # marker-like lines
    (tmp_path / "d" / "sub").mkdir()                    # a folder inside is not read
    os.mkfifo(tmp_path / "fifo")                        # there, but not a file to read
    reads = read_files(_local, [str(tmp_path / "d" / "a"), str(tmp_path / "nope")])
    assert [(r.path, r.text, r.why) for r in reads] == [
        (str(tmp_path / "d" / "a"), "x\n\ny", ""), (str(tmp_path / "nope"), None, "missing")]
    folder = read_files(_local, [str(tmp_path / "d")])
    assert [(r.path, r.text) for r in folder] == [(str(tmp_path / "d" / "a"), "x\n\ny"),
                                                 (str(tmp_path / "d" / "b b"), "\x1eOK /etc/passwd\n-- OK x\n")]
    assert read_files(_local, [str(tmp_path / "fifo")])[0].why == "unreadable"


def test_host_judged_from_its_files_with_includes_and_notes(tmp_path):
    etc = tmp_path / "etc"
    (etc / "logrotate.d").mkdir(parents=True)
    (etc / "cron.d").mkdir()
    (etc / "logrotate.conf").write_text(f"weekly\nrotate 4\ninclude {etc}/logrotate.d\n")
    (etc / "logrotate.d" / "gw").write_text("/opt/gw/log/*.log {\n  monthly\n  rotate 12\n}\n")
    (etc / "journald.conf").write_text("[Journal]\nMaxRetentionSec=2week\n")
    (tmp_path / "syslog").write_text("")
    hv = {"drill_logrotate_conf": str(etc / "logrotate.conf"), "drill_journald_conf": str(etc / "journald.conf"),
          "drill_cron_files": [str(etc / "cron.d")]}
    row = judge_host(_local, Target("gw", "gateway host", ("/opt/gw/log/W000000T.log",),
                                    (str(tmp_path / "syslog"), str(tmp_path / "messages"))), hv)
    assert row.status == "fail" and row.days == 14
    assert set(row.logs) == {("/opt/gw/log/W000000T.log", "pass", 365),
                             (str(tmp_path / "syslog"), "not tested", None), ("journal", "fail", 14)}
    assert row.read == (str(etc / "logrotate.conf"), str(etc / "logrotate.d" / "gw"), str(etc / "journald.conf"))
    assert f"absent: {tmp_path / 'messages'}" in row.evidence


def test_nothing_readable_is_not_tested(tmp_path):
    hv = {"drill_logrotate_conf": str(tmp_path / "none.conf"), "drill_journald_conf": str(tmp_path / "j"),
          "drill_cron_files": []}
    row = judge_host(_local, Target("logsrv", "log server", ("/srv/log/*.log",), (),
                                    (400, str(tmp_path / "policy"))), hv)
    assert row.status == "not tested" and row.host == "logsrv"
    assert f"{tmp_path / 'none.conf'} missing" in row.evidence and "not read (missing)" in row.evidence


def test_log_server_declared_without_its_file_is_exit_2(tmp_path, capsys):
    def mutate(d):
        d["log_server"] = {"host": "logsrv", "logs": ["/srv/log/*.log"], "retention_days": 400}
    assert main(["check", "--static", "--inventory", str(write_inventory(tmp_path, mutate))]) == 2
    err = capsys.readouterr().err
    assert "hosts.yml:" in err and "log_server" in err and "declared_in" in err and "Traceback" not in err


def test_log_server_is_loaded(tmp_path, capsys):
    from orchestrator.config.inventory import load_inventory

    def mutate(d):
        d["log_server"] = {"host": "logsrv", "logs": ["/srv/log/*.log"], "retention_days": 400,
                           "declared_in": "/etc/log-policy.conf"}
    inv = load_inventory(write_inventory(tmp_path, mutate))
    assert inv.log_server is not None and inv.log_server.logs == ("/srv/log/*.log",)
    assert (inv.log_server.retention_days, inv.log_server.declared_in) == (400, "/etc/log-policy.conf")
    assert main(["check", "--static", "--json", "--inventory", str(write_inventory(tmp_path, mutate, "b"))]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
