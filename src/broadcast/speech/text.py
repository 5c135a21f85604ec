"""Unicode clean-up, tone-mark placement, line roles and punctuation tidying."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

from .numbers import cardinal

# Internal marker for a group pause (between phone-number groups).  A control
# character, so it cannot come from the input: clean() removes those.
PAUSE = "\x1e"

_SPACES_RE = re.compile(r"[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2028\u2029\x0b\x0c\x85]")
# Zero-width characters, soft hyphen, every other control character, and the
# private-use block the pipeline uses for protected passages.
_DROP_RE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ue000-\uf8ff]")
_TRANSLATE = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\ufe58": "-", "\ufe63": "-", "\uff0d": "-",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u2026": "...", "\uff05": "%", "\uff0f": "/", "\u2044": "/", "\u2215": "/",
})

# Old-style tone placement (hoà, khoẻ, thuỷ) -> new style (hòa, khỏe, thủy), the
# style the Bộ GD&ĐT orthography rules prescribe, so the lexicon and the TTS
# engine see one spelling.  Only open syllables change: "hoàng" stays.
_TONED = "àáảãạÀÁẢÃẠèéẻẽẹÈÉẺẼẸỳýỷỹỵỲÝỶỸỴ"
_OLD_TONE_RE = re.compile(
    r"([oO](?=[àáảãạèéẻẽẹÀÁẢÃẠÈÉẺẼẸ](?!\w))|(?<![qQ])[uU](?=[ỳýỷỹỵỲÝỶỸỴ](?!\w)))"
    r"([" + _TONED + "])"
)


def _move_tone(m: re.Match[str]) -> str:
    first, second = m.group(1), m.group(2)
    decomposed = unicodedata.normalize("NFD", second)
    base, mark = decomposed[0], decomposed[1]
    return unicodedata.normalize("NFC", first + mark) + base


def clean(text: str) -> str:
    """NFC, one tone style, plain spaces and hyphens, "\\n" line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(_clean_line(line) for line in text.split("\n"))


# A script rendered for thousands of communes repeats most of its lines and sentences, so the pure
# steps of speaking are answered from memory. Only texts up to MEMO_CHARS are remembered, at most
# MEMO_ENTRIES of them per step: a script that renders a 100,000-character line for each commune is
# worked out each time, and memory stays bounded whatever a script holds.
MEMO_CHARS = 1_000
MEMO_ENTRIES = 10_000

T = TypeVar("T")


def remembered(step: Callable[..., T]) -> Callable[..., T]:
    """`step` (a pure function of a text and hashable arguments), remembered for short texts.
    functools.lru_cache bounds the entries but not their size, hence the length check."""
    memory = lru_cache(maxsize=MEMO_ENTRIES)(step)

    @wraps(step)
    def call(text: str, *args: Any) -> T:
        return memory(text, *args) if len(text) <= MEMO_CHARS else step(text, *args)

    call.cache_clear = memory.cache_clear  # type: ignore[attr-defined]  # as lru_cache's
    return call


# Every step below is local to a line.
@remembered
def _clean_line(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _DROP_RE.sub("", _SPACES_RE.sub(" ", text.translate(_TRANSLATE)))
    return _OLD_TONE_RE.sub(_move_tone, text)


# Line decoration in scripts and letters: list bullets, markdown emphasis,
# headings; "./." closes official letters.
_BULLET_RE = re.compile(r"^\s*(?:[-*+•●▪◦·]+|#+)\s+")
_ENUM_RE = re.compile(r"^\s*([0-9]{1,2})[.)]\s+(?=\S)")
_EMPHASIS_RE = re.compile(r"\*+|(?<!\w)_{1,2}|_{1,2}(?!\w)|`+|^#+")
_CLOSE_RE = re.compile(r"\./\.")
# "bưu chính.vv..." - the letters glue "v.v." to the previous word.
_GLUED_VV_RE = re.compile(r"(?<=\w)\.(?=v\.?v\b)")


@remembered
def strip_decoration(line: str) -> str:
    """Remove bullets and markdown; "1. Nội dung" becomes "một, Nội dung"."""
    line = _BULLET_RE.sub("", line)
    line = _ENUM_RE.sub(lambda m: cardinal(int(m.group(1))) + ", ", line)
    line = _CLOSE_RE.sub(".", line)
    line = _GLUED_VV_RE.sub(" ", line)
    return _EMPHASIS_RE.sub("", line)


def starts_new_line(raw: str) -> bool:
    """Does a source line start a new sentence rather than continue a wrapped one?"""
    s = raw.lstrip()
    return not s or not s[0].islower()


TERMINAL = ".!?;:"

_TIDY_RES = (
    (re.compile(r"[ ]{2,}"), " "),
    (re.compile(r" +(?=[,.;:!?" + PAUSE + "])"), ""),
    (re.compile(r"(?<=" + PAUSE + r") +"), ""),
    (re.compile(r"[," + PAUSE + r"]*" + PAUSE + r"[," + PAUSE + r"]*"), PAUSE),
    (re.compile(r",(?:\s*,)+"), ","),
    (re.compile(r"[," + PAUSE + r"]+(?=[.;:!?])"), ""),
    (re.compile(r"(?<=[.;:!?])\s*[," + PAUSE + r"]+"), ""),
    (re.compile(r"^[\s,.;:!?" + PAUSE + r"]+|[\s," + PAUSE + r"]+$"), ""),
)


@remembered
def tidy(s: str) -> str:
    """Collapse spaces and stray pauses left by the rules; stable under repetition."""
    for pattern, repl in _TIDY_RES:
        s = pattern.sub(repl, s)
    return s
