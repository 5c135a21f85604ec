"""The fast mastering arithmetic gives the answers of the slow, obvious one.

Mastering measures loudness and true peak on the signal's K-weighted form and peaks computed
once (`dsp.GainedLoudness`, `dsp.Limiter`), works at half the file's rate when the preset's band
allows (`Preset.work_rate`) and doubles the rate at the end (`dsp.upsample2`). Each shortcut is
checked here against measuring anew: pyloudnorm's own meter, a limiter made for the gain, and
scipy's polyphase resampler.
"""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample_poly

from broadcast import pcm
from broadcast.audio import dsp, get_preset
from broadcast.audio.mastering import master_samples, normalize
from broadcast.audio.testsignal import speech_like


def _speech(seconds: float, rate: int, seed: int, lufs: float = -20.0) -> np.ndarray:
    return pcm.from_pcm16(speech_like(seconds, rate=rate, lufs=lufs, seed=seed).samples)


def _uneven(rate: int) -> np.ndarray:
    """Loud speech, a silence, quiet speech: the relative gate drops the quiet part."""
    return np.concatenate([_speech(4.0, rate, 1, -14.0), np.zeros(rate), _speech(6.0, rate, 2, -38.0)])


def _with_bursts(rate: int) -> np.ndarray:
    """Band-limited speech with three short loud bursts: at a moderate gain the limiter touches only
    those, and the meter corrects only the stretches around them."""
    x = dsp.band_limit(_speech(8.0, rate, 5, -26.0), rate, 250.0, 7500.0)
    t = np.arange(int(0.01 * rate)) / rate
    for at in (1.0, 3.5, 6.2):
        start = int(at * rate)
        x[start : start + len(t)] += 0.5 * np.sin(2 * np.pi * 1000 * t)
    return x


def _pyloudnorm(x: np.ndarray, rate: int) -> float:
    block = int(0.4 * rate) + 1
    if len(x) < block:
        x = np.concatenate([x, np.zeros(block - len(x))])
    with np.errstate(divide="ignore"):
        return float(pyloudnorm.Meter(rate).integrated_loudness(x))


@pytest.mark.parametrize("rate", [22050, 24000, 44100, 48000])
@pytest.mark.parametrize("seconds", [0.2, 0.45, 3.0, 17.3])
def test_loudness_is_pyloudnorms(rate, seconds):
    x = _speech(seconds, rate, seed=int(seconds * 10))
    assert dsp.loudness(x, rate) == pytest.approx(_pyloudnorm(x, rate), abs=0.001)


def test_loudness_gates_like_pyloudnorm():
    rate = 22050
    x = _uneven(rate)
    whole = _pyloudnorm(x, rate)
    assert dsp.loudness(x, rate) == pytest.approx(whole, abs=0.001)
    assert whole > _pyloudnorm(x[: 4 * rate], rate) - 1.0  # the quiet part hardly counts: it is gated


def test_silence_measures_minus_infinity():
    assert dsp.loudness(np.zeros(44100), 44100) == -math.inf
    assert dsp.loudness(np.zeros(0), 44100) == -math.inf


@pytest.mark.parametrize("signal", ["uneven", "bursts"])
@pytest.mark.parametrize("gain_db", [0.0, 3.0, 6.0, 12.0, 20.0, 30.0])
def test_gained_loudness_is_measuring_the_limited_signal_anew(signal, gain_db):
    rate = 22050
    x = dsp.band_limit(_uneven(rate), rate, 250.0, 7500.0) if signal == "uneven" else _with_bursts(rate)
    meter = dsp.GainedLoudness(x, rate)
    limiter = dsp.Limiter(x, -2.5, 8)
    gain = dsp.db_to_gain(gain_db)
    y = limiter(gain)
    spans = limiter.spans(int(meter.TAIL * rate))
    if gain_db >= 12.0:
        assert spans, "the limiter should be working at this gain"
    assert meter.of(y, gain, spans) == pytest.approx(_pyloudnorm(y, rate), abs=0.001)


