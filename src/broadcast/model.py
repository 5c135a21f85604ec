"""Plain data handed from stage to stage. No behaviour beyond small derived values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any, Mapping

LEVELS = ("normal", "priority", "emergency")  # Thông tư 39/2020/TT-BTTTT
PRESETS = ("loa", "fm", "phat-thanh")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the project, pointed at a file and line."""

    file: str  # relative to the project root
    line: int
    field: str
    message: str
    hint: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        kind = "lỗi" if self.severity == "error" else "cảnh báo"
        where = f"{self.file}:{self.line}" if self.line else self.file
        fld = f" [{self.field}]" if self.field else ""
        return f"{where}: {kind}{fld}: {self.message}. Cách sửa: {self.hint}."


class HasProblems:
    """Errors and warnings of anything holding `problems`."""

    problems: "list[Problem] | tuple[Problem, ...]"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


@dataclass(frozen=True)
class Settings:
    name: str
    timezone: str = "Asia/Ho_Chi_Minh"
    default_voice: str = "espeak-vi"
    preset: str = "loa"
    min_airings: int = 3
    opening: str = ""
    closing: str = ""


@dataclass(frozen=True)
class Validity:
    start: date
    until: date | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.until is None or day <= self.until)


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


@dataclass(frozen=True)
class Voice:
    id: str
    engine: str
    params: Mapping[str, Any]
    fallback: str | None
    description: str
    file: str
    params_line: int = 0


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
class Locale:
    id: str  # "<province>/<commune>", e.g. "thai-nguyen/xa-cho-don"
    name: str
    code: str
    province: str  # province folder id
    schedule: str
    preset: str
    data: Mapping[str, Any]  # commune deep-merged over its province: what templates see as `locale`
    file: str


@dataclass(frozen=True)
class Project:
    root: Path
    settings: Settings
    scripts: tuple[Script, ...]
    locales: tuple[Locale, ...]
    voices: tuple[Voice, ...]
    schedules: tuple[Schedule, ...]
    lexicon: Mapping[str, Any]  # project lexicon.yaml as parsed; locales may add their own `lexicon:`
    warnings: tuple[Problem, ...] = field(default=())

    def script(self, script_id: str) -> Script | None:
        return next((s for s in self.scripts if s.id == script_id), None)

    def voice_for(self, script: Script, locale: Locale) -> str:
        """Who reads `script` in `locale`: the script's own voice, else the commune's, else the default."""
        return script.voice or locale.data.get("voice") or self.settings.default_voice

    def locale(self, locale_id: str) -> Locale | None:
        """Find a locale by full id ("lang-son/xa-chi-lang") or by its commune part if unique."""
        exact = [loc for loc in self.locales if loc.id == locale_id]
        if exact:
            return exact[0]
        short = [loc for loc in self.locales if loc.id.split("/")[-1] == locale_id]
        return short[0] if len(short) == 1 else None
