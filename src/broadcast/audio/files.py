"""Writing finished files: temp beside the target, rename into place, describe what landed."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from . import dsp
from .model import AudioFile

# read once, at import (single-threaded): os.umask can only be read by setting it
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def temp_beside(path: Path) -> Path:
    """A fresh temp file in `path`'s folder (same filesystem, so the rename is atomic), with the
    permissions any new file gets (mkstemp makes it private to us, and a station's player or
    file share running as another user could not read the published file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix + ".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o666 & ~_UMASK)
        else:  # Windows before Python 3.13: by name (it keeps only the read-only bit anyway)
            os.chmod(name, 0o666 & ~_UMASK)
    finally:
        os.close(fd)
    return Path(name)


# Writes go out in whole blocks of this size (a multiple of any page size): a file written over in
# place never has a page read back from disk to merge a partial write into it.
BLOCK = 1 << 16


def write_chunks(path: Path, chunks: Iterable[bytes], in_place: bool = False) -> str:
    """Write `chunks` one after another to `path` and return their sha256, computed as they are
    written: a program is ~10 MB, and joining its parts first would hold a second copy.

    `in_place`: `path` is an old file to write over (one a rebuild replaced; see `publish.SPARE`).
    It is not truncated first, so the disk reuses its blocks instead of freeing and allocating them
    again (on a disk mounted with online discard, freeing a 10 MB file costs ~3 ms), and it is cut to
    the new length at the end. Only a regular file no other name links is written over; anything
    else at `path` is replaced by a new file."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    if in_place:
        try:
            fd = os.open(path, flags, 0o666)
        except OSError:  # a symlink (O_NOFOLLOW) or not openable: a new file instead
            path.unlink(missing_ok=True)
            fd = os.open(path, flags | os.O_TRUNC, 0o666)
        info = os.fstat(fd)
        # publish.Staging.recycle checked it too (and that no one has it open); this, on the open
        # file, is the last word
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            os.close(fd)
            path.unlink()
            fd = os.open(path, flags | os.O_EXCL, 0o666)
    else:
        fd = os.open(path, flags | os.O_TRUNC, 0o666)
    digest = hashlib.sha256()
    try:
        pending = bytearray()  # the tail of a chunk that does not fill a block, completed by the next
        for chunk in chunks:
            digest.update(chunk)  # releases the GIL: other threads' programs go on meanwhile
            view = memoryview(chunk)
            if pending:
                take = BLOCK - len(pending)
                pending += view[:take]
                view = view[take:]
                if len(pending) < BLOCK:
                    continue
                _write_all(fd, pending)
                pending.clear()
            whole = len(view) - len(view) % BLOCK
            _write_all(fd, view[:whole])
            pending += view[whole:]
        _write_all(fd, pending)
        os.ftruncate(fd, os.lseek(fd, 0, os.SEEK_CUR))
    finally:
        os.close(fd)
    return digest.hexdigest()


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:  # a write may take only part of it
        view = view[os.write(fd, view):]


def finish(
    tmp: Path, path: Path, decoded: np.ndarray, rate: int, loudness: float | None = None, true_peak: float | None = None
) -> AudioFile:
    """Rename `tmp` onto `path` and report it, measured on `decoded` (what players will hear);
    pass `loudness` / `true_peak` when the caller has already measured `decoded`."""
    os.replace(tmp, path)
    return AudioFile(
        path=path,
        duration=len(decoded) / rate,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        loudness_lufs=round(dsp.loudness(decoded, rate) if loudness is None else loudness, 2),
        true_peak_dbtp=round(dsp.true_peak(decoded) if true_peak is None else true_peak, 2),
    )
