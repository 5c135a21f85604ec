"""The reading lexicon: abbreviations, words and domain-name pieces.

Layers, later wins: BUILTIN < project lexicon.yaml < province < commune.
The speech functions always put BUILTIN underneath whatever they are given.

A reading may be given for some voices only: ``Zalo: {espeak: da lô}`` is the respelling espeak
needs, while a neural voice, which reads "Zalo" right, is given the written word. The scope is an
engine name or a voice id (the voice id wins); `for_voice` gives the lexicon one voice reads with.
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

    __slots__ = ("_effective", "_normaliser", "_views", "abbreviations", "domains", "scoped", "source", "words")

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
        self._views: dict[tuple[str, str], Lexicon] = {}
        # section -> key -> {scope: reading}: readings for some voices only (see `for_voice`)
        self.scoped: Mapping[str, Mapping[str, Mapping[str, str]]] = MappingProxyType({})

    @property
    def has_scoped(self) -> bool:
        return any(self.scoped.values())

    def for_voice(self, voice_id: str, engine: str) -> Lexicon:
        """The readings voice `voice_id` (of `engine`) is given: every plain entry, and each scoped one whose
        scope names the voice, else its engine; a scoped entry for other voices is left out (the word as
        written). The same object for the same voice, so its compiled rules are made once."""
        if not self.has_scoped:
            return self
        key = (voice_id, engine)
        if key not in self._views:
            sections: dict[str, dict[str, str]] = {
                "abbreviations": dict(self.abbreviations), "words": dict(self.words), "domains": dict(self.domains)}
            for section, entries in self.scoped.items():
                for word, readings in entries.items():
                    reading = readings.get(voice_id) or readings.get(engine)
                    if reading:
                        sections[section][word.lower() if section != "abbreviations" else word] = reading
            self._views[key] = Lexicon(**sections, source=f"{self.source} [{voice_id}]")
        return self._views[key]

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
        plain = {name: {k: v for k, v in entries.items() if isinstance(v, str)} for name, entries in sections.items()}
        scoped: dict[str, dict[str, dict[str, str]]] = {
            name: {k: dict(v) for k, v in entries.items() if isinstance(v, Mapping)}
            for name, entries in sections.items()}
        lexicon = cls(**plain, source=source)
        lexicon.scoped = MappingProxyType({name: {(k.lower() if name != "abbreviations" else k): v
                                                  for k, v in entries.items()} for name, entries in scoped.items()})
        return lexicon

    def merged(self, other: Lexicon) -> Lexicon:
        """A new lexicon where ``other``'s entries override ours (a key ``other`` gives, plain or scoped,
        replaces ours whole)."""
        def layer(name: str, mine: Mapping[str, str], theirs: Mapping[str, str]) -> dict[str, str]:
            overridden = set(other.scoped.get(name, {}))
            return {**{k: v for k, v in mine.items() if k not in overridden}, **theirs}

        merged = Lexicon(
            layer("abbreviations", self.abbreviations, other.abbreviations),
            layer("words", self.words, other.words),
            layer("domains", self.domains, other.domains),
            source=" < ".join(s for s in (self.source, other.source) if s),
        )
        plain = {"abbreviations": other.abbreviations, "words": other.words, "domains": other.domains}
        merged.scoped = MappingProxyType({
            name: {**{k: v for k, v in self.scoped.get(name, {}).items() if k not in plain[name]},
                   **other.scoped.get(name, {})}
            for name in SECTIONS})
        return merged

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Lexicon):
            return NotImplemented
        return (
            dict(self.abbreviations) == dict(other.abbreviations)
            and dict(self.words) == dict(other.words)
            and dict(self.domains) == dict(other.domains)
            and {k: dict(v) for k, v in self.scoped.items() if v} == {k: dict(v) for k, v in other.scoped.items() if v}
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


def _section(name: str, body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, Mapping):
        raise ValueError(
            f"Mục {name!r} phải là bảng 'cách viết: cách đọc', không phải {_kind(body)}."
        )
    out: dict[str, Any] = {}
    for key, value in body.items():
        where = f"Mục {name!r}, khóa {key!r}"
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"{where}: khóa phải là chữ, không rỗng (đặt trong dấu nháy nếu là số).")
        if isinstance(value, Mapping):  # {espeak: da lô, gtts-vi: Zalo}: for some voices only
            if not value:
                raise ValueError(f"{where}: cần ít nhất một cách đọc 'động cơ hoặc giọng: cách đọc'.")
            readings = {}
            for scope, reading in value.items():
                if not isinstance(scope, str) or not _SCOPE_RE.fullmatch(scope):
                    raise ValueError(f"{where}: {scope!r} phải là tên động cơ (espeak, piper, edge...) hoặc mã "
                                     "giọng trong voices/.")
                readings[scope] = _reading(where, key, reading)
            out[key.strip()] = readings
            continue
        out[key.strip()] = _reading(where, key, value)
    if name == "domains":
        for key in out:
            if not _DOMAIN_KEY_RE.fullmatch(key.lower()):
                raise ValueError(f"Mục {name!r}, khóa {key!r}: một phần tên miền chỉ gồm chữ a-z, số và dấu '-' "
                                 "(không có dấu chấm).")
    return out


_SCOPE_RE = re.compile(r"[a-z0-9][a-z0-9-]*")


def _reading(where: str, key: str, value: Any) -> str:
    """One reading, checked: text a presenter says, no digits or symbols, no invisible characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: cách đọc phải là một chuỗi chữ không rỗng, không phải {_kind(value)}.")
    for text, what in ((key, "khóa"), (value, "cách đọc")):
        odd = _odd_character(text)
        if odd:
            raise ValueError(f"{where}: {what} {text!r} có {odd}; hãy xóa ký tự đó và gõ lại bằng chữ.")
    if _BAD_READING_RE.search(value):
        raise ValueError(f"{where}: cách đọc {value!r} chứa chữ số hoặc ký hiệu; hãy viết bằng chữ như khi đọc.")
    if not any(c.isalpha() for c in key):
        # Digits are read by the number rules before any lexicon lookup.
        raise ValueError(f"{where}: khóa phải có ít nhất một chữ cái; chữ số do chương trình tự đọc.")
    return " ".join(value.split())
