"""lich-phat-song.liq: a Liquidsoap script that airs each slot's program file at its time.

Written for Liquidsoap 2.x. The script is valid for its week only (the files are dated);
the weekly build writes a new one. Stations change the output line to their sound card.
"""

from __future__ import annotations

from .model import StationWeek
from .text import liquidsoap_comment, liquidsoap_string


def write(station: StationWeek) -> dict[str, bytes]:
    lines = [
        f"# Lịch phát sóng {liquidsoap_comment(station.station)}, tuần {station.week.id}. "
        "Tạo bởi broadcast; không sửa tay.",
        "# Liquidsoap 2.x: liquidsoap lich-phat-song.liq (chạy trong thư mục này)",
        'settings.log.stdout.set(true)',
        "",
        "programs = switch(track_sensitive=true, [",
    ]
    entries = []
    for program in station.programs:
        p = program.scheduled
        end_minute = p.slot.start.hour * 60 + p.slot.start.minute + p.slot.minutes
        until = f"{min(end_minute // 60, 23)}h{end_minute % 60 if end_minute < 24 * 60 else 59}m"
        # weekday w: 1 = Monday .. 7 = Sunday; date check keeps a stale script from replaying old files
        entries.append(
            f"  ({{ {p.day.isoweekday()}w and {p.slot.start.hour}h{p.slot.start.minute}m-{until} }}, "
            f"once(single({liquidsoap_string(program.file)})))"
        )
    lines.append(",\n".join(entries))
    lines += [
        "])",
        "",
        "radio = mksafe(programs)",
        "# Đổi dòng dưới cho thiết bị của đài (change to the station's output, e.g. output.alsa):",
        "output.dummy(radio)",
        "",
    ]
    return {"lich-phat-song.liq": "\n".join(lines).encode("utf-8")}
