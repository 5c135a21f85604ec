"""The `broadcast` command's entry point: imports the command line and runs it.

Importing the command line loads numpy, scipy and the audio stack (about 0.7 s). Ctrl-C in that
time used to print a traceback, before `cli` could catch anything: it is caught here, and reported
like any other interruption (exit 130, nothing was started).
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import main as command_line
    except KeyboardInterrupt:
        sys.stderr.write("\nĐã dừng trước khi bắt đầu; không có gì thay đổi (interrupted).\n")
        raise SystemExit(130) from None
    command_line()
