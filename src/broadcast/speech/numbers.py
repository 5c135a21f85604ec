"""Vietnamese number readings (Northern standard, as a radio presenter says them).

Hand-written because the general-purpose libraries get the Vietnamese
irregular forms wrong (mốt, lăm, tư, linh, "không trăm" inside a number).
"""

from __future__ import annotations

import re

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Scale words for the groups of three below one tỷ; larger numbers recurse on tỷ.
_SCALES = ("", "nghìn", "triệu")
_TY = 1_000_000_000

ROMAN_RE = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def _triple(n: int, full: bool) -> list[str]:
    """Read 0 < n < 1000. ``full``: a non-leading group, so "không trăm" / "linh" are said."""
    h, t, u = n // 100, n // 10 % 10, n % 10
    out: list[str] = []
    if h or full:
        out += [DIGITS[h], "trăm"]
    if t == 0:
        if u and out:
            out.append("linh")
    elif t == 1:
        out.append("mười")
    else:
        out += [DIGITS[t], "mươi"]
    if u:
        if u == 1 and t >= 2:
            out.append("mốt")
        elif u == 4 and (t >= 2 or (t == 0 and out)):
            # Northern: hai mươi tư, một trăm linh tư; but bốn, mười bốn.
            out.append("tư")
        elif u == 5 and t >= 1:
            out.append("lăm")
        else:
            out.append(DIGITS[u])
    return out


def _below_ty(n: int, full: bool) -> list[str]:
    groups = []
    while n:
        groups.append(n % 1000)
        n //= 1000
    out: list[str] = []
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if not g:
            continue
        out += _triple(g, full or bool(out))
        if _SCALES[i]:
            out.append(_SCALES[i])
    return out


def _words(n: int, full: bool) -> list[str]:
    if n >= _TY:
        high, low = divmod(n, _TY)
        out = _words(high, full) + ["tỷ"]
        if low:
            out += _below_ty(low, True)
        return out
    return _below_ty(n, full)


def cardinal(n: int) -> str:
    """1005 -> "một nghìn không trăm linh năm"; 21 -> "hai mươi mốt"."""
    if n == 0:
        return "không"
    if n < 0:
        return "âm " + cardinal(-n)
    return " ".join(_words(n, False))


def digits(s: str) -> str:
    """Read every ASCII digit on its own: "0889" -> "không tám tám chín"."""
    return " ".join(DIGITS[ord(c) - 48] for c in s if "0" <= c <= "9")


def number_text(s: str) -> str:
    """Read a digit string as written: leading zeros or very long runs digit by digit."""
    if (s[0] == "0" and len(s) > 2) or len(s) > 15:
        return digits(s)
    return cardinal(int(s))


def short(s: str) -> str:
    """Two digits the short spoken way, as in a country code: "84" -> "tám tư"."""
    if len(s) != 2 or s[0] in "01":
        return digits(s)
    last = {"1": "mốt", "4": "tư", "5": "lăm"}.get(s[1], DIGITS[int(s[1])])
    return f"{DIGITS[int(s[0])]} {last}"


def fraction_digits(s: str) -> str:
    """The part after "phẩy": leading zeros one by one, then a short number ("2,05" -> không năm)."""
    stripped = s.lstrip("0")
    head = ["không"] * (len(s) - len(stripped))
    if not stripped:
        return " ".join(head)
    tail = cardinal(int(stripped)) if len(stripped) <= 3 else digits(stripped)
    return " ".join(head + [tail])


def decimal(integer: str, frac: str, mark: str = "phẩy") -> str:
    """"2", "5" -> "hai phẩy năm"."""
    return f"{number_text(integer)} {mark} {fraction_digits(frac)}"


def ordinal(n: int) -> str:
    """The word after "thứ": 1 -> nhất, 4 -> tư, else the cardinal."""
    if n == 1:
        return "nhất"
    if n == 4:
        return "tư"
    return cardinal(n)


def month(n: int) -> str:
    """Official month reading: tháng một (not giêng), tháng tư."""
    return "tư" if n == 4 else cardinal(n)


def day(n: int) -> str:
    """Day of month: mùng for 1-10."""
    return f"mùng {cardinal(n)}" if 1 <= n <= 10 else cardinal(n)


def roman(s: str) -> int | None:
    """Value of a well-formed Roman numeral, else None."""
    if not s or not ROMAN_RE.fullmatch(s):
        return None
    total = 0
    prev = 0
    for c in reversed(s):
        v = _ROMAN_VALUES[c]
        total += -v if v < prev else v
        prev = max(prev, v)
    return total
