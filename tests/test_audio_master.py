"""Mastering lands every preset on its loudness and true-peak targets, as measured
independently by ffmpeg's ebur128 filter on the finished file."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from broadcast import pcm
from broadcast.audio import (
    MessageAudio,
    Spoken,
    Tags,
    dsp,
    get_preset,
    master,
    master_message,
)
from broadcast.audio.testsignal import sample_message, speech_like
from broadcast.ffmpeg import decode, measure_ebur128
from broadcast.tts.base import Clip

TAGS = Tags(title="Cảnh giác lừa đảo", artist="Xã Chi Lăng")


def _clipping_message() -> MessageAudio:
    """Speech driven 20 dB into the rails: flat-topped, square-ish, at 0 dBFS."""
    x = pcm.from_pcm16(speech_like(5.0, lufs=-20.0, seed=7).samples)
    loud = Clip(pcm.to_pcm16(np.clip(x * 10.0, -1.0, 1.0)), 22050)
    return MessageAudio(body=Spoken.of(loud))


INPUTS = {
    "quiet": lambda: sample_message(6.0, lufs=-40.0, seed=1),
    "normal": lambda: sample_message(6.0, lufs=-20.0, seed=2),
    "clipping": _clipping_message,
}


@pytest.mark.parametrize("preset_name", ["loa", "fm", "phat-thanh"])
@pytest.mark.parametrize("level", list(INPUTS))
def test_finished_file_on_target(tmp_path, preset_name, level):
    preset = get_preset(preset_name)
    out = master_message(INPUTS[level](), preset, tmp_path / f"m{preset.suffix}", TAGS)
    measured = measure_ebur128(out.path)
    assert abs(measured.integrated_lufs - preset.target_lufs) <= preset.tolerance_lu
    assert measured.true_peak_dbtp <= preset.max_true_peak_dbtp
    # our own report agrees with ffmpeg's meter
    assert abs(out.loudness_lufs - measured.integrated_lufs) <= 0.2
    assert abs(out.true_peak_dbtp - measured.true_peak_dbtp) <= 0.3


def _band_power(freqs: np.ndarray, psd: np.ndarray, low: float, high: float) -> float:
    return float(psd[(freqs >= low) & (freqs < high)].sum())


def test_loa_removes_what_horns_cannot_play(tmp_path):
    message = sample_message(8.0, seed=3, hum_hz=80.0)  # speech plus strong mains hum
    source = pcm.from_pcm16(message.body.clips()[0].samples)
    f, p = welch(source, fs=22050, nperseg=4096)
    assert _band_power(f, p, 0, 150) > _band_power(f, p, 1000, 3000)  # the hum dominates the input

    out = master_message(message, get_preset("loa"), tmp_path / "loa.mp3", TAGS)
    decoded = decode(out.path, 44100)[0]
    f, p = welch(decoded, fs=44100, nperseg=8192)
    below, voice = _band_power(f, p, 0, 150), _band_power(f, p, 1000, 3000)
    assert 10 * np.log10(voice / below) >= 20.0
    above = _band_power(f, p, 9000, 20000)
    assert 10 * np.log10(voice / above) >= 20.0  # and the low-pass keeps the top out too


def test_master_returns_clip_at_preset_rate_on_pcm_target():
    preset = get_preset("loa")
    clip = speech_like(6.0, lufs=-30.0, seed=4)
    out = master(clip, preset)
    assert out.rate == preset.rate
    x = pcm.from_pcm16(out.samples)
    assert abs(dsp.loudness(x, out.rate) - preset.pcm_target_lufs) <= 0.15
    assert dsp.true_peak(x) <= preset.ceiling_dbtp + 0.05


def test_silence_stays_silent():
    out = master(Clip(b"\0\0" * 22050, 22050), get_preset("fm"))
    assert not any(out.samples)


def test_limiter_catches_inter_sample_peaks():
    # a quarter-rate sine sampled at 45 degrees: every sample is at 0.707 of the real peak
    rate = 48000
    n = np.arange(rate)
    x = 0.95 * np.sin(2 * np.pi * n / 4 + np.pi / 4)
    assert dsp.true_peak(x) > dsp.gain_to_db(np.abs(x).max()) + 2.5  # 3 dB above the samples
    y = dsp.limit(x, rate, -1.0)
    assert dsp.true_peak(y) <= -1.0 + 0.05
    assert np.abs(y).max() < 1.0  # limited, not clipped


def test_phase_rotation_keeps_loudness_and_lowers_crest():
    x = pcm.from_pcm16(speech_like(5.0, rate=44100, seed=5).samples)
    x = dsp.band_limit(x, 44100, 250.0, 7500.0)
    y = dsp.rotate_phase(x, 44100, 8)
    assert abs(dsp.loudness(y, 44100) - dsp.loudness(x, 44100)) < 0.05
    def crest(s):
        return dsp.true_peak(s) - dsp.loudness(s, 44100)

    assert crest(y) < crest(x) - 1.0
