"""Fault tests of what reaches output/: damaged or replaced published files, damaged cached
segments, a planted lock symlink, and a cache prune while a build holds the lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from broadcast.app import Workspace
from broadcast.errors import BuildLocked
from broadcast.publish import Lock, sha256_file
from conftest import make_project, run

WEEK = "2026-W49"


def build(root: Path) -> dict:
    result = run("build", "--week", WEEK, "--jobs", "1", "--json", "--project", str(root))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def published(root: Path) -> dict[str, bytes]:
    week = root / "output" / WEEK
    return {p.relative_to(week).as_posix(): p.read_bytes() for p in sorted(week.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


def manifest_matches_files(root: Path) -> None:
    week = root / "output" / WEEK
    data = json.loads((week / "manifest.json").read_text(encoding="utf-8"))
    for entry in data["files"]:
        path = week / entry["path"]
        assert not path.is_symlink(), entry["path"]
        assert sha256_file(path) == entry["sha256"], entry["path"]


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    root = make_project(tmp_path_factory.mktemp("clean") / "p")
    build(root)
    return root, published(root)


@pytest.fixture
def fresh(tmp_path, clean) -> Path:
    """A copy of the clean project with its caches and published week."""
    root = tmp_path / "p"
    subprocess.run(["cp", "-a", str(clean[0]), str(root)], check=True)
    return root


def _audio(files: dict[str, bytes], kind: str) -> str:
    return next(rel for rel in files if f"/{kind}/" in rel or (kind == "programs" and rel.endswith(".mp3")
                                                                 and "/messages/" not in rel))


def _flip(path: Path, at: int, count: int = 64) -> None:
    with path.open("r+b") as handle:
        handle.seek(at)
        data = handle.read(count)
        handle.seek(at)
        handle.write(bytes(b ^ 0x5A for b in data))


# --- 2. published files are verified before they are carried over ---------------------------


def test_damaged_published_files_are_remade(fresh, clean):
    _, good = clean
    message = _audio(good, "messages")
    program = _audio(good, "programs")
    week = fresh / "output" / WEEK
    for rel in (message, program):
        path = week / rel
        _flip(path, path.stat().st_size // 2)
        assert path.read_bytes() != good[rel]
    csv = next(rel for rel in good if rel.endswith(".csv"))
    (week / csv).write_bytes(b"=1+1\r\n")
    stats = build(fresh)["stats"]
    assert stats["mastered"] >= 1
    assert published(fresh) == good  # byte-identical to the clean build
    manifest_matches_files(fresh)


def test_damage_in_place_is_found_although_size_and_modification_time_are_put_back(tmp_path, clean):
    """The build trusts a published file's stamp instead of reading it; damage that keeps the size
    and puts the modification time back (as `cp -p` or `touch -r` would) still changes the file's
    change time, so the file is read, found damaged and made again."""
    _, good = clean
    root = tmp_path / "p"
    subprocess.run(["cp", "-a", str(clean[0]), str(root)], check=True)
    build(root)  # published here: stamps for these very files
    week = root / "output" / WEEK
    stats = build(root)["stats"]
    assert stats["read_back"] == 0 and stats["mastered"] == 0  # nothing read: every stamp holds
    damaged = [_audio(good, "messages"), _audio(good, "programs")]
    for rel in damaged:
        path = week / rel
        info = path.stat()
        _flip(path, info.st_size // 2)
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
        after = path.stat()
        assert (after.st_size, after.st_mtime_ns, after.st_ino) == (info.st_size, info.st_mtime_ns, info.st_ino)
    stats = build(root)["stats"]
    assert 1 <= stats["read_back"] <= 3 and stats["mastered"] >= 1
    assert published(root) == good
    manifest_matches_files(root)


def test_published_file_replaced_by_a_symlink_is_remade(fresh, clean, tmp_path):
    _, good = clean
    message = _audio(good, "messages")
    outside = tmp_path / "outside.mp3"
    outside.write_bytes(good[message])  # even with the right bytes behind it
    path = fresh / "output" / WEEK / message
    path.unlink()
    path.symlink_to(outside)
    build(fresh)
    assert not path.is_symlink() and path.read_bytes() == good[message]
    assert outside.read_bytes() == good[message]
    assert published(fresh) == good
    manifest_matches_files(fresh)


def test_lock_symlinks_are_never_written_through(fresh, clean, tmp_path):
    outside = {name: tmp_path / name for name in ("lock", "holder", "tmp")}
    for name, path in outside.items():
        path.write_text(f"không được sửa tệp {name} này\n", encoding="utf-8")
    output = fresh / "output"
    for name in (".lock", ".lock-holder"):
        (output / name).unlink(missing_ok=True)
    (output / ".lock").symlink_to(outside["lock"])
    (output / ".lock-holder").symlink_to(outside["holder"])
    build(fresh)
    # in this process too, where the holder's temporary name is known and planted
    (output / f".lock-holder.{os.getpid()}.tmp").symlink_to(outside["tmp"])
    (output / ".lock-holder").symlink_to(outside["holder"])
    with Lock(output):
        assert not (output / ".lock-holder").is_symlink()
        assert not (output / ".lock").is_symlink()
    for name, path in outside.items():
        assert path.read_text(encoding="utf-8") == f"không được sửa tệp {name} này\n"
    assert published(fresh) == clean[1]


# --- 3. cache prune takes the build lock ----------------------------------------------------

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from broadcast.publish import Lock
    with Lock(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(60)
""")


