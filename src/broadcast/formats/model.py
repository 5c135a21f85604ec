"""What every format is written from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..model import Week
from ..plan import Program


@dataclass(frozen=True)
class ItemFile:
    """One file of a program as it airs, in order: a message, or the station's opening or closing line
    (`script_id` "" and `level` "announcement"); its audio file (relative to the commune folder) and its
    exact length, so that the items laid end to end are the program file."""

    script_id: str
    title: str
    level: str
    file: str
    seconds: float


@dataclass(frozen=True)
class ProgramFile:
    """One slot's program (or a standalone emergency program, which has no slot): the single file
    to press play on, and what is inside, in order (the station's lines included)."""


    name: str  # file stem, e.g. 2026-12-01_0600_sang
    program: Program | None
    file: str
    seconds: float
    items: tuple[ItemFile, ...]

    @property
    def messages(self) -> tuple[ItemFile, ...]:
        """The messages only (no opening or closing line)."""
        return tuple(item for item in self.items if item.script_id)

    @property
    def scheduled(self) -> Program:
        """The slot this program fills (every file in `StationWeek.programs` has one; an
        emergency program has none: it airs at once)."""
        if self.program is None:
            raise ValueError(f"{self.name} has no slot")
        return self.program

    def item_times(self) -> list[tuple[ItemFile, datetime, datetime]]:
        """Each item with its start and end, laid end to end from the slot's start."""
        if self.program is None:
            return []
        out, at = [], self.program.start
        for item in self.items:
            end = at + timedelta(seconds=item.seconds)
            out.append((item, at, end))
            at = end
        return out


@dataclass(frozen=True)
class MessageInfo:
    """One message of the commune's week, for the web page and the podcast feed: the text as
    written (not the spoken form), where it comes from, how long it is valid, and its file."""

    script_id: str
    title: str
    level: str
    text: str
    source: str
    valid_from: date
    valid_until: date | None
    file: str  # relative to the commune folder
    seconds: float
    bytes: int
    guid: str  # "<commune>/<script>/<digest of the sound>": the same in every week the audio is the same


@dataclass(frozen=True)
class StationWeek:
    week: Week
    locale_id: str
    name: str  # commune name, e.g. "Xã Chi Lăng"
    station: str  # e.g. "Đài truyền thanh xã Chi Lăng"
    province: str
    programs: tuple[ProgramFile, ...]
    emergencies: tuple[ProgramFile, ...]
    draft: bool = False  # built with placeholders left: not for air
    messages: tuple[MessageInfo, ...] = ()  # every message of the week, emergencies first
    public_url: str = ""  # where the output folder is served (broadcast.yaml), "" if nowhere yet
