"""Reading with a large lexicon: the speech stage's time against the number of multi-word entries.

Entries whose key has a space or punctuation ("Công an xã", "NĐ-CP", "bit.ly") are matched by the
normaliser's master regex, not looked up word by word. This times `normalize()` of one text (2,000 and
73,000 characters of script-like sentences, a few of them naming entries) with 200, 2,000 and 20,000 such
entries, the rules compiled before the timing and every memory of earlier readings cleared, and prints
the time to compile the rules apart.

Run:  PYTHONPATH=src python benchmarks/bench_lexicon.py [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import time

from broadcast.speech import Lexicon, normalize, pipeline
from broadcast.speech import text as speech_text
from machine import machine

SYLLABLES = ("công an xã thôn bản làng tân lập hòa bình phú thọ lạng sơn bắc kạn nà phặc khuổi "
             "pác cốc mỏ đồng hỷ yên thế minh khai quang trung tiến lộc hưng đạo").split()
SENTENCE = ("Câu thứ {i}: {name} đề nghị bà con cảnh giác với cuộc gọi tự xưng là {key}, "
            "không chuyển tiền theo Nghị định 13/2023/NĐ-CP và gọi 113 khi cần.")
ENTRIES = (200, 2_000, 20_000)
LENGTHS = (2_000, 73_000)


def lexicon(n: int) -> tuple[Lexicon, list[str]]:
    """`n` multi-word entries: two in three words of two to four syllables ("Tân Lập Hòa"), the rest
    abbreviations with a dash, a dot or an ampersand ("TLH-CP12", "BK.12", "NP&T12")."""
    rng = random.Random(n)
    words: dict[str, str] = {}
    abbreviations: dict[str, str] = {}
    while len(words) + len(abbreviations) < n:
        parts = rng.sample(SYLLABLES, rng.randint(2, 4))
        if rng.random() < 2 / 3:
            words[" ".join(parts).title()] = " ".join(parts)
        else:
            initials = "".join(p[0] for p in parts).upper()
            key = f"{initials}{rng.choice('-.&')}{rng.choice(('CP', 'BCA', 'TT', 'X'))}{rng.randint(1, 99)}"
            abbreviations[key] = " ".join(parts)
    return Lexicon(abbreviations=abbreviations, words=words), [*words, *abbreviations]


def text(keys: list[str], length: int) -> str:
    rng = random.Random(length)
    out, size, i = [], 0, 0
    while size < length:
        sentence = SENTENCE.format(i=i, name=rng.choice(keys).title(), key=rng.choice(keys))
        out.append(sentence)
        size += len(sentence) + 1
        i += 1
    return " ".join(out)[:length]


def read_once(lex: Lexicon, body: str) -> float:
    for remembered in (speech_text._clean_line, speech_text.strip_decoration, speech_text.tidy, pipeline._split,
                       pipeline._sentences):
        remembered.cache_clear()
    normaliser = lex._normaliser
    normaliser._sentences.clear()
    normaliser._cache.clear()
    start = time.perf_counter()
    normalize(body, lex)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="the best of this many readings is printed")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print("| entries | compile s | 2k chars s | 73k chars s |")
    print("|---:|---:|---:|---:|")
    for n in ENTRIES:
        lex, keys = lexicon(n)
        start = time.perf_counter()
        normalize("x", lex)
        compiled = time.perf_counter() - start
        times = [min(read_once(lex, text(keys, length)) for _ in range(args.runs)) for length in LENGTHS]
        print(f"| {n:,} | {compiled:.2f} | " + " | ".join(f"{t:.3f}" for t in times) + " |", flush=True)


if __name__ == "__main__":
    main()
