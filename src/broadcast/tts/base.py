"""The engine protocol shared by every TTS engine, and the `Clip` they return.

Modelled on beets' replaygain backends: an ABC with a ``NAME``, each engine
checking in its constructor that its parameters make sense (and raising a
`TTSError` with a fix), and a registry (`broadcast.tts.registry`) built from the
classes. An engine never touches the cache; `broadcast.tts.synthesize` does.
"""

from __future__ import annotations

import io
import math
import wave
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping

from broadcast.errors import EngineUnavailable as EngineUnavailable
from broadcast.errors import MissingRecording as MissingRecording
from broadcast.errors import TTSError as TTSError
from broadcast.errors import bilingual as bilingual

SAMPLE_WIDTH = 2  # bytes: every clip is 16-bit signed little-endian mono PCM


# --------------------------------------------------------------------------- clip


@dataclass(frozen=True)
class Clip:
    """Spoken audio: 16-bit signed little-endian mono PCM at `rate` Hz."""

    samples: bytes
    rate: int

    def __post_init__(self) -> None:
        if len(self.samples) % SAMPLE_WIDTH:
            raise ValueError("PCM data must hold whole 16-bit samples")
        if self.rate <= 0:
            raise ValueError("sample rate must be positive")

    def __repr__(self) -> str:  # never dump megabytes of PCM into a log line
        return f"Clip({self.duration:.2f} s @ {self.rate} Hz)"

    @property
    def frames(self) -> int:
        return len(self.samples) // SAMPLE_WIDTH

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.rate

    def rms(self) -> float:
        """Root-mean-square level, 0..32768 (0 for silence)."""
        import numpy as np

        if not self.samples:
            return 0.0
        values = np.frombuffer(self.samples, dtype="<i2").astype(np.float64)
        return float(math.sqrt(np.mean(values * values)))

    # WAV ----------------------------------------------------------------------

    def to_wav_bytes(self) -> bytes:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(SAMPLE_WIDTH)
            w.setframerate(self.rate)
            w.writeframes(self.samples)
        return buf.getvalue()

    def write_wav(self, path: Path | str) -> Path:
        path = Path(path)
        path.write_bytes(self.to_wav_bytes())
        return path

    @classmethod
    def from_wav(cls, source: Path | str | bytes) -> "Clip":
        """Read a PCM WAV (any channel count; 8/16/24/32-bit) and mix it down to 16-bit mono."""
        stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(source, "rb")
        with stream, wave.open(stream, "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            data = w.readframes(w.getnframes())
        return cls(samples=to_mono16(data, channels, width), rate=rate)

    # pydub --------------------------------------------------------------------

    def to_segment(self):
        """The clip as a `pydub.AudioSegment` (for the mastering stage)."""
        AudioSegment = _pydub_segment_class()

        return AudioSegment(data=self.samples, sample_width=SAMPLE_WIDTH, frame_rate=self.rate, channels=1)

    @classmethod
    def from_segment(cls, segment) -> "Clip":
        segment = segment.set_channels(1).set_sample_width(SAMPLE_WIDTH)
        return cls(samples=segment.raw_data, rate=segment.frame_rate)


def _pydub_segment_class():
    """pydub's AudioSegment, imported quietly and pointed at imageio-ffmpeg's ffmpeg."""
    import warnings

    with warnings.catch_warnings():
        # pydub warns at import when no system ffmpeg is on PATH, and about audioop on 3.12
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        from pydub import AudioSegment
    try:
        import imageio_ffmpeg

        AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:
        pass
    return AudioSegment


def to_mono16(data: bytes, channels: int, width: int) -> bytes:
    """Convert interleaved little-endian PCM of any width to 16-bit mono."""
    import numpy as np

    if width == 1:
        arr = (np.frombuffer(data, dtype=np.uint8).astype(np.int32) - 128) << 8
    elif width == 2:
        arr = np.frombuffer(data, dtype="<i2").astype(np.int32)
    elif width == 3:
        raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        arr = (raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16))
        arr = np.where(arr & 0x800000, arr - 0x1000000, arr) >> 8
    elif width == 4:
        arr = (np.frombuffer(data, dtype="<i4") >> 16).astype(np.int32)
    else:
        raise ValueError(f"unsupported sample width {width}")
    if channels > 1:
        arr = arr[: len(arr) - len(arr) % channels].reshape(-1, channels).mean(axis=1)
    return np.clip(arr, -32768, 32767).astype("<i2").tobytes()


def float_to_pcm16(audio) -> bytes:
    """Float samples in [-1, 1] (numpy array) to 16-bit PCM bytes."""
    import numpy as np

    return (np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


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
                    f"parameter '{self.name}' must be {'/'.join(t.__name__ for t in types)}, got {type(value).__name__}",
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

    def close(self) -> None:
        """Release resources (sessions, handles). Optional."""


def sentence_label(sentence: str, limit: int = 80) -> str:
    """A sentence quoted for an error message, shortened if long."""
    s = " ".join(sentence.split())
    return f"“{s if len(s) <= limit else s[: limit - 1] + '…'}”"
