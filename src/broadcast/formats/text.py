"""Text from the project (titles, station and commune names, slot labels) made safe for each
output format. One function per format rule; every writer calls these and nothing else escapes.

Titles and names come from files editors write, so they may hold anything: a CR that starts a new
playlist entry, a newline that ends a Liquidsoap comment, `=` that Excel runs as a formula.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse

# Unicode control characters (Cc: C0, DEL, C1) and the line and paragraph separators some
# readers treat as line ends
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r" {2,}")
# what a spreadsheet reads as the start of a formula (OWASP "CSV injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


# names Windows keeps for devices, with any extension: "con.mp3" cannot be made or unzipped there
DEVICE_NAMES = ("con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10)))


def device_name(stem: str) -> bool:
    """Whether a file named `stem` (plus any extension) cannot exist on a Windows station PC."""
    return stem.lower() in DEVICE_NAMES


# what XML 1.0 cannot hold at all, even escaped: C0 controls but tab, LF and CR; lone surrogates; U+FFFE/F
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` for an XML element that keeps its lines (a feed item's description): the characters
    XML 1.0 forbids become spaces; escaping the rest is the XML writer's job."""
    return _NOT_XML.sub(" ", text)


def one_line(text: str) -> str:
    """`text` for a field that must stay on one line: every control character and line or
    paragraph separator (and what XML cannot hold: one-line fields go into feeds) becomes one space."""
    return _SPACES.sub(" ", _BREAKS.sub(" ", _NOT_XML.sub(" ", text))).strip()


def path_line(path: str) -> str:
    """A relative file path for a line of its own (an M3U8 entry): control characters are
    percent-encoded (what a player decodes back), everything else is left as it is."""
    return _BREAKS.sub(lambda m: urllib.parse.quote(m.group(0), safe=""), path)


def csv_cell(text: str) -> str:
    """A CSV cell: one line, and never the start of a spreadsheet formula (a leading `'`, which
    Excel and LibreOffice show as text and do not display)."""
    cell = one_line(text)
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def liquidsoap_string(text: str) -> str:
    """A Liquidsoap 2.x string literal holding exactly `text`.

    Backslash and double quote are escaped, control characters written as `\\xHH` escapes of
    their UTF-8 bytes, and `#{` (string interpolation, which Liquidsoap applies even to an
    escaped `#`) is split across two literals joined with `^`, so no text can run as code."""
    def literal(part: str) -> str:
        out = []
        for char in part:
            if char in '\\"':
                out.append("\\" + char)
            elif unicodedata.category(char) == "Cc":
                out.append("".join(f"\\x{byte:02X}" for byte in char.encode("utf-8")))
            else:
                out.append(char)
        return '"' + "".join(out) + '"'

    parts = text.split("#{")
    if len(parts) == 1:
        return literal(text)
    last = len(parts) - 1
    literals = [literal(("{" if i else "") + part + ("#" if i < last else "")) for i, part in enumerate(parts)]
    return "(" + " ^ ".join(literals) + ")"


def liquidsoap_comment(text: str) -> str:
    """Text for a Liquidsoap `#` comment: one line, so it cannot end the comment."""
    return one_line(text)
