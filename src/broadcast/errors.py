"""Every error the user can fix, in one hierarchy.

The root, `BroadcastError`, carries what a culture-centre editor or a cron log needs: the
Vietnamese message, the file and line, the field, the fix, and the exit code. Stages raise
these and never print; the CLI converts them once (beets' ``ui.main``), the studio once more
in its own way. Nothing here knows about click or a terminal.

Exit codes (documented in the README):
  1  the build ran but something failed (a commune, a voice, the lock is held, warnings under --strict)
  2  the content or the command line is wrong: nothing was built
  3  the environment stops us (disk full, output folder not writable, a tool missing)
  130, 143  stopped by Ctrl-C or SIGTERM (128 + the signal): staging discarded, lock released
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

EXIT_FAILED = 1
EXIT_CONTENT = 2
EXIT_ENVIRONMENT = 3


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the project, pointed at a file and line."""

    file: str  # relative to the project root
    line: int
    field: str
    message: str
    hint: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        kind = "lỗi" if self.severity == "error" else "cảnh báo"
        where = f"{self.file}:{self.line}" if self.line else self.file
        fld = f" [{self.field}]" if self.field else ""
        head = f"{where}: " if where else ""
        fix = f" Cách sửa: {self.hint}." if self.hint else ""
        return f"{head}{kind}{fld}: {self.message}.{fix}"


class BroadcastError(Exception):
    """Root of every error a user can act on. `str()` is the full Vietnamese report."""

    exit_code: int = EXIT_CONTENT

    def __init__(self, message: str, *, file: str = "", line: int = 0, field: str = "", fix: str = "",
                 exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.file, self.line, self.field, self.fix = file, line, field, fix
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def problems(self) -> tuple[Problem, ...]:
        return (Problem(self.file, self.line, self.field, self.message, self.fix),)

    def report(self) -> str:
        """What to show a person: every problem, one per line."""
        if not (self.file or self.field or self.fix):
            return self.message
        return "\n".join(str(p) for p in self.problems)

    def __str__(self) -> str:
        return self.report()

    def __reduce__(self) -> tuple[Any, ...]:  # survive pickling across worker processes
        return (_rebuild, (self.__class__, self.__dict__.copy()))


def _rebuild(cls: type[BroadcastError], state: dict[str, Any]) -> BroadcastError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


class ContentError(BroadcastError):
    """The project has errors; nothing may be built. Carries every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self._problems = tuple(problems)
        errors = sum(p.severity == "error" for p in self._problems)
        super().__init__(f"dự án có {errors} lỗi (project has {errors} errors)")

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self._problems

    def report(self) -> str:
        return "\n".join([str(p) for p in self._problems] + [self.message])


class RenderError(ContentError):
    """A script's template cannot be rendered for a commune; `problem` says where and why."""

    def __init__(self, problem: Problem):
        super().__init__([problem])

    @property
    def problem(self) -> Problem:
        return self.problems[0]


class YamlError(BroadcastError):
    """A file that is not readable YAML, with the line and a Vietnamese message (the loader adds the file)."""

    def __init__(self, line: int, message: str, hint: str):
        super().__init__(message, line=line, fix=hint)

    @property
    def hint(self) -> str:
        return self.fix


class UsageError(BroadcastError):
    """A command was asked for something that does not exist (an unknown commune, a bad week)."""


class NotAProject(BroadcastError):
    """No broadcast.yaml here or above."""


class EnvironmentProblem(BroadcastError):
    """The machine stops us: disk full, a folder not writable, a tool missing."""

    exit_code = EXIT_ENVIRONMENT


class BuildLocked(BroadcastError):
    """Another build of the same project holds the lock."""

    exit_code = EXIT_FAILED


class Interrupted(BroadcastError):
    """The command was stopped (Ctrl-C: exit 130, SIGTERM: exit 143); nothing was published."""

    exit_code = 130


class TTSError(BroadcastError):
    """A sentence could not be spoken, or a voice is misconfigured (bilingual, ready to print)."""

    exit_code = EXIT_FAILED


class EngineUnavailable(TTSError):
    """The engine's library, model or service is not there."""


class MissingRecording(TTSError):
    """The `recorded` engine has no recording for a sentence (lint reports it as an error)."""

    def __init__(self, message: str, sentence: str = "", folder: str = ""):
        super().__init__(message)
        self.sentence = sentence
        self.folder = folder


class AudioError(BroadcastError):
    """A message could not be assembled, mastered or written (bilingual, ready to print)."""

    exit_code = EXIT_FAILED


class WavError(AudioError, ValueError):
    """Bytes that are not a well-formed RIFF/WAVE file (truncated, padded or foreign)."""


def bilingual(vi: str, en: str) -> str:
    """One message in the house style: Vietnamese first, English in parentheses."""
    return f"{vi} ({en})"


_SPACE = "giải phóng dung lượng hoặc cấp quyền ghi cho thư mục"
_IN_THE_WAY = "xóa hoặc đổi tên '{where}' (hay thư mục cha của nó), thứ đang nằm đúng chỗ cần ghi,"
_MACHINE_REFUSALS = {  # errno: (why, what to do); the system's own wording is English
    errno.ENOSPC: ("ổ đĩa đã đầy (disk full)", _SPACE),
    errno.EDQUOT: ("hết hạn mức dung lượng (quota exceeded)", _SPACE),
    errno.EACCES: ("không có quyền ghi (permission denied)", _SPACE),
    errno.EPERM: ("không được phép ghi (operation not permitted)", _SPACE),
    errno.EROFS: ("ổ đĩa chỉ đọc (read-only file system)", "chọn một ổ đĩa ghi được"),
    errno.EFBIG: ("tệp vượt giới hạn kích thước máy cho phép (file too large)",
                  "nới giới hạn kích thước tệp của tài khoản chạy lệnh (ulimit -f) hoặc dùng ổ đĩa khác"),
    errno.ENOTDIR: ("một phần của đường dẫn là tệp, không phải thư mục (not a directory)", _IN_THE_WAY),
    errno.EISDIR: ("ở đó là một thư mục, không phải tệp (is a directory)", _IN_THE_WAY),
    errno.EEXIST: ("ở đó đã có một tệp hoặc thư mục khác (file exists)", _IN_THE_WAY),
    errno.ENOENT: ("không có hoặc không tạo được thư mục này (no such file or directory)",
                   "kiểm tra đường dẫn '{where}'"),
}


# the machine refused to write: the disk full, read-only, or not ours
WRITE_REFUSALS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EFBIG})


def machine_refusal(exc: OSError) -> tuple[str, str]:
    """What the machine refused, in Vietnamese (the system's own wording is English), and what to
    do; the fix may name '{where}', the file or folder."""
    return _MACHINE_REFUSALS.get(exc.errno or 0, (exc.strerror or str(exc), "kiểm tra đường dẫn '{where}'"))
