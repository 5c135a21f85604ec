"""Attention signals played before a message, synthesised here (the project ships no
third-party audio). Pure functions of (level, rate): the same samples every time.

normal:    a three-note descending bell, "ding-ding-dong" (G5, E5, C5).
priority:  the same bell phrase twice: recognisably the same family, more insistent.
emergency: a fast alternating two-tone (hi-lo) signal, ten cycles: unmistakably urgent.

All fundamentals sit above 500 Hz and all partials below 7 kHz, inside the band a horn
loudspeaker reproduces, so the `loa` band-pass leaves the chime intact.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# a struck bell: partial ratios and relative amplitudes (hum-less, bright but not harsh),
# each partial decaying faster the higher it is
_BELL_PARTIALS = ((1.0, 1.0), (2.0, 0.45), (2.76, 0.3), (4.07, 0.15), (5.4, 0.08))
_BELL_NOTES = (783.99, 659.25, 523.25)  # G5, E5, C5
_NOTE_SPACING = 0.42  # s between strikes
_RING = 1.4  # s each strike is allowed to ring
_RELEASE = 0.4  # s the ring dies away over at its end (faded in 50 ms, the last note stopped 20 dB under the peak)

_SIREN_TONES = (1046.5, 783.99)  # C6 / G5: a fourth apart, like a two-tone horn
_SIREN_STEP = 0.12  # s per tone: fast, urgent
_SIREN_CYCLES = 10


def _bell(freq: float, rate: int) -> np.ndarray:
    t = np.arange(int(_RING * rate)) / rate
    out = np.zeros_like(t)
    for ratio, amp in _BELL_PARTIALS:
        f = freq * ratio
        if f >= 7000.0:
            continue
        decay = 0.9 / ratio**0.7  # s time constant
        out += amp * np.sin(2 * np.pi * f * t) * np.exp(-t / decay)
    attack = np.minimum(1.0, t / 0.004)  # a 4 ms onset: no click
    release = 0.5 - 0.5 * np.cos(np.pi * np.clip((_RING - t) / _RELEASE, 0.0, 1.0))  # dies away to exact zero
    return out * attack * release


def _bell_phrase(rate: int) -> np.ndarray:
    step = int(_NOTE_SPACING * rate)
    out = np.zeros(step * (len(_BELL_NOTES) - 1) + int(_RING * rate))
    for i, f in enumerate(_BELL_NOTES):
        note = _bell(f, rate)
        out[i * step : i * step + len(note)] += note
    return out


def _siren(rate: int) -> np.ndarray:
    n = int(_SIREN_STEP * rate)
    t = np.arange(n) / rate
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.006)  # 6 ms edges: urgent, not clicky
    tones = []
    for f in _SIREN_TONES:
        # odd harmonics (a softened square) cut through noise better than a pure sine
        tone = sum(np.sin(2 * np.pi * f * k * t) / k for k in (1, 3, 5) if f * k < 7000.0)
        tones.append(tone * ramp)
    return np.tile(np.concatenate(tones), _SIREN_CYCLES)


@lru_cache(maxsize=12)
def _chime(level: str, rate: int) -> np.ndarray:
    if level == "emergency":
        out = _siren(rate)
    elif level == "priority":
        phrase = _bell_phrase(rate)
        start = len(phrase) - int((_RING - 0.85) * rate)  # strike again as the first "dong" fades
        out = np.zeros(start + len(phrase))
        out[: len(phrase)] += phrase
        out[start:] += phrase
    else:
        out = _bell_phrase(rate)
    out = out / np.abs(out).max() * 0.5  # level is set against the speech at assembly
    out.setflags(write=False)
    return out


def chime(level: str, rate: int) -> np.ndarray:
    """The attention signal for a message `level` ("normal" | "priority" | "emergency")."""
    return _chime(level, rate)
