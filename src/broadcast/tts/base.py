"""The engine protocol shared by every TTS engine (each returns a `broadcast.pcm.Clip`).

Modelled on beets' replaygain backends: an ABC with a ``NAME``, each engine
checking in its constructor that its parameters make sense (and raising a
`TTSError` with a fix), and a registry (`broadcast.tts.registry`) built from the
classes. An engine never touches the cache; `broadcast.tts.synthesize` does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from broadcast.errors import EngineUnavailable, MissingRecording, TTSError, bilingual
from broadcast.pcm import Clip

__all__ = [  # the errors are re-exported for the engines (they live in broadcast.errors)
    "Availability", "Clip", "Engine", "EngineUnavailable", "MissingRecording", "Param", "TTSError", "bilingual",
    "sentence_label",
]

# --------------------------------------------------------------------------- params


@dataclass(frozen=True)
class Param:
    """One parameter a voice profile may set for an engine."""

    name: str
    type: type | tuple[type, ...]
    default: Any
    help: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    check: Callable[[Any], str | None] | None = None  # returns a problem message or None

    def problems(self, value: Any) -> list[str]:
        from broadcast.schema import is_kind  # here, not at the top: this file is being split

        types = self.type if isinstance(self.type, tuple) else (self.type,)
        if not is_kind(value, types):  # the project files' rule: a bool is no number, an int is a float
            names = " hoặc ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
            return [
                bilingual(
                    f"tham số '{self.name}' phải là {names}, nhận được {value!r}",
                    f"parameter '{self.name}' must be {'/'.join(t.__name__ for t in types)}, "
                    f"got {type(value).__name__}",
                )
            ]
        out: list[str] = []
        if value is None:
            return out
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            out.append(
                bilingual(
                    f"tham số '{self.name}' = {value!r} nằm ngoài khoảng {self.low}–{self.high}",
                    f"parameter '{self.name}' = {value!r} is outside {self.low}..{self.high}",
                )
            )
        if self.choices is not None and value not in self.choices:
            valid = ", ".join(map(str, self.choices))
            out.append(
                bilingual(
                    f"tham số '{self.name}' = {value!r} không hợp lệ; chọn một trong: {valid}",
                    f"parameter '{self.name}' = {value!r} is not one of: {valid}",
                )
            )
        if not out and self.check is not None:
            msg = self.check(value)
            if msg:
                out.append(msg)
        return out


_TYPE_NAMES = {int: "số nguyên", float: "số", str: "chuỗi", bool: "true/false"}


@dataclass(frozen=True)
class Availability:
    """Whether an engine/voice can run here, and if not, how to fix it."""

    ok: bool
    detail: str
    fix: str = ""

    def __bool__(self) -> bool:
        return self.ok


# --------------------------------------------------------------------------- engine


class Engine(ABC):
    """A text-to-speech engine. Subclass, set NAME and PARAMS, add one line to the registry.

    Class attributes:
      NAME      registry name used in voice profiles (``engine: espeak``)
      PARAMS    the parameters a profile may set, with types and defaults
      POOL      how the driver runs it in parallel: "process" (offline, CPU-bound:
                one engine per worker process), "thread" (online, I/O-bound:
                a bounded thread pool sharing one instance), or "inline"
      POOL_MIN_TASKS  below this many cache misses a "process" engine runs in-process
    """

    NAME: ClassVar[str]
    PARAMS: ClassVar[tuple[Param, ...]] = ()
    POOL: ClassVar[str] = "inline"
    POOL_MIN_TASKS: ClassVar[int] = 4  # fewer misses than this: run in-process, skip the pool start-up

    def __init__(self, params: Mapping[str, Any] | None, base_dir: Path):
        self.params: dict[str, Any] = self.normalize_params(params)
        self.base_dir = Path(base_dir)
        self.retries = 0  # online engines count the retries they made

    # parameters --------------------------------------------------------------

    @classmethod
    def param_problems(cls, params: Mapping[str, Any] | None) -> list[str]:
        """Every problem with a profile's params: unknown names, wrong types, out of range."""
        params = dict(params or {})
        known = {p.name: p for p in cls.PARAMS}
        problems: list[str] = []
        for name in params:
            if name not in known:
                valid = ", ".join(sorted(known)) or "(không có / none)"
                problems.append(
                    bilingual(
                        f"động cơ '{cls.NAME}' không có tham số '{name}'; các tham số hợp lệ: {valid}",
                        f"engine '{cls.NAME}' has no parameter '{name}'; valid: {valid}",
                    )
                )
        for name, value in params.items():
            if name in known:
                problems.extend(known[name].problems(value))
        return problems

    @classmethod
    def normalize_params(cls, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validated params with defaults filled in; raises `TTSError` listing every problem."""
        problems = cls.param_problems(params)
        if problems:
            raise TTSError("\n".join(problems))
        out = {p.name: p.default for p in cls.PARAMS}
        out.update(params or {})
        return out

    # the protocol ------------------------------------------------------------

    @abstractmethod
    def synthesize(self, sentence: str) -> Clip:
        """Speak one sentence. Raises `TTSError` (naming the sentence) on failure."""

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.NAME} ({shown})" if shown else self.NAME

    @abstractmethod
    def version(self) -> str:
        """A string that changes whenever the same params+sentence could sound different."""

    @classmethod
    def availability(
        cls,
        params: Mapping[str, Any] | None = None,
        base_dir: Path | None = None,
        probe: Callable[[str, float], tuple[bool, str]] | None = None,
        probe_timeout: float = 3.0,
    ) -> Availability:
        """Can this engine run here with these params? Never synthesises; online engines
        may probe their service with `probe(url, timeout)`."""
        return Availability(True, f"{cls.NAME}: sẵn sàng (ready)")

    def close(self) -> None:  # noqa: B027 - optional: most engines hold nothing to release
        """Release resources (sessions, handles). Optional."""


def sentence_label(sentence: str, limit: int = 80) -> str:
    """A sentence quoted for an error message, shortened if long."""
    s = " ".join(sentence.split())
    return f"“{s if len(s) <= limit else s[: limit - 1] + '…'}”"
