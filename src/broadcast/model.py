"""Plain data handed from stage to stage. No behaviour beyond small derived values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from .audio.presets import Preset
from .errors import Problem, UsageError
from .speech.lexicon import Lexicon

LEVELS = ("normal", "priority", "emergency")  # Thông tư 39/2020/TT-BTTTT
# The station's lines, published with each commune's messages: (file stem, title in the schedules). A
# script cannot take one of these ids: its message file would be the station's line's.
ANNOUNCEMENTS = {"opening": ("loi-mo-dau", "Lời mở đầu của đài"), "closing": ("loi-ket-thuc", "Lời kết thúc")}


class HasProblems:
    """Errors and warnings of anything holding `problems`."""

    problems: list[Problem] | tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


@dataclass(frozen=True)
class Settings:
    name: str
    preset: Preset  # the project's delivery (audio/presets.py), unless a commune or province chooses another
    timezone: str = "Asia/Ho_Chi_Minh"
    default_voice: str = "espeak-vi"
    min_airings: int = 3
    opening: str = ""
    closing: str = ""
    approval: str = "off"  # "required": only scripts approved in the studio air (records.approved_now)
    public_url: str = ""  # where output/ is served on the web (the week's pages and podcast feeds), "" if not


@dataclass(frozen=True)
class Validity:
    start: date
    until: date | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.until is None or day <= self.until)

    def touches(self, days: tuple[date, ...]) -> bool:
        """Valid on at least one of `days` (a week's)."""
        return any(self.covers(day) for day in days)


@dataclass(frozen=True)
class Script:
    id: str
    title: str
    source: str
    level: str
    valid: Validity
    repeat: int
    voice: str | None  # None: the commune's voice, else the project's default
    body: str
    file: str  # relative path
    body_line: int  # line in the file where the body's first template line is
    # the file line of each template line, when they are not one to one (a folded '>' or plain
    # body joins lines); empty for a '|' body, whose lines are the file's
    body_lines: tuple[int, ...] = ()
    # the sha256 of the file's bytes this script was read from: what an approval must be for (`approval:
    # required`); empty for a draft not saved
    sha256: str = ""

    def line_of(self, template_line: int) -> int:
        """The line in the script's file of line `template_line` (1-based) of its body."""
        if 1 <= template_line <= len(self.body_lines):
            return self.body_lines[template_line - 1]
        return self.body_line + max(template_line, 1) - 1


@dataclass(frozen=True)
class Voice:
    id: str
    engine: str
    params: Mapping[str, Any]  # validated against the engine's PARAMS, defaults filled in
    fallback: str | None
    description: str
    file: str


@dataclass(frozen=True)
class Slot:
    name: str  # slug used in file names, e.g. "sang"
    label: str  # shown to people, e.g. "Buổi sáng"
    days: tuple[int, ...]  # ISO weekdays 1 (Monday) .. 7 (Sunday)
    start: time
    minutes: int


@dataclass(frozen=True)
class Schedule:
    id: str
    name: str
    slots: tuple[Slot, ...]
    file: str


@dataclass(frozen=True)
class Province:
    id: str  # folder name under locales/, e.g. "lang-son"
    name: str
    code: str


@dataclass(frozen=True)
class Contact:
    name: str = ""
    phone: str = ""

    def over(self, base: Contact) -> Contact:
        """This contact with what it leaves unset taken from `base` (a commune over its province)."""
        return Contact(self.name or base.name, self.phone or base.phone)


@dataclass(frozen=True)
class OfficialNumber:
    """A phone number a directive gives, that messages may air (official_numbers.yaml)."""

    number: str
    who: str  # who answers it
    source: str  # the directive that gives it


@dataclass(frozen=True)
class Locale:
    """One commune, its province file merged under it."""

    id: str  # "<province>/<commune>", e.g. "thai-nguyen/xa-cho-don"
    name: str
    code: str
    province: Province
    station: str  # the name read on air; the commune's name when not set
    schedule: str
    preset: Preset  # the delivery, chosen by name in the commune's, province's or project's file
    voice: str | None  # None: each script's voice or the project's default
    division_type: str | None
    contacts: Mapping[str, Contact]
    vars: Mapping[str, Any]
    lexicon: Lexicon  # project < province < commune
    file: str
    data: Mapping[str, Any]  # commune deep-merged over its province: what templates see as `locale`


@dataclass(frozen=True)
class Project:
    root: Path
    settings: Settings
    scripts: tuple[Script, ...]
    locales: tuple[Locale, ...]
    voices: tuple[Voice, ...]
    schedules: tuple[Schedule, ...]
    lexicon: Lexicon  # lexicon.yaml; each locale has its own merged one
    warnings: tuple[Problem, ...] = field(default=())
    official_numbers: tuple[OfficialNumber, ...] = ()  # official_numbers.yaml

    def script(self, script_id: str) -> Script | None:
        return next((s for s in self.scripts if s.id == script_id), None)

    def voice_for(self, script: Script, locale: Locale) -> str:
        """Who reads `script` in `locale`: the script's own voice, else the commune's, else the default."""
        return script.voice or locale.voice or self.settings.default_voice

    def readings(self, lexicon: Lexicon, voice_id: str) -> Lexicon:
        """The lexicon `voice_id` reads with: readings scoped to other voices or engines left out."""
        engine = next((v.engine for v in self.voices if v.id == voice_id), "")
        return lexicon.for_voice(voice_id, engine)

    def locale(self, locale_id: str) -> Locale | None:
        """Find a locale by full id ("lang-son/xa-chi-lang") or by its commune part if unique."""
        exact = [loc for loc in self.locales if loc.id == locale_id]
        if exact:
            return exact[0]
        short = [loc for loc in self.locales if loc.id.split("/")[-1] == locale_id]
        return short[0] if len(short) == 1 else None


@dataclass(frozen=True)
class Week:
    """An ISO week: what templates see as `week`."""

    year: int
    number: int

    @property
    def id(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @cached_property  # asked for each commune and slot of a plan: the country's plan asks ~50,000 times
    def days(self) -> tuple[date, ...]:
        return tuple(self.monday + timedelta(days=i) for i in range(7))

    @classmethod
    def parse(cls, text: str) -> Week:
        match = re.fullmatch(r"(\d{4})-W(\d{1,2})", text.strip())
        if match:
            year, number = int(match[1]), int(match[2])
            try:
                week = cls(year, number)
                week.days  # noqa: B018 - every day of the week must be a date (9999-W52 ends in year 10000)
                return week
            except (ValueError, OverflowError):
                pass
        raise UsageError(f"tuần '{text}' không hợp lệ (invalid ISO week)", field="--week",
                         fix="viết dạng 2026-W49: năm (0001-9999, cả tuần trong năm 9999 trở xuống), chữ W, "
                             "số tuần 1-53 có trong năm đó")

    @classmethod
    def containing(cls, day: date) -> Week:
        year, number, _ = day.isocalendar()
        return cls(year, number)
