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


def normalize(x: np.ndarray, rate: int, target_lufs: float, ceiling_dbtp: float,
              oversample: int = dsp.OVERSAMPLE) -> np.ndarray:
    """Gain to `target_lufs`, then true-peak limit to `ceiling_dbtp`.

    The limiter costs loudness (more, the harder it works), so the gain is searched by the
    secant method on measured loudness: two or three passes land within 0.1 LU. The signal's
    peaks and K-weighted form are computed once (see `dsp.Limiter`, `dsp.GainedLoudness`), so a
    pass costs little more than the samples the limiter touches.
    """
    meter = dsp.GainedLoudness(x, rate)
    if not math.isfinite(meter.level):
        return x  # silence stays silence
    limiter = dsp.Limiter(x, ceiling_dbtp, oversample)
    gain, slope = target_lufs - meter.level, 1.0
    previous: tuple[float, float] | None = None  # (gain, loudness reached) of the last pass
    for _ in range(_PASSES):
        factor = dsp.db_to_gain(gain)
        y = limiter(factor)
        reached = meter.of(y, factor, limiter.spans(int(meter.TAIL * rate)))
        if abs(target_lufs - reached) <= _ACCURACY_LU:
            break
        if previous is not None and gain != previous[0]:
            # loudness gained per dB of gain: 1 without limiting, less the harder it limits
            slope = min(1.0, max(0.2, (reached - previous[1]) / (gain - previous[0])))
        previous = (gain, reached)
        gain += (target_lufs - reached) / slope
    return y


def master_samples(x: np.ndarray, rate: int, preset: Preset, relative_lu: float = 0.0) -> np.ndarray:
    """Master float samples at `rate`; returns float samples at `preset.rate`, `relative_lu` from
    the preset's loudness (the chime: `preset.chime_lu`, a little under the speech).

    The work is done at `preset.work_rate` (half the file's rate when the preset's band fits in
    it) and the result doubled in rate at the end; the limiter then oversamples twice as much,
    so the true peak it holds is the file's."""
    work = preset.work_rate
    x = dsp.resample(np.asarray(x, dtype=np.float64), rate, work)
    x = dsp.voice_band(x, work, preset.highpass_hz, preset.lowpass_hz, preset.phase_rotation)
    x = dsp.compress(x, work, preset.compress_threshold_lu, preset.compress_ratio)
    target = preset.pcm_target_lufs + relative_lu
    y = normalize(x, work, target, preset.ceiling_dbtp, dsp.OVERSAMPLE * preset.rate // work)
    return dsp.upsample2(y) if work != preset.rate else y


def master(pcm: Clip, preset: Preset) -> Clip:
    """`pcm` mastered for `preset`: at the preset's rate, band-limited, compressed, peaks
    limited, and at the loudness that puts the preset's encoded file on its target."""
    return Clip(to_pcm16(master_samples(from_pcm16(pcm.samples), pcm.rate, preset)), preset.rate)
