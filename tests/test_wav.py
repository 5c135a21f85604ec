"""broadcast.wav: the one WAV reader/writer and RIFF chunk codec."""

from __future__ import annotations

import struct
import wave

import numpy as np
import pytest

from broadcast.pcm import Clip, from_pcm16, to_pcm16
from broadcast.wav import WavError, read_wav, riff_chunks, wav_bytes, write_wav


def tone(n: int = 1001, rate: int = 16000) -> Clip:
    return Clip(to_pcm16(0.5 * np.sin(np.arange(n) * 0.05)), rate)


def test_extra_chunks_go_between_fmt_and_data_and_other_readers_skip_them(tmp_path):
    clip = tone()
    blob = wav_bytes(clip, [(b"bcsm", b"x" * 40), (b"odd ", b"abc")])
    assert [cid for cid, _ in riff_chunks(blob)] == [b"fmt ", b"bcsm", b"odd ", b"data"]
    assert dict(riff_chunks(blob))[b"odd "] == b"abc"  # the pad byte is not part of the data
    assert len(blob) % 2 == 0
    path = tmp_path / "a.wav"
    path.write_bytes(blob)
    with wave.open(str(path), "rb") as w:  # the standard reader skips our chunks
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        assert w.readframes(w.getnframes()) == clip.samples
    assert read_wav(path) == clip


def test_plain_roundtrip_and_damage(tmp_path):
    clip = tone()
    assert read_wav(write_wav(clip, tmp_path / "b.wav")) == clip
    blob = wav_bytes(clip)
    with pytest.raises(WavError):
        riff_chunks(blob[:-1])
    with pytest.raises(WavError):
        riff_chunks(b"RIFX" + blob[4:])
    with pytest.raises(WavError):
        read_wav(b"not a wav file at all")


def test_stereo_24_bit_is_mixed_to_mono16():
    left = np.array([0.5, -0.25, 0.0])
    right = np.array([0.0, -0.25, 0.5])
    ints = np.round(np.stack([left, right], axis=1).reshape(-1) * (1 << 23)).astype("<i4")
    data = b"".join(struct.pack("<i", int(v))[:3] for v in ints)
    blob = (
        b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 8000, 8000 * 6, 6, 24)
        + b"data" + struct.pack("<I", len(data)) + data
    )
    clip = read_wav(blob)
    assert clip.rate == 8000
    assert np.allclose(from_pcm16(clip.samples), (left + right) / 2, atol=1 / 32768)


def test_one_float_convention_full_scale_32768():
    assert to_pcm16(np.array([1.0, -1.0, 0.5, 2.0, -2.0])) == struct.pack("<5h", 32767, -32768, 16384, 32767, -32768)
    assert list(from_pcm16(struct.pack("<2h", -32768, 16384))) == [-1.0, 0.5]
