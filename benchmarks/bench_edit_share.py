"""Would the police-sentence edit reach 15 % of a cold build if program files were not written?

Issue 17 asks for the edit of the sentence that names each commune's police at 15 % of a cold build
or less; it stays at 23-26 % (`bench_province.py`), and the analysis in RESULTS.md puts most of the
gap on rewriting the 325 program files that hold the changed message. This measures the other
answer, the one a project decision could take (stations playing each slot's playlist instead of one
program file): the same cold build and the same edit, once as built and once with every program file
left empty (its length still taken from its parts' frames, so the schedules, playlists and pages are
the same). Each mode is its own process on its own fresh copy of the province.

    python benchmarks/bench_edit_share.py [--province "Lạng Sơn"] [--edits 2]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_province import make_project
from broadcast import programs
from broadcast.app import Workspace
from broadcast.audio import AudioFile, Preset, Tags
from broadcast.audio.concat import _frames  # the build's own remembered frame reading
from broadcast.model import Week
from machine import machine

WEEK = Week(2026, 49)
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
POLICE = re.compile(r"Bà con hãy liên hệ[^{]*\{\{")


def no_program_file(paths: list[Path], preset: Preset, out: Path, tags: Tags, in_place: bool = False) -> AudioFile:
    """programs.join_files, writing nothing: the program's length from its parts, an empty file."""
    seconds = sum(_frames(Path(p)).duration for p in paths)
    Path(out).write_bytes(b"")
    return AudioFile(Path(out), seconds, EMPTY_SHA256, float("nan"), float("nan"))


def one_mode(mode: str, province: str, edits: int) -> dict:
    if mode == "without program files":
        programs.join_files = no_program_file
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        root = Path(tmp) / "province"
        make_project(root, province)
        started = time.perf_counter()
        cold_stages = Workspace(root).build(WEEK).stats["stages"]
        cold = time.perf_counter() - started
        script = root / "scripts" / "khi-bi-de-doa.yaml"
        runs = []
        for n in range(edits):
            text = script.read_text(encoding="utf-8")
            script.write_text(POLICE.sub(f"Bà con hãy liên hệ ngay, lần {n + 1} {{{{", text, count=1), encoding="utf-8")
            started = time.perf_counter()
            result = Workspace(root).build(WEEK)
            runs.append({"seconds": time.perf_counter() - started, "stages": result.stats["stages"]})
    return {"mode": mode, "cold": cold, "cold_stages": cold_stages, "edits": runs}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--province", default="Lạng Sơn")
    parser.add_argument("--edits", type=int, default=2)
    parser.add_argument("--mode", help=argparse.SUPPRESS)  # one mode, in a child process
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(one_mode(args.mode, args.province, args.edits)))
        return
    print(f"Machine: {machine()}. {args.province}, week {WEEK.id}, offline voice, preset loa.\n")
    print("| mode | cold | police edits | share of cold | cold stages | edit stages (last) |")
    print("|---|---:|---|---|---|---|")
    for mode in ("as built", "without program files"):
        out = subprocess.run([sys.executable, __file__, "--mode", mode, "--province", args.province,
                              "--edits", str(args.edits)], check=True, capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        cold, edits = result["cold"], result["edits"]
        stages = ", ".join(f"{k} {v:.2f}" for k, v in edits[-1]["stages"].items())
        cold_stages = ", ".join(f"{k} {v:.2f}" for k, v in result["cold_stages"].items())
        seconds = ", ".join(f"{e['seconds']:.2f} s" for e in edits)
        shares = ", ".join(f"{100 * e['seconds'] / cold:.1f} %" for e in edits)
        print(f"| {mode} | {cold:.1f} s | {seconds} | {shares} | {cold_stages} | {stages} |", flush=True)


if __name__ == "__main__":
    main()
