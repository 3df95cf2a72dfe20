"""`drill review` (issue 17): an evaluation and follow-ups appended to a finished run's
signed renders chain; the journal never changes, `drill verify` still passes, every later
render shows the review, a changed review byte fails verify, follow-ups stay open across
runs until a later review closes them, and `drill due` lists the overdue ones."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.integrity.verify import verify_run
from orchestrator.reports import load_run
from orchestrator.reports.render import render

REPO = Path(__file__).resolve().parents[2]
FIXTURES = sorted((REPO / "tests" / "fixtures" / "runs" / "2026").iterdir())


@pytest.fixture
def archive(tmp_path, monkeypatch):
    monkeypatch.delenv("DRILL_SIGNING_KEY", raising=False)
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    reports = tmp_path / "reports"
    for run in FIXTURES:
        shutil.copytree(run, reports / "2026" / run.name)
    return reports


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _review(archive: Path, run: str, *args: str) -> int:
    return main(["review", run, "--reports", str(archive), "--by", "刘洋", *args])


def test_review_adds_an_evaluation_and_two_followups(archive, capsys):
    run = FIXTURES[0].name
    run_dir = archive / "2026" / run
    journal = _sha(run_dir / "journal.jsonl")
    assert _review(archive, run, "--conclusion", "未达标", "--reason", "行情切换耗时偏长",
                   "--root-cause", "路由跟踪探测间隔为 5 秒，线路中断后备用路由生效较慢",
                   "--followup", "将路由跟踪探测间隔缩短至 3 秒|李娜|2027-01-15",
                   "--followup", "复核行情网关组播接收配置|王芳|2027-02-28",
                   "--signoff", "lead=张伟", "--signoff", "compliance=赵敏",
                   "--commander", "张伟", "--network", "李娜", "--observer", "赵敏") == 0
    out = capsys.readouterr().out
    assert f"follow-up {run}#1" in out and f"follow-up {run}#2" in out
    assert _sha(run_dir / "journal.jsonl") == journal  # the journal never changes
    verdict = verify_run(run_dir)
    assert verdict.ok, verdict.findings

    view = load_run(run_dir)
    assert [r.conclusion for r in view.reviews] == ["not_met"]
    html = render(view, "html", "zh").decode()
    for text in ("<strong id=\"conclusion\">未达标</strong>", "行情切换耗时偏长",
                 "路由跟踪探测间隔为 5 秒", "将路由跟踪探测间隔缩短至 3 秒", "李娜", "2027-01-15",
                 "复核行情网关组播接收配置", "2027-02-28", "未关闭", "赵敏", "刘洋 于"):
        assert text in html, text
    assert html.count('class="fu"') == 2
    md = render(view, "md", "en").decode()
    assert "**Conclusion: NOT MET**" in md and "| 2 | 复核行情网关组播接收配置 | 王芳 | 2027-02-28 | open |" in md

    # A later render through `drill report` is recorded in the same chain and shows it too.
    out_file = run_dir / "again.html"
    assert main(["report", str(run_dir), "--lang", "zh", "--out", str(out_file)]) == 0
    assert "将路由跟踪探测间隔缩短至 3 秒" in out_file.read_text(encoding="utf-8")
    assert verify_run(run_dir).ok


def test_a_changed_review_byte_fails_verify(archive, capsys):
    run_dir = archive / "2026" / FIXTURES[0].name
    assert _review(archive, run_dir.name, "--root-cause", "原因", "--followup", "甲|乙|2027-01-01") == 0
    review = next((run_dir / "reviews").glob("review-*.json"))
    data = bytearray(review.read_bytes())
    data[40] ^= 0x01
    review.write_bytes(bytes(data))
    verdict = verify_run(run_dir)
    assert not verdict.ok
    assert any(f.where.endswith(f"reviews/{review.name}") for f in verdict.findings), verdict.findings
    # A report shows no review whose bytes differ from its record.
    assert load_run(run_dir).reviews == ()


def test_followups_stay_open_until_a_later_review_closes_them(archive, capsys):
    first, second = (r.name for r in FIXTURES)
    assert _review(archive, first, "--followup", "更换福田中心电信线路光模块|李娜|2020-01-31",
                   "--followup", "补充演练手册|王芳|2099-12-31") == 0
    capsys.readouterr()
    # Overdue and open: `drill due` lists it and exits 1.
    due = ["due", "--reports", str(archive), "--inventory",
           str(REPO / "inventories" / "lab" / "hosts.yml")]
    main(due)
    out = capsys.readouterr().out
    assert f"{first}#1" in out and "更换福田中心电信线路光模块" in out and f"{first}#2" not in out

    # A review of a later run closes it: who, when, how.
    assert _review(archive, second, "--close", f"{first}#1=已更换光模块并复测通过") == 0
    view = load_run(archive / "2026" / first)
    html = render(view, "html", "zh").decode()
    assert "已关闭：刘洋 于" in html and "已更换光模块并复测通过" in html
    later = render(load_run(archive / "2026" / second), "html", "zh").decode()
    assert "本次评审关闭的既往事项" in later and f"{first}#1" in later
    main(due)
    assert f"{first}#1" not in capsys.readouterr().out
    for run in (first, second):
        assert verify_run(archive / "2026" / run).ok

    # Closing it twice, or an id nobody raised, is bad input: exit 2, nothing written.
    before = sorted((archive / "2026" / second / "reviews").iterdir())
    assert _review(archive, second, "--close", f"{first}#1=again", "--close", "nope#9=x") == 2
    err = capsys.readouterr().err
    assert "already closed" in err and "no such follow-up" in err
    assert sorted((archive / "2026" / second / "reviews").iterdir()) == before


def test_bad_followup_and_signoff_are_bad_input(archive, capsys):
    run_dir = archive / "2026" / FIXTURES[0].name
    assert _review(archive, run_dir.name, "--followup", "只有事项", "--signoff", "boss=张伟") == 2
    err = capsys.readouterr().err
    assert "ACTION|OWNER|YYYY-MM-DD" in err and "ROLE=NAME" in err
    assert not (run_dir / "reviews").exists() and not (run_dir / "renders.jsonl").exists()
