"""The engine registry: adding an engine is one file plus one line here.

(Kept apart from `base.py` so that base has no import of its subclasses; engine
modules import their optional libraries lazily, so listing them here is cheap.)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .base import Engine, TTSError, bilingual
from .edge import EdgeEngine
from .espeak import EspeakEngine
from .fpt import FptEngine
from .gtts_engine import GttsEngine
from .piper import PiperEngine
from .recorded import RecordedEngine
from .viettel import ViettelEngine
from .zalo import ZaloEngine

ENGINES: dict[str, type[Engine]] = {
    cls.NAME: cls for cls in (EspeakEngine, GttsEngine, EdgeEngine, FptEngine, ViettelEngine, ZaloEngine, PiperEngine,
                              RecordedEngine)
}


def engine_class(name: str) -> type[Engine]:
    """The engine class registered under `name`; an unknown name lists the valid ones."""
    try:
        return ENGINES[name]
    except (KeyError, TypeError):
        valid = ", ".join(sorted(ENGINES))
        raise TTSError(
            bilingual(
                f"không có động cơ đọc '{name}'; các động cơ hợp lệ: {valid}",
                f"unknown TTS engine '{name}'; valid engines: {valid}",
            )
        ) from None


def make_engine(name: str, params: Mapping[str, Any] | None, base_dir: Path) -> Engine:
    """Construct engine `name` with a profile's params (validated; raises `TTSError`)."""
    return engine_class(name)(params, Path(base_dir))
