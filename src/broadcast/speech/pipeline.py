"""speak(), normalize() and check_readings(): text in, spoken form out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from .builtin import BUILTIN
from .lexicon import Lexicon
from .markup import marked, protect, restore
from .result import MAX_PART_CHARS, Finding, Paragraph, Sentence, Speech
from .rules import Normaliser
from .text import PAUSE, TERMINAL, clean, remembered, starts_new_line, strip_decoration, tidy

_BOUNDARY_RE = re.compile(r"(?<=[.!?;])\s+(?=\S)")
_TOKEN_BEFORE_RE = re.compile(r"\S+$")


def _normaliser(lexicon: Lexicon | None) -> Normaliser:
    """The compiled rules for BUILTIN < lexicon, cached on the lexicon object."""
    base = lexicon if lexicon is not None else BUILTIN
    if base._normaliser is None:
        base._normaliser = Normaliser(base if base is BUILTIN else BUILTIN.merged(base))
    return base._normaliser


@lru_cache(maxsize=16)
def _longest(dotted: frozenset[str]) -> int:
    return max((len(k) for k in dotted), default=0)


@remembered
def _split(line: str, dotted: frozenset[str]) -> tuple[str, ...]:
    """Cut a line into sentences at . ! ? ; - but not after "TP." or before a lower-case word."""
    out, start = [], 0
    for m in _BOUNDARY_RE.finditer(line):
        if line[m.start() - 1] == ".":
            following = line[m.end()]
            if following.isalpha() and not following.isupper():
                continue
            # Look back only as far as the longest dotted abbreviation (plus one):
            # searching from 0 made a long line quadratic.
            window = max(0, m.start() - _longest(dotted) - 1)
            before = _TOKEN_BEFORE_RE.search(line, window, m.start())
            if before and before.group() in dotted:
                continue
        out.append(line[start:m.start()])
        start = m.end()
    out.append(line[start:])
    return tuple(out)


def fit(part: str, limit: int = MAX_PART_CHARS) -> list[str]:
    """``part`` cut into pieces of at most ``limit`` characters: at commas where it can,
    else between words, and a single word longer than ``limit`` by characters."""
    if len(part) <= limit:
        return [part]
    out: list[str] = []
    for clause in _pack((c.strip() for c in part.split(",")), ", ", limit):
        if len(clause) <= limit:
            out.append(clause)
        else:
            words = [w[i:i + limit] for w in clause.split() for i in range(0, len(w), limit)]
            out.extend(_pack(words, " ", limit))
    return out or [part[:limit]]


def _pack(pieces: Iterable[str], sep: str, limit: int) -> list[str]:
    """Pieces joined with ``sep`` while they fit in ``limit``; a piece too long stays alone."""
    out: list[str] = []
    current = ""
    for piece in pieces:
        if not piece:
            continue
        joined = f"{current}{sep}{piece}" if current else piece
        if len(joined) <= limit:
            current = joined
        else:
            if current:
                out.append(current)
            current = piece
    if current:
        out.append(current)
    return out


class _Builder:
    """Collects sentences and paragraphs while lines stream in."""

    def __init__(self, store: list[str], dotted: frozenset[str]) -> None:
        self.store = store
        self.dotted = dotted
        self.paragraphs: list[Paragraph] = []
        self.sentences: list[Sentence] = []
        # the pending sentence's pieces, one per line, joined once it closes: joined and tidied at every
        # line, a text pasted from a PDF (thousands of wrapped lines, one sentence) took minutes
        self.pending: list[str] | None = None
        self.pending_line = 0

    def open(self, spoken: str, line: int) -> None:
        self.close_sentence()
        self.pending, self.pending_line = [spoken], line

    def extend(self, spoken: str) -> None:
        assert self.pending is not None
        self.pending.append(spoken)

    def open_ended(self) -> bool:
        """Is the pending sentence unfinished (a soft-wrapped line)? What `tidy` would leave last is its
        last character that is not a space, a comma or a pause (tidy drops those at the end)."""
        for piece in reversed(self.pending or ()):
            end = len(piece)
            while end and (piece[end - 1].isspace() or piece[end - 1] in "," + PAUSE):
                end -= 1
            if end:
                return piece[end - 1] not in TERMINAL
        return False

    def close_sentence(self) -> None:
        if self.pending is None:
            return
        spoken, self.pending = " ".join(self.pending), None
        self.sentences += [Sentence(parts, self.pending_line)
                           for parts in _sentences(spoken, self.dotted, marked(spoken, self.store))]

    def close_paragraph(self) -> None:
        self.close_sentence()
        if self.sentences:
            self.paragraphs.append(Paragraph(tuple(self.sentences)))
            self.sentences = []


@remembered
def _sentences(spoken: str, dotted: frozenset[str],
               readings: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ...], ...]:
    """The parts of each sentence in a finished stretch of spoken text (`readings`: what its
    markers stand for, `markup.marked`)."""
    out, table = [], dict(readings)
    # Split again on the spoken text: a rule's output may put a space after
    # "?" or "." where the source had none, and a second pass would cut there.
    for piece in _split(tidy(spoken), dotted):
        text = restore(piece, table)
        # a part with no letter or digit says nothing (a voice makes no sound of "..."): what markup
        # gave ("[nguyên văn: ...]", "[đọc: x | .]") is left out as punctuation written plainly is
        parts = tuple(p for p in (" ".join(x.split()) for x in text.split(PAUSE)) if any(c.isalnum() for c in p))
        if not parts:
            continue
        if parts[-1][-1] not in TERMINAL:
            # closed with "." unless that makes its last word an abbreviation ("Tp" -> "Tp.", which
            # reads "thành phố" the next time: speaking what speak() said must not change it)
            close = ";" if parts[-1].rsplit(" ", 1)[-1] + "." in dotted else "."
            parts = parts[:-1] + (parts[-1] + close,)
        out.append(tuple(piece for part in parts for piece in fit(part)))
    return tuple(out)


def speak(text: str, lexicon: Lexicon | None = None) -> Speech:
    """The structured spoken form of ``text``; never raises on a str."""
    norm = _normaliser(lexicon)
    findings: list[Finding] = []
    phones: list[tuple[str, int]] = []
    store: list[str] = []
    out = _Builder(store, norm.dotted)
    for lineno, raw in enumerate(clean(str(text)).split("\n"), 1):
        if not raw.strip():
            out.close_paragraph()
            continue
        continues = out.open_ended() and not starts_new_line(raw)
        line = protect(strip_decoration(raw), store)
        for i, segment in enumerate(_split(line, norm.dotted)):
            spoken = norm.sentence(segment, lineno, findings, phones)
            if i == 0 and continues:
                out.extend(spoken)
            else:
                out.open(spoken, lineno)
    out.close_paragraph()
    return Speech(tuple(out.paragraphs), tuple(findings), tuple(phones))


def phone_numbers(text: str, lexicon: Lexicon | None = None) -> list[tuple[str, int]]:
    """Every (token, line) of ``text`` that speak() reads as a phone number, as written."""
    return list(speak(text, lexicon).phones)


def normalize(text: str, lexicon: Lexicon | None = None) -> str:
    """Plain spoken text: one sentence per line, paragraphs separated by a blank line."""
    return speak(text, lexicon).text


def check_readings(text: str, lexicon: Lexicon | None = None) -> list[Finding]:
    """Tokens spelled letter by letter or left unchanged, with their line numbers."""
    return list(speak(text, lexicon).unknown)
