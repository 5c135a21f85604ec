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


def _dense_week(slots: int, messages: int) -> bytes:
    """A commune with many short scripts and long slots: every cell lists `messages` messages."""
    from datetime import time

    from broadcast.formats import FORMATS, ItemFile, ProgramFile, StationWeek
    from broadcast.model import Slot, Week
    from broadcast.plan import Airing, Program

    week = Week(2026, 50)
    titles = ["Cảnh giác lừa đảo đầu tư tiền ảo trên mạng xã hội", "Không cài ứng dụng lạ theo hướng dẫn",
              "Giả danh công an gọi điện yêu cầu chuyển tiền", "Lừa đảo tuyển cộng tác viên bán hàng online"]
    programs = []
    for number in range(slots):
        slot = Slot(f"buoi-{number}", f"Buổi {number + 1}", tuple(range(1, 8)), time(6 + 3 * number, 0), 30)
        for day in week.days:
            items = tuple(ItemFile(f"tin-{i}", titles[i % 4], "priority" if i == 0 else "normal",
                                   f"messages/tin-{i}.mp3", 40.0) for i in range(messages))
            program = Program("lang-son/xa-chi-lang", day, slot,
                              tuple(Airing(i.script_id, i.level, i.seconds) for i in items), slot.minutes * 60)
            programs.append(ProgramFile(program.name, program, f"{program.name}.mp3", 40.0 * messages, items))
    programs.sort(key=lambda p: p.scheduled.start)
    station = StationWeek(week, "lang-son/xa-chi-lang", "Xã Chi Lăng", "Đài truyền thanh xã Chi Lăng", "Lạng Sơn",
                          tuple(programs), ())
    return FORMATS["html"](station)["lich-phat-song.html"]


@pytest.mark.parametrize("slots", [2, 3, 4])
def test_the_wall_grid_of_long_slots_full_of_messages_still_prints_on_one_page(tmp_path, slots):
    """Three slots of 30 minutes with short messages (40 s each, 40 a slot) made the wall grid seven
    pages: page 1 the title alone, each row split over two. A cell lists what fits and says how many
    more the detailed list holds; an emergency added to the published sheet later still fits."""
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    from broadcast.formats.html_schedule import with_emergencies

    assert Path(CHROMIUM).exists(), "Debian's chromium is not installed: apt-get install -y chromium"
    html = _dense_week(slots, 40)
    bulletin = ("Khẩn cấp: giả danh nhân viên ngân hàng gọi điện yêu cầu cập nhật sinh trắc học, chiếm đoạt tài "
                "khoản của người dân", "KHAN-CAP_gia-danh-ngan-hang.mp3")
    sheets = {"tuần": html, "khẩn cấp": with_emergencies(html, [bulletin]) or b""}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        page = browser.new_page()
        for what, sheet in sheets.items():
            path = tmp_path / f"{what}.html"
            path.write_bytes(sheet)
            page.goto(path.as_uri())
            pdf = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True, print_background=True)))
            first = " ".join(pdf.pages[0].extract_text().split())
            assert "Trang sau: chi tiết" in first, (what, first[:300])  # the whole grid, its legend last
            assert "tin khác (xem trang sau)" in first
            assert first.count("cả buổi 26:40") == 7 * slots, what  # every cell of the week on page 1
            assert round(float(pdf.pages[1].mediabox.width)) == 595  # page 2: the detailed list
            assert "Chi tiết từng buổi phát" in pdf.pages[1].extract_text()
        browser.close()
