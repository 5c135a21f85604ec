"""Writing finished files: temp beside the target, rename into place, describe what landed."""

from __future__ import annotations

import hashlib
import os
import tempfile
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
        os.fchmod(fd, 0o666 & ~_UMASK)
    finally:
        os.close(fd)
    return Path(name)


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
