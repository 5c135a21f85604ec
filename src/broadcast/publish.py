"""The one writer of output/: a lock, a staging folder, and an atomic publish.

A weekly cron job may be killed at any moment. So a week is built in
output/.staging/<week>-<pid>/ and only then swapped into output/<week> in one step
(Linux renameat2 RENAME_EXCHANGE; elsewhere two renames with the old copy kept until the new
one is in place). Operators never see a half-written week; the previous week stays intact.
Files whose content did not change are hard-linked from the published week, so a rebuild
does not touch what operators already copied.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BuildLocked

RENAME_EXCHANGE = 2  # from <linux/fs.h>
AT_FDCWD = -100


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Lock:
    """An exclusive lock on a project's output/, naming its holder when taken."""

    def __init__(self, output: Path):
        output.mkdir(parents=True, exist_ok=True)
        self.path = output / ".lock"
        self.handle = None

    def __enter__(self) -> "Lock":
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            holder = handle.read().strip() or "không rõ"
            handle.close()
            raise BuildLocked(f"một bản dựng khác đang chạy cho dự án này ({holder}); "
                              "chờ nó xong rồi chạy lại (another build holds the lock)") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} trên máy {socket.gethostname()}, bắt đầu lúc {time.strftime('%Y-%m-%d %H:%M:%S')}")
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, *exc_info) -> None:
        if self.handle:
            self.handle.seek(0)
            self.handle.truncate()
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()


@dataclass
class Staging:
    """A week being built. Refuses to write the same file twice (a planning bug, not a retry).

    Safe to use from several threads, as long as each writes its own files."""

    output: Path
    week: str
    published_digests: dict[str, str] = field(default_factory=dict)  # from the published manifest
    path: Path = field(init=False)
    work: Path = field(init=False)
    written: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    reused: int = 0
    fresh: list[Path] = field(default_factory=list)  # files with new content: to flush before publishing
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        base = self.output / ".staging"
        base.mkdir(parents=True, exist_ok=True)
        for stale in base.glob(f"{self.week}-*"):  # left by a killed build: never published
            shutil.rmtree(stale, ignore_errors=True)
        self.path = base / f"{self.week}-{os.getpid()}"
        self.path.mkdir()
        self.work = base / f"{self.week}-{os.getpid()}.work"  # scratch files, never published
        self.work.mkdir()

    @property
    def published(self) -> Path:
        return self.output / self.week

    def _target(self, rel: str) -> Path:
        with self._lock:
            if rel in self.written:
                raise RuntimeError(f"{rel} written twice in one build")
            self.written[rel] = ""  # taken; the digest follows
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_bytes(self, rel: str, data: bytes) -> Path:
        """Write a file; if the published week has the same bytes there, link that instead."""
        digest = hashlib.sha256(data).hexdigest()
        target = self._target(rel)
        if not self._link_same(rel, digest, target):
            target.write_bytes(data)
            self._made(target)
        self.written[rel] = digest
        return target

    def adopt(self, rel: str, source: Path, digest: str | None = None) -> Path:
        """Take a file made elsewhere (e.g. an encoder's temp file) into the week."""
        digest = digest or sha256_file(source)
        target = self._target(rel)
        if self._link_same(rel, digest, target):
            source.unlink()
        else:
            os.replace(source, target)
            self._made(target)
        self.written[rel] = digest
        return target

    def carry_over(self, rel: str, digest: str | None = None) -> bool:
        """Keep a published file as it is (unchanged inputs, or a commune not rebuilt this time).

        `digest`: its sha256 from the previous manifest, so a warm rebuild need not read it again.
        False if the file is gone (then the caller makes it anew)."""
        old = self.published / rel
        if not old.is_file():
            return False
        target = self._target(rel)
        os.link(old, target)
        self.written[rel] = digest or sha256_file(old)
        self._count_reuse()
        return True

    def link(self, rel: str, same_as: str) -> Path:
        """`rel` is byte for byte the file `same_as` already staged: store it once (a hard link)."""
        target = self._target(rel)
        os.link(self.path / same_as, target)
        self.written[rel] = self.written[same_as]
        return target

    def _made(self, target: Path) -> None:
        with self._lock:
            self.fresh.append(target)

    def _count_reuse(self) -> None:
        with self._lock:
            self.reused += 1

    def _link_same(self, rel: str, digest: str, target: Path) -> bool:
        old = self.published / rel
        if rel in self.published_digests and self.published_digests[rel] != digest:
            return False  # the manifest already says it differs: no need to read it
        if old.is_file() and not old.is_symlink() and old.stat().st_size > 0 and sha256_file(old) == digest:
            os.link(old, target)
            self._count_reuse()
            return True
        return False

    def publish(self) -> Path:
        """Swap the staged week into place in one step."""
        shutil.rmtree(self.work, ignore_errors=True)
        # only new content: a hard link to a published file shares its already-flushed data
        _fsync_files(self.fresh)
        final = self.published
        if final.exists():
            if not _exchange(self.path, final):
                old = self.output / ".staging" / f"{self.week}-old-{os.getpid()}"
                os.rename(final, old)
                os.rename(self.path, final)
                self.path = old
            shutil.rmtree(self.path, ignore_errors=True)  # now the previous week
        else:
            os.rename(self.path, final)
        return final

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2). False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    return result == 0


def _fsync_files(paths: list[Path]) -> None:
    """Flush staged files to disk before they become visible (a power cut must not publish zeros)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_json(staging: Staging, rel: str, data: object) -> Path:
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    return staging.write_bytes(rel, text.encode("utf-8"))
