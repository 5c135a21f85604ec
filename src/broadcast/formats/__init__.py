"""Output formats for one commune's week: a registry of pure writers.

Each format turns a `StationWeek` (plain data: the plan with the files and exact durations
the build produced) into {relative path: bytes}. Only the build's writer touches the disk.
Adding a format is one module plus one line in FORMATS.
"""

from __future__ import annotations

from collections.abc import Callable

from . import csv_schedule, html_schedule, icalendar_schedule, liquidsoap, playlists, podcast, web_page
from .model import ItemFile, MessageInfo, ProgramFile, StationWeek

Writer = Callable[[StationWeek], dict[str, bytes]]

FORMATS: dict[str, Writer] = {
    "m3u8": playlists.write,
    "ics": icalendar_schedule.write,
    "csv": csv_schedule.write,
    "html": html_schedule.write,
    "liquidsoap": liquidsoap.write,
    "podcast": podcast.write,
    "web": web_page.write,
}

__all__ = ["FORMATS", "ItemFile", "MessageInfo", "ProgramFile", "StationWeek", "Writer"]
