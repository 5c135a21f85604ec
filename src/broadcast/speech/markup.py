"""Inline reading markup and passages that must not be normalised.

    [từng số: 0889 226 999]     digits (and letters) one by one
    [nguyên văn: iPhone 15]     exactly as written, no normalisation
    [đọc: UBND | ủy ban nhân dân]   written | spoken; "[đọc: ...]" alone = spoken
    <<CẦN ĐIỀN: ...>>           placeholder: kept as written (the build refuses it)

Square brackets, not Jinja2 braces: the text arrives already rendered.
Keywords are case-insensitive and may be typed without diacritics.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .alphabet import spell
from .text import PAUSE

_MARKUP_RE = re.compile(
    # the body stops at the next bracket: "[đọc: [đọc: [đọc: ..." was read to the line's end from each
    r"\[\s*(?P<kw>từng số|tung so|nguyên văn|nguyen van|đọc|doc)\s*:\s*(?P<body>[^\[\]\n]*)\]"
    r"|(?P<placeholder><<[^<>\n]*>>)",
    re.IGNORECASE,
)
# A value the commune must still fill in: kept as written, never spoken, never a number.
PLACEHOLDER_RE = re.compile(r"<<[^<>\n]*>>")
_GROUP_SPLIT_RE = re.compile(r"[\s.\-]+")
_OPENING_RE = re.compile(r"\[\s*(?:từng số|tung so|nguyên văn|nguyen van|đọc|doc)\s*:", re.IGNORECASE)

# Protected passages become one private-use character each; rules.py never
# matches those, and clean() strips any from the input.
_FIRST = 0xE000
_LAST = 0xF8FF
PROTECTED_RE = re.compile("[\ue000-\uf8ff]")


def _reading(m: re.Match[str]) -> str:
    if m.group("placeholder"):
        return m.group("placeholder")
    kw = m.group("kw").lower()
    body = " ".join(m.group("body").split())
    if kw in ("từng số", "tung so"):
        groups = [g for g in _GROUP_SPLIT_RE.split(body) if g]
        return PAUSE.join(spell(g) for g in groups)
    if kw in ("đọc", "doc"):
        return body.split("|", 1)[1].strip() if "|" in body else body
    return body


def _as_written(m: re.Match[str]) -> str:
    if m.group("placeholder"):
        return m.group("placeholder")
    body = " ".join(m.group("body").split())
    if m.group("kw").lower() in ("đọc", "doc") and "|" in body:
        return body.split("|", 1)[0].strip()
    return body


def written(text: str) -> str:
    """`text` as a reader sees it: the markup's written side ("[đọc: UBND | ủy ban nhân dân]" is
    "UBND", "[từng số: 0889 226 999]" is "0889 226 999"), for pages and feeds."""
    return _MARKUP_RE.sub(_as_written, text) if "[" in text else text


def protect(line: str, store: list[str]) -> str:
    """Replace markup in ``line`` by markers; readings are appended to ``store``."""

    def repl(m: re.Match[str]) -> str:
        index = _FIRST + len(store)
        if index > _LAST:
            return m.group()
        store.append(_reading(m))
        return chr(index)

    if "[" not in line and "<<" not in line:
        return line
    return _MARKUP_RE.sub(repl, line)


def marked(text: str, store: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The markers in `text` and the readings they stand for (`store`, as `protect` filled it): what
    `restore` needs, and no more (a stretch of text remembered with it does not hold the whole store)."""
    if not store:
        return ()
    return tuple(sorted({m: store[ord(m) - _FIRST] for m in PROTECTED_RE.findall(text)}.items()))


def restore(text: str, readings: Mapping[str, str]) -> str:
    """Put the protected readings back (`readings`: by marker, as `marked` gives them)."""
    if not readings:
        return text
    return PROTECTED_RE.sub(lambda m: readings[m.group()], text)


def unclosed(text: str) -> list[tuple[int, str]]:
    """Markup opened and not closed on its line (`[đọc: Zalo | da lô` with no `]`), which would
    be read aloud as written: (line number from 1, the text from the bracket to the line's end)."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if "[" not in line:
            continue
        rest = _MARKUP_RE.sub(lambda m: " " * len(m.group()), line)  # complete markup, same columns
        first = _OPENING_RE.search(rest)  # the first on its line, and a fragment of it: one such line held
        if first:  # thousands, each reported with the rest of the line (quadratic, 1.85 GB)
            found.append((number, line[first.start():][:UNCLOSED_SHOWN].strip()))
    return found


UNCLOSED_SHOWN = 60  # characters of an unclosed markup shown in its error


def has_placeholder(text: str) -> bool:
    """Does `text` hold a `<<CẦN ĐIỀN: ...>>` placeholder?"""
    return PLACEHOLDER_RE.search(text) is not None
