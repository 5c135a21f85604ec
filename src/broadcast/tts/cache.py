"""Content-addressed clip cache: each (engine, engine version, params, sentence) is spoken once.

Layout: ``<folder>/<k[:2]>/<key>.wav``. Each clip is a plain 16-bit mono WAV that any
player or ffmpeg reads, with one extra RIFF chunk (``bcsm``: data length + SHA-256 of the
samples) that players skip and we check on every read, so a truncated or damaged file
is a miss, never bad audio.

Writes go to a temp file in the same shard folder, then ``os.replace`` onto the final
name: a worker killed mid-write leaves at most a ``.tmp-*`` file that no reader looks
at (and that `prune` sweeps), and parallel writers of the same key (threads or
processes) each replace a complete file. No fsync: after a power cut the checksum
turns a torn file into a miss, which simply re-synthesises.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from broadcast.errors import EnvironmentProblem, machine_refusal
from broadcast.pcm import SAMPLE_WIDTH, Clip
from broadcast.wav import WavError, read_pcm, riff_chunks, wav_bytes

CHECK_CHUNK = b"bcsm"
SUFFIX = ".wav"
TMP_PREFIX = ".tmp-"
STALE_TMP_SECONDS = 3600


def clip_key(engine: str, engine_version: str, params: Mapping[str, Any], sentence: str) -> str:
    """SHA-256 (hex) of everything that decides how a sentence sounds."""
    payload = json.dumps(
        {"engine": engine, "version": engine_version, "params": dict(params), "sentence": sentence},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def encode_clip(clip: Clip) -> bytes:
    """A WAV file (PCM 16-bit mono) carrying a checksum chunk before the data."""
    check = struct.pack("<Q", len(clip.samples)) + hashlib.sha256(clip.samples).digest()
    return wav_bytes(clip, [(CHECK_CHUNK, check)])


def decode_clip(blob: bytes) -> Clip | None:
    """The clip in a cache file, or None if the file is truncated, damaged or foreign."""
    try:
        check = dict(riff_chunks(blob)).get(CHECK_CHUNK)
        data, channels, width, rate = read_pcm(blob)
    except WavError:
        return None
    if check is None or len(check) != 40 or (channels, width) != (1, SAMPLE_WIDTH):
        return None
    (length,) = struct.unpack_from("<Q", check, 0)
    if length != len(data) or hashlib.sha256(data).digest() != check[8:]:
        return None
    return Clip(bytes(data), rate)


class ClipCache:
    """Spoken clips on disk, by content key. Safe for parallel threads and processes."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"ClipCache({str(self.folder)!r})"

    def path(self, key: str) -> Path:
        """Where the clip for `key` lives (whether or not it exists yet)."""
        if len(key) < 3 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.folder / key[:2] / f"{key}{SUFFIX}"

    def get(self, key: str) -> Clip | None:
        """The cached clip, or None on a miss (absent, truncated or damaged file)."""
        try:
            blob = self.path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return decode_clip(blob)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def put(self, key: str, clip: Clip) -> Path:
        """Store a clip atomically; returns its final path."""
        final = self.path(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".part", dir=final.parent)
        except OSError as error:
            raise self._unwritable(error) from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(encode_clip(clip))
            os.replace(tmp, final)
        except BaseException as error:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            if isinstance(error, OSError):
                raise self._unwritable(error) from None
            raise
        return final

    def _unwritable(self, error: OSError) -> EnvironmentProblem:
        """The machine's problem, for the whole command (exit 3): it was counted as the voice failing
        on every sentence (a project on a read-only share: 'check the voice with broadcast doctor')."""
        why, _ = machine_refusal(error)
        return EnvironmentProblem(f"không ghi được bộ nhớ đệm giọng đọc: {why} "
                                  "(cannot write the voice cache)", file=str(self.folder),
                                  fix="cho phép ghi thư mục .cache của dự án, giải phóng ổ đĩa, hoặc chép dự án "
                                      "sang ổ ghi được")

    def _files(self) -> Iterator[Path]:
        """The cache's own files: a symlink, to a shard or a file, leads elsewhere (prune would
        delete what it points at) and is not the cache's."""
        if not self.folder.is_dir():
            return
        for shard in self.folder.iterdir():
            if len(shard.name) == 2 and not shard.is_symlink() and shard.is_dir():
                yield from (p for p in shard.iterdir() if not p.is_symlink())

    def stats(self) -> tuple[int, int]:
        """(number of clips, bytes on disk), not counting temp files."""
        count = size = 0
        for p in self._files():
            if p.suffix == SUFFIX and not p.name.startswith(TMP_PREFIX):
                try:
                    size += p.stat().st_size
                    count += 1
                except FileNotFoundError:
                    pass
        return count, size

    def prune(self, keep_keys: Iterable[str], stale_tmp_seconds: float = STALE_TMP_SECONDS) -> tuple[int, int]:
        """Delete every clip whose key is not in `keep_keys`, and temp files left by killed
        workers (older than `stale_tmp_seconds`). Returns (removed count, removed bytes)."""
        keep = set(keep_keys)
        now = time.time()
        removed = freed = 0
        for p in list(self._files()):
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            if p.name.startswith(TMP_PREFIX):
                drop = now - st.st_mtime > stale_tmp_seconds
            else:
                drop = not (p.suffix == SUFFIX and p.stem in keep)
            if drop:
                try:
                    p.unlink()
                except FileNotFoundError:
                    continue
                removed += 1
                freed += st.st_size
        for shard in list(self.folder.iterdir()) if self.folder.is_dir() else []:
            if shard.is_dir():
                try:
                    shard.rmdir()  # only if empty
                except OSError:
                    pass
        return removed, freed

    def writable(self) -> tuple[bool, str]:
        """Can this process create files in the cache folder?"""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=self.folder)
            os.close(fd)
            os.unlink(tmp)
            return True, str(self.folder)
        except OSError as e:
            return False, f"{self.folder}: {e.strerror or e}"
