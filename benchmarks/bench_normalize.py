"""Throughput of the spoken-form normaliser, in sentences per second on one core.

Corpus: the `body` of every scripts/*.yaml (Jinja2 expressions filled with
sample commune values), else the sentences of the seed directives.
Run:  PYTHONPATH=src python benchmarks/bench_normalize.py [--write]
"""

from __future__ import annotations

import argparse
import glob
import platform
import re
import time
from pathlib import Path

import yaml

from broadcast.speech import Lexicon, normalize, speak
from broadcast.speech import text as speech_text
from machine import cpu_model

ROOT = Path(__file__).resolve().parent.parent
SEEDS = Path("/work/shared/seeds")
TARGET = 10_000

_EXPR_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_TAG_RE = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)


def _fill(body: str) -> str:
    """Stand-in values for the template expressions: the benchmark needs realistic text only."""

    def value(m: re.Match[str]) -> str:
        expr = m.group(1)
        if "phone" in expr or "hotline" in expr:
            return "0205.3870.222"
        if "date" in expr or "ngay" in expr:
            return "03/7/2024"
        return "xã Tân Lập"

    return _TAG_RE.sub("", _EXPR_RE.sub(value, body))


def corpus() -> tuple[str, list[str]]:
    bodies = []
    for path in sorted(glob.glob(str(ROOT / "scripts" / "*.yaml"))):
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and isinstance(data.get("body"), str):
            bodies.append(_fill(data["body"]))
    if bodies:
        return f"scripts/*.yaml body ({len(bodies)} scripts)", bodies
    seeds = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    return f"seed directives ({len(seeds)} letters)", seeds


def measure(fn, texts: list[str], lexicon: Lexicon, seconds: float) -> tuple[int, float]:
    fn(texts[0], lexicon)  # compile the lexicon's rules outside the timing
    rounds, start = 0, time.perf_counter()
    while True:
        memory = lexicon._normaliser  # its memory of sentences read before: every round reads them anew
        memory._sentences.clear()
        for remembered in (speech_text._clean_line, speech_text.strip_decoration, speech_text.tidy):
            remembered.cache_clear()
        for text in texts:
            fn(text, lexicon)
        rounds += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return rounds, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS-normalize.md")
    args = parser.parse_args()

    lexicon = Lexicon.from_mapping(yaml.safe_load((ROOT / "lexicon.yaml").read_text(encoding="utf-8")))
    name, texts = corpus()
    sentences = sum(len(speak(t, lexicon).sentences) for t in texts)
    chars = sum(len(t) for t in texts)
    rows = []
    for label, fn in (("normalize()", normalize), ("speak()", speak)):
        rounds, elapsed = measure(fn, texts, lexicon, args.seconds)
        rate = sentences * rounds / elapsed
        rows.append((label, rate, chars * rounds / elapsed / 1e6))
        print(f"{label:12} {rate:10,.0f} sentences/s  {rows[-1][2]:.2f} M chars/s")
    print(f"corpus: {name}, {sentences} sentences, {chars} characters; target {TARGET:,}/s")

    if args.write:
        lines = [
            "# Benchmark: spoken-form normaliser",
            "",
            "`benchmarks/bench_normalize.py` - one process, one core, project `lexicon.yaml`,",
            "rules compiled once before timing.",
            "",
            f"- Corpus: {name}: {sentences} sentences, {chars:,} characters",
            f"- CPU: {cpu_model()}",
            f"- Python: {platform.python_implementation()} {platform.python_version()}",
            f"- Date: {time.strftime('%Y-%m-%d')}",
            f"- Target: {TARGET:,} sentences/s",
            "",
            "| Function | Sentences/s | M chars/s |",
            "|---|---:|---:|",
            *(f"| `{label}` | {rate:,.0f} | {mchars:.2f} |" for label, rate, mchars in rows),
            "",
        ]
        (ROOT / "benchmarks" / "RESULTS-normalize.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
