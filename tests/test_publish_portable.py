"""Publishing where fcntl and renameat2 do not exist (Windows, macOS, network shares), and
recovery after a kill in the middle of the in-place publish that replaces it (issue 11).

Each scenario runs in a fresh interpreter started with `fcntl` made unimportable and
`publish._exchange` answering "unsupported", as on those systems."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from broadcast.errors import BuildLocked
from broadcast.publish import Lock, Staging, recover, sha256_file
from conftest import make_project, run

WEEK = "2026-W49"

PORTABLE = """\
import errno, os, signal, sys
import fcntl as _fcntl  # kept for WINDOWS below, before it is taken away
sys.modules["fcntl"] = None  # as on Windows: any `import fcntl` fails
import broadcast.publish as publish
publish._exchange = lambda a, b: False  # as without renameat2: the two-rename publish
"""


# What else Windows does not have or does otherwise, as Python 3.11 and 3.12 there: no os.fchmod
# (it came in 3.13), no os.fork, and FlushFileBuffers refuses a handle opened read-only (EBADF).
WINDOWS = """\
del os.fchmod, os.fork
_fsync = os.fsync
def _windows_fsync(fd):
    if _fcntl.fcntl(fd, _fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
        raise OSError(errno.EBADF, "Bad file descriptor")
    return _fsync(fd)
os.fsync = _windows_fsync
"""


def portable(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PORTABLE + textwrap.dedent(code)], check=False, capture_output=True,
                          text=True, timeout=timeout)


def cli(*args: str) -> str:
    return f"from broadcast.cli import main\nmain(args={list(args)!r}, prog_name='broadcast')\n"


def published(root: Path) -> dict[str, str]:
    week = root / "output" / WEEK
    return {p.relative_to(week).as_posix(): sha256_file(p) for p in sorted(week.rglob("*")) if p.is_file()}


def leftovers(root: Path) -> list[str]:
    staging = root / "output" / ".staging"
    return sorted(p.name for p in staging.iterdir()) if staging.is_dir() else []


def test_commands_run_without_fcntl_and_renameat2(tmp_path):
    root = make_project(tmp_path / "p")
    windows = portable(WINDOWS + cli("build", "--week", WEEK, "--jobs", "1", "--project", str(root)))
    assert windows.returncode == 0, windows.stderr
    assert (root / "output" / WEEK / "lang-son/xa-chi-lang/messages/canh-bao.mp3").stat().st_size > 10_000
    (root / "scripts" / "bao-dong.yaml").write_text(
        "id: bao-dong\ntitle: Khẩn cấp\nsource: Công an tỉnh Lạng Sơn, 04/12/2024\nlevel: emergency\n"
        "valid: {from: 2024-12-04}\nbody: Bà con không chuyển tiền cho người lạ. Gọi ngay 113.\n", encoding="utf-8")
    on_air = "import datetime, broadcast.app\nbroadcast.app.today_in = lambda timezone='': datetime.date(2026, 12, 2)\n"
    emergency = portable(WINDOWS + on_air + cli("emergency", "bao-dong", "--week", WEEK, "--project", str(root)))
    assert emergency.returncode == 0, emergency.stderr
    assert (root / "output" / WEEK / "lang-son/xa-chi-lang/KHAN-CAP_bao-dong.mp3").is_file()
    (root / "scripts" / "bao-dong.yaml").unlink()
    shutil.rmtree(root / "output")
    shutil.rmtree(root / ".cache")
    for args in (("lint",), ("render", "canh-bao", "--locale", "xa-chi-lang"), ("plan",)):
        done = portable(cli(*args, "--week", WEEK, "--project", str(root)))
        assert done.returncode == 0, done.stderr
    first = portable(cli("build", "--week", WEEK, "--jobs", "1", "--project", str(root)))
    assert first.returncode == 0, first.stderr
    before = published(root)
    assert "manifest.json" in before
    script = root / "scripts" / "canh-bao.yaml"
    script.write_text(script.read_text(encoding="utf-8").replace("Hãy gọi", "Hãy gọi ngay"), encoding="utf-8")
    second = portable(cli("build", "--week", WEEK, "--jobs", "1", "--project", str(root)))  # replaces a week
    assert second.returncode == 0, second.stderr
    after = published(root)
    assert after.keys() == before.keys()
    message = "lang-son/xa-chi-lang/messages/canh-bao.mp3"
    assert after[message] != before[message]
    assert leftovers(root) == []


def test_the_portable_lock_names_its_holder_and_survives_a_killed_holder(tmp_path):
    output = tmp_path / "output"
    busy = portable(f"""
        from broadcast.publish import Lock
        from broadcast.errors import BuildLocked
        import filelock
        lock = Lock(__import__("pathlib").Path({str(output)!r}))
        assert type(lock._lock).__name__ == "SoftFileLock", type(lock._lock)
        with lock:
            try:
                with Lock(lock.output):
                    pass
            except BuildLocked as exc:
                print(exc.message)
    """)
    assert busy.returncode == 0, busy.stderr
    assert "pid" in busy.stdout and "đang chạy" in busy.stdout
    killed = portable(f"""
        from broadcast.publish import Lock
        Lock(__import__("pathlib").Path({str(output)!r})).__enter__()
        os.kill(os.getpid(), signal.SIGKILL)  # dies holding the lock
    """)
    assert killed.returncode == -signal.SIGKILL
    again = portable(f"""
        from broadcast.publish import Lock
        with Lock(__import__("pathlib").Path({str(output)!r})):
            print("taken")
    """)
    assert again.returncode == 0 and "taken" in again.stdout, again.stderr


def manifest_matches_disk(root: Path) -> bool:
    week = root / "output" / WEEK
    files = {e["path"]: e["sha256"] for e in json.loads((week / "manifest.json").read_text(encoding="utf-8"))["files"]}
    on_disk = published(root)
    on_disk.pop("manifest.json")
    return files == on_disk


def test_a_kill_while_publishing_in_place_never_loses_the_week_and_is_finished_next(tmp_path):
    root = make_project(tmp_path / "p")
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    before = published(root)
    script = root / "scripts" / "canh-bao.yaml"
    script.write_text(script.read_text(encoding="utf-8").replace("Hãy gọi", "Hãy gọi ngay"), encoding="utf-8")
    dies = portable(textwrap.dedent(f"""
        real_replace, moved = os.replace, []
        def replace(src, dst):
            real_replace(src, dst)
            if "{WEEK}" in str(dst) and ".staging" not in str(dst):
                moved.append(dst)
                if len(moved) == 3:  # some files of the new week are in, the rest and the manifest are not
                    os.kill(os.getpid(), signal.SIGKILL)
        os.replace = replace
    """) + cli("build", "--week", WEEK, "--jobs", "1", "--project", str(root)))
    assert dies.returncode == -signal.SIGKILL, dies.stderr
    output = root / "output"
    halfway = published(root)
    assert halfway.keys() >= before.keys()  # the week is there: every file, old or new, whole
    assert halfway["manifest.json"] == before["manifest.json"]
    assert sum(halfway[k] != before[k] for k in before) >= 1
    assert [n for n in leftovers(root) if (output / ".staging" / n / ".publishing").is_file()]
    with Lock(output):  # any command: the lock finishes the move first
        assert leftovers(root) == []
        finished = published(root)
    message = "lang-son/xa-chi-lang/messages/canh-bao.mp3"
    assert finished[message] != before[message] and finished["manifest.json"] != before["manifest.json"]
    assert manifest_matches_disk(root)
    rebuilt = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert rebuilt.exit_code == 0, rebuilt.output
    again = published(root)
    assert again.pop("manifest.json") and finished.pop("manifest.json")  # its "build" section differs
    assert again == finished  # the finished week is exactly what the build would have published
    assert leftovers(root) == []


def test_recover_finishes_publishing_and_removes_every_other_leftover(tmp_path):
    output = tmp_path / "output"
    week = output / "2026-W49"
    (week / "gone").mkdir(parents=True)
    (week / "a.txt").write_text("old")
    (week / "gone" / "b.txt").write_text("no longer in the week")
    staging = output / ".staging"
    marked = staging / "2026-W49-11"
    marked.mkdir(parents=True)
    (marked / "a.txt").write_text("new")
    (marked / "manifest.json").write_text(json.dumps({"files": [{"path": "a.txt"}]}))
    (marked / ".publishing").touch()
    for name in ("2026-W49-13", "2026-W49-13.work", "2026-W50-14"):
        (staging / name).mkdir(parents=True)
        (staging / name / "a.txt").write_text(name)
    with Lock(output):
        assert (week / "a.txt").read_text() == "new"  # the interrupted publish is finished
        assert not (week / "gone").exists()  # and what the new week no longer has is gone
        assert not (output / "2026-W50").exists()  # a staged week that never began to publish: removed
        assert not staging.exists()  # every leftover removed, and the empty folder too
    assert recover(output) == []  # nothing left to do


def test_a_build_finishes_an_interrupted_publish_before_its_own(tmp_path):
    output = tmp_path / "output"
    marked = output / ".staging" / f"{WEEK}-99"
    marked.mkdir(parents=True)
    (marked / "manifest.json").write_text('{"files": []}')
    (marked / ".publishing").touch()
    staging = Staging(output, WEEK)  # a build that did not go through Lock
    assert (output / WEEK / "manifest.json").read_text() == '{"files": []}'
    staging.discard()


def test_a_disk_without_hard_links_gets_copies(tmp_path, monkeypatch):
    root = make_project(tmp_path / "p")

    def no_links(src, dst, *args, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted", str(src))

    monkeypatch.setattr(os, "link", no_links)
    first = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert first.exit_code == 0, first.output
    before = published(root)
    again = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))  # carries every file over
    assert again.exit_code == 0, again.output
    after = published(root)
    assert after.pop("manifest.json") and before.pop("manifest.json")  # its "build" section differs
    assert after == before and manifest_matches_disk(root)
    assert leftovers(root) == []


def test_the_holder_file_is_removed_on_release(tmp_path):
    output = tmp_path / "output"
    with Lock(output) as lock:
        assert "pid" in lock.holder.read_text(encoding="utf-8")
        with pytest.raises(BuildLocked):
            Lock(output).__enter__()
    assert not lock.holder.exists()
    with Lock(output):  # free again
        pass
