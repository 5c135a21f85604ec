"""What rewriting a province's program files costs at the least, on this disk and CPU.

An edit to a sentence every commune says differently (the police sentence) changes the message
in 325 of Lạng Sơn's 390 program files: 3.4 GB that must be written, hashed for the manifest and
flushed to disk. This times exactly that, with no audio work, with the build's own writer
(`audio.files.write_chunks`, 2 threads as the build runs it), two ways:

- as before issue 17's third session: new files, flushed at the end, then as many replaced ones deleted;
- as the build does now: written over the files the last rebuild replaced (`publish.SPARE`), each
  flushed by another thread as soon as it is written.

    python benchmarks/bench_floor.py [--files 325] [--mb 10.5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from broadcast.audio.files import write_chunks
from machine import machine


def flush(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=325)
    parser.add_argument("--mb", type=float, default=10.5)
    args = parser.parse_args()
    parts = [os.urandom(int(args.mb * 1e6 / 7)) for _ in range(7)]  # a program: ~7 messages
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        old = [Path(tmp) / f"old-{i}.mp3" for i in range(args.files)]
        new = [Path(tmp) / f"new-{i}.mp3" for i in range(args.files)]
        with ThreadPoolExecutor(2) as pool:  # last week's files
            list(pool.map(lambda p: write_chunks(p, [b"\0" * 300, *parts]), old))
        os.sync()

        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda p: write_chunks(p, [b"\1" * 301, *parts]), new))
        for path in new:
            flush(path)
        written = time.perf_counter() - started
        started = time.perf_counter()
        for path in new:
            path.unlink()
        freed = time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(1) as flusher, ThreadPoolExecutor(2) as pool:
            def one(path: Path) -> None:
                write_chunks(path, [b"\2" * 302, *parts], in_place=True)
                flusher.submit(flush, path)
            list(pool.map(one, old))
        recycled = time.perf_counter() - started
    total = args.files * sum(len(p) for p in parts) / 1e9
    print(f"{machine()}: {args.files} files, {total:.1f} GB written, hashed and flushed: "
          f"new files {written:.2f} s and deleting as many {freed:.2f} s (together {written + freed:.2f} s); "
          f"written over spare files, flushed meanwhile {recycled:.2f} s")


if __name__ == "__main__":
    main()
