"""What rewriting a province's program files costs at the least, on this disk and CPU.

An edit to a sentence every commune says differently (the police sentence) changes the message
in 325 of Lạng Sơn's 390 program files: 3.4 GB that must be written, hashed for the manifest, and
(the replaced week) freed. This times exactly that, with no audio work: 325 files of 10.5 MB
written and hashed by 2 threads as the build does, then the same number deleted.

    python benchmarks/bench_floor.py [--files 325] [--mb 10.5]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from machine import machine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=325)
    parser.add_argument("--mb", type=float, default=10.5)
    args = parser.parse_args()
    data = os.urandom(int(args.mb * 1e6))
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        def write(i: int) -> str:
            digest = hashlib.sha256()
            with open(Path(tmp) / f"{i}.mp3", "wb") as handle:
                for start in range(0, len(data), 1 << 20):
                    chunk = data[start:start + (1 << 20)]
                    handle.write(chunk)
                    digest.update(chunk)
            return digest.hexdigest()

        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(write, range(args.files)))
        written = time.perf_counter() - started
        os.sync()
        started = time.perf_counter()
        for i in range(args.files):
            os.unlink(Path(tmp) / f"{i}.mp3")
        freed = time.perf_counter() - started
    total = args.files * len(data) / 1e9
    print(f"{machine()}: {args.files} files, {total:.1f} GB: written and hashed (2 threads) {written:.2f} s, "
          f"deleted {freed:.2f} s, together {written + freed:.2f} s")


if __name__ == "__main__":
    main()
