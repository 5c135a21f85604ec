"""The engine protocol shared by every TTS engine (each returns a `broadcast.pcm.Clip`).

Modelled on beets' replaygain backends: an ABC with a ``NAME``, each engine
checking in its constructor that its parameters make sense (and raising a
`TTSError` with a fix), and a registry (`broadcast.tts.registry`) built from the
classes. An engine never touches the cache; `broadcast.tts.synthesize` does.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from broadcast.errors import EngineUnavailable, MissingRecording, Problem, TTSError, bilingual
from broadcast.options import Invalid, Kinds, Place, Schema, Type
from broadcast.pcm import Clip

__all__ = [  # the errors are re-exported for the engines (they live in broadcast.errors)
    "Availability", "Clip", "Engine", "EngineUnavailable", "MissingRecording", "Param", "QUIET_DBFS", "TTSError",
    "bilingual", "level_dbfs", "sentence_label",
]

# --------------------------------------------------------------------------- params


class Param(Type):
    """One parameter a voice profile may set for an engine: a typed option with a name and a help line.

    Declared as data (``Param("rate", int, 150, "tốc độ, từ/phút", low=80, high=450)``) and
    validated by the same primitives as the project files (`broadcast.options`): type, range,
    choices, then `check` (a value -> a problem message, or None).
    """

    def __init__(self, name: str, type: Kinds, default: Any, help: str = "", *,
                 low: float | None = None, high: float | None = None, choices: tuple[Any, ...] | None = None,
                 check: Callable[[Any], str | None] | None = None):
        hint = f"{name}: {help}" if help else bilingual("sửa hồ sơ giọng", "fix the voice profile")
        super().__init__(type, default=default, low=low, high=high, choices=choices,
                         check=None if check is None else lambda value: _with_hint(check(value), hint))
        self.name, self.help = name, help

    @property
    def type(self) -> Kinds:
        return self.kind

    def convert(self, value: Any, at: Place) -> Any:
        value = super().convert(value, at)
        # written "\0" in quotes: a folder or a model file named with it ended lint and build in a traceback
        # (ValueError: embedded null byte) at the first look at the disk
        if isinstance(value, str) and "\x00" in value:
            raise Invalid(f"'{at.key}' có ký tự NUL (\\0) (control character)", f"xóa '\\0' khỏi '{at.key}'")
        return value


def _with_hint(message: str | None, hint: str) -> tuple[str, str] | None:
    return None if message is None else (message, hint)


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
    ONLINE: ClassVar[bool] = False  # calls a service over the network (doctor says so, probes it briefly)
    POOL_MIN_TASKS: ClassVar[int] = 4  # fewer misses than this: run in-process, skip the pool start-up

    def __init__(self, params: Mapping[str, Any] | None, base_dir: Path):
        self.params: dict[str, Any] = self.normalize_params(params)
        self.base_dir = Path(base_dir)
        self.retries = 0  # online engines count the retries they made

    # parameters --------------------------------------------------------------

    RATE_ADJUSTABLE: ClassVar[bool] = True  # takes `syllables_per_second` (False: human recordings)

    @classmethod
    def all_params(cls) -> tuple[Param, ...]:
        """The engine's own params, and `syllables_per_second` for any engine that does not map it itself."""
        if not cls.RATE_ADJUSTABLE or any(p.name == RATE_PARAM.name for p in cls.PARAMS):
            return cls.PARAMS
        return (*cls.PARAMS, RATE_PARAM)

    @classmethod
    def param_schema(cls) -> Schema:
        """The schema of a profile's params: one option per `Param`, "did you mean" for unknown names."""
        return Schema({p.name: p for p in cls.all_params()}, unknown=("tham số", "parameter"))

    @classmethod
    def param_problems(cls, params: Mapping[str, Any] | None) -> list[str]:
        """Every problem with a profile's params: unknown names, wrong types, out of range, each with its fix."""
        return cls._checked(params)[1]

    @classmethod
    def normalize_params(cls, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validated params with defaults filled in; raises `TTSError` listing every problem."""
        values, problems = cls._checked(params)
        if problems:
            raise TTSError("\n".join(problems))
        return values

    @classmethod
    def _checked(cls, params: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
        """The params with defaults filled in, and what is wrong with them (each with its fix)."""
        problems: list[Problem] = []
        values = cls.param_schema().validate(params or {}, Place(problems, "", field="params"))
        return values, [f"{p.message}. Cách sửa: {p.hint}" for p in problems]

    # the protocol ------------------------------------------------------------

    @abstractmethod
    def synthesize(self, sentence: str) -> Clip:
        """Speak one sentence. Raises `TTSError` (naming the sentence) on failure."""

    def speak(self, sentence: str) -> Clip:
        """`synthesize`, at the profile's `syllables_per_second` when it gives one and the engine does not
        map it to a parameter of its own: the clip is time-stretched (FFmpeg's atempo, pitch kept) from
        the rate it came at (its words over its length: a Vietnamese word is one syllable) to the rate asked."""
        clip = self.synthesize(sentence)
        target = self.params.get(RATE_PARAM.name)
        if not target or not self.RATE_ADJUSTABLE or any(p.name == RATE_PARAM.name for p in self.PARAMS):
            return clip
        return at_rate(clip, sentence, float(target))

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.NAME} ({shown})" if shown else self.NAME

    @abstractmethod
    def version(self) -> str:
        """A string that changes whenever the same params+sentence could sound different."""

    def sound_params(self) -> Mapping[str, Any]:
        """The parameters that change how a sentence sounds (the clip cache's key): all of them, but
        for an online service's retries, timeouts and address (`OnlineEngine`)."""
        return self.params

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

    @classmethod
    def files(cls, params: Mapping[str, Any] | None, base_dir: Path) -> list[Path]:
        """Files or folders outside the project's text files that change how this voice sounds (a
        model, recordings): a build whose voices' files changed is never "unchanged"."""
        return []

    def close(self) -> None:  # noqa: B027 - optional: most engines hold nothing to release
        """Release resources (sessions, handles). Optional."""

    def stop(self) -> None:  # noqa: B027 - optional: only engines that wait (online ones) need it
        """The build is stopping (Ctrl-C, SIGTERM): sentences under way give up at their next wait.
        May be called from another thread."""


RATE_PARAM = Param("syllables_per_second", (float, type(None)), None,
                   "tốc độ đọc, âm tiết mỗi giây (loa ngoài trời: 3,0-3,5 sau tempo của preset)", low=1.5, high=8.0)
MAX_STRETCH = 2.0  # atempo keeps speech natural within about a factor of two either way


def at_rate(clip: Clip, sentence: str, syllables_per_second: float) -> Clip:
    """`clip` stretched to speak `sentence` at `syllables_per_second`."""
    from broadcast.ffmpeg import stretch
    from broadcast.pcm import from_pcm16, to_pcm16

    words = len(re.findall(r"\w+", sentence))
    if not words or clip.duration <= 0:
        return clip
    tempo = min(MAX_STRETCH, max(1 / MAX_STRETCH, syllables_per_second / (words / clip.duration)))
    if abs(tempo - 1.0) < 0.01:
        return clip
    return Clip(to_pcm16(stretch(from_pcm16(clip.samples), clip.rate, tempo)), clip.rate)


QUIET_DBFS = -50.0  # speech is -30 to -15 dBFS RMS; a clip quieter than this is hiss or silence


def level_dbfs(clip: Clip) -> float:
    """A clip's RMS level in dBFS (-inf for digital silence): under `QUIET_DBFS` it is not speech."""
    rms = clip.rms()
    return 20 * math.log10(rms / 32768) if rms > 0 else -math.inf


def sentence_label(sentence: str, limit: int = 80) -> str:
    """A sentence quoted for an error message, shortened if long."""
    s = " ".join(sentence.split())
    return f"“{s if len(s) <= limit else s[: limit - 1] + '…'}”"


# How long an answer may be for its sentence, per spoken word (a Vietnamese word is one syllable):
# fast speech is about 7 syllables a second, Google's about 4-5, its slow voice about 2. The
# bounds are far outside all of these, so that only a broken answer falls outside: under
# MIN_SECONDS_PER_WORD is a cut-off answer, over MAX_SECONDS_BASE + MAX_SECONDS_PER_UNIT per
# word or digit (a digit may be read as several syllables) is not this sentence.
MIN_SECONDS_PER_WORD = 0.05
MAX_SECONDS_BASE = 3.0
MAX_SECONDS_PER_UNIT = 1.0


def implausible_length(sentence: str, seconds: float, slow: bool = False) -> str | None:
    """Why a clip of `seconds` cannot be `sentence` spoken (None when it can): a bilingual reason."""
    words = re.findall(r"\w+", sentence)
    units = len(words) + sum(c.isdigit() for c in sentence)
    low = MIN_SECONDS_PER_WORD * len(words)
    high = (MAX_SECONDS_BASE + MAX_SECONDS_PER_UNIT * units) * (2 if slow else 1)
    if seconds < low:
        return bilingual(f"âm thanh dài {seconds:.2f} giây, quá ngắn cho {len(words)} tiếng (tối thiểu {low:.2f} giây)",
                         "the answer is too short for the sentence: cut off")
    if seconds > high:
        return bilingual(f"âm thanh dài {seconds:.1f} giây, quá dài cho {len(words)} tiếng (tối đa {high:.1f} giây)",
                         "the answer is too long for the sentence")
    return None
