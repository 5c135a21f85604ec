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


# What a script author can paste that a rule read to the line's end from each of its characters or
# numbers, or the sentence builder tidied whole at every line: each was quadratic (20 KB: lint 74 s to
# 4 minutes, and 1.85 GB for the unclosed markup).
PATHOLOGICAL = {  # (the text for n, the n measured first: 16 times it must stay near 16 times the time)
    "digit groups": (lambda n: "123 " * n + ".", 1_000),
    "dotted run": (lambda n: "1." * n + "1", 5_000),  # an address's local part, read from every character
    "letters and dots": (lambda n: "a." * n, 5_000),
    "dashed digits": (lambda n: "-1" * n, 5_000),
    "spaces": (lambda n: "a" + " " * n + "b", 1_000),
    "wrapped lines": (lambda n: "a\n" * n + ".", 1_000),
    "unclosed markup": (lambda n: "[đọc: " * n, 1_000),
}


@pytest.mark.skipif(sys.platform == "win32", reason="uses SIGALRM to stop a quadratic run early")
@pytest.mark.parametrize("kind", PATHOLOGICAL)
def test_what_an_author_pastes_is_read_in_linear_time(kind: str) -> None:
    make, n = PATHOLOGICAL[kind]
    _bounded(lambda: min(_seconds(make(n)) for _ in range(3)), lambda: _seconds(make(16 * n)),
             f"{kind}: 16 lần dài hơn")


def _bounded(small_run, big_run, what: str) -> None:
    small = small_run()
    # 16 times the text may take at most 40 times as long (quadratic work would take 256 times).
    budget = max(40 * small, 1.0)

    def too_slow(signum: int, frame: object) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        big = big_run()
    except _TooSlow:
        pytest.fail(f"{what} mất hơn {budget:.1f} s (1 lần: {small:.2f} s)")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert big < budget


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


def test_unclosed_markup_is_reported_once_a_line_in_a_few_words() -> None:
    """Each opening of a line of thousands was reported with the rest of the line: lint's errors
    grew with the square of it (60 KB: over 5 minutes and 1.85 GB)."""
    from broadcast.speech.markup import UNCLOSED_SHOWN, unclosed

    found = unclosed("Bà con chú ý.\n" + "[đọc: Zalo | da lô " * 5_000 + "\nGọi 113.")
    assert len(found) == 1 and found[0][0] == 2 and len(found[0][1]) <= UNCLOSED_SHOWN
    assert found[0][1].startswith("[đọc: Zalo")


def _lines_run(text: str) -> int:
    """The Python lines the normaliser runs to read `text`: its work, counted rather than timed."""
    from broadcast.speech import BUILTIN, pipeline
    from broadcast.speech import text as speech_text

    BUILTIN._normaliser = None
    for remembered in (speech_text._clean_line, speech_text.strip_decoration, speech_text.tidy, pipeline._split,
                       pipeline._sentences):
        remembered.cache_clear()
    normalize("x")
    count = 0

    def trace(frame: object, event: str, arg: object) -> object:
        nonlocal count
        count += event == "line"
        return trace

    sys.settrace(trace)
    try:
        normalize(text)
    finally:
        sys.settrace(None)
    return count


def test_a_document_number_of_many_dashed_pieces_is_read_in_linear_work() -> None:
    # Each piece was joined with every run of the pieces after it to look it up in the lexicon
    # ("NĐ-CP"): cubic, 2,400 characters took 4 s and 24,000 an hour.
    def number(n: int) -> str:
        return "Công văn số 12/" + "-".join(["NĐ"] * n) + "."

    small, big = _lines_run(number(200)), _lines_run(number(800))
    assert big < 6 * small, (small, big)  # 4 times the pieces; quadratic work would be 16 times
    assert "nghị định chính phủ" in normalize("Nghị định 13/2023/NĐ-CP.")
