"""The `broadcast` command's entry point: imports the command line and runs it.

Importing the command line loads numpy, scipy and the audio stack (about 0.7 s). Ctrl-C in that
time used to print a traceback, before `cli` could catch anything: it is caught here, and reported
like any other interruption (exit 130, nothing was started).

Output that cannot carry Vietnamese is switched to UTF-8 first: on Windows, a scheduled job whose
output goes to a log file (`broadcast build > nhat-ky.txt`) writes in the ANSI code page
(cp1252), and the first message with a Vietnamese letter used to end the command with a traceback.
"""

from __future__ import annotations

import sys


def speak_vietnamese(*streams: object) -> None:
    """Switch each text stream that cannot encode Vietnamese to UTF-8 (a console that can, such as
    Windows' own, which Python writes to in UTF-16, is left alone). Characters UTF-8 cannot carry
    either (a file name's undecodable bytes) are written as escapes, not raised."""
    for stream in streams:
        try:
            "Đã dựng".encode(getattr(stream, "encoding", None) or "ascii")
        except (LookupError, UnicodeEncodeError):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(encoding="utf-8", errors="backslashreplace")


def main() -> None:
    speak_vietnamese(sys.stdout, sys.stderr)
    try:
        from .cli import main as command_line
    except KeyboardInterrupt:
        sys.stderr.write("\nĐã dừng trước khi bắt đầu; không có gì thay đổi (interrupted).\n")
        raise SystemExit(130) from None
    command_line()
