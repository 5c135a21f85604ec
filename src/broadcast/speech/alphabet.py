"""Vietnamese letter names and the "is this a Vietnamese syllable?" test."""

from __future__ import annotations

import re
import unicodedata

from .numbers import DIGITS

# How a presenter spells an abbreviation nobody has put in the lexicon.
LETTER_NAMES = {
    "a": "a", "ă": "á", "â": "ớ", "b": "bê", "c": "xê", "d": "dê", "đ": "đê",
    "e": "e", "ê": "ê", "f": "ép", "g": "giê", "h": "hát", "i": "i", "j": "gi",
    "k": "ca", "l": "e lờ", "m": "em mờ", "n": "en nờ", "o": "o", "ô": "ô",
    "ơ": "ơ", "p": "pê", "q": "quy", "r": "e rờ", "s": "ét", "t": "tê",
    "u": "u", "ư": "ư", "v": "vê", "w": "vê kép", "x": "ích xì", "y": "i dài",
    "z": "dét",
}

_TONE_MARKS = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
VOWELS = "".join(unicodedata.normalize("NFC", v + t) for v in "aăâeêioôơuưy" for t in _TONE_MARKS)

# One written syllable: onset, 1-3 vowels, optional coda.  Anything else
# (f, j, w, z, "ll", "nk", two syllables glued together) is not Vietnamese.
# Coda k is for Central Highlands names (Đắk Lắk).
_SYLLABLE_RE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|[bcdđghklmnprstvx])?"
    rf"[{VOWELS}]{{1,3}}"
    r"(?:ch|ng|nh|[cmnptk])?"
)


def is_syllable(word: str) -> bool:
    """True for a lower- or upper-case Vietnamese syllable ("người", "HÒA")."""
    return _SYLLABLE_RE.fullmatch(word.lower()) is not None


def spell(token: str) -> str:
    """Spell letters and digits one by one: "VT" -> "vê tê", "PA05" -> "pê a không năm"."""
    out = []
    for c in token:
        if "0" <= c <= "9":
            out.append(DIGITS[ord(c) - 48])
            continue
        low = c.lower()
        name = LETTER_NAMES.get(low)
        if name is None:
            # A toned vowel or a letter from another script: say the letter itself.
            name = low if low.isalpha() else ""
        if name:
            out.append(name)
    return " ".join(out)
