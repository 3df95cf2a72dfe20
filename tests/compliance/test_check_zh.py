"""`drill check`, `drill due` and `drill history` in zh (issue 20): the failing branches the
lab run of tests/cli/test_zh_terminal.py does not reach, through the same zh check
(docs/zh-allowlist.txt); English and --json as before."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from compliance_helpers import drill_home, write_inventory  # noqa: F401 - drill_home: autouse fixture
from test_check import (
    _duplicate_gateway,
    _l2_port,
    _one_carrier,
    _satellite_gateway_in_cutover,
    _slow_line,
)

from orchestrator.cli import main
from orchestrator.compliance.clauses import TITLES, Raw, msg, seq
from orchestrator.compliance.router_live import PortReading, rows

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reports"))
from zh_words import foreign_words

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from test_zh_terminal import prose

IDS = {*TITLES, "CT", "CU", "CS", "FT", "NF", "BJ", "ct-ft", "cu-nf", "ct-nf", "sat-1", "W000000T",
       "W00001TF", "W000001T", "W00002TF", "W00003TF", "W00004JS", "W00005TF", "r1", "r2", "GE0/0/1", "lab",
       "gw1", "gw2", "manual"}


def _english(text: str) -> list[str]:
    return sorted(set(foreign_words(prose(text), IDS)))


def _check(*args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", "--static", *args])
    return code, out.getvalue(), err.getvalue()


def _broken(d):
    for mutate in (_one_carrier, _slow_line, _l2_port, _satellite_gateway_in_cutover, _duplicate_gateway):
        mutate(d)
    d["lines"][3]["medium"] = "multicast-terrestrial"
    d["retention_days"] = 30


def test_every_failing_static_row_reads_in_chinese_and_json_stays_english(tmp_path):
    inv = str(write_inventory(tmp_path, _broken))
    code, out, err = _check("--inventory", inv, "--lang", "zh")
    assert code == 1
    assert out.count("未通过") >= 5 and "网关号重复：W000000T ×2" in out, out
    failed = "DRILL-ARCHIVE, R-APP-5, R-DR-2, R-NET-1, R-NET-2a, R-NET-2b"
    err = "\n".join(ln for ln in err.splitlines() if ln.strip() and not ln.startswith("[WARNING]"))
    assert err.splitlines() == [f"未通过：{failed}", f"错误：就绪检查未通过：{failed}"], err
    assert _english(out + err) == [], out
    code, en, en_err = _check("--inventory", inv, "--lang", "en")
    assert "duplicate gateway id: W000000T ×2" in en and "FAIL" in en and "not tested: a lab" in en, en
    assert en_err.startswith("\nfailed: ") or en_err.startswith("failed: "), en_err
    code, js, _ = _check("--inventory", inv, "--lang", "zh", "--json")
    rows_ = json.loads(js)["rows"]
    assert {r["status"] for r in rows_} >= {"fail", "not tested"}
    assert not any(re.search("[\u4e00-\u9fff]", r["evidence"]) for r in rows_), rows_  # English, as before
    assert "duplicate gateway id: W000000T ×2" in js


def test_router_rows_say_a_devices_own_text_as_original(tmp_path):
    readings = [PortReading("ct-ft", "r1", "GE0/0/1", False, 1.0),
                PortReading("cu-nf", "r2", None, None, None, error="UNREACHABLE! ssh: connect timed out")]
    got = rows(readings)
    en = [r.evidence for r in got]
    assert en == ["on the device, not routed (L3): ct-ft (r1 GE0/0/1): switched port; "
                  "cu-nf (r2 ?): not read: UNREACHABLE! ssh: connect timed out",
                  "below 2 Mbps on the device: ct-ft (r1 GE0/0/1): 1 Mbps; "
                  "cu-nf (r2 ?): not read: UNREACHABLE! ssh: connect timed out"], en
    zh = [r.evidence_in("zh") for r in got]
    assert '原文："UNREACHABLE! ssh: connect timed out"' in zh[0], zh
    assert all(_english(z) == [] for z in zh), zh
    assert [r.status_in("zh") for r in got] == ["未通过", "未通过"]


def test_message_parts_render_per_language():
    m = msg("cc_centre_lines", centre="FT", lines=seq(["a", "b"], ", ", msg("cc_none")))
    assert m.render("en") == "FT: a, b" and m.render("zh") == "中心 FT：a、b"
    assert msg("cc_centre_lines", centre="NF", lines=seq([], ", ", msg("cc_none"))).render("zh") == "中心 NF：无"
    assert Raw("Errno 111").render("en") == "Errno 111"
    assert Raw("Errno 111").render("zh") == '原文："Errno 111"'


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_history_of_an_empty_archive(tmp_path, lang):
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["history", "--lang", lang, "--reports", str(tmp_path)]) == 0
    assert out.getvalue().strip() == ("归档中没有演练记录" if lang == "zh" else "no runs in the archive")
    assert err.getvalue().startswith("归档目录：" if lang == "zh" else "archive: ")


def test_log_retention_rows_read_in_chinese_with_the_settings_quoted():
    from orchestrator.compliance import logrules
    from orchestrator.compliance.clauses import msg
    from orchestrator.compliance.log_hosts import Target, _not_tested, _row

    rule = logrules.Rule("logrotate", "/etc/logrotate.conf:3", 28.0, "rotate 4 × weekly = 28 days")
    verdicts = [logrules.judge("/var/log/gw.log", [rule]), logrules.judge("/var/log/x.log", [])]
    notes = [msg("cc_file_missing", path="/etc/systemd/journald.conf"), msg("cc_absent", paths="/var/log/syslog")]
    row = _row(Target("gw1", "gateway host", ("/var/log/gw.log",)), verdicts, ("/etc/logrotate.conf",), notes)
    assert row.evidence == ("gw1 (gateway host): /var/log/gw.log: kept 28 days < 365: rotate 4 × weekly = 28 days "
                            "(/etc/logrotate.conf:3); /var/log/x.log: no logrotate stanza or cleanup names it; how "
                            "long it is kept is not known [read: /etc/logrotate.conf; /etc/systemd/journald.conf "
                            "missing; absent: /var/log/syslog]"), row.evidence
    zh = row.evidence_in("zh")
    assert zh.startswith("gw1（网关主机）：/var/log/gw.log：保存 28 天，少于 365 天：原文：\"rotate 4"), zh
    assert _english(zh) == [] and row.status_in("zh") == "未通过", zh
    manual = _not_tested("gw2", "gateway host", msg("cc_why_manual"))
    assert manual.evidence == "gw2 (gateway host): not tested: driver manual (no host drill logs in to)"
    assert _english(manual.evidence_in("zh")) == [], manual.evidence_in("zh")
