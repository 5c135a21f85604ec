"""Mastering: band-limit, compress, normalise loudness, limit true peak — all in numpy.

    band-pass -> phase rotator -> compressor -> gain to target LUFS -> true-peak limiter
              -> measure again, trim the gain once more if the limiter cost loudness

The result stays float until the encoder, so nothing is quantised twice.
"""

from __future__ import annotations

import math

import numpy as np

from broadcast.pcm import Clip, from_pcm16, to_pcm16

from . import dsp
from .presets import Preset

_ACCURACY_LU = 0.1  # re-gain when the limiter moved loudness by more than this
_PASSES = 5


def normalize(x: np.ndarray, rate: int, target_lufs: float, ceiling_dbtp: float) -> np.ndarray:
    """Gain to `target_lufs`, then true-peak limit to `ceiling_dbtp`.

    The limiter costs loudness (more, the harder it works), so the gain is searched by the
    secant method on measured loudness: two or three passes land within 0.1 LU.
    """
    level = dsp.loudness(x, rate)
    if not math.isfinite(level):
        return x  # silence stays silence
    gain, slope = target_lufs - level, 1.0
    previous: tuple[float, float] | None = None  # (gain, loudness reached) of the last pass
    for _ in range(_PASSES):
        y = dsp.limit(x * dsp.db_to_gain(gain), rate, ceiling_dbtp)
        reached = dsp.loudness(y, rate)
        if abs(target_lufs - reached) <= _ACCURACY_LU:
            break
        if previous is not None and gain != previous[0]:
            # loudness gained per dB of gain: 1 without limiting, less the harder it limits
            slope = min(1.0, max(0.2, (reached - previous[1]) / (gain - previous[0])))
        previous = (gain, reached)
        gain += (target_lufs - reached) / slope
    return y


def master_samples(x: np.ndarray, rate: int, preset: Preset) -> np.ndarray:
    """Master float samples at `rate`; returns float samples at `preset.rate`."""
    out_rate = preset.rate
    x = dsp.resample(np.asarray(x, dtype=np.float64), rate, out_rate)
    x = dsp.band_limit(x, out_rate, preset.highpass_hz, preset.lowpass_hz)
    x = dsp.rotate_phase(x, out_rate, preset.phase_rotation)
    x = dsp.compress(x, out_rate, preset.compress_threshold_lu, preset.compress_ratio)
    return normalize(x, out_rate, preset.pcm_target_lufs, preset.ceiling_dbtp)


def master(pcm: Clip, preset: Preset) -> Clip:
    """`pcm` mastered for `preset`: at the preset's rate, band-limited, compressed, peaks
    limited, and at the loudness that puts the preset's encoded file on its target."""
    return Clip(to_pcm16(master_samples(from_pcm16(pcm.samples), pcm.rate, preset)), preset.rate)
