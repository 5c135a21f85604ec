"""The country's week on one machine: a real cold build of three whole provinces, and how --jobs scales.

A copy of the example project with Lạng Sơn, Cao Bằng and Tuyên Quang imported (their commune phone
placeholders filled with 113, so nothing is left out), built cold (empty caches) with `broadcast build`
as a process, once with --jobs 2 for the three provinces and once with --jobs 1 for one of them. From
the measured seconds per commune: the country's week (3,321 communes) on 2, 8 and 16 cores, assuming
the work parallel across communes as measured from 1 to 2 jobs, and the disk a week takes.

Run:  python benchmarks/bench_country.py [--write]
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
PROVINCES = ("Lạng Sơn", "Cao Bằng", "Tuyên Quang")
COUNTRY = 3321


def project(folder: Path, provinces: tuple[str, ...]) -> Path:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if rel.split("/")[0] not in ("tests", "benchmarks", "docs", "src"):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, folder / rel)
    shutil.rmtree(folder / "locales")
    args = [str(BROADCAST), "locales", "import", "--project", str(folder)]
    for name in provinces:
        args += ["--province", name]
    subprocess.run(args, check=True, capture_output=True)
    for path in (folder / "locales").rglob("*.yaml"):  # the commune's police phone, as a commune would fill it
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"'<<CẦN ĐIỀN:[^>]*>>'", "'113'", text), encoding="utf-8")
    return folder


def build(root: Path, jobs: int) -> tuple[float, int, int]:
    """(wall seconds, communes, bytes published) of a cold build as a process."""
    started = time.perf_counter()
    done = subprocess.run([str(BROADCAST), "build", "--week", "2026-W49", "--jobs", str(jobs), "--project", str(root)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout[-2000:] + done.stderr[-2000:])
    week = root / "output" / "2026-W49"
    communes = len([p for p in week.glob("*/*") if p.is_dir()])
    seen, size = set(), 0
    for path in week.rglob("*"):
        if path.is_file():
            info = path.stat()
            if info.st_ino not in seen:
                seen.add(info.st_ino)
                size += info.st_size
    return wall, communes, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        three = project(Path(tmp) / "ba-tinh", PROVINCES)
        wall2, communes, size = build(three, 2)
        one = project(Path(tmp) / "mot-tinh", PROVINCES[1:2])
        wall1, communes1, _ = build(one, 1)
        one2 = project(Path(tmp) / "mot-tinh-2", PROVINCES[1:2])
        wall1b, _, _ = build(one2, 2)
    per2 = wall2 / communes
    speedup = wall1 / wall1b  # 1 -> 2 jobs on the same province
    efficiency = speedup / 2
    per_core_commune = per2 * 2 * efficiency  # CPU-seconds per commune at that efficiency
    lines = ["# Benchmark: the country's week on one machine", "",
             "`benchmarks/bench_country.py`: cold builds (empty caches) as processes, offline voice, preset loa.", "",
             f"- Machine: {machine()}", f"- Date: {time.strftime('%Y-%m-%d')}", "",
             f"- {', '.join(PROVINCES)}: {communes} communes, cold build with --jobs 2: **{wall2:.0f} s** "
             f"({per2:.2f} s per commune), {size / 1e9:.2f} GB published ({size / communes / 1e6:.0f} MB per commune)",
             f"- {PROVINCES[1]} ({communes1} communes): --jobs 1 {wall1:.0f} s, --jobs 2 {wall1b:.0f} s: "
             f"{speedup:.2f}x on 2 cores ({100 * efficiency:.0f} % parallel efficiency)", "",
             "| cores | the country's week (3,321 communes), projected |", "|---:|---:|"]
    for cores in (2, 8, 16):
        minutes = COUNTRY * per_core_commune / (cores * efficiency) / 60
        lines.append(f"| {cores} | {minutes:.0f} min ({minutes / 60:.2f} h) |")
    lines += ["", f"Disk per week for the country: {COUNTRY * size / communes / 1e12:.2f} TB (before `broadcast clean`).",
              "The projection scales the measured CPU time per commune by the measured parallel efficiency; shared "
              "sentences (the same in every commune) are counted again per commune, so it is an upper bound.", ""]
    text = "\n".join(lines)
    print(text)
    if args.write:
        (ROOT / "benchmarks" / "RESULTS-country.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
