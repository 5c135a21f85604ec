"""lich-phat-song.csv: one row per slot item, for IP loudspeaker consoles."""

from __future__ import annotations

import csv
import io

from .model import StationWeek
from .text import csv_cell

COLUMNS = ("date", "start", "end", "slot", "file", "title", "level", "script_id", "seconds")


def write(station: StationWeek) -> dict[str, bytes]:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends: what spreadsheet tools expect
    out.writerow(COLUMNS)
    for program in station.programs:
        for item, start, end in program.item_times():
            out.writerow((start.date().isoformat(), f"{start:%H:%M:%S}", f"{end:%H:%M:%S}",
                          *map(csv_cell, (program.scheduled.slot.name, item.file, item.title, item.level,
                                          item.script_id)), f"{item.seconds:.3f}"))
    # BOM so that Excel on a commune office PC opens the Vietnamese text as UTF-8
    return {"lich-phat-song.csv": buffer.getvalue().encode("utf-8-sig")}