def test_a_lock_taken_on_a_full_disk_leaves_no_temp_file(tmp_path, monkeypatch):
    """On a real full tmpfs the holder's note was refused when its file closed (the text is written then):
    'output/.lock-holder.<pid>.tmp' stayed, empty, one more for every command run while the disk was full."""
    import errno

    from broadcast import publish

    output = tmp_path / "output"
    real = os.fdopen

    class FullOnClose:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self.handle

        def __exit__(self, *exc):
            self.handle.close()
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(publish.os, "fdopen", lambda fd, *args, **kwargs: FullOnClose(real(fd, *args, **kwargs)))
    with pytest.raises(OSError), Lock(output):
        pass
    monkeypatch.undo()
    assert sorted(p.name for p in output.iterdir()) == [".lock"]
    with Lock(output):  # and the lock was let go
        assert (output / ".lock-holder").is_file()


def test_a_disk_turned_read_only_during_a_build_is_reported_where_it_stopped_the_build(fresh, clean, monkeypatch):
    """Found by remounting a real project read-only while it built: mastering stopped at the segment store, then
    letting go of the lock could not remove output/.lock-holder either, and that error replaced the first: the
    message named the lock's note as the file that could not be written."""
    import errno

    script = fresh / "scripts" / "canh-bao.yaml"
    script.write_text(script.read_text(encoding="utf-8").replace("Kính thưa", "Kính thưa toàn thể"), encoding="utf-8")
    segments = fresh / ".cache" / "segments"
    subprocess.run(["rm", "-rf", str(segments)], check=True)
    segments.write_text("")  # a file where the store's folder goes: its mkdir fails, as on a read-only disk
    real = Path.unlink

    def unlink(self, missing_ok=False):
        if self.name == ".lock-holder":
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(fresh))
    assert result.exit_code == 3, result.output
    assert ".cache/segments" in result.output and ".lock-holder" not in result.output, result.output
    assert published(fresh) == clean[1]
    with Lock(fresh / "output"):  # and the lock was let go
        pass


def test_cache_prune_during_a_build_is_refused(fresh):
    clips = sorted((fresh / ".cache" / "clips").rglob("*"))
    segments = sorted((fresh / ".cache" / "segments").rglob("*"))
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(fresh / "output")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(BuildLocked) as caught:
            Workspace(fresh).cache_prune()
        assert "đang chạy" in caught.value.message and "pid" in caught.value.message
        result = run("cache", "prune", "--project", str(fresh))
        assert result.exit_code == 1, result.output
        assert "đang chạy" in result.output and "Traceback" not in result.output
    finally:
        holder.kill()
        holder.wait()
    assert sorted((fresh / ".cache" / "clips").rglob("*")) == clips  # nothing pruned
    assert sorted((fresh / ".cache" / "segments").rglob("*")) == segments
    result = run("cache", "prune", "--project", str(fresh))
    assert result.exit_code == 0, result.output  # once the build is over


# --- 5. damaged cached segments are remade, never published ---------------------------------


def _segments(root: Path) -> list[Path]:
    return sorted(p for p in (root / ".cache" / "segments").rglob("*") if p.is_file() and p.suffix != ".json")


@pytest.mark.parametrize("where", ["payload", "header"])
def test_damaged_segments_are_remade_and_published_audio_is_clean(fresh, clean, where):
    _, good = clean
    segments = _segments(fresh)
    assert segments
    for path in segments:
        size = path.stat().st_size
        if where == "payload":
            _flip(path, max(size // 2, 0), 256)
        else:
            _flip(path, 0, 16)  # the first frame header (or the container's)
    # a different week forces every message to be joined again from the store
    (fresh / "output" / WEEK).rename(fresh / "output" / "old")
    build(fresh)
    assert published(fresh) == good
    manifest_matches_files(fresh)


def test_a_damaged_file_of_a_commune_not_rebuilt_is_dropped_with_a_warning(tmp_path):
    root = make_project(tmp_path / "p", {"locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\n"})
    build(root)
    week = root / "output" / WEEK
    other = week / "lang-son/xa-huu-lung/messages/canh-bao.mp3"
    _flip(other, other.stat().st_size // 2)
    result = run("build", "--week", WEEK, "--jobs", "1", "--json", "--locale", "xa-chi-lang", "--project", str(root))
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.output)["warnings"]
    assert any("xa-huu-lung/messages/canh-bao.mp3" in w and "bị hỏng" in w for w in warnings)
    assert not other.exists()  # never republished damaged
    manifest_matches_files(root)
    build(root)  # the whole week: made again
    assert other.is_file()
    manifest_matches_files(root)


def test_verify_reads_every_byte_of_a_published_week_against_its_manifest(fresh, clean):
    """`broadcast verify output/<week>` checks what the build trusts by stamp, byte by byte:
    a changed file and a file added by hand are named (exit 1); after a build, exact again."""
    _, good = clean
    week = fresh / "output" / WEEK
    result = run("verify", str(week))
    assert result.exit_code == 0, result.output
    assert f"{len(good)} tệp khớp" in result.output
    damaged = _audio(good, "programs")
    path = week / damaged
    info = path.stat()
    _flip(path, info.st_size // 3)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    (week / "ghi-chu.txt").write_text("thêm tay\n", encoding="utf-8")
    result = run("verify", str(week))
    assert result.exit_code == 1
    assert f"KHÁC (changed): {damaged}" in result.output and "THỪA" in result.output and "ghi-chu.txt" in result.output
    assert "Traceback" not in result.output
    build(fresh)
    assert run("verify", str(week)).exit_code == 0
    again = run("build", "--week", WEEK, "--jobs", "1", "--project", str(fresh))
    assert again.exit_code == 0 and "Không có gì thay đổi" in again.output, again.output
