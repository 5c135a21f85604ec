"""Commands at the country's scale, timed as a user runs them: whole processes, wall time and peak memory.

A copy of the example project with all 34 provinces imported (3,321 communes); each command runs
`--runs` times as its own process (`broadcast plan`, `broadcast lint`, `broadcast plan --json`), and the
wall time and the child's peak RSS (from os.wait4, as /usr/bin/time -v reports it) are written down.
The library-level numbers of the same work are in RESULTS.md (benchmark 1).

Run:  python benchmarks/bench_commands.py [--write]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine

ROOT = Path(__file__).resolve().parent.parent
BROADCAST = Path(sys.executable).with_name("broadcast")
TARGETS = {"plan": 10.0, "lint": 15.0}


def national_copy(folder: Path) -> Path:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if rel.split("/")[0] not in ("tests", "benchmarks", "docs", "src"):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, folder / rel)
    subprocess.run([str(BROADCAST), "locales", "import", "--all", "--project", str(folder)], check=True,
                   capture_output=True)
    return folder


def timed(args: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB, exit code) of one command as its own process."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as null:
        process = subprocess.Popen(args, stdout=null, stderr=null)
        _, status, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = national_copy(Path(tmp) / "p")
        commands = {
            "plan": [str(BROADCAST), "plan", "--week", "2026-W49", "--project", str(root)],
            "plan --json": [str(BROADCAST), "plan", "--week", "2026-W49", "--json", "--project", str(root)],
            "plan --locale lang-son/xa-chi-lang": [str(BROADCAST), "plan", "--week", "2026-W49", "--locale", "lang-son/xa-chi-lang",
                                          "--project", str(root)],
            "lint": [str(BROADCAST), "lint", "--week", "2026-W49", "--project", str(root)],
        }
        results = {name: [timed(cmd) for _ in range(args.runs)] for name, cmd in commands.items()}
    lines = ["# Benchmark: commands at the country's scale, as whole processes", "",
             "`benchmarks/bench_commands.py`: the example project with all 34 provinces imported (3,321 communes),",
             "each command its own process, wall time and the child's peak RSS (os.wait4).", "",
             f"- Machine: {machine()}", f"- Date: {time.strftime('%Y-%m-%d')}", f"- Runs: {args.runs}",
             "- Targets: `broadcast plan` <= 10 s, `broadcast lint` <= 15 s (end to end)", "",
             "| command | median s | max s | peak RSS MiB | exit |", "|---|---:|---:|---:|---:|"]
    for name, runs in results.items():
        walls = [r[0] for r in runs]
        lines.append(f"| `broadcast {name}` | {statistics.median(walls):.2f} | {max(walls):.2f} | "
                     f"{max(r[1] for r in runs):.0f} | {runs[-1][2]} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        (ROOT / "benchmarks" / "RESULTS-commands.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
