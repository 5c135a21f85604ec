"""What every stage of one build shares, in one object instead of a dozen arguments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .events import Listener, ignore
from .manifest import Entry
from .messages import Announcements
from .model import Locale, Project, Week
from .publish import Staging
from .tts import SynthesisResult


@dataclass
class BuildContext:
    project: Project
    week: Week
    locales: list[Locale]  # the communes being built (without the ones whose voice failed)
    jobs: int | None
    staging: Staging
    previous: dict[str, Entry]  # the published week's manifest, by path
    synthesis: SynthesisResult
    announcements: Announcements
    listener: Listener = ignore
    draft: bool = False  # placeholders left (--allow-placeholders): every printed schedule says BẢN NHÁP
    entries: dict[str, Entry] = field(default_factory=dict)  # every file staged so far, by path
    stats: dict[str, Any] = field(default_factory=dict)