def test_gained_loudness_corrects_only_around_the_limited_stretches():
    rate = 22050
    x = _with_bursts(rate)
    meter, limiter = dsp.GainedLoudness(x, rate), dsp.Limiter(x, -2.5, 8)
    gain = dsp.db_to_gain(3.0)
    y = limiter(gain)
    spans = limiter.spans(int(meter.TAIL * rate))
    assert 1 <= len(spans) <= 3 and sum(end - start for start, end in spans) < 0.1 * len(x)
    assert abs(meter.of(y, gain, []) - meter.of(y, gain, spans)) > 0.01  # the bursts' limiting counts


def test_a_limiter_tried_at_many_gains_gives_what_a_fresh_one_gives():
    rate = 22050
    x = dsp.band_limit(_speech(8.0, rate, 3, -20.0), rate, 250.0, 7500.0)
    limiter = dsp.Limiter(x, -2.5, 8)
    for gain_db in (4.0, 14.0, 9.0, 22.0, 0.0, 17.0):  # up and down: the envelope is reused both ways
        gain = dsp.db_to_gain(gain_db)
        reused = limiter(gain)
        fresh = dsp.limit(x * gain, rate, -2.5, 8)
        np.testing.assert_allclose(reused, fresh, rtol=0, atol=1e-12)
        assert dsp.true_peak(reused, 8) <= -2.5 + 0.01


def test_upsample2_keeps_the_samples_and_interpolates_like_a_resampler():
    rate = 22050
    x = dsp.band_limit(_speech(3.0, rate, 4), rate, 250.0, 7500.0)
    y = dsp.upsample2(x)
    assert len(y) == 2 * len(x)
    np.testing.assert_array_equal(y[0::2], x)
    reference = resample_poly(x, 2, 1)
    middle = slice(1000, len(y) - 1000)
    error = np.sqrt(np.mean((y[middle] - reference[middle]) ** 2)) / np.sqrt(np.mean(reference[middle] ** 2))
    assert error < 10 ** (-50 / 20)  # within -50 dB of scipy's polyphase filter over the speech band


def test_presets_work_at_half_rate_only_when_their_band_fits():
    assert get_preset("loa").work_rate == 22050  # 7.5 kHz band inside 11 kHz
    assert get_preset("loa-ip").work_rate == 24000  # 7 kHz is too near 6 kHz: works at the file's rate
    assert get_preset("fm").work_rate == 44100
    assert get_preset("phat-thanh").work_rate == 48000


def test_loa_mastered_at_half_rate_holds_the_true_peak_at_the_files_rate():
    preset = get_preset("loa")
    x = _speech(10.0, 22050, 6, -12.0)
    y = master_samples(x, 22050, preset)
    assert len(y) == 2 * len(x)
    assert dsp.true_peak(y) <= preset.ceiling_dbtp + 0.05
    assert dsp.loudness(y, preset.rate) == pytest.approx(preset.pcm_target_lufs, abs=0.15)
    spectrum = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / preset.rate)
    assert spectrum[freqs > 11000].sum() < 1e-6 * spectrum.sum()  # nothing imaged above the work band


def test_normalize_reaches_the_target_through_limiting():
    rate = 22050
    x = dsp.band_limit(_speech(8.0, rate, 3, -30.0), rate, 250.0, 7500.0)  # peaks 19 dB above its loudness
    y = normalize(x, rate, -18.0, -2.5, 8)  # 4 dB more than the peaks allow: the limiter works
    assert _pyloudnorm(y, rate) == pytest.approx(-18.0, abs=0.1)
    assert dsp.true_peak(y, 8) <= -2.5 + 0.01
    assert dsp.true_peak(x * dsp.db_to_gain(-18.0 - _pyloudnorm(x, rate)), 8) > -2.5 + 3.0
