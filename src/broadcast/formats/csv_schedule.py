"""lich-phat-song.csv: one row per file a program plays (the station's lines included), for IP
loudspeaker consoles. Start and end to the millisecond (06:00:07.392): laid end to end from the
slot's start, they are where each file is in the program file."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from .model import StationWeek
from .text import csv_cell

COLUMNS = ("date", "start", "end", "slot", "file", "title", "level", "script_id", "seconds", "program")


def write(station: StationWeek) -> dict[str, bytes]:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends: what spreadsheet tools expect
    out.writerow(COLUMNS)
    for program in station.programs:
        for item, start, end in program.item_times():
            out.writerow((start.date().isoformat(), _clock(start), _clock(end),
                          *map(csv_cell, (program.scheduled.slot.name, item.file, item.title, item.level,
                                          item.script_id)), f"{item.seconds:.3f}", csv_cell(program.file)))
    # BOM so that Excel on a commune office PC opens the Vietnamese text as UTF-8
    return {"lich-phat-song.csv": buffer.getvalue().encode("utf-8-sig")}


def _clock(at: datetime) -> str:
    return f"{at:%H:%M:%S}.{at.microsecond // 1000:03d}"
