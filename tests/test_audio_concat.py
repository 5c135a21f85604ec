"""Program files: finished CBR MP3 messages joined frame by frame."""

from __future__ import annotations

import subprocess

import mutagen
import pytest

from broadcast.audio import AudioError, Tags, concat_mp3, get_preset, master_message
from broadcast.audio.concat import read_frames
from broadcast.audio.testsignal import sample_message
from broadcast.ffmpeg import ffmpeg_exe, measure_ebur128

TAGS = Tags(title="Chương trình buổi sáng", artist="Xã Chi Lăng", album="Tuần 2026-W49")


def test_concat_joins_messages_exactly(tmp_path):
    parts = [
        master_message(sample_message(3.0, seed=s, level=lvl), get_preset("loa"), tmp_path / f"{s}.mp3", TAGS)
        for s, lvl in ((41, "normal"), (42, "emergency"), (43, "priority"))
    ]
    out = concat_mp3([p.path for p in parts], tmp_path / "program.mp3", TAGS)
    assert out.duration == pytest.approx(sum(p.duration for p in parts), abs=1e-6)
    assert read_frames(out.path).count == sum(read_frames(p.path).count for p in parts)
    err = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(out.path), "-f", "null", "-"], capture_output=True)
    assert err.stderr == b""
    assert abs(measure_ebur128(out.path).integrated_lufs + 16.0) <= 1.0
    assert str(mutagen.File(out.path).tags["TIT2"]) == "Chương trình buổi sáng"
    again = concat_mp3([p.path for p in parts], tmp_path / "again.mp3", TAGS)
    assert again.sha256 == out.sha256


def test_concat_refuses_mixed_formats(tmp_path):
    loa = master_message(sample_message(2.0, seed=44), get_preset("loa"), tmp_path / "a.mp3", TAGS)
    fm = master_message(sample_message(2.0, seed=45), get_preset("fm"), tmp_path / "b.mp3", TAGS)
    with pytest.raises(AudioError, match="preset"):
        concat_mp3([loa.path, fm.path], tmp_path / "program.mp3", TAGS)
    assert not (tmp_path / "program.mp3").exists()


def test_program_join_wav_parts(tmp_path):
    from broadcast.audio.join import join_files

    parts = [master_message(sample_message(2.0, seed=s), get_preset("phat-thanh"), tmp_path / f"{s}.wav", TAGS) for s in (46, 47)]
    out = join_files([p.path for p in parts], get_preset("phat-thanh"), tmp_path / "program.wav", TAGS)
    assert out.duration == pytest.approx(sum(p.duration for p in parts), abs=1e-6)
    assert abs(measure_ebur128(out.path).integrated_lufs + 23.0) <= 0.5
