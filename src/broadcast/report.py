"""Printing results for people: tables on a terminal, plain lines in a log."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .plan import WEEKDAY_NAMES, WeekPlan


def show_plan(plan: WeekPlan, console: Console | None = None) -> None:
    console = console or Console(highlight=False, soft_wrap=True)
    for locale_plan in plan.locales:
        table = Table(title=f"{locale_plan.locale_id} — tuần {plan.week.id}", title_justify="left")
        for column in ("Ngày", "Giờ", "Buổi", "Tin phát (theo thứ tự)", "Thời lượng"):
            table.add_column(column)
        for program in locale_plan.programs:
            table.add_row(f"{WEEKDAY_NAMES[program.day.isoweekday()]} {program.day:%d/%m}",
                          f"{program.slot.start:%H:%M}", program.slot.label,
                          "\n".join(item.script_id + ("" if item.level == "normal" else f" [{item.level}]")
                                    for item in program.items) or "—",
                          f"{program.seconds / 60:.1f}/{program.capacity / 60:.0f} phút")
        console.print(table)
        for airing in locale_plan.emergencies:
            console.print(f"KHẨN CẤP: {airing.script_id} có chương trình riêng để phát ngay (emergency program)")
    for shortfall in plan.shortfalls:
        console.print(f"cảnh báo: {shortfall}", style="yellow")
    total = sum(len(p.programs) for p in plan.locales)
    console.print(f"{len(plan.locales)} xã, {total} buổi phát, {len(plan.shortfalls)} tin không đủ chỗ (shortfalls)")
