"""Progress of long operations, as plain events: the CLI draws them, the studio streams them.

No stage prints. A stage announces that it starts, how far it has got, and that it ended
(with its counts and seconds); every event is also a log line, so a cron run's log shows
each stage starting and ending without any terminal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("broadcast")

STAGE_NAMES = {  # what a person reads in the log and on the progress bar
    "speak": "dựng nội dung và dạng đọc (render + speak)",
    "synthesise": "tổng hợp giọng đọc (synthesis)",
    "master": "xử lý âm thanh (mastering)",
    "plan": "lập lịch phát (plan)",
    "programs": "chương trình và lịch (programs + formats)",
    "publish": "phát hành (publish)",
}


@dataclass(frozen=True)
class Event:
    """One step of a long operation.

    kind: "start" (total known or 0), "progress" (done of total), "end" (counts, seconds),
    "failed" (the stage stopped on an error, which the operation then raises)."""

    stage: str
    kind: str
    done: int = 0
    total: int = 0
    seconds: float = 0.0
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return STAGE_NAMES.get(self.stage, self.stage)


Listener = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The listener when nobody is listening."""


LOG_EVERY_SECONDS = 5.0


class Progress:
    """Counts one stage's work and tells the listener; logs a line every 10 % or 5 s, so a
    cron log shows a long stage moving. Threads may share one (a lock guards the count)."""

    def __init__(self, stage: str, listener: Listener, total: int = 0):
        self.stage, self.listener, self.total, self.done = stage, listener, total, 0
        self.counts: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._logged_at, self._logged_tenth = time.monotonic(), 0

    def start(self, total: int) -> None:
        self.total, self.done = total, 0
        self.listener(Event(self.stage, "start", 0, total))

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            event = Event(self.stage, "progress", self.done, self.total)
            tenth = self.done * 10 // max(self.total, 1)
            now = time.monotonic()
            if tenth > self._logged_tenth or now - self._logged_at >= LOG_EVERY_SECONDS:
                self._logged_tenth, self._logged_at = tenth, now
                log.info("%s: %d/%d", event.label, self.done, self.total)
            self.listener(event)


@contextmanager
def stage(name: str, listener: Listener) -> Iterator[Progress]:
    """Run one stage: log and announce its start and its end with counts and seconds.

    The caller puts what it counted into `progress.counts`."""
    started = time.monotonic()
    progress = Progress(name, listener)
    log.info("bắt đầu: %s", STAGE_NAMES.get(name, name))
    listener(Event(name, "start"))
    try:
        yield progress
    except BaseException as exc:  # the stage stopped: say so, then let the error go on
        seconds = round(time.monotonic() - started, 3)
        log.error("dừng: %s sau %.1f s (%s)", STAGE_NAMES.get(name, name), seconds, type(exc).__name__)
        listener(Event(name, "failed", progress.done, progress.total, seconds, dict(progress.counts)))
        raise
    seconds = round(time.monotonic() - started, 3)
    shown = ", ".join(f"{k}={v}" for k, v in progress.counts.items())
    log.info("xong: %s (%s) %.1f s", STAGE_NAMES.get(name, name), shown, seconds)
    listener(Event(name, "end", progress.done, progress.total, seconds, dict(progress.counts)))
