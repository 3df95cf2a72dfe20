"""`drill report RUN --format pdf --lang zh`: Chinese renders (embedded CJK font), with the timeline."""

from __future__ import annotations

import subprocess

from report_runs import require_tool

from orchestrator.reports import render_report
from orchestrator.reports.timeline import COLOURS


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def test_zh_pdf_embeds_a_cjk_font_and_has_the_chinese_words(tmp_path, passed_run):
    pdffonts, pdftotext = require_tool("pdffonts"), require_tool("pdftotext")
    pdf = render_report(passed_run.run_dir, "pdf", "zh", tmp_path / "report.pdf")
    fonts = subprocess.run([pdffonts, str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert any("CJK" in r for r in rows), fonts
    # Every font is embedded (column "emb" = yes), so nothing falls back to a viewer's tofu.
    assert rows and all(r.split()[-5] == "yes" for r in rows), fonts
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = "".join(text.split())  # narrow table cells wrap words over lines
    for word in ("演练报告", "单运营商故障演练", "演练结论", "通过", "链路中断时间", "中断时长",
                 "签字确认", "演练负责人", "技术负责人", "合规负责人", "福田中心", "中国电信",
                 "保存期限", "操作日志最终摘要"):
        assert word in text, word
    assert "\ufffd" not in text


def test_zh_pdf_pages_as_png_show_the_timeline(tmp_path, passed_run):
    pdftoppm = require_tool("pdftoppm")
    from PIL import Image  # weasyprint depends on Pillow

    pdf = render_report(passed_run.run_dir, "pdf", "zh", tmp_path / "report.pdf")
    subprocess.run([pdftoppm, "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    found = set()
    for page in pages:
        with Image.open(page) as img:
            colours = {c for _, c in img.convert("RGB").getcolors(maxcolors=1 << 20)}
        for state, hex_colour in COLOURS.items():
            want = _rgb(hex_colour)
            if any(sum(abs(a - b) for a, b in zip(c, want, strict=True)) < 12 for c in colours):
                found.add(state)
    # Lanes in up (green), down (red) and degraded (market data on multicast, amber).
    assert found == {"up", "down", "degraded"}
