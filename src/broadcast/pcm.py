"""The clip type every stage shares, and the one conversion between PCM and float samples.

Ground floor: imports nothing from the project, so `tts` (which makes clips) and `audio`
(which masters them) both build on it without importing each other.

One convention for float <-> 16-bit: full scale is 32768, as in FFmpeg's sample-format
conversion (so a clip we convert equals one ffmpeg converts): int -> float divides by 32768,
float -> int multiplies by 32768, rounds half to even, and clips to -32768..32767.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SAMPLE_WIDTH = 2  # bytes: every clip is 16-bit signed little-endian mono PCM
FULL_SCALE = 32768.0


@dataclass(frozen=True)
class Clip:
    """Audio: 16-bit signed little-endian mono PCM at `rate` Hz."""

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
        if not self.samples:
            return 0.0
        values = np.frombuffer(self.samples, dtype="<i2").astype(np.float64)
        return float(math.sqrt(np.mean(values * values)))


def from_pcm16(samples: bytes) -> np.ndarray:
    """16-bit PCM bytes -> float64 samples, full scale 1.0."""
    return np.frombuffer(samples, dtype="<i2").astype(np.float64) / FULL_SCALE


def to_pcm16(x: np.ndarray) -> bytes:
    """Float samples (full scale 1.0, any shape) -> 16-bit PCM bytes, clipped."""
    # Plain rounding, no dither: speech mastered to -16..-23 LUFS sits ~70 dB above 16-bit
    # quantisation noise, and dither would need a seeded noise source to stay byte-identical.
    y = np.asarray(x, dtype=np.float64).reshape(-1)
    return np.clip(np.round(y * FULL_SCALE), -32768, 32767).astype("<i2").tobytes()


def to_mono16(data: bytes, channels: int, width: int) -> bytes:
    """Interleaved little-endian integer PCM of any width (8/16/24/32 bit) -> 16-bit mono."""
    if width == 1:
        arr = (np.frombuffer(data, dtype=np.uint8).astype(np.int32) - 128) << 8
    elif width == 2:
        arr = np.frombuffer(data, dtype="<i2").astype(np.int32)
    elif width == 3:
        raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        arr = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        arr = np.where(arr & 0x800000, arr - 0x1000000, arr) >> 8
    elif width == 4:
        arr = (np.frombuffer(data, dtype="<i4") >> 16).astype(np.int32)
    else:
        raise ValueError(f"unsupported sample width {width}")
    if channels > 1:
        mixed = arr[: len(arr) - len(arr) % channels].reshape(-1, channels).mean(axis=1)
        return np.clip(mixed, -32768, 32767).astype("<i2").tobytes()
    return np.clip(arr, -32768, 32767).astype("<i2").tobytes()
