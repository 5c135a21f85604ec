"""Synthetic speech-like clips for tests, benchmarks and `say`-less previews.

Not speech, but with speech's statistics where mastering cares: voiced syllables (a
harmonic series on a gliding 110-230 Hz pitch with vibrato, shaped by two formants),
unvoiced noise bursts, 4-5 syllables a second, word gaps, and a crest factor like a voice.
Seeded, so every call with the same arguments gives the same samples.
"""

from __future__ import annotations

import numpy as np

from broadcast import pcm
from broadcast.pcm import Clip

from . import dsp
from .model import MessageAudio, Spoken


def _syllable(rng: np.random.Generator, rate: int) -> np.ndarray:
    n = int(rng.uniform(0.14, 0.26) * rate)
    t = np.arange(n) / rate
    f0 = rng.uniform(110.0, 230.0) * (1.0 + rng.uniform(-0.15, 0.15) * t / t[-1])  # a tone contour
    f0 = f0 * (1.0 + 0.01 * np.sin(2 * np.pi * 5.5 * t))  # vibrato
    phase = 2 * np.pi * np.cumsum(f0) / rate
    formants = (rng.uniform(400, 900), rng.uniform(1100, 2600))
    voiced = np.zeros(n)
    for k in range(1, 40):
        fk = f0.mean() * k
        if fk > min(7500.0, rate / 2 - 500):
            break
        amp = sum(1.0 / (1.0 + ((fk - fm) / 180.0) ** 2) for fm in formants) + 0.05 / k
        voiced += amp * np.sin(k * phase)
    envelope = np.abs(np.sin(np.pi * t / t[-1])) ** 1.5
    out = voiced * envelope
    if rng.random() < 0.4:  # an unvoiced consonant onset (s, x, th)
        m = int(0.05 * rate)
        noise = np.diff(rng.standard_normal(m + 1))  # tilted up: fricatives are bright
        out[:m] += 0.4 * noise * np.hanning(m) * np.abs(voiced).max()
    return out


def speech_like(
    seconds: float, rate: int = 22050, lufs: float = -20.0, seed: int = 0, hum_hz: float = 0.0, hum_db: float = 0.0
) -> Clip:
    """About `seconds` of speech-like audio at `lufs`, optionally with mains hum `hum_db` under the speech."""
    rng = np.random.default_rng(seed)
    pieces, total = [np.zeros(int(0.05 * rate))], 0
    while total < seconds * rate:
        for _ in range(int(rng.integers(1, 4))):  # a word of 1-3 syllables
            s = _syllable(rng, rate)
            pieces.append(s)
            total += len(s)
        gap = np.zeros(int(rng.uniform(0.05, 0.15) * rate))
        pieces.append(gap)
        total += len(gap)
    x = np.concatenate(pieces + [np.zeros(int(0.05 * rate))])
    x *= dsp.db_to_gain(lufs - dsp.loudness(x, rate))
    if hum_hz:
        t = np.arange(len(x)) / rate
        rms = np.sqrt(np.mean(x[np.abs(x) > 0] ** 2))
        x = x + rms * dsp.db_to_gain(hum_db) * np.sqrt(2) * np.sin(2 * np.pi * hum_hz * t)
        x *= dsp.db_to_gain(lufs - dsp.loudness(x, rate))
    peak = np.abs(x).max()
    if peak > 1.0:  # a loud request would clip: that is what the caller asked for
        x = np.clip(x, -1.0, 1.0)
    return Clip(pcm.to_pcm16(x), rate)


def sample_message(
    seconds: float = 6.0,
    repeat: int = 1,
    level: str = "normal",
    rate: int = 22050,
    lufs: float = -20.0,
    seed: int = 0,
    hum_hz: float = 0.0,
) -> MessageAudio:
    """A message of about `seconds` of speech-like body: two paragraphs, a sentence in two
    parts (a group pause, like a phone number), and a reminder clip."""

    def clip(share: float, k: int) -> Clip:
        return speech_like(seconds * share, rate=rate, lufs=lufs, seed=seed * 100 + k, hum_hz=hum_hz)

    body = Spoken(paragraphs=(((clip(0.3, 1),), (clip(0.15, 2), clip(0.15, 3))), ((clip(0.4, 4),),)))
    return MessageAudio(body=body, repeat=repeat, level=level, reminder=clip(0.1, 9) if repeat > 1 else None)
