"""The reading lexicon: abbreviations, words and domain-name pieces.

Layers, later wins: BUILTIN < project lexicon.yaml < province < commune.
The speech functions always put BUILTIN underneath whatever they are given.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

SECTIONS = ("abbreviations", "words", "domains")

_DOMAIN_KEY_RE = re.compile(r"[a-z0-9-]+")
# A reading is what the presenter says: no digits or symbols the normaliser
# would otherwise have to read again.
_BAD_READING_RE = re.compile(r"[0-9/%@<>\[\]{}\x00-\x1f]")


class Lexicon:
    """Readings to apply, section by section.

    abbreviations: whole word, case-sensitive ("CA" but not "ca").
    words: whole word or phrase, case-insensitive (keys stored lower-case).
    domains: one piece of a domain name or e-mail address, lower-case ASCII.
    """

    __slots__ = ("_effective", "_normaliser", "abbreviations", "domains", "source", "words")

    def __init__(
        self,
        abbreviations: Mapping[str, str] | None = None,
        words: Mapping[str, str] | None = None,
        domains: Mapping[str, str] | None = None,
        source: str = "",
    ) -> None:
        self.abbreviations: Mapping[str, str] = MappingProxyType(dict(abbreviations or {}))
        self.words: Mapping[str, str] = MappingProxyType({k.lower(): v for k, v in (words or {}).items()})
        self.domains: Mapping[str, str] = MappingProxyType({k.lower(): v for k, v in (domains or {}).items()})
        self.source = source
        self._effective: Lexicon | None = None
        self._normaliser: Any = None

    @classmethod
    def from_mapping(cls, data: Any, source: str = "") -> Lexicon:
        """Build from parsed YAML; ValueError (in Vietnamese) names the bad key."""
        if data is None:
            return cls(source=source)
        if not isinstance(data, Mapping):
            # ValueError, not TypeError: callers report every lexicon problem alike.
            raise ValueError(
                f"Từ điển cách đọc phải là một bảng các mục {', '.join(SECTIONS)}, "
                f"không phải {_kind(data)}."
            )
        sections: dict[str, dict[str, str]] = {}
        for name, body in data.items():
            if name not in SECTIONS:
                raise ValueError(
                    f"Mục không hợp lệ {name!r}: chỉ dùng {', '.join(SECTIONS)} "
                    "(invalid section)."
                )
            sections[name] = _section(name, body)
        return cls(**sections, source=source)

    def merged(self, other: Lexicon) -> Lexicon:
        """A new lexicon where ``other``'s entries override ours."""
        return Lexicon(
            {**self.abbreviations, **other.abbreviations},
            {**self.words, **other.words},
            {**self.domains, **other.domains},
            source=" < ".join(s for s in (self.source, other.source) if s),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Lexicon):
            return NotImplemented
        return (
            dict(self.abbreviations) == dict(other.abbreviations)
            and dict(self.words) == dict(other.words)
            and dict(self.domains) == dict(other.domains)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Lexicon(source={self.source!r}, abbreviations={len(self.abbreviations)}, "
            f"words={len(self.words)}, domains={len(self.domains)})"
        )


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "một bảng"
    if isinstance(value, (list, tuple)):
        return "một danh sách"
    return f"giá trị {value!r}"


def _odd_character(text: str) -> str:
    """What is wrong with a character nobody can read aloud (private-use, control, surrogate), or ""."""
    for char in text:
        category = unicodedata.category(char)
        if category == "Co":
            return f"ký tự riêng U+{ord(char):04X} (private-use character)"
        if category in ("Cc", "Cs"):
            return f"ký tự điều khiển U+{ord(char):04X} (control character)"
        if category == "Cn":
            return f"ký tự không xác định U+{ord(char):04X} (unassigned character)"
    return ""


def _section(name: str, body: Any) -> dict[str, str]:
    if body is None:
        return {}
    if not isinstance(body, Mapping):
        raise ValueError(
            f"Mục {name!r} phải là bảng 'cách viết: cách đọc', không phải {_kind(body)}."
        )
    out: dict[str, str] = {}
    for key, value in body.items():
        where = f"Mục {name!r}, khóa {key!r}"
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"{where}: khóa phải là chữ, không rỗng (đặt trong dấu nháy nếu là số).")
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{where}: cách đọc phải là một chuỗi chữ không rỗng, không phải {_kind(value)}.")
        for text, what in ((key, "khóa"), (value, "cách đọc")):
            odd = _odd_character(text)
            if odd:
                raise ValueError(f"{where}: {what} {text!r} có {odd}; hãy xóa ký tự đó và gõ lại bằng chữ.")
        if _BAD_READING_RE.search(value):
            raise ValueError(
                f"{where}: cách đọc {value!r} chứa chữ số hoặc ký hiệu; hãy viết bằng chữ như khi đọc."
            )
        key = key.strip()
        if name == "domains" and not _DOMAIN_KEY_RE.fullmatch(key.lower()):
            raise ValueError(f"{where}: một phần tên miền chỉ gồm chữ a-z, số và dấu '-' (không có dấu chấm).")
        if not any(c.isalpha() for c in key):
            # Digits are read by the number rules before any lexicon lookup.
            raise ValueError(f"{where}: khóa phải có ít nhất một chữ cái; chữ số do chương trình tự đọc.")
        out[key] = " ".join(value.split())
    return out
