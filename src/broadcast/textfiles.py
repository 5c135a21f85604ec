"""Writing the project's own files (scripts, communes, the lexicon, a recordings index, an uploaded
recording) in place of the old ones, the way a careful text editor does.

- Whole or not at all: a temporary file in the same folder, flushed to the disk, renamed over the
  old one. A disk that fills, a permission refused or a crash leaves the old file as it was, and
  a build reading the project meanwhile reads the old file or the new one, never half of one.
- The file keeps what the program did not mean to change: its permissions and owner (a file
  shared by a group stayed writable only by whoever saved last; an upload was private to the
  studio's account, unreadable by a build run by another), its line endings (a file checked out
  on Windows with CRLF came back LF but for a few lines: mixed, and every line a change in git)
  and its byte-order mark (Notepad's UTF-8).
- A file reached through a symbolic link is written where the link points, if that is inside the
  project; the link stays. A link leading out of the project is replaced by the file.
- On Windows a file another program holds open (an editor, a build reading it, an antivirus
  scan) cannot be renamed over for a moment: the rename is tried again for a few seconds.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BOM = b"\xef\xbb\xbf"
_WINDOWS = os.name == "nt"
# read once, at import (single-threaded): os.umask can only be read by setting it
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@dataclass(frozen=True)
class Layout:
    """How a text file's bytes are laid out, beyond its text."""

    bom: bool = False
    crlf: bool = False


def layout(data: bytes) -> Layout:
    """The layout of a file's bytes: CRLF when most of its line breaks are (a file with none is LF)."""
    crlf = data.count(b"\r\n")
    return Layout(bom=data.startswith(BOM), crlf=crlf > 0 and crlf * 2 >= data.count(b"\n"))


def text_of(data: bytes) -> str:
    """A file's UTF-8 bytes as the program edits them: no byte-order mark, LF line breaks
    (`UnicodeDecodeError` if they are not UTF-8)."""
    return data.removeprefix(BOM).decode("utf-8").replace("\r\n", "\n")


def bytes_of(text: str, like: Layout = Layout()) -> bytes:
    """`text` (LF line breaks) as the bytes of a file laid out `like` another."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    if like.crlf:
        text = text.replace("\n", "\r\n")
    return (BOM if like.bom else b"") + text.encode("utf-8")


def target(path: Path) -> Path:
    """Where writing `path` lands: the file a symbolic link points at when that is inside the project
    (the nearest folder above holding broadcast.yaml), else `path` itself, the link replaced by the
    file: a link planted in the project (a git checkout may hold one) led a studio save out of it,
    onto any file the studio's account may write."""
    if not path.is_symlink():
        return path
    pointed = path.resolve()
    project = next((folder for folder in path.absolute().parents if (folder / "broadcast.yaml").is_file()), None)
    return pointed if project is not None and pointed.is_relative_to(project.resolve()) else path


def replace(path: Path, data: bytes) -> None:
    """Write `data` as the file `path`, whole or not at all, keeping the old file's permissions and
    owner (a new file gets those of any new file: 0666 less the umask)."""
    path = target(path)
    try:  # a link still here leads out of the project: it is replaced, nothing taken from what it points at
        old: os.stat_result | None = None if path.is_symlink() else path.stat()
    except FileNotFoundError:
        old = None
    if old is not None and not stat.S_ISREG(old.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(path)) if stat.S_ISDIR(old.st_mode) else \
            FileExistsError(17, "File exists", str(path))
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:  # said of the file to save, not of a temporary name nobody knows
        raise type(error)(error.errno, error.strerror, str(path)) from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, stat.S_IMODE(old.st_mode) if old is not None else 0o666 & ~_UMASK)
        if old is not None and hasattr(os, "chown") and (old.st_uid, old.st_gid) != _owner(tmp):
            try:
                os.chown(tmp, old.st_uid, old.st_gid)
            except OSError:  # only root may give a file away; its group, if we are in it, still
                with contextlib.suppress(OSError):
                    os.chown(tmp, -1, old.st_gid)
        _rename(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _owner(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_uid, info.st_gid


def _rename(source: Path, destination: Path) -> None:
    for attempt in range(20 if _WINDOWS else 1):
        try:
            os.replace(source, destination)
            return
        except PermissionError:
            if not _WINDOWS or attempt == 19:
                raise
            time.sleep(0.25)  # held open by another program for a moment: a build reading it, a scan


def _sync_folder(folder: Path) -> None:
    """The rename itself on the disk (POSIX: the folder's entry), so that a power cut after a save
    does not bring the old file back. Windows has no such call, nor needs it."""
    if _WINDOWS:
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
