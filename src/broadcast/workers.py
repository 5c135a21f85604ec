"""Worker processes: how they start, and that they never outlive the build.

One policy for every process pool (synthesis and mastering):

- the start method is "forkserver" where it exists, else "spawn" (never "fork": the parent
  may hold threads and the espeak lock);
- each worker runs with one BLAS thread (one process per core already);
- each worker dies with its parent: Linux `prctl(PR_SET_PDEATHSIG, SIGKILL)`, and everywhere
  a daemon thread that waits on multiprocessing's parent sentinel (a pipe or process handle
  that closes when the parent dies, even by SIGKILL). The forkserver itself exits when the
  parent's end of its "alive" pipe closes, so nothing of a killed build stays behind;
- on Ctrl-C or SIGTERM (`stop_on_sigterm`) the pool cancels what is queued and its workers
  are terminated at once, instead of finishing the whole queue.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from typing import Any

from .errors import Interrupted

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_SECONDS = 0.5


def process_context() -> BaseContext:
    """The start method for every worker process."""
    # not "fork": the parent may hold threads (progress bar, thread pool) and the espeak lock
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


@contextmanager
def process_pool(max_workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool under the policy above. Leaving the block normally waits for the work;
    leaving it by an exception (KeyboardInterrupt included) cancels the queue and terminates
    the workers."""
    pool = ProcessPoolExecutor(max_workers=max_workers, mp_context=process_context(), initializer=start_worker)
    try:
        yield pool
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel queued work and terminate the workers now (they hold nothing worth finishing:
    a clip or segment is written under a temporary name and renamed last)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # no public API before 3.14
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + 2.0
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)


def start_worker() -> None:
    """Initializer of every worker: die with the parent, one BLAS thread."""
    die_with_parent()
    one_blas_thread()


def one_blas_thread() -> None:
    """One process per core already, so BLAS threads inside a worker only fight the other
    workers for the same cores (measured: mastering twice as slow on 2 cores)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def die_with_parent() -> None:
    """Make this process end when the process that started it ends, however that ends."""
    parent_pid = os.getppid()
    _set_pdeathsig()
    parent = multiprocessing.parent_process()
    if parent is not None:
        watch = threading.Thread(target=_wait_for_parent, args=(parent,), name="parent-watch", daemon=True)
    else:
        watch = threading.Thread(target=_poll_parent, args=(parent_pid,), name="parent-watch", daemon=True)
    watch.start()


def kill_with_parent() -> None:
    """For a process forked by hand (espeak's per-sentence child): the kernel ends it with its
    parent where it can (Linux); elsewhere the child is short-lived and ends on a broken pipe."""
    _set_pdeathsig()


def _set_pdeathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # this process's own symbols: libc is there, no search
        return bool(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _wait_for_parent(parent: Any) -> None:
    parent.join()  # returns when the parent's sentinel closes: the parent is gone
    os._exit(1)


def _poll_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_SECONDS)
    os._exit(1)


# --------------------------------------------------------------------------- stopping


class Stopped(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C so every `finally` and cleanup runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def stop_on_sigterm() -> None:
    """SIGTERM (sent by `timeout`, systemd, `kill`) stops a command like Ctrl-C does. Call once
    from the main thread of the command line; a no-op where SIGTERM cannot be caught."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        return
    try:
        signal.signal(signal.SIGTERM, _raise_stopped)
    except (ValueError, OSError):
        pass


def _raise_stopped(signum: int, frame: object) -> None:
    signal.signal(signum, signal.SIG_DFL)  # a second SIGTERM kills at once
    raise Stopped(signum)


def interrupted(exc: KeyboardInterrupt) -> Interrupted:
    """The user-facing error for a Ctrl-C or SIGTERM: exit 130 or 143 (128 + the signal)."""
    signum = exc.signum if isinstance(exc, Stopped) else int(signal.SIGINT)
    name = "SIGTERM" if signum == getattr(signal, "SIGTERM", None) else "Ctrl-C"
    return Interrupted(f"đã dừng theo yêu cầu ({name}); tuần này chưa được phát hành, bản cũ giữ nguyên "
                       f"(stopped by {name}; nothing published, the previous week is kept)", exit_code=128 + signum)
