"""The wall schedule printed as an operator prints it: Chromium's print to PDF (Debian's chromium through
Playwright, as the studio's browser tests do). The grid must be one A4 landscape page for the example
project's communes, with every Vietnamese character there as text; the detailed list follows."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[1]
WEEK = "2026-W49"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_the_wall_grid_prints_on_one_a4_landscape_page(example_week, tmp_path):
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    assert Path(CHROMIUM).exists(), "Debian's chromium is not installed: apt-get install -y chromium"
    schedules = sorted(example_week.glob("*/*/lich-phat-song.html"))
    assert len(schedules) == 12
    shots = Path(os.environ.get("BROADCAST_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        page = browser.new_page()
        for number, html in enumerate(schedules):
            page.goto(html.as_uri())
            pdf = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True, print_background=True)))
            first = pdf.pages[0]
            width, height = float(first.mediabox.width), float(first.mediabox.height)
            assert (round(width), round(height)) == (842, 595), html  # A4 landscape, in points
            grid_text = first.extract_text()
            assert "Lịch phát sóng tuần 2026-W49" in grid_text
            # the whole grid is on page 1: its legend closes it; the detailed list starts on page 2
            assert "Trang sau: chi tiết" in grid_text, html
            assert "Chi tiết từng buổi phát" not in grid_text
            assert len(pdf.pages) >= 2 and "Chi tiết từng buổi phát" in pdf.pages[1].extract_text()
            assert round(float(pdf.pages[1].mediabox.width)) == 595  # the list on A4 portrait
            # every Vietnamese character rendered as text: each short title of the grid is extracted whole
            titles = [t for t in page.locator("table.grid li").all_inner_texts()]
            assert titles
            flat = " ".join(grid_text.split())
            for title in titles:
                assert " ".join(title.split(" · ")[0].split()) in flat, (html, title)
            for word in ("Thứ Hai", "Chủ Nhật", "Buổi", "Tệp", "khẩn cấp"):
                assert word in flat or word.lower() in flat.lower(), word
            if number == 0:
                page.set_viewport_size({"width": 1400, "height": 990})
                page.emulate_media(media="print")
                page.locator("section.wall").screenshot(path=str(shots / "lich-treo-tuong.png"))
                page.emulate_media(media="screen")
        browser.close()
