"""The one writer of output/: a lock, a staging folder, and an atomic publish.

A weekly cron job may be killed at any moment. So a week is built in
output/.staging/<week>-<pid>/ and only then swapped into output/<week> in one step
(Linux renameat2 RENAME_EXCHANGE). Where that does not exist (Windows, macOS, some network
shares) output/<week> is never moved at all: the staged week is marked as publishing, then each
of its files replaces its published namesake in place (one atomic rename per file), the manifest
last, and files the new week no longer has are removed. The week folder is there at every moment,
each file whole (old or new). A kill in the middle leaves the marker: the next command that
takes the lock finishes the move (`recover`), so the week is never lost and never deleted. Every
other leftover of a killed build (an unmarked staging folder: never published) is removed then,
with the lock held no other build is running.
Files whose content did not change are hard-linked from the published week (copied where the
disk has no hard links), so a rebuild does not touch what operators already copied.

A published file is carried over only when it still has the bytes its manifest names. Reading
them all again each build cost a province's warm build 2.9 of its 4.7 s (4 GB of programs), so,
as git's index and rsync's quick check do, the build notes each file's stamp when it publishes
the week (device, inode, size, modification and change time; `.cache/published/<week>.json`)
and trusts a file whose stamp is unchanged. Any write, rename over it, chmod or new link changes
a file's change time, which no program can set back; a file without a matching stamp (another
disk, a copied project, an edit, a stamp file lost) is hashed as before. On Windows, where the
"change time" Python reports is the creation time, stamps are not trusted: every file is read.
`broadcast verify output/<week>` reads every byte on demand.

A rebuild replaces files: an edit to the sentence naming each commune's police replaces 325 of a
province's 390 programs (3.4 GB). Deleting them after the swap cost 1.0-1.3 s on a disk mounted
with online discard (each freed block is trimmed), and writing as many new files 0.4-0.75 s. So a
replaced file of a program's size that nothing else links is not deleted but kept in
`.cache/spare/`, and the next build writes a new program over it in place (0.24 s for as many), as
PostgreSQL recycles its old WAL segments. Unlike PostgreSQL's, these files had readers this program
does not control (a player still playing last week's program, a station downloading it), so a
spare is written over only when the kernel says no one has it open (`_only_opener`). At rest the
project holds at most what its last build replaced: what the next build does not reuse is deleted
when it publishes, and `broadcast clean` frees them. Only where the week folder is swapped in one
step (Linux), and `.cache` is on output's disk.

New files are flushed to disk as they are staged, by a thread that waits on the disk while the
build goes on, and the week is swapped in once all are: a power cut never publishes zeros.

The lock is `filelock`'s: flock on output/.lock on Linux/macOS, msvcrt on Windows, and
where neither exists a lock file output/.lock-file naming its owner (taken over when that
owner is dead). Who holds the lock is written beside it, in output/.lock-holder.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import stat
import threading
import time
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

with warnings.catch_warnings():  # where only a lock file is possible it says so on import: expected here
    warnings.simplefilter("ignore")
    from filelock import FileLock, SoftFileLock, Timeout

from .errors import BuildLocked

try:
    import fcntl
except ImportError:  # Windows: no leases, and no week folder swap, so no file is kept to be written over
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

RENAME_EXCHANGE = 2  # from <linux/fs.h>
AT_FDCWD = -100
STAGING = ".staging"
REMOVING = ".removing-"  # output/.<week>.removing-<pid>: a week being deleted by `clean`
WEEK_FOLDER_RE = re.compile(r"[0-9]{4}-W[0-9]{2}")
PUBLISHING = ".publishing"  # in a staged week: its files are moving into output/<week>; finish, never delete
MANIFEST = "manifest.json"  # moved last: the week is complete once it is in
STAMPS = Path(".cache") / "published"  # in the project: <week>.json, each published file's stamp
SPARE = Path(".cache") / "spare"  # in the project: files a rebuild replaced, for the next one to write over
SPARE_MIN_BYTES = 4 << 20  # programs (~10 MB); messages, pages and feeds are not worth keeping

Inode = tuple[int, int, int, int]  # (device, inode, size, modification time in ns): one file's content
Stamp = tuple[int, int, int, int, int]  # the same and its change time: as the build last left it


# Where a file's "change time" is its creation time (Windows), a stamp cannot show an edit that puts
# the modification time back: there every published file is read to check it, as before stamps.
TRUST_STAMPS = os.name != "nt"


def _inode(info: os.stat_result) -> Inode:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Lock:
    """An exclusive lock on a project's output/, naming its holder when taken.

    Taking it first repairs what a killed build left (`recover`)."""

    def __init__(self, output: Path):
        output.mkdir(parents=True, exist_ok=True)
        self.output = output
        # flock/msvcrt lock .lock (as before); a lock *file* needs a name no flock user ever leaves behind
        self.path = output / (".lock-file" if FileLock is SoftFileLock else ".lock")
        self.holder = output / ".lock-holder"
        self._lock = FileLock(self.path)
        self._held = False

    def __enter__(self) -> Self:
        if self.path.is_symlink():  # never ours: filelock refuses to follow it, and so do we
            log.warning("xoá liên kết %s do người khác đặt (removed a symlink in place of the lock file)", self.path)
            self.path.unlink()
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise BuildLocked(f"một bản dựng khác đang chạy cho dự án này ({self._holder()}); "
                              "chờ nó xong rồi chạy lại (another build holds the lock)") from None
        self._held = True
        try:
            _write_text(self.holder, f"pid {os.getpid()} trên máy {socket.gethostname()}, "
                                     f"bắt đầu lúc {time.strftime('%Y-%m-%d %H:%M:%S %z')}")
            recover(self.output)
            _drop_if_empty(self.output / STAGING)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _holder(self) -> str:
        try:
            fd = os.open(self.holder, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as handle:
                return handle.read(1000).decode("utf-8", errors="replace").strip() or "không rõ"
        except OSError:
            return "không rõ"

    def __exit__(self, *exc_info: object) -> None:
        if not self._held:
            return
        self._held = False
        try:
            self.holder.unlink(missing_ok=True)
        except OSError as exc:  # the disk turned read-only: this error hid the one that stopped the command
            log.info("không xoá được %s (%s); người giữ khoá sau sẽ ghi đè", self.holder, exc)
        finally:
            self._lock.release()


def recover(output: Path, week: str | None = None) -> list[str]:
    """Repair what killed builds left in output/.staging (all weeks, or only `week`). Call with
    the lock held. Returns what was done, one line each (also logged).

    A staged week marked as publishing was being moved into output/<week> file by file when
    its build died: the move is finished. Every other leftover (unpublished staging, scratch)
    is removed: a staged week that had not begun to publish is never published by a later
    command, since the build that made it never reported success."""
    base = output / STAGING
    done: list[str] = []
    if week is None:
        done += _remove_leftovers(output)
    if not base.is_dir():
        return _logged(done)
    for entry in sorted(base.iterdir()):
        name = entry.name
        if week is not None and not name.startswith(f"{week}-"):
            continue
        if (entry / PUBLISHING).is_file():
            week_folder = output / name.rsplit("-", 1)[0]
            move_in(entry, week_folder)
            done.append(f"hoàn tất phát hành tuần {week_folder.name} bị dừng giữa chừng "
                        "(finished an interrupted publish)")
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        done.append(f"xoá {entry} (removed a leftover of a stopped build)")
    return _logged(done)


def _logged(done: list[str]) -> list[str]:
    for line in done:
        log.warning("%s", line)
    return done


def _remove_leftovers(output: Path) -> list[str]:
    """What a killed `clean` or `bundle` left: a week moved aside to be deleted (`remove_weeks`), a
    zip being written."""
    found = [*output.glob(f".*{REMOVING}*"), *output.glob(f"bundles/.*{REMOVING}*"),
             *output.glob("bundles/*/.*.zip.tmp")]
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return [f"xoá {path} (removed a leftover of a stopped command)" for path in found]


def _drop_if_empty(folder: Path) -> None:
    """output/ keeps published weeks, its README and the lock: no empty .staging/ left behind."""
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (another week being staged) or already gone


def published_weeks(output: Path) -> list[str]:
    """The weeks published in `output`, oldest first."""
    if not output.is_dir():
        return []
    return sorted(p.name for p in output.iterdir() if WEEK_FOLDER_RE.fullmatch(p.name) and p.is_dir()
                  and not p.is_symlink() and (p / MANIFEST).is_file())


def mirror(folder: Path, files: dict[str, bytes]) -> None:
    """`folder` holding exactly `files` (by path in it): each written whole (a new file renamed over
    the old, none written through a symbolic link), one already so left alone, any other removed.
    For what is derived again by every build (output/moi-nhat/): nothing there is flushed."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        folder.unlink()
    for rel, data in files.items():
        path = folder / rel
        for parent in reversed(path.relative_to(folder).parents[:-1]):  # a planted link leads out of output/
            if (folder / parent).is_symlink() or (folder / parent).is_file():
                (folder / parent).unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file() and not path.is_symlink() and path.stat().st_size == len(data) and path.read_bytes() == data:
            continue
        _write_bytes(path, data)
    for path in sorted(folder.rglob("*"), reverse=True):  # deepest first: emptied folders go too
        rel = path.relative_to(folder).as_posix()
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif rel not in files:
            path.unlink()


