"""An emergency bulletin on air in seconds: `broadcast emergency` for every commune of Lạng Sơn, cold.

The week is built first (as the weekly job would have); then a new emergency script, never synthesised,
is published with `broadcast emergency` as a process. Timed as the user runs it: the whole command.

Run:  python benchmarks/bench_emergency.py [--write]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine

ROOT = Path(__file__).resolve().parent.parent
BROADCAST = Path(sys.executable).with_name("broadcast")
SCRIPT = """\
id: bao-dong-khan
title: "Khẩn cấp: giả danh công an gọi video đòi chuyển tiền"
source: Công an tỉnh Lạng Sơn, công văn ngày 04/12/2024
level: emergency
valid: {from: 2024-12-04}
repeat: 2
body: |
  Kính thưa bà con nhân dân {{ locale.name }}!
  Đây là thông báo khẩn. Những ngày qua, kẻ gian giả danh cán bộ công an gọi video cho người dân,
  đọc đúng họ tên, số căn cước, rồi dọa bà con đang bị điều tra và đòi chuyển tiền để được xác minh.
  Công an không bao giờ làm việc qua điện thoại hay mạng xã hội, không bao giờ yêu cầu chuyển tiền.
  Khi nhận cuộc gọi như vậy, bà con hãy tắt máy và báo ngay cho {{ locale.contacts.police.name }},
  số {{ locale.contacts.police.phone }}.
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "p"
        files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
        for rel in files:
            if rel.split("/")[0] not in ("tests", "benchmarks", "docs", "src"):
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / rel, root / rel)
        shutil.rmtree(root / "locales")
        subprocess.run([str(BROADCAST), "locales", "import", "--province", "Lạng Sơn", "--project", str(root)],
                       check=True, capture_output=True)
        for path in (root / "locales").rglob("*.yaml"):
            path.write_text(re.sub(r"'<<CẦN ĐIỀN:[^>]*>>'", "'113'", path.read_text(encoding="utf-8")), encoding="utf-8")
        # the week on air where the stations are (the machine's UTC date is a day behind from 17:00 UTC)
        week = subprocess.run([sys.executable, "-c", "from broadcast.app import today_in; "
                               "from broadcast.model import Week; print(Week.containing(today_in()).id)"],
                              capture_output=True, text=True, check=True).stdout.strip()
        started = time.perf_counter()
        subprocess.run([str(BROADCAST), "build", "--week", week, "--jobs", "2", "--project", str(root)], check=True,
                       capture_output=True)
        build = time.perf_counter() - started
        (root / "scripts" / "bao-dong-khan.yaml").write_text(SCRIPT, encoding="utf-8")
        started = time.perf_counter()
        done = subprocess.run([str(BROADCAST), "emergency", "bao-dong-khan", "--week", week, "--jobs", "2",
                               "--project", str(root)], capture_output=True, text=True)
        emergency = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(done.stdout + done.stderr)
        communes = len(list((root / "output" / week).glob("*/*/KHAN-CAP_bao-dong-khan.mp3")))
    lines = ["# Benchmark: an emergency bulletin on air in seconds", "",
             "`benchmarks/bench_emergency.py`: Lạng Sơn (65 communes), the week built first, then a new emergency",
             "script (never synthesised: cold) published with `broadcast emergency` as a process, 2 worker processes.", "",
             f"- Machine: {machine()}", f"- Date: {time.strftime('%Y-%m-%d')}", "",
             f"- the week's build first: {build:.1f} s",
             f"- `broadcast emergency bao-dong-khan`: **{emergency:.1f} s** for {communes} communes "
             "(target <= 15 s on 2 cores)", ""]
    text = "\n".join(lines)
    print(text)
    if args.write:
        (ROOT / "benchmarks" / "RESULTS-emergency.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
