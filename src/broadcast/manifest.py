"""`output/<week>/manifest.json`: what was published for a week, one entry per file.

Schema 1 (documented for operators and tools in the README, "manifest.json"):

    schema      1; a reader refuses a schema it does not know
    generator   "broadcast <version>"
    project     the project's name (broadcast.yaml `name`)
    week        {"id": "2026-W49", "start": "2026-11-30", "end": "2026-12-06"}
    draft       true when built with --allow-placeholders while placeholders were left: a
                draft, not for air (its printed schedules say BẢN NHÁP)
    placeholders_left_out   sentences holding a <<CẦN ĐIỀN>> left out of the audio (drafts)
    locales     every "<province>/<commune>" with files in the week
    names       each of them as people read it: {"name": commune, "province": province}; kept
                for a commune whose file could not be read at the next build (its files are kept)
    files       one `Entry` per published file, sorted by path
    not_approved  scripts valid this week that do not air because the project requires approval
                (`approval: required`) and their current content is not approved
    failures    communes that failed (their previous files kept), and --strict failures
    warnings    messages that did not fit their slots
    build       statistics of the build that wrote it: the only section that may differ
                between two builds of the same content. `inputs`, in a whole-week build: a name
                for everything it was made from (the project files' stamps, the program's
                version, the options); the next build with the same name, finding every file as
                it was published, has nothing to do

The next build reads it back: an entry whose `key` (a hash of everything the file was made
from) has not changed is carried over without being made again, and its `sha256` saves
reading the published file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from . import __version__
from .errors import BroadcastError
from .model import Week

FILE = "manifest.json"
SCHEMA = 1


@dataclass(frozen=True)
class Entry:
    """One published file."""

    path: str  # relative to the week's folder, "/"-separated
    kind: str  # "message", "program", "emergency" or the name of the format that wrote it
    sha256: str
    seconds: float | None  # decoded length, for audio
    locale: str  # "<province>/<commune>"
    scripts: tuple[str, ...] = ()  # script ids, in the order they play
    key: str | None = None  # hash of the inputs: unchanged key, unchanged file
    voice: str | None = None  # messages: the voice that spoke it (a fallback when one was used)
    engine: str | None = None
    true_peak_dbtp: float | None = None
    sound: str | None = None  # messages: a key of what the audio is made of, the same in every week

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["scripts"] = list(self.scripts)
        if self.kind != "message":  # messages only
            for name in ("voice", "engine", "true_peak_dbtp", "sound"):
                del data[name]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(path=str(data["path"]), kind=str(data["kind"]), sha256=str(data.get("sha256") or ""),
                   seconds=data.get("seconds"), locale=str(data.get("locale") or ""),
                   scripts=tuple(data.get("scripts") or ()), key=data.get("key"), voice=data.get("voice"),
                   engine=data.get("engine"), true_peak_dbtp=data.get("true_peak_dbtp"), sound=data.get("sound"))

    def moved(self, path: str, kind: str) -> Entry:
        """The same content published under another name (a program shared by two slots)."""
        return replace(self, path=path, kind=kind)


@dataclass
class Manifest:
    project: str
    week: Week
    files: list[Entry] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)  # written as "build"
    draft: bool = False  # built with --allow-placeholders while placeholders were left: not for air
    left_out: int = 0  # sentences holding a placeholder, left out of the audio
    not_approved: list[str] = field(default_factory=list)  # scripts held back: approval required, not approved
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # locale -> (commune name, province name)

    def to_bytes(self) -> bytes:
        files = sorted(self.files, key=lambda e: e.path)
        data = {
            "schema": SCHEMA,
            "generator": f"broadcast {__version__}",
            "project": self.project,
            "week": {"id": self.week.id, "start": self.week.days[0].isoformat(),
                     "end": self.week.days[-1].isoformat()},
            "draft": self.draft,
            "placeholders_left_out": self.left_out,
            "locales": sorted({e.locale for e in files if e.locale}),
            "names": {lid: {"name": name, "province": province}
                      for lid, (name, province) in sorted(self.names.items())},
            "files": [e.to_json() for e in files],
            "not_approved": self.not_approved,
            "failures": self.failures,
            "warnings": self.warnings,
            "build": self.stats,
        }
        return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    @classmethod
    def read(cls, week_folder: Path, week: Week) -> Manifest | None:
        """The published week's manifest as written, or None if absent, unreadable or of another
        schema (`published` says why when that matters)."""
        try:
            data = json.loads((week_folder / FILE).read_text(encoding="utf-8"))
            if data.get("schema") != SCHEMA or data["week"]["id"] != week.id:
                return None
            names = {str(lid): (str(n["name"]), str(n["province"])) for lid, n in (data.get("names") or {}).items()}
            return cls(str(data["project"]), week, [Entry.from_json(item) for item in data["files"]],
                       list(data["failures"]), list(data["warnings"]), dict(data["build"]), bool(data["draft"]),
                       int(data["placeholders_left_out"]), list(data["not_approved"]), names)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


class UnreadableManifest(BroadcastError):
    """A published week whose manifest cannot be read: what it holds is unknown."""


def published(week_folder: Path) -> dict[str, Entry]:
    """The entries of a published week by path; empty when no week is published.

    Raises UnreadableManifest when the week is there but its manifest is damaged or of
    another schema: the caller decides (a whole-week build makes everything anew; a build of
    some communes must not drop the others' files it cannot see)."""
    path = week_folder / FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}, không phải {SCHEMA}")
        entries = (Entry.from_json(item) for item in data.get("files", []))
        return {entry.path: entry for entry in entries}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnreadableManifest(f"không đọc được {path.name} của tuần đã phát hành: {exc} (unreadable manifest)",
                                 file=str(path), fix="dựng lại cả tuần: chạy 'broadcast build' không kèm --locale "
                                 "hay --province; các tệp đã phát hành được làm lại từ đầu") from None