def remove_weeks(output: Path, weeks: list[str]) -> int:
    """Delete published weeks (call with the lock held); returns the bytes freed (a file with other
    hard links, shared with a week that stays, frees nothing)."""
    freed = 0
    for week in weeks:
        folder = output / week
        if not WEEK_FOLDER_RE.fullmatch(week) or folder.is_symlink() or not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                info = path.stat()
                freed += info.st_size if info.st_nlink == 1 else 0
        # moved aside in one step, then deleted: a kill half way left a week with files missing that
        # still counted as published (and verified as damaged); `recover` deletes what is left aside
        aside = output / f".{week}{REMOVING}{os.getpid()}"
        os.rename(folder, aside)
        (output.parent / STAMPS / f"{week}.json").unlink(missing_ok=True)  # its files' stamps go with it
        shutil.rmtree(aside)
    return freed


def _write_text(path: Path, text: str) -> None:
    _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    """Write `path` by renaming a new file over it: whatever is there (a symlink too) is replaced,
    never written through, and no other file is opened for writing or truncated."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # a leftover (or a planted symlink): the name, not what it points to
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)  # on a full disk, refused at close: the empty temp file stayed, one per command
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
    recycled: int = 0  # new programs written over files an earlier rebuild replaced (SPARE)
    hashed: int = 0  # published files whose bytes were read to check them (no matching stamp)
    flush: bool = True  # flush each new file as it is staged, and publish() once all are on disk
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # sha256 by content: slots that air the same program share one file by hard link, and it needs
    # checking once per build, not once per name (910 names, 390 files)
    _hashed: dict[Inode, str] = field(default_factory=dict, repr=False)
    _stamps: dict[str, tuple[Stamp, str]] = field(default_factory=dict, repr=False)  # the published week's
    _staged: dict[str, Inode] = field(default_factory=dict, repr=False)  # each staged file as staged
    _spares: list[Path] = field(default_factory=list, repr=False)  # SPARE files not yet written over
    _flusher: ThreadPoolExecutor | None = field(default=None, repr=False)
    _flushing: list[Future[None]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        base = self.output / STAGING
        base.mkdir(parents=True, exist_ok=True)
        recover(self.output, self.week)  # left by a killed build (the lock already did it)
        self.path = base / f"{self.week}-{os.getpid()}"
        self.path.mkdir()
        self.work = base / f"{self.week}-{os.getpid()}.work"  # scratch files, never published
        self.work.mkdir()
        self._stamps = _read_stamps(self.stamp_file)
        if _spares_usable(self.spare_folder, self.output):
            self._spares = sorted(Path(e.path) for e in os.scandir(self.spare_folder)
                                  if e.is_file(follow_symlinks=False))

    @property
    def stamp_file(self) -> Path:
        return self.output.parent / STAMPS / f"{self.week}.json"

    @property
    def spare_folder(self) -> Path:
        return self.output.parent / SPARE

    def recycle(self, path: Path) -> bool:
        """Move a file an earlier rebuild replaced to `path`, a scratch path of this build, to be
        written over in place (`audio.files.write_chunks`). Only a regular file that no other name
        links and no one has open: a player may still be playing last week's program from it, or
        a station downloading it. False when there is none."""
        while True:
            with self._lock:
                if not self._spares:
                    return False
                spare = self._spares.pop()
            try:
                os.rename(spare, path)
                fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
            except OSError:  # gone meanwhile, or a symlink put there: never followed
                _remove(path)
                continue
            try:
                info = os.fstat(fd)
                alone = stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and _only_opener(fd)
            finally:
                os.close(fd)
            if alone:
                with self._lock:
                    self.recycled += 1
                return True
            _remove(path)  # whoever has it open keeps reading what it was

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
            self._new_content(target)
        self._done(rel, target, digest)
        return target

    def adopt(self, rel: str, source: Path, digest: str | None = None) -> Path:
        """Take a file made elsewhere (e.g. an encoder's temp file) into the week."""
        digest = digest or sha256_file(source)
        target = self._target(rel)
        if self._link_same(rel, digest, target):
            source.unlink()
        else:
            os.replace(source, target)
            self._new_content(target)
        self._done(rel, target, digest)
        return target

    def carry_over(self, rel: str, digest: str | None = None) -> bool:
        """Keep a published file as it is (unchanged inputs, or a commune not rebuilt this time).

        `digest`: its sha256 in the previous manifest. The file is staged (linked) first and its
        staged bytes hashed: only bytes that match are kept. False if the file is gone, is not a
        regular file (a symlink put in its place), or no longer has those bytes (damaged or
        edited after publishing): then the caller makes it anew."""
        old = self.published / rel
        if old.is_symlink() or not old.is_file():
            return False
        trusted = self._trusted(rel, old)
        target = self._target(rel)
        _link(old, target)
        actual = None if target.is_symlink() else self._digest(target, trusted)
        if actual is None or (digest and actual != digest):
            target.unlink()
            with self._lock:
                del self.written[rel]
            log.warning("%s", f"tệp đã phát hành {rel} bị thay đổi hoặc hỏng sau khi phát hành; làm lại "
                              "(a published file changed after publishing; making it anew)")
            return False
        self._done(rel, target, actual)
        self._count_reuse()
        return True

    def _trusted(self, rel: str, published: Path) -> tuple[Inode, str] | None:
        """The published file's content and sha256 if its stamp is as this build's predecessor left
        it (read before linking it: a new link changes its change time)."""
        known = self._stamps.get(rel)
        if known is None or not TRUST_STAMPS:
            return None
        try:
            info = published.lstat()
        except OSError:
            return None
        stamp, digest = known
        return (_inode(info), digest) if _inode(info) + (info.st_ctime_ns,) == stamp else None

    def _digest(self, path: Path, trusted: tuple[Inode, str] | None = None) -> str:
        """sha256 of a file linked from the published week: from its stamp when that still holds
        (the link must be to the very file the stamp describes), else by reading it."""
        key = _inode(path.stat())
        with self._lock:
            if key not in self._hashed and trusted is not None and trusted[0] == key:
                self._hashed[key] = trusted[1]
            known = self._hashed.get(key)
        if known is None:
            known = sha256_file(path)
            with self._lock:
                self._hashed[key] = known
                self.hashed += 1
        return known

    def link(self, rel: str, same_as: str) -> Path:
        """`rel` is byte for byte the file `same_as` already staged: store it once (a hard link)."""
        target = self._target(rel)
        _link(self.path / same_as, target)
        self._done(rel, target, self.written[same_as])
        return target

    def _done(self, rel: str, target: Path, digest: str) -> None:
        """`rel` is staged with this content: note it, and what file holds it, for its stamp."""
        info = target.lstat()
        with self._lock:
            self.written[rel] = digest
            self._staged[rel] = _inode(info)

    def _new_content(self, target: Path) -> None:
        """A file with new content is staged: it is flushed to disk at once, by a thread of its own
        that waits on the disk while the build goes on. Flushed at publish instead, a province's
        3.4 GB of new programs kept the build waiting 1.3-1.9 s with both cores idle."""
        if not self.flush:  # the caller flushes what it publishes itself (emergency.py)
            return
        with self._lock:
            if self._flusher is None:
                self._flusher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flush")
            self._flushing.append(self._flusher.submit(fsync_file, target))

    def _count_reuse(self) -> None:
        with self._lock:
            self.reused += 1

    def _link_same(self, rel: str, digest: str, target: Path) -> bool:
        old = self.published / rel
        if rel == MANIFEST or (rel in self.published_digests and self.published_digests[rel] != digest):
            return False  # the manifest says it differs (or is itself, which notes the build's timings)
        if old.is_file() and not old.is_symlink() and old.stat().st_size > 0:
            trusted = self._trusted(rel, old)
            _link(old, target)
            if self._digest(target, trusted) == digest:
                self._count_reuse()
                return True
            target.unlink()
        return False

    def publish(self) -> Path:
        """Swap the staged week into place in one step."""
        shutil.rmtree(self.work, ignore_errors=True)
        # only new content: a hard link to a published file shares its already-flushed data
        for flushed in self._flushing:
            flushed.result()  # a power cut must not publish zeros: each new file is on disk
        self._stop_flusher()
        final = self.published
        replaced = None
        if not final.exists():
            os.rename(self.path, final)
        elif _exchange(self.path, final):
            replaced = self.path  # now the previous week
        else:
            (self.path / PUBLISHING).touch()  # from here on `recover` finishes what a kill interrupts
            move_in(self.path, final)
        self._keep_spares(replaced)
        if replaced is not None:
            shutil.rmtree(replaced, ignore_errors=True)
        _drop_if_empty(self.path.parent)
        self._write_stamps(final)
        return final

    def _keep_spares(self, replaced: Path | None) -> None:
        """Delete the spares this build did not write over, and keep the replaced week's files of a
        program's size that nothing else links (a file this build carried over has a second link,
        in the new week) for the next build: the project holds at most one build's. Best effort,
        after the swap: the new week is published whatever happens here."""
        try:
            for path in self._spares:
                _remove(path)
            self._spares = []
            folder = self.spare_folder
            if replaced is None or replaced.is_symlink() or not replaced.is_dir():
                return  # a week folder that was a symlink: what it points to is not ours to take
            if not (_real_folder(folder.parent) and _real_folder(folder, make=True)
                    and folder.stat().st_dev == replaced.stat().st_dev):
                return
            names: dict[tuple[int, int], list[str]] = {}  # program files of the old week, by inode
            links: dict[tuple[int, int], int] = {}
            for top, _, files in os.walk(replaced):
                for name in files:
                    file = os.path.join(top, name)
                    info = os.lstat(file)
                    if stat.S_ISREG(info.st_mode) and info.st_size >= SPARE_MIN_BYTES:
                        names.setdefault((info.st_dev, info.st_ino), []).append(file)
                        links[(info.st_dev, info.st_ino)] = info.st_nlink
            prefix = f"{time.time_ns()}-"
            for inode, paths in names.items():
                if len(paths) != links[inode]:  # linked from the new week (carried over) or from elsewhere
                    continue
                spare = folder / f"{prefix}{len(self._spares)}"
                os.rename(paths[0], spare)  # its other names (slots airing the same program) go with the week
                self._spares.append(spare)
        except OSError as exc:  # what is left is deleted with the old week, as before
            log.info("không giữ được tệp để dùng lại (%s); xoá như cũ (spares not kept)", exc)

    def _write_stamps(self, final: Path) -> None:
        """Note each published file's stamp, now that nothing of this build will link or unlink
        it again. A file that is not the one this build staged (changed while the build ran) gets
        no stamp, so the next build reads it. A cache: if it cannot be written, the next build
        reads every file, as it would without it."""
        stamps: dict[str, list[object]] = {}
        for rel, staged in self._staged.items():
            try:
                info = (final / rel).lstat()
            except OSError:
                continue
            if _inode(info) == staged:
                stamps[rel] = [*_inode(info), info.st_ctime_ns, self.written[rel]]
        try:
            self.stamp_file.parent.mkdir(parents=True, exist_ok=True)
            _write_text(self.stamp_file, json.dumps({"week": self.week, "files": stamps}))
        except OSError as exc:
            log.info("không ghi được %s (%s); bản dựng sau sẽ đọc lại mọi tệp", self.stamp_file, exc)

    def _stop_flusher(self) -> None:
        if self._flusher is not None:
            self._flusher.shutdown(cancel_futures=True)

    def discard(self) -> None:
        self._stop_flusher()
        if (self.path / PUBLISHING).is_file():  # stopped while moving into the week: the next command
            shutil.rmtree(self.work, ignore_errors=True)  # that takes the lock finishes it (`recover`)
            return
        shutil.rmtree(self.path, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)
        _drop_if_empty(self.path.parent)


def as_published(output: Path, week: str, digests: dict[str, str]) -> bool:
    """Whether the published week holds exactly these files (path -> sha256) and its manifest, each
    as the build that published them left it (by stamp, without reading them); call with the lock."""
    stamps = _read_stamps(output.parent / STAMPS / f"{week}.json")
    folder = output / week
    if not TRUST_STAMPS or set(stamps) != set(digests) | {MANIFEST}:
        return False
    there = {(Path(top) / name).relative_to(folder).as_posix() for top, _, names in os.walk(folder) for name in names}
    if there != set(stamps):  # a file added to the week by hand: a build would remove it
        return False
    for rel, (stamp, digest) in stamps.items():
        try:
            info = (folder / rel).lstat()
        except OSError:
            return False
        if _inode(info) + (info.st_ctime_ns,) != stamp or digests.get(rel, digest) != digest:
            return False
    return True


def _real_folder(folder: Path, make: bool = False) -> bool:
    """Whether `folder` is a folder of its own (made if `make`), not a symlink out of the project."""
    try:
        if make and not os.path.lexists(folder):
            folder.mkdir()
        return not folder.is_symlink() and folder.is_dir()
    except OSError:
        return False


def _spares_usable(folder: Path, output: Path) -> bool:
    """Whether files can move between output/ and the spare folder by rename: the folder and the
    project's .cache are real folders of the project (not symlinks out of it), on output's disk."""
    try:
        return _real_folder(folder.parent) and _real_folder(folder) and folder.stat().st_dev == output.stat().st_dev
    except OSError:
        return False


def _only_opener(fd: int) -> bool:
    """Whether no one else has this file open. A link count shows names, not open files, so this
    asks the kernel: Linux grants a write lease only on a file no other open file refers to. The
    lease is given back at once: held, someone opening the file would have the kernel signal this
    process (SIGIO, which ends it). Where there are no leases, no file is written over."""
    lease = getattr(fcntl, "F_SETLEASE", None) if fcntl is not None else None
    if lease is None:
        return False
    try:
        fcntl.fcntl(fd, lease, fcntl.F_WRLCK)
    except OSError:  # someone has it open, or leases are off, or not on this filesystem
        return False
    fcntl.fcntl(fd, lease, fcntl.F_UNLCK)
    return True


def _remove(path: Path) -> None:
    """Delete a spare (or what was put in its place), never failing a build for it."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        log.info("không xoá được %s (%s)", path, exc)


def remove_spares(output: Path, dry_run: bool = False) -> int:
    """Delete the files kept for the next build to write over (call with the lock held); returns the
    bytes freed (with `dry_run`, that would be, and nothing is deleted)."""
    folder = output.parent / SPARE
    if not (_real_folder(folder.parent) and _real_folder(folder)):
        return 0
    freed = 0
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False):
            freed += entry.stat(follow_symlinks=False).st_size
        if not dry_run:
            _remove(Path(entry.path))
    return freed


def _read_stamps(path: Path) -> dict[str, tuple[Stamp, str]]:
    """What `Staging._write_stamps` noted; nothing (every file is read) if missing, damaged or a
    symlink (planted stamps would make the build trust files it should read)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            data = json.loads(handle.read(64 << 20))
        return {rel: ((int(v[0]), int(v[1]), int(v[2]), int(v[3]), int(v[4])), str(v[5]))
                for rel, v in data["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return {}


def _link(source: Path, target: Path) -> None:
    """A hard link where the disk has them; a copy where it does not (FAT32/exFAT USB sticks,
    many SMB shares refuse links): the same bytes either way, only more space."""
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.EACCES):
            raise
        shutil.copy2(source, target)


def move_in(staged: Path, week: Path) -> None:
    """Replace `week`'s files by `staged`'s one by one, the manifest last, then drop the files the
    new week no longer has. Safe to run again after a kill: it only moves what is still staged."""
    (staged / PUBLISHING).touch()
    files = sorted(p for p in staged.rglob("*") if p.is_file() and p.name != PUBLISHING)
    for path in sorted(files, key=lambda p: p.relative_to(staged).as_posix() == MANIFEST):
        target = week / path.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    try:
        keep = {entry["path"] for entry in json.loads((week / MANIFEST).read_text(encoding="utf-8"))["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        keep = None  # no readable manifest: remove nothing rather than guess
    if keep is not None:
        keep.add(MANIFEST)
        for path in sorted(week.rglob("*"), reverse=True):
            rel = path.relative_to(week).as_posix()
            if path.is_file() and rel not in keep:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    shutil.rmtree(staged, ignore_errors=True)


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


def fsync_file(path: Path) -> None:
    """Flush a staged file to disk before it becomes visible. Opened for writing: Windows flushes
    only a handle that may write (read-only, every build failed there with EBADF)."""
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(staging: Staging, rel: str, data: object) -> Path:
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    return staging.write_bytes(rel, text.encode("utf-8"))
