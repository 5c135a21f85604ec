"""Program files: finished CBR MP3 messages joined frame by frame."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess

import mutagen
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadcast.audio import AudioError, Tags, concat_mp3, get_preset, master_message
from broadcast.audio.concat import read_frames
from broadcast.audio.files import BLOCK, write_chunks
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


def _lame(tmp_path, name: str, kbps: int, seconds: float = 1.0, vbr_tag: bool = False) -> bytes:
    """Raw frames from LAME (no tags); with `vbr_tag` through ffmpeg, which writes a Xing/Info frame first."""
    import numpy as np

    from broadcast.audio.encoding import encode_mp3

    x = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(44100 * seconds)) / 44100) * 32767).astype("<i2").tobytes()
    path = tmp_path / name
    if vbr_tag:
        subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "s16le", "-ar", "44100", "-ac", "1", "-i", "-",
                        "-c:a", "libmp3lame", "-b:a", f"{kbps}k", str(path)], input=x, check=True)
    else:
        encode_mp3(x, 44100, kbps, path)
    return path.read_bytes()


def test_frames_are_counted_and_an_info_frame_is_dropped(tmp_path):
    raw = _lame(tmp_path, "raw.mp3", 96)
    frames = read_frames(tmp_path / "raw.mp3")
    assert frames.count * 1152 >= 44100 and frames.data == raw and frames.signature[2] == 96
    _lame(tmp_path, "tagged.mp3", 96, vbr_tag=True)
    tagged = read_frames(tmp_path / "tagged.mp3")
    assert b"Info" not in tagged.data[:64] and b"Xing" not in tagged.data[:64]
    assert b"Info" in (tmp_path / "tagged.mp3").read_bytes()[:4096]  # ffmpeg wrote one; it was dropped
    assert abs(tagged.count - frames.count) <= 2  # the same second of audio, give or take the encoders' padding


def test_garbage_or_another_bitrate_midway_is_refused_with_its_byte(tmp_path):
    a = _lame(tmp_path, "a.mp3", 96)
    b = _lame(tmp_path, "b.mp3", 128)
    half = read_frames(tmp_path / "a.mp3")
    cut = 20 * (len(a) // half.count)  # near frame 20, not on a frame start
    (tmp_path / "garbage.mp3").write_bytes(a[:cut] + b"\x00" * 500 + a[cut:])
    with pytest.raises(AudioError, match=r"ở byte \d+"):
        read_frames(tmp_path / "garbage.mp3")
    (tmp_path / "mixed.mp3").write_bytes(a + b)
    with pytest.raises(AudioError, match=f"ở byte {len(a)}"):
        read_frames(tmp_path / "mixed.mp3")
    (tmp_path / "empty.mp3").write_bytes(b"ID3")
    with pytest.raises(AudioError, match="không có khung MP3"):
        read_frames(tmp_path / "empty.mp3")


# --- writing a file over an old one (publish.SPARE) ----------------------------------------------

@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 3 * BLOCK + 7), max_size=8), old=st.integers(0, 5 * BLOCK), in_place=st.booleans())
def test_write_chunks_leaves_exactly_the_chunks_whatever_was_there(tmp_path_factory, sizes, old, in_place):
    """Chunks of any sizes (across the block boundaries the writer aligns to) over an old file of
    any size, larger or smaller: the file is the chunks and nothing else, and the digest is theirs."""
    path = tmp_path_factory.mktemp("w") / "program.mp3"
    path.write_bytes(b"\xee" * old)
    rng = random.Random(len(sizes) * 7919 + old)
    chunks = [rng.randbytes(n) for n in sizes]
    digest = write_chunks(path, iter(chunks), in_place=in_place)
    assert path.read_bytes() == b"".join(chunks)
    assert digest == hashlib.sha256(b"".join(chunks)).hexdigest()


def test_write_chunks_in_place_reuses_the_file_but_never_writes_through_another_name(tmp_path):
    old = tmp_path / "spare"
    old.write_bytes(b"old" * 100_000)
    inode = old.stat().st_ino
    write_chunks(old, [b"new" * 1000], in_place=True)
    assert old.stat().st_ino == inode and old.read_bytes() == b"new" * 1000  # the same file, cut to length

    shared = tmp_path / "published.mp3"  # a file another name links (e.g. a published week's)
    shared.write_bytes(b"aired" * 1000)
    os.link(shared, tmp_path / "spare2")
    write_chunks(tmp_path / "spare2", [b"new"], in_place=True)
    assert shared.read_bytes() == b"aired" * 1000 and (tmp_path / "spare2").read_bytes() == b"new"

    victim = tmp_path / "victim.txt"  # a symlink put where the old file was: never followed
    victim.write_bytes(b"keep me")
    (tmp_path / "spare3").symlink_to(victim)
    write_chunks(tmp_path / "spare3", [b"new"], in_place=True)
    assert victim.read_bytes() == b"keep me" and not (tmp_path / "spare3").is_symlink()
    assert (tmp_path / "spare3").read_bytes() == b"new"


def test_write_chunks_writes_whole_blocks_so_no_old_page_is_read_back(tmp_path, monkeypatch):
    """Over an old file whose pages are no longer cached, a write that covers part of a page makes
    the kernel read that page first: every write but the last starts and ends on a block."""
    from broadcast.audio import files

    writes: list[tuple[int, int]] = []
    original = files._write_all

    def record(fd, data):
        writes.append((os.lseek(fd, 0, os.SEEK_CUR), len(data)))
        original(fd, data)

    monkeypatch.setattr(files, "_write_all", record)
    path = tmp_path / "program.mp3"
    path.write_bytes(bytes(4 * BLOCK))
    chunks = [b"\1" * 417, b"\2" * (BLOCK + 313), b"\3" * 5, b"\4" * (2 * BLOCK - 100), b"\5" * 999]
    write_chunks(path, chunks, in_place=True)
    assert path.read_bytes() == b"".join(chunks)
    assert [start % BLOCK for start, size in writes if size] == [0] * sum(1 for _, size in writes if size)
    assert all(size % BLOCK == 0 for _, size in writes[:-1])
