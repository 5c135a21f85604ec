"""Publishing where fcntl and renameat2 do not exist (Windows, macOS, network shares), and
recovery after a kill between the two renames of the fallback (issue 11).

Each scenario runs in a fresh interpreter started with `fcntl` made unimportable and
`publish._exchange` answering "unsupported", as on those systems."""

from __future__ import annotations

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
import os, signal, sys
sys.modules["fcntl"] = None  # as on Windows: any `import fcntl` fails
import broadcast.publish as publish
publish._exchange = lambda a, b: False  # as without renameat2: the two-rename publish
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


def test_a_kill_between_the_two_renames_is_repaired_by_the_next_lock(tmp_path):
    root = make_project(tmp_path / "p")
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    before = published(root)
    script = root / "scripts" / "canh-bao.yaml"
    script.write_text(script.read_text(encoding="utf-8").replace("Hãy gọi", "Hãy gọi ngay"), encoding="utf-8")
    dies = portable(textwrap.dedent("""
        real_rename = os.rename
        def rename(src, dst):
            real_rename(src, dst)
            if "-old-" in str(dst):  # the published week is moved aside; the new one is not in yet
                os.kill(os.getpid(), signal.SIGKILL)
        os.rename = rename
    """) + cli("build", "--week", WEEK, "--jobs", "1", "--project", str(root)))
    assert dies.returncode == -signal.SIGKILL, dies.stderr
    output = root / "output"
    assert not (output / WEEK).exists()  # the window the fallback cannot avoid
    assert [n for n in leftovers(root) if "-old-" in n]  # ... but the old week is kept
    with Lock(output):  # any command: the lock repairs first
        assert published(root) == before
        assert leftovers(root) == []
    rebuilt = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert rebuilt.exit_code == 0, rebuilt.output
    message = "lang-son/xa-chi-lang/messages/canh-bao.mp3"
    assert published(root)[message] != before[message]
    assert leftovers(root) == []


def test_recover_restores_missing_weeks_and_removes_every_other_leftover(tmp_path):
    output = tmp_path / "output"
    (output / "2026-W49").mkdir(parents=True)
    (output / "2026-W49" / "a.txt").write_text("new")
    staging = output / ".staging"
    for name in ("2026-W49-old-11", "2026-W48-old-12", "2026-W49-13", "2026-W49-13.work", "2026-W50-14"):
        (staging / name).mkdir(parents=True)
        (staging / name / "a.txt").write_text(name)
    with Lock(output):
        assert (output / "2026-W49" / "a.txt").read_text() == "new"  # the newer week stays
        assert (output / "2026-W48" / "a.txt").read_text() == "2026-W48-old-12"  # put back
        assert not (output / "2026-W50").exists()  # a staged week is never published by recovery
        assert list(staging.iterdir()) == []
    assert recover(output) == []  # nothing left to do


def test_staging_never_deletes_the_only_copy_of_a_week(tmp_path):
    output = tmp_path / "output"
    old = output / ".staging" / f"{WEEK}-old-99"
    old.mkdir(parents=True)
    (old / "manifest.json").write_text("{}")
    staging = Staging(output, WEEK)  # a build that did not go through Lock
    assert (output / WEEK / "manifest.json").read_text() == "{}"
    staging.discard()


def test_the_holder_file_is_removed_on_release(tmp_path):
    output = tmp_path / "output"
    with Lock(output) as lock:
        assert "pid" in lock.holder.read_text(encoding="utf-8")
        with pytest.raises(BuildLocked):
            Lock(output).__enter__()
    assert not lock.holder.exists()
    with Lock(output):  # free again
        pass
