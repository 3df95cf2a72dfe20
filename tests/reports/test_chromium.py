"""report.html opens in headless Chromium with no console errors; timeline and table present."""

from __future__ import annotations

import re
import subprocess

from report_runs import require_tool


def _chromium_dump(html_path, tmp_path):
    chromium = require_tool("chromium")
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp_path / 'chromium'}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=2000", "--dump-dom", html_path.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


def test_html_renders_in_chromium_without_console_errors(tmp_path, any_run):
    dom, log = _chromium_dump(any_run.run_dir / "report.html", tmp_path)
    console = [ln for ln in log.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert console == [], console
    assert re.search(r'<svg[^>]*class="timeline"', dom)
    assert dom.count('class="lane"') == 5  # one lane per gateway and service
    assert 'id="per-gateway"' in dom
    assert dom.count("<tr data-gateway=") == 5
    assert 'class="mark fault"' in dom and 'class="mark restore"' in dom


def test_html_is_self_contained(any_run):
    html = (any_run.run_dir / "report.html").read_text(encoding="utf-8")
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"')<]*", html))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "@media print" in html
