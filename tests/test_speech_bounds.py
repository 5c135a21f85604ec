"""Bounded work in the speech stage: linear in line length, no part too long for an engine."""

from __future__ import annotations

import signal
import sys
import time

import pytest

from broadcast.speech import normalize, speak
from broadcast.speech.result import MAX_PART_CHARS


class _TooSlow(BaseException):  # not Exception: the rules catch those
    pass


def _line(n: int) -> str:
    return " ".join(f"Câu số {i} ở TP. Hà Nội, gọi 113 nhé." for i in range(n))


def _seconds(text: str) -> float:
    from broadcast.speech import BUILTIN, pipeline
    from broadcast.speech import text as speech_text

    BUILTIN._normaliser = None  # a fresh normaliser: its memory of sentences read before would hide the work
    for remembered in (speech_text._clean_line, speech_text.strip_decoration, speech_text.tidy, pipeline._split,
                       pipeline._sentences):
        remembered.cache_clear()
    normalize("x")  # compile its rules outside the timing
    start = time.perf_counter()
    normalize(text)
    return time.perf_counter() - start


@pytest.mark.skipif(sys.platform == "win32", reason="uses SIGALRM to stop a quadratic run early")
def test_normaliser_is_linear_in_line_length() -> None:
    small = min(_seconds(_line(1_000)) for _ in range(3))
    # 16 times the text may take at most 40 times as long (quadratic work would take
    # 256 times: the old code needed about a minute here).  Stopped at the bound.
    budget = max(40 * small, 1.0)

    def too_slow(signum: int, frame: object) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        big = _seconds(_line(16_000))
    except _TooSlow:
        pytest.fail(f"16.000 câu trên một dòng mất hơn {budget:.1f} s (1.000 câu: {small:.2f} s)")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert big < budget


def test_long_sentence_is_cut_at_commas() -> None:
    clause = "người dân cần cảnh giác với các cuộc gọi lạ tự xưng là công an"  # 62 characters
    text = ", ".join([clause] * 32)  # about 2.000 characters, no full stop
    assert len(text) > 2_000
    sentences = speak(text).sentences
    assert len(sentences) == 1
    parts = sentences[0].parts
    assert len(parts) >= 2_000 // MAX_PART_CHARS
    assert all(0 < len(p) <= MAX_PART_CHARS for p in parts)
    # Cut at commas: every part is whole clauses.
    for part in parts:
        for piece in part.rstrip(".").split(", "):
            assert piece == clause
    assert sentences[0].text == text + "."


def test_long_sentence_without_commas_is_cut_between_words() -> None:
    words = ("cảnh giác lừa đảo trực tuyến " * 80).strip()
    parts = speak(words).sentences[0].parts
    assert len(parts) > 1
    assert all(0 < len(p) <= MAX_PART_CHARS for p in parts)
    assert " ".join(parts).rstrip(".").split() == words.split()


def test_one_huge_word_is_cut_too() -> None:
    parts = speak("a" * 1_000).parts
    assert parts and all(len(p) <= MAX_PART_CHARS for p in parts)


def test_short_sentences_are_not_cut() -> None:
    speech = speak("Gọi 113, 114, 115 ngay. Người dân cần cảnh giác, không chuyển tiền.")
    assert [s.parts for s in speech.sentences][1] == ("Người dân cần cảnh giác, không chuyển tiền.",)


def _kept_bytes(speak_all) -> int:
    """Memory still held after `speak_all()` returns (what the speech stage remembers)."""
    import gc
    import tracemalloc

    from broadcast.speech import BUILTIN, pipeline
    from broadcast.speech import text as speech_text

    BUILTIN._normaliser = None
    for remembered in (speech_text._clean_line, speech_text.strip_decoration, speech_text.tidy, pipeline._split,
                       pipeline._sentences):
        remembered.cache_clear()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        speak_all()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_what_is_remembered_of_marked_text_grows_with_it_not_with_its_square() -> None:
    # each sentence is remembered with the readings it uses, not with every reading before it
    text = "\n".join(f"Câu thứ {i} có [đọc: UBND | ủy ban nhân dân] ở đây." for i in range(3000))
    kept = _kept_bytes(lambda: speak(text))
    assert kept < 15_000_000, kept  # keyed by the whole store it was ~44 MB


def test_long_lines_are_not_remembered() -> None:
    # a script that renders a 40,000-character line for each of 100 communes: worked out each time
    line = " ".join(["Bà con cảnh giác với cuộc gọi lạ"] * 1200)
    kept = _kept_bytes(lambda: [speak(f"Xã số {i}: {line}") for i in range(100)])
    assert kept < 10_000_000, kept  # remembered, each step's copy of the 100 lines: ~40 MB
