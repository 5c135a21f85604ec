"""A killed or stopped build leaves no process behind (issue 11).

A real `broadcast build` runs in its own session; once it is mastering (worker pools, the
forkserver and espeak's forked children alive) the main process gets SIGKILL or SIGTERM.
Five seconds later no process of that session may remain; a SIGTERM is a clean stop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import make_project

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")

WEEK = "2026-W49"
COMMUNES = ["xa-chi-lang", "xa-huu-lung", "xa-ba-son", "xa-dong-tam", "xa-tan-lien", "xa-quang-lac"]


def _script(sid: str, n: int) -> str:
    body = "\n\n".join(f"Đoạn {k} của tin {n}: bà con {{{{ locale.name }}}} không chuyển tiền cho người lạ "
                       f"gọi điện tự xưng là công an, số {n}{k}." for k in range(3))
    return (f"id: {sid}\ntitle: Tin {n}\nsource: Công an tỉnh Lạng Sơn, 04/12/2024\nlevel: normal\n"
            f"valid: {{from: 2024-12-04}}\nrepeat: 1\nbody: |\n" + "".join(f"  {x}\n" for x in body.splitlines()))


def big_project(root: Path) -> Path:
    files: dict[str, str | bytes | None] = {"scripts/canh-bao.yaml": None}
    for i, commune in enumerate(COMMUNES):
        files[f"locales/lang-son/{commune}.yaml"] = f"name: Xã Số {i}\ncode: '0646{i}'\n"
    for n in range(4):
        files[f"scripts/tin-{n}.yaml"] = _script(f"tin-{n}", n)
    return make_project(root, files)


def session_processes(sid: int) -> list[str]:
    """Live (not zombie) processes whose session id is `sid`, as 'pid state comm'."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        comm_end = text.rindex(")")
        fields = text[comm_end + 2:].split()  # state ppid pgrp session ...
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(f"{stat.parent.name} {fields[0]} {text[text.index('(') + 1:comm_end]}")
    return found


def start_build(root: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "broadcast.cli", "build", "--week", WEEK, "--jobs", "2", "--project", str(root)]
    # A foreground job's Ctrl-C: the test runner may itself run in the background, where the shell gives
    # children SIGINT ignored (and Python then keeps it ignored), so the build starts with it at default.
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    segments = root / ".cache" / "segments"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if segments.is_dir() and any(segments.rglob("*.json")):
            break  # mastering: the first segments are done, the pool is busy with the rest
        time.sleep(0.05)
    assert proc.poll() is None, "the build ended before it was mastering: make the project bigger"
    assert len(session_processes(proc.pid)) > 1  # the workers are there
    return proc


def wait_until_gone(sid: int, seconds: float = 5.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := session_processes(sid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def reap(sid: int) -> None:
    for line in session_processes(sid):  # never leave the test's own mess behind
        try:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_sigkill_leaves_no_process_and_the_next_build_cleans_up(tmp_path):
    root = big_project(tmp_path / "p")
    proc = start_build(root)
    proc.kill()
    proc.wait()
    left = wait_until_gone(proc.pid)
    reap(proc.pid)
    assert left == []
    staging = root / "output" / ".staging"
    assert any(staging.iterdir())  # a killed build cannot clean up after itself ...
    done = subprocess.run([sys.executable, "-m", "broadcast.cli", "build", "--week", WEEK, "--jobs", "2",
                           "--project", str(root)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert not staging.exists()  # ... the next one does, leaves no empty folder, and publishes the week
    assert (root / "output" / WEEK / "manifest.json").is_file()


@pytest.mark.parametrize("how, code", [("sigterm", 143), ("ctrl-c", 130)])
def test_sigterm_and_ctrl_c_are_a_clean_stop(tmp_path, how, code):
    root = big_project(tmp_path / "p")
    proc = start_build(root)
    if how == "sigterm":  # what `timeout` and systemd send, to the main process
        proc.send_signal(signal.SIGTERM)
    else:  # what a terminal sends on Ctrl-C: SIGINT to the whole foreground group, workers included
        os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        reap(proc.pid)
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"the build did not stop within 5 s of {how}: {err.decode(errors='replace')[-2000:]}")
    left = wait_until_gone(proc.pid)
    reap(proc.pid)
    stderr = err.decode("utf-8", errors="replace")
    assert left == []
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    assert "đã dừng" in stderr  # one Vietnamese line says what happened
    staging = root / "output" / ".staging"
    assert not staging.exists() or not any(staging.iterdir())
    assert not (root / "output" / WEEK).exists()  # nothing half-built was published
    from broadcast.publish import Lock

    with Lock(root / "output"):  # released
        pass
