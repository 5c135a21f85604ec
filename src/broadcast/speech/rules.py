"""The reading rules: one master regex, one handler per kind of token.

A single left-to-right scan (re.sub with a dispatching callback) keeps the
rules from reading each other's output, and is fast: the pattern is compiled
once per effective lexicon.  Order of alternatives = priority at one position.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from . import numbers as num
from .alphabet import LETTER_NAMES, is_syllable, spell
from .builtin import (
    CURRENCY_PREFIX,
    PER_WORDS,
    QUANTITY_WORDS,
    SYMBOLS,
    UNITS,
    URL_SYMBOLS,
)
from .lexicon import Lexicon
from .result import Finding, FindingKind
from .text import MEMO_CHARS, PAUSE

# "12 000 thuê bao": a space as thousands separator, only before a word (else digits).
# Groups of three after a space ("12 345 678 người"): at most five, or a line of "123 123 123 ..." is read
# to its end from every number in it (quadratic: 20 KB took lint 74 s).
_NUM = r"[1-9][0-9]{0,2}(?: [0-9]{3}){1,5}(?![0-9]|[.,][0-9])(?=\s?[^\W\d_])|[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?(?![0-9])|[0-9]+(?:[.,][0-9]+)?"
_DAY = r"0?[1-9]|[12][0-9]|3[01]"
_MONTH = r"0?[1-9]|1[0-2]"
_NOT_AFTER = r"(?<![0-9.,/])"
_NOT_BEFORE = r"(?![0-9]|[/.,][0-9])"
_UNIT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_UNIT_END = r"(?![^\W\d_]|[0-9])"
# Words after which digits are a code read digit by digit in the groups written:
# "mã xác thực 482913", "số tài khoản 1903 4567 8901", "CCCD: 001234567890", "số đuôi 4321".
_CODE_WORDS = (
    r"(?<![^\W\d_])(?:(?i:mã|mật khẩu|số tài khoản|tài khoản số|số thẻ|thẻ số|số đuôi|số cuối|định danh"
    r"|căn cước(?: công dân)?)|OTP|STK|CCCD|CMND|PIN)(?![^\W\d_])"
)
# Up to six words may stand between the code word and the digits ("mã giới thiệu 558 866", "mật khẩu ví
# điện tử của bà Mai là 20101975"), but not a word after which a number is a count, a date or a length.
_CODE_STOP = (r"(?:năm|tháng|ngày|giờ|gồm|có|từ|dài|khoảng|trong|hơn|gần|ít|nhất|tối|đa|thiểu|với|và|trên|dưới"
              r"|tới|đến|mất|lên|tăng|giảm|cho|tại|qua)(?![^\W\d_])")
_CODE_QUANTITY = (r"(?:đồng|đ|người|máy|thuê|cuộc|vụ|lần|lượt|ký|chữ|tài|hộ|trường|tỷ|triệu|nghìn|ngàn|USD|USDT"
                  r"|tin|trang|số|phút|giây|giờ|ngày|tháng|năm)(?![^\W\d_])")
_CODE = (
    rf"(?P<cw>{_CODE_WORDS})"
    # "Mã OTP của quý khách là 739105": an owner between the words and "là" or ":".
    r"(?P<cx>\s+(?i:của)(?:\s+[^\W\d_]+){1,2}(?=\s*(?::|là\s))"
    rf"|(?:\s+(?!{_CODE_STOP})[^\W\d_]+){{1,6}}?(?=\s*(?::|là\s|\s[0-9])))?"
    r"(?P<csep>\s*:\s*|\s+(?:là|(?i:số))\s+|\s+)"
    # A lone group needs three digits: "mã 5 sao", "mật khẩu 8 ký tự" are counts; "1.200 máy" is a number.
    r"(?![0-9]{1,3}\.[0-9]{3}(?![0-9]))"
    r"(?P<cd>[0-9]{3,}(?:[ .-][0-9]+)*|[0-9]+(?:[ .-][0-9]+)+)(?![0-9]|[/.,][0-9])"
    rf"(?!\s?{_CODE_QUANTITY})"
)
# the endings scam links use too ("bit.ly/...", "vay-tien.top", "zalo.me/..."): they were cut into sentences
_TLD = r"(?:vn|com|net|org|gov|edu|info|io|ly|me|xyz|top|cc|app|site|online|shop|link|club|biz|asia|store|live)"

# In priority order; "special" (lexicon keys) and "fastword" go in front per lexicon.
_BASE_ALTERNATIVES = (
    ("url", r"<?(?:(?:https?|ftp)://|www\.)[^\s<>\"]+>?"
            # an address's local part is at most 64 characters (RFC 5321): unbounded, "1.1.1.1..." was read
            # to its end from each of its characters
            r"|[A-Za-z0-9][A-Za-z0-9._+-]{0,63}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
            r"|(?<![\w@.-])[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*\." + _TLD
            + r"(?![\w-])(?:/[^\s<>\"]*)?"),
    ("phone", r"\(0[0-9]{2,3}\)\s?(?:[0-9]{3,4}(?:[ .-][0-9]{2,4}){0,2}|[0-9]{5,8})(?![0-9])"  # (0205) 3870 123
              r"|\+[0-9]{2,3}(?:[ .-]?[0-9]{2,4}){2,4}(?![0-9])"
              r"|(?<![0-9.,/])0[0-9]{1,3}(?:[ .-][0-9]{2,4}){2,3}" + _NOT_BEFORE
              + r"|(?<![0-9.,/])0[0-9]{8,10}(?![0-9])"
              r"|(?<![0-9.,/])1[89]00[ .]?[0-9]{3,4}(?![0-9])"),
    ("doc", r"(?<![\w/])(?:[0-9]+(?:/[0-9]+)*)?/[A-ZĐ][\w&]*(?:[-/][\w&]+)*"),
    # "Quý IV/2024": a Roman numeral and the year it belongs to.
    ("romyear", r"(?<![\w/])(?P<ro>[IVX]{1,4})/(?P<ry>[12][0-9]{3})" + _NOT_BEFORE),
    # "2026-12-28" (ISO, as {{ week.start }} prints a date) and "2026-W53" (a week's id).
    ("isodate", _NOT_AFTER + r"(?P<iy>[12][0-9]{3})-(?P<im>0[1-9]|1[0-2])-(?P<id>0[1-9]|[12][0-9]|3[01])"
                + _NOT_BEFORE),
    ("isoweek", _NOT_AFTER + r"(?P<wy>[12][0-9]{3})-W(?P<wn>0[1-9]|[1-4][0-9]|5[0-3])(?![\w])"),
    # "ngày 12-13/7", "từ 2 - 5/9/2024": two days of one month.
    ("dayrange", _NOT_AFTER + rf"(?P<dr1>{_DAY})\s?-\s?(?P<dr2>{_DAY})/(?P<drm>{_MONTH})(?:/(?P<dry>[0-9]{{4}}))?"
                 + _NOT_BEFORE),
    ("date", _NOT_AFTER + rf"(?P<dd>{_DAY})(?P<sep>[/.-])(?P<dm>{_MONTH})(?P=sep)(?P<dy>[0-9]{{4}})"
             + _NOT_BEFORE),
    ("monthyear", _NOT_AFTER + rf"(?P<mm>{_MONTH})/(?P<my>[0-9]{{4}})" + _NOT_BEFORE),
    ("daymonth", _NOT_AFTER + rf"(?P<ld>{_DAY})/(?P<lm>{_MONTH})" + _NOT_BEFORE),
    ("frac", _NOT_AFTER + r"(?P<fa>[0-9]{1,3})/(?P<fb>[0-9]{1,3})" + _NOT_BEFORE),
    # "7h30", "19:00", "8g30"; a bare "8g" is a time only where the words say so (else grams).
    ("time", (r"(?<![0-9.,])(?P<th>[01]?[0-9]|2[0-4])"
              r"(?:h(?P<tm>[0-5][0-9])?|g(?P<tg>[0-5][0-9])?|:(?P<tm2>[0-5][0-9])(?::(?P<ts>[0-5][0-9]))?)(?![\w:])")),
    # "ngày 15-12", "sáng 3-7": a date the way newspapers write it, where the words say so (else a range).
    ("dashdate", _NOT_AFTER + rf"(?P<xd>{_DAY})-(?P<xm>{_MONTH})" + _NOT_BEFORE
                 + rf"(?!\s?(?:{_UNIT}){_UNIT_END})"),
    ("range", rf"(?P<r1>{_NUM})\s?-\s?(?P<r2>{_NUM})(?:\s?(?P<ru>{_UNIT}){_UNIT_END})?"),
    ("cur", r"(?P<cs>[$€£])\s?(?P<cn>" + _NUM + ")"),
    ("neg", r"(?<![\w.,)\]])-(?=[0-9])"),
    ("num", rf"(?P<n>{_NUM})(?:\s?(?P<u>{_UNIT}){_UNIT_END})?"),
    # "P. Tam Thanh", "Q. 1": a ward or district in an address (not "Nguyễn Văn P.", an initial).
    ("ward", r"(?<![\w.])[PQ]\.(?=\s?[^\W_])"),
    ("word", r"[^\W_]+"),
    ("dash", r"(?<!\s)\s+-+\s+|-+"),  # from the run's first space only: a long run was quadratic
    # "35.000đ/kg", "đồng/m2": a unit after a slash is read, "trên" before it.
    ("per", rf"(?<=[^\W_]|%)/(?P<pu>{_UNIT}){_UNIT_END}"),
    ("slash", r"/"),
    # Any other symbol: read if known, else dropped (emoji, arrows, ©).  Sentence
    # punctuation stays; private-use characters are protected passages.
    ("sym", r"[^\w\s.,;:!?\ue000-\uf8ff]|_"),
)

_FAST_WORD = r"[^\W\d_]+(?![\w.:@&/+-])"
_PREV_WORDS_RE = re.compile(r"(?:([^\W\d_]+)\W+)?([^\W\d_]+)[\s:]*$")
_NEXT_WORD_RE = re.compile(r"\s*([^\W\d_]+|\S)?")
_PHONE_CONTEXT_RE = re.compile(
    r"(?:\bgọi|\bđiện thoại|\bđường dây nóng|\bhotline|\btổng đài|\bliên hệ|\bsđt|\bđt)"
    r"[\s:.,]*(?:[^\W\d]+[\s:]+){0,3}$"
)
# A short code to text: "nhắn tin đến 5656", "soạn tin DK gửi 9029" (it was "năm nghìn sáu trăm năm mươi sáu").
_SMS_CONTEXT_RE = re.compile(
    r"(?:\bnhắn(?: tin)?|\bsoạn tin\b[^.;!?]{0,30}?\bgửi)\s+(?:(?:đến|tới|về)\s+)?(?:(?:đầu )?số\s+)?$"
)
_SMS_AFTER = frozenset({"để", "hoặc", "hay", "và", "khi", "nếu", "miễn", "theo", "với", "ngay", "của", "mà"})
# "số 113", "cấp cứu 115", "cứu hỏa 114", "đầu số 5656": a number to call, read digit by digit.
_SERVICE_BEFORE = frozenset({"số", "cứu", "hỏa", "nạn"})
_SERVICE_NUMBERS = frozenset({"111", "112", "113", "114", "115"})
_STANDALONE_BEFORE = frozenset(",;:(\"-")
_JOINERS = frozenset({"và", "hoặc", "hay"})
_ROMAN_CONTEXT = frozenset(
    ["chương", "điều", "khóa", "phần", "mục", "tập", "quý", "cấp", "loại", "hạng", "kỳ", "khu", "vùng", "đợt", "lục", "thứ",
     "nhóm", "tiết", "khoản"]
)
_ROMAN_CONTEXT2 = frozenset({("đại", "hội"), ("thế", "kỷ"), ("giai", "đoạn"), ("khu", "vực"), ("quân", "khu")})
_RUNS_RE = re.compile(r"[0-9]+|[^0-9]+")
_URL_PIECE_RE = re.compile(r"[A-Za-z0-9]+|[^A-Za-z0-9]")
_URL_TRAIL_RE = re.compile(r"[.,;:!?)\]'\"]+$")
_SCHEME_RE = re.compile(r"^[A-Za-z]+://")
_LONGEST_QUANTITY = 18  # digits: a longer number is never a quantity, a day or an ordinal
MEMORY_CHARS = 2_000_000  # characters a normaliser remembers, of sentences and words read, before it starts afresh


def _prev_words(s: str, pos: int) -> tuple[str, str]:
    """The two words before ``pos``, lower-case ("" when absent)."""
    m = _PREV_WORDS_RE.search(s, max(0, pos - 40), pos)
    if not m:
        return "", ""
    return (m.group(1) or "").lower(), m.group(2).lower()


def _next_word(s: str, pos: int) -> str:
    m = _NEXT_WORD_RE.match(s, pos)
    return (m.group(1) or "").lower() if m else ""


def read_number(raw: str) -> str:
    """A written number: "1.250" thousands, "2,5" decimal, "4.0" version-style."""
    raw = raw.replace(" ", "")
    if "," in raw:
        whole, frac = raw.rsplit(",", 1)
        return num.decimal(whole.replace(".", ""), frac)
    if "." in raw:
        parts = raw.split(".")
        if all(len(p) == 3 for p in parts[1:]) and len(parts[0]) <= 3:
            return num.cardinal(int("".join(parts)))
        return num.decimal(parts[0], "".join(parts[1:]), mark="chấm")
    return num.number_text(raw)


class Normaliser:
    """Reads one sentence at a time for one effective lexicon."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lex = lexicon
        special = [k for k in lexicon.abbreviations if not k.isalnum()]
        special_words = [k for k in lexicon.words if not k.isalnum()]
        alternatives = [f"(?P<{name}>{pattern})" for name, pattern in _BASE_ALTERNATIVES]
        # Speed: a plain word followed by a space or punctuation can be nothing
        # else (no URL, code or number starts there), so try it first.
        alternatives.insert(0, f"(?P<fastword>{_FAST_WORD})")
        # Before the plain word: "mã" in "mã xác thực 482913" starts a code.
        alternatives.insert(0, f"(?P<code>(?=[mMsScCOP]){_CODE})")
        if special or special_words:
            # First of all: "TP.", "V/v", "TT&TT", "NĐ-CP", "video call" must not
            # be taken apart by other rules.  The lookahead is a cheap first-letter filter.
            first = {c for k in special for c in k[0]}
            first |= {c for k in special_words for c in (k[0].lower(), k[0].upper())}
            guard = "(?=[" + re.escape("".join(sorted(first))) + "])"
            alternatives.insert(0, f"(?P<special>{guard}{_lexicon_keys(special, special_words)})")
        self.pattern = re.compile("|".join(alternatives))
        self.dotted = frozenset(k for k in lexicon.abbreviations if k.endswith(".")) | _WARD_KEYS
        # Abbreviations of dashed pieces ("NĐ-CP"), piece by piece: a code is matched against them in one
        # walk from each of its pieces (joining every run of its pieces to look it up was cubic in their
        # number: "12/NĐ-NĐ-...", 2,400 characters, took 4 s, ten times that an hour). "" ends a key.
        self.dashed: dict[str, Any] = {}
        for key in lexicon.abbreviations:
            pieces = key.split("-")
            if len(pieces) > 1 and all(pieces):
                node = self.dashed
                for piece in pieces:
                    node = node.setdefault(piece, {})
                node[""] = key
        self._memory_chars = 0  # what the two memories below hold (`_remember`)
        self._cache: dict[str, tuple[str, FindingKind | None]] = {}
        self._sentences: dict[str, tuple[str, tuple[Finding, ...], tuple[str, ...]]] = {}
        self._handlers: dict[str, Callable[[re.Match[str], _Call], str]] = {
            "special": self._special, "code": self._codenum, "url": self._url, "phone": self._phone, "doc": self._doc,
            "date": self._date, "isodate": self._isodate, "isoweek": self._isoweek, "monthyear": self._monthyear, "daymonth": self._daymonth, "frac": self._frac,
            "time": self._time, "range": self._range, "cur": self._cur, "neg": _neg,
            "num": self._num, "word": self._word, "fastword": self._word,
            "dash": _dash, "slash": _slash, "sym": _sym, "romyear": self._romyear,
            "dayrange": self._dayrange, "per": _per, "ward": _ward, "dashdate": _dashdate,
        }

    def sentence(self, text: str, line: int, findings: list[Finding], phones: list[tuple[str, int]]) -> str:
        """The spoken form of one sentence (untidied; PAUSE marks group pauses); what it could not
        read goes to `findings` and the tokens it reads as phone numbers (digit by digit) to `phones`,
        each with `line`. A sentence read before by this normaliser is answered from memory: a script
        rendered for 3,321 communes repeats most of its sentences, and reading one is pure (only the
        line numbers differ)."""
        known = self._sentences.get(text)
        if known is None:
            call = _Call(0, [])
            known = (self._read(text, call), tuple(call.findings), tuple(call.phones))
            if self._remember(text, known[0]):
                self._sentences[text] = known
        spoken, seen, said = known
        findings.extend(Finding(f.token, f.kind, line, f.reading) for f in seen)
        phones.extend((token, line) for token in said)
        return spoken

    def _remember(self, text: str, spoken: str) -> bool:
        """May `text` read as `spoken` be remembered? Only a text up to MEMO_CHARS, and the memory
        starts afresh once it holds MEMORY_CHARS: a normaliser per lexicon stays bounded whatever
        the scripts hold."""
        if len(text) > MEMO_CHARS:
            return False
        if self._memory_chars > MEMORY_CHARS:
            self._sentences.clear()
            self._cache.clear()
            self._memory_chars = 0
        self._memory_chars += len(text) + len(spoken)
        return True

    def _read(self, text: str, call: _Call) -> str:
        handlers = self._handlers

        def dispatch(m: re.Match[str]) -> str:
            kind = m.lastgroup or "sym"
            if kind == "phone":
                call.phones.append(m.group())
            try:
                spoken = handlers[kind](m, call)
            except Exception:
                return " " + spell(m.group()) + " "
            if kind == "num" and spoken == num.digits(m.group("n")) and m.group("n").isdigit() and not m.group("u") \
                    and _called(m, _prev_words(text, m.start())[1], _next_word(text, m.end())):
                call.phones.append(m.group("n"))  # a number read digit by digit because it is one to call
            return " " + spoken + " "

        return self.pattern.sub(dispatch, text)

    # -- lexicon ---------------------------------------------------------
    def _special(self, m: re.Match[str], call: _Call) -> str:
        key = m.group()
        return self.lex.abbreviations.get(key) or self.lex.words.get(key.lower(), key)

    def lookup(self, token: str, call: _Call) -> str:
        """Read one letters-and-digits token, reporting spelled or foreign ones."""
        hit = self._cache.get(token)
        if hit is None:
            hit = self._classify(token)
            if self._remember(token, hit[0]):
                self._cache[token] = hit
        if hit[1]:
            call.findings.append(Finding(token, hit[1], call.line, hit[0]))
        return hit[0]

    def _classify(self, tok: str) -> tuple[str, FindingKind | None]:
        reading = self.lex.abbreviations.get(tok)
        if reading:
            return reading, None
        low = tok.lower()
        reading = self.lex.words.get(low)
        if reading:
            return reading, None
        if not tok.isalpha():
            readings: list[str] = []
            kind: FindingKind | None = None
            # A code such as "PV01", "PA05", "4G": letters spelled, "01" digit by digit.
            for run in _RUNS_RE.findall(tok):
                if "0" <= run[0] <= "9":
                    readings.append(num.digits(run) if run[0] == "0" else num.number_text(run))
                elif run in self.lex.abbreviations or run.lower() in self.lex.words:
                    readings.append(self._classify(run)[0])
                else:
                    readings.append(spell(run))
                    if len(run) > 1:
                        kind = "spelled"
            return " ".join(readings), kind
        if len(tok) == 1:
            if tok.islower() and is_syllable(tok):
                return tok, None  # "y tế", "ở", "a"
            return LETTER_NAMES.get(low, low), None  # a label: "phương án B", "điểm b"
        if tok.isupper():
            if is_syllable(tok):
                return low, None  # a Vietnamese word in capitals: "CỘNG HÒA"
            return spell(tok), "spelled"
        if is_syllable(tok):
            return tok, None
        return tok, "unchanged"

    def _word(self, m: re.Match[str], call: _Call) -> str:
        tok = m.group()
        if tok == "đ" and _prev_words(m.string, m.start())[1] in _SCALE_WORDS:
            return "đồng"  # "5 triệu đ" (it was "năm triệu đê"); "điểm đ khoản 1" stays the letter
        if tok[0] in "IVXLCDM" and (value := num.roman(tok)):
            p2, p1 = _prev_words(m.string, m.start())
            if p1 == "thứ":
                return num.ordinal(value)
            if p1 in _ROMAN_CONTEXT or (p2, p1) in _ROMAN_CONTEXT2:
                return num.cardinal(value)
        return self.lookup(tok, call)

    # -- numbers ---------------------------------------------------------
    def _num(self, m: re.Match[str], call: _Call) -> str:
        raw, unit = m.group("n"), m.group("u")
        if unit:
            return f"{read_number(raw)} {UNITS[unit]}"
        s = m.string
        if " " in raw and _PHONE_CONTEXT_RE.search(s[max(0, m.start() - 50):m.start()].lower()):
            return PAUSE.join(num.digits(g) for g in raw.split())  # "Gọi 113 114 115"
        if not raw.isdigit():
            return read_number(raw)
        _, p1 = _prev_words(s, m.start())
        nxt = _next_word(s, m.end())
        if len(raw) > _LONGEST_QUANTITY:  # digit by digit, as any number of 10 digits or more below
            return num.digits(raw)  # (and int() refuses over 4,300 digits)
        value = int(raw)
        if p1 == "thứ":
            return num.ordinal(value)
        if p1 == "ngày" and 1 <= value <= 31 and (nxt in _DAY_AFTER or not nxt[:1].isalpha()):
            return num.day(value)
        if p1 == "tháng" and 1 <= value <= 12 and nxt not in QUANTITY_WORDS:
            return num.month(value)
        if _called(m, p1, nxt):
            return num.digits(raw)
        if len(raw) >= 10:
            return num.digits(raw)
        return num.number_text(raw)

    def _range(self, m: re.Match[str], call: _Call) -> str:
        unit = m.group("ru")
        out = f"{read_number(m.group('r1'))} đến {read_number(m.group('r2'))}"
        return f"{out} {UNITS[unit]}" if unit else out

    def _cur(self, m: re.Match[str], call: _Call) -> str:
        return f"{read_number(m.group('cn'))} {CURRENCY_PREFIX[m.group('cs')]}"

    def _phone(self, m: re.Match[str], call: _Call) -> str:
        raw = m.group()
        groups = re.findall(r"[0-9]+", raw)
        head = ""
        if raw.startswith("+"):
            if len(groups) == 1:
                groups = [groups[0][:2], groups[0][2:]]
            head = f"cộng {num.short(groups[0])}"
            groups = groups[1:]
        if len(groups) == 1:
            groups = _chunk(groups[0])
        elif raw.startswith("(") and len(groups) == 2 and len(groups[1]) > 4:
            groups = [groups[0], groups[1][:4], groups[1][4:]]  # (0205) 3870123
        spoken = [num.digits(g) for g in groups]
        if head:
            spoken.insert(0, head)
        return PAUSE.join(spoken)

    def _codenum(self, m: re.Match[str], call: _Call) -> str:
        """"mã xác thực 482913": the words, then each group written, digit by digit."""
        head = m.group("cw") + (m.group("cx") or "")
        words = " ".join(self.lookup(w, call) for w in head.split())
        sep = m.group("csep").strip()
        if sep == ":":
            words += ":"
        elif sep:
            words += " " + self.lookup(sep, call)
        groups = re.findall(r"[0-9]+", m.group("cd"))
        return words + " " + PAUSE.join(num.digits(g) for g in groups)

    # -- dates and times -------------------------------------------------
    def _date(self, m: re.Match[str], call: _Call) -> str:
        return (
            f"{num.day(int(m.group('dd')))} tháng {num.month(int(m.group('dm')))} "
            f"năm {num.cardinal(int(m.group('dy')))}"
        )

    def _isodate(self, m: re.Match[str], call: _Call) -> str:
        """"2026-12-28" -> "hai mươi tám tháng mười hai năm ..." (it was read as two ranges)."""
        return (f"{num.day(int(m.group('id')))} tháng {num.month(int(m.group('im')))} "
                f"năm {num.cardinal(int(m.group('iy')))}")

    def _isoweek(self, m: re.Match[str], call: _Call) -> str:
        """"2026-W53" -> "tuần năm mươi ba năm ..." ("tuần 2026-W53": the word is not said twice)."""
        _, p1 = _prev_words(m.string, m.start())
        text = f"{num.cardinal(int(m.group('wn')))} năm {num.cardinal(int(m.group('wy')))}"
        return text if p1 == "tuần" else "tuần " + text

    def _monthyear(self, m: re.Match[str], call: _Call) -> str:
        _, p1 = _prev_words(m.string, m.start())
        year = num.cardinal(int(m.group("my")))
        if p1 in _ROMAN_CONTEXT:  # "quý 4/2024", "đợt 2/2025": the quarter or round of that year
            return f"{num.cardinal(int(m.group('mm')))} năm {year}"
        text = f"{num.month(int(m.group('mm')))} năm {year}"
        return text if p1 == "tháng" else "tháng " + text

    def _romyear(self, m: re.Match[str], call: _Call) -> str:
        """"Quý IV/2024" -> "quý bốn năm hai nghìn không trăm hai mươi tư"."""
        value = num.roman(m.group("ro"))
        year = num.cardinal(int(m.group("ry")))
        p2, p1 = _prev_words(m.string, m.start())
        if value and (p1 in _ROMAN_CONTEXT or (p2, p1) in _ROMAN_CONTEXT2):
            return f"{num.cardinal(value)} năm {year}"
        return f"{self.lookup(m.group('ro'), call)} gạch chéo {year}"

    def _dayrange(self, m: re.Match[str], call: _Call) -> str:
        """"12-13/7" -> "mười hai đến mười ba tháng bảy"."""
        out = (f"{num.day(int(m.group('dr1')))} đến {num.day(int(m.group('dr2')))} "
               f"tháng {num.month(int(m.group('drm')))}")
        if m.group("dry"):
            out += f" năm {num.cardinal(int(m.group('dry')))}"
        return out

    def _daymonth(self, m: re.Match[str], call: _Call) -> str:
        """"ngày 2/9" a date, "hơn 1/3 số vụ" a fraction; with no word to decide, a fraction-like
        "1/3" is read as written and lint lists the sentence, a "30/4" is a date."""
        a, b = m.group("ld"), m.group("lm")
        d, mo = int(a), int(b)
        if (d, mo) == (24, 7):  # "24/7": round the clock, not 24 July
            return "hai mươi tư trên bảy"
        date = f"{num.day(d)} tháng {num.month(mo)}"
        fraction, dated = _fraction_context(m), _date_context(m)
        if fraction and (not dated or _prev_words(m.string, m.start())[1] in _DATE_BEFORE_WEAK):
            return _fraction(a, b)
        dated = dated or _prev_words(m.string, m.start())[1] in _DATE_BEFORE_WEAK
        if dated:
            if fraction:  # "Khoảng 1/3 năm 2024": a date, as a presenter reads it, but say so
                call.note(m.group(), "ambiguous", date)
            return date
        if d < mo and mo in _FRACTION_DENOMINATORS:
            written = f"{num.number_text(a)} gạch chéo {num.number_text(b)}"
            call.note(m.group(), "ambiguous", written)
            return written
        return date

    def _frac(self, m: re.Match[str], call: _Call) -> str:
        """"hơn 1/20 dân số": a fraction in its context, else as written (and listed by lint)."""
        a, b = m.group("fa"), m.group("fb")
        if a == "24":  # "24/24 giờ": round the clock
            return f"hai mươi tư trên {num.number_text(b)}"
        if _fraction_context(m):
            return _fraction(a, b)
        written = f"{num.number_text(a)} gạch chéo {num.number_text(b)}"
        call.note(m.group(), "ambiguous", written)
        return written

    def _time(self, m: re.Match[str], call: _Call) -> str:
        if m.group().endswith("g") and not _hour_in_g(m):
            return f"{num.cardinal(int(m.group('th')))} {UNITS['g']}"  # "nặng 20g"
        out = f"{num.cardinal(int(m.group('th')))} giờ"
        minutes = m.group("tm") or m.group("tm2") or m.group("tg")
        if minutes and int(minutes):
            out += f" {num.cardinal(int(minutes))} phút"
        if m.group("ts") and int(m.group("ts")):
            out += f" {num.cardinal(int(m.group('ts')))} giây"
        return out

    # -- codes and addresses ---------------------------------------------
    def _doc(self, m: re.Match[str], call: _Call) -> str:
        """Document numbers "907/STTTT-CNTT-BCVT", "13/2023/NĐ-CP": read as written."""
        out = []
        for part in m.group().split("/"):
            if not part:
                continue
            if part.isdigit():
                out.append(num.number_text(part))
            else:
                out.append(self._code(part, call))
        text = " gạch chéo ".join(out)
        return "gạch chéo " + text if m.group().startswith("/") else text

    def _code(self, part: str, call: _Call) -> str:
        pieces = [p for p in part.split("-") if p]
        out = []
        i = 0
        while i < len(pieces):
            key, end, node = "", i, self.dashed  # the longest lexicon entry from here: "NĐ-CP"
            for j in range(i, len(pieces)):
                node = node.get(pieces[j], {})
                if not node:
                    break
                if "" in node:
                    key, end = node[""], j + 1
            if key:
                out.append(self.lex.abbreviations[key])
                i = end
            else:
                out.append(self.lookup(pieces[i], call))
                i += 1
        return " gạch ".join(out)

    def _url(self, m: re.Match[str], call: _Call) -> str:
        raw = m.group()
        trail = _URL_TRAIL_RE.search(raw)
        suffix = ""
        if trail and not raw.startswith("<"):
            suffix = trail.group()
            raw = raw[: trail.start()]
        raw = _SCHEME_RE.sub("", raw.strip("<>")).rstrip("/")
        out = []
        for piece in _URL_PIECE_RE.findall(raw):
            if piece in URL_SYMBOLS:
                out.append(URL_SYMBOLS[piece])
            elif piece.isalnum():
                out.append(self._url_label(piece, call))
        return " ".join(out) + suffix

    def _url_label(self, label: str, call: _Call) -> str:
        low = label.lower()
        reading = self.lex.domains.get(low) or self.lex.words.get(low)
        if reading:
            return reading
        if low.isdigit():
            return num.digits(low)
        if low.isalpha() and is_syllable(low):
            return low
        reading = spell(low)
        call.findings.append(Finding(label, "spelled", call.line, reading))
        return reading


class _Call:
    """Per-sentence state the handlers share."""

    __slots__ = ("findings", "line", "phones")

    def __init__(self, line: int, findings: list[Finding]) -> None:
        self.line = line
        self.findings = findings
        self.phones: list[str] = []  # tokens read as phone numbers, in order

    def note(self, token: str, kind: FindingKind, reading: str) -> None:
        self.findings.append(Finding(token, kind, self.line, reading))


def _lexicon_keys(abbreviations: Iterable[str], words: Iterable[str]) -> str:
    """The lexicon's multi-word keys as one pattern: the longest key that matches at a position wins, every
    abbreviation before any word (abbreviations case-sensitive, words as re's IGNORECASE matches them); where
    a key begins or ends with a letter or digit, no letter or digit may stand next to it (whole words only),
    where it begins or ends with punctuation, one may.

    Each section is a key-prefix tree compiled to nested groups ("Công an x(?:ã|...)"): at a position the
    regex follows one path, so its work grows with the text, not with the number of keys. The flat
    alternation it replaces, longest key first, tried every key at every letter: with 20,000 keys a
    73,000-character script took 12 s to read, once per commune. Not an Aho-Corasick automaton
    (pyahocorasick): these keys must stay one alternative of the master regex, in front of the other rules
    at each position in its single left-to-right scan, with re's word boundaries and re's case folding; an
    automaton reports every key found, with its own notion of case, and would be a new dependency."""
    abbreviations, words = list(abbreviations), list(words)
    fold = _folding(words)
    sections = []
    if abbreviations:
        sections.append(_rooted([(k, k) for k in abbreviations]))
    if words:
        sections.append("(?i:" + _rooted([("".join(fold.get(c, c) for c in k), k) for k in words]) + ")")
    return "(?:" + "|".join(sections) + ")"


def _folding(keys: list[str]) -> dict[str, str]:
    """Each letter with a case in `keys` -> the first of them that re's IGNORECASE takes for the same letter
    ("ı", "I" and "i" are one): two branches of the tree may not match the same character, or the first
    one's keys would win over a longer key down the second. A character without case matches only itself."""
    chars = "".join(sorted({c for k in keys for c in k if c.lower() != c or c.upper() != c}))
    folded = {}
    for c in chars:
        m = re.search("(?i:" + re.escape(c) + ")", chars)
        folded[c] = m.group() if m else c
    return folded


def _rooted(keys: list[tuple[str, str]]) -> str:
    """The tree of `keys` ((path, key): the key as its tree spells it, the key as written), with the word
    boundary before it: a key that begins with a letter or digit is not read from inside a word, one that
    begins with punctuation may be. After a letter only the second kind is tried."""
    inside = [(path, key) for path, key in keys if not key[0].isalnum()]
    pattern = r"(?<!\w)" + _tree(keys)
    return rf"(?:{pattern}|(?<=\w){_tree(inside)})" if inside else pattern


# Groups a key tree nests before the rest of a branch is a flat alternation, longest first: re's parser
# recurses on each group (495 nested ones overflowed Python's stack). Only keys that are prefixes of each
# other dozens of times over ("a-a", "a-a-a", ...) reach it.
_TREE_DEPTH = 40


class _Node:
    __slots__ = ("children", "end")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.end: str | None = None  # a key ends here: what must follow it (r"(?!\w)" or nothing)


def _tree(keys: list[tuple[str, str]]) -> str:
    root = _Node()
    for path, key in keys:
        node = root
        for c in path:
            child = node.children.get(c)
            if child is None:
                child = node.children[c] = _Node()
            node = child
        if node.end != "":  # two keys of one length, one free of the boundary: the same match either way
            node.end = r"(?!\w)" if key[-1].isalnum() else ""
    return _branches(root, 0)


def _branches(node: _Node, depth: int) -> str:
    """The pattern of `node`'s subtree: each child (a chain of single children written as one string), the
    longer keys under it first, then the key ending at `node`."""
    if depth >= _TREE_DEPTH:
        ends = sorted(_ends(node), key=lambda pair: len(pair[0]), reverse=True)
        return "(?:" + "|".join(re.escape(rest) + end for rest, end in ends) + ")"
    out = []
    for c, child in node.children.items():
        chain = c
        while len(child.children) == 1 and child.end is None:
            (c, child), = child.children.items()
            chain += c
        out.append(re.escape(chain) + _branches(child, depth + 1))
    if node.end is not None:
        out.append(node.end)
    return out[0] if len(out) == 1 else "(?:" + "|".join(out) + ")"


def _ends(node: _Node) -> list[tuple[str, str]]:
    """Every key in `node`'s subtree as (the rest of its path, what must follow it), in work linear in
    their length."""
    out: list[tuple[str, str]] = []
    path: list[str] = []
    todo: list[tuple[int, str, _Node]] = [(0, "", node)]
    while todo:
        depth, c, here = todo.pop()
        del path[depth:]
        path.append(c)
        if here.end is not None:
            out.append(("".join(path), here.end))
        todo.extend((depth + 1, c, child) for c, child in here.children.items())
    return out


def _called(m: re.Match[str], p1: str, nxt: str) -> bool:
    """A plain number read as a number to call: after "gọi", "điện thoại", "hotline"..., or a
    service number (113) standing alone or after "số"."""
    raw, s = m.group("n"), m.string
    if len(raw) < 3 or nxt in QUANTITY_WORDS or nxt in _COUNTED_AFTER:
        return False
    tail = s[max(0, m.start() - 50):m.start()].lower()
    # "Số 113", "gọi 113, 114, 115" - but "Điều 115", "số 1234/QĐ" are numbers.
    # a code to text ends its clause or a "để", "hoặc"...: "nhắn tin đến 1500 bạn bè" is a count
    texted = bool(_SMS_CONTEXT_RE.search(tail)) and (not nxt[:1].isalpha() or nxt in _SMS_AFTER)
    return bool(_PHONE_CONTEXT_RE.search(tail)) or texted or tail.endswith(("đầu số ", "đầu số: ")) or (
        raw in _SERVICE_NUMBERS and (p1 in _SERVICE_BEFORE or _standalone(s, m.start())) and not _street(s, m.end()))


_STREET_WORDS = frozenset({"đường", "phố", "ngõ", "ngách", "hẻm", "kiệt", "tổ", "thôn", "xóm", "khu", "ấp", "bản"})


_NAME_AFTER_RE = re.compile(r"\s*([^\W\d_]+)\s+([^\W\d_]+)")


def _street(s: str, end: int) -> bool:
    """"Số 114 Trần Hưng Đạo", "số 113 đường Lê Lợi": a house number, not the number to call ("số 113 Công an
    xã" is: a street's name is two capitalised words or more)."""
    if _next_word(s, end) in _STREET_WORDS:
        return True
    m = _NAME_AFTER_RE.match(s, end)
    # a name written as names are ("Trần Hưng Đạo"), not a line in capitals ("SỐ 113 CÔNG AN XÃ") nor the
    # service the number calls ("113 Công An", "114 Cứu Hỏa")
    return (m is not None and all(w[0].isupper() and len(w) > 1 and not w[1:].isupper() for w in m.groups())
            and m.group(1).lower() not in _SERVICE_NAME_WORDS)


_SERVICE_NAME_WORDS = frozenset({"công", "cảnh", "cứu", "cấp", "phòng", "chữa", "trực", "tổng", "đường", "hỗ", "báo"})


_SCALE_WORDS = frozenset({"trăm", "nghìn", "ngàn", "triệu", "tỷ"})
# What a number counts, so it is no number to call even after "gọi", "tổng đài", "liên hệ": "gọi điện đòi
# 500 USDT", "tổng đài tiếp nhận 2500 tin báo", "gọi 100 cuộc" (they were read "năm không không u ét đê tê").
_COUNTED_AFTER = frozenset(
    ["usd", "usdt", "đô", "cuộc", "tin", "phút", "giây", "giờ", "ngày", "tuần", "tháng", "năm", "suất", "máy", "thuê",
     "đơn", "trang", "ký", "chữ", "ca"]
)


def _chunk(digits: str) -> list[str]:
    """Unseparated phone numbers in the usual groups: 0912 345 678, 1900 1234."""
    n = len(digits)
    sizes: tuple[int, ...]
    if n == 10:
        sizes = (4, 3, 3)
    elif n == 11:
        sizes = (4, 3, 4)
    elif n == 8:
        sizes = (4, 4)
    else:
        sizes = (3,) * (n // 3) + ((n % 3,) if n % 3 else ())
    out, i = [], 0
    for size in sizes:
        out.append(digits[i:i + size])
        i += size
    return [g for g in out if g]


def _standalone(s: str, start: int) -> bool:
    """A number opening a clause or list item ("Gọi 113, 114, 115"), not after a noun."""
    i = start  # walk back over spaces: s[:start].rstrip() copied the sentence every time
    while i and s[i - 1].isspace():
        i -= 1
    if not i or s[i - 1] in _STANDALONE_BEFORE:
        return True
    return s[i - 1].isalpha() and _prev_words(s, start)[1] in _JOINERS


_FRACTION_BEFORE = frozenset(
    {"hơn", "gần", "khoảng", "chiếm", "trên", "dưới", "giảm", "tăng", "mất", "đạt", "bằng", "còn", "lệ", "được",
     "tính"}
)
_FRACTION_AFTER_RE = re.compile(r"\s*(?:số|dân số|diện tích|tổng|trong số|thời gian)(?![^\W\d_])", re.IGNORECASE)
# Words before a day/month that make it a date: "ngày 2/9", "từ 1/7", "dịp 30/4", "Quốc khánh 2/9".
_DATE_BEFORE = frozenset(
    {"ngày", "hôm", "sáng", "chiều", "tối", "đêm", "trưa", "dịp", "lễ", "tết", "khánh", "niệm", "hạn"}
)
# Weaker: "từ 2/9" is a date, but "chưa đến 1/4 số hộ", "có tới 4/5 số tài khoản" are fractions.
_DATE_BEFORE_WEAK = frozenset({"từ", "đến", "tới", "vào", "trước", "sau", "lúc", "nhật", "hai", "ba", "tư", "năm",
                               "sáu", "bảy"})
_DATE_AFTER = frozenset({"năm", "vừa", "tới", "này", "hằng", "hàng", "tại", "đến"})
_DATE_RANGE_BEFORE_RE = re.compile(r"[0-9]{1,2}/[0-9]{1,2}\s?(?:-|,|và|hoặc)\s?$")
_DATE_RANGE_AFTER_RE = re.compile(r"\s?(?:-|và|hoặc)\s?[0-9]{1,2}/[0-9]{1,2}")
# "1/3", "3/4", "1/10": what a fraction with no word around it usually is; "2/9", "1/7" are dates.
_DAY_AFTER = frozenset({"tháng", "hằng", "hàng", "này", "tới", "vừa", "cuối", "đầu", "trong", "của"})
_FRACTION_DENOMINATORS = frozenset({2, 3, 4, 5, 10})


def _fraction_context(m: re.Match[str]) -> bool:
    """"hơn 1/3 số vụ", "1/4 diện tích", "tỷ lệ 2/3": words that make a/b a fraction."""
    s = m.string
    _, p1 = _prev_words(s, m.start())
    return p1 in _FRACTION_BEFORE or bool(_FRACTION_AFTER_RE.match(s, m.end()))


def _date_context(m: re.Match[str]) -> bool:
    """"ngày 1/3", "1/3 năm 2024", "2/9 - 5/9", "thứ Hai, 2/12": words that make d/m a date."""
    s = m.string
    _, p1 = _prev_words(s, m.start())
    return (p1 in _DATE_BEFORE or _next_word(s, m.end()) in _DATE_AFTER
            or bool(_DATE_RANGE_BEFORE_RE.search(s, max(0, m.start() - 12), m.start()))
            or bool(_DATE_RANGE_AFTER_RE.match(s, m.end())))


def _fraction(a: str, b: str) -> str:
    """"1/3" -> "một phần ba"; "3/4" -> "ba phần tư" (Northern)."""
    return f"{num.number_text(a)} phần {'tư' if int(b) == 4 else num.number_text(b)}"


_G_HOUR_BEFORE = frozenset({"lúc", "từ", "đến", "tới", "vào", "trước"})
_G_HOUR_AFTER = frozenset({"sáng", "trưa", "chiều", "tối", "đêm", "ngày", "hôm", "hằng", "hàng", "mỗi"})
_G_HOUR_RANGE_RE = re.compile(r"[0-9][hg](?:[0-5][0-9])?\s*-\s*$")
_G_HOUR_RANGE_AFTER_RE = re.compile(r"\s*-\s*(?:[01]?[0-9]|2[0-4])[hg](?:[0-5][0-9])?(?![\w:])")


def _hour_in_g(m: re.Match[str]) -> bool:
    """"lúc 8g", "8g sáng", "7g - 11g": an hour written with g (as "8g30" always is); "nặng 20g": grams."""
    s = m.string
    return (_prev_words(s, m.start())[1] in _G_HOUR_BEFORE or _next_word(s, m.end()) in _G_HOUR_AFTER
            or bool(_G_HOUR_RANGE_RE.search(s, max(0, m.start() - 12), m.start()))
            or bool(_G_HOUR_RANGE_AFTER_RE.match(s, m.end())))  # "7g-11g": the first hour as the second


_WARD_KEYS = frozenset({"P.", "Q."})  # not cut into sentences after them (pipeline._split)
_LABEL_BEFORE = frozenset({"án", "điểm", "mục", "loại", "hạng", "nhóm", "đội", "lớp", "khối", "ký", "hiệu"})
_TITLE_WORD_BEFORE_RE = re.compile(r"(?<![^\W\d_])[^\W\d_][^\W\d_]*[ ]+$")


def _ward(m: re.Match[str], call: _Call) -> str:
    s, letter = m.string, m.group()[0]
    rest = s[m.end():m.end() + 2].lstrip()
    name = _TITLE_WORD_BEFORE_RE.search(s, max(0, m.start() - 20), m.start())
    before = name.group().strip() if name else ""
    if before.lower() in _LABEL_BEFORE:  # "phương án P.": a label
        return LETTER_NAMES[letter.lower()] + "."
    if rest[:1].isdigit() or (rest[:1].isupper() and not before.istitle()):
        return "phường" if letter == "P" else "quận"
    return LETTER_NAMES[letter.lower()] + "."


# "mỗi ngày 2-3 lần", "trong ngày 2-3 cuộc": a count after the day word, not a date.
_NOT_DATED_BY = frozenset({"mỗi", "một", "hằng", "hàng", "trong", "các", "những", "vài", "vòng"})


_YEAR_AFTER_RE = re.compile(r"\s+năm\s+(?:[12][0-9]{3}(?![0-9])|nay|ngoái|trước|sau|tới|đó|ấy)(?!\w)", re.IGNORECASE)
_DURATION_AFTER = frozenset({"tiếng", "buổi", "bữa", "đêm", "hôm"})  # "buổi tối 2-3 tiếng": a length, not a date


def _dashdate(m: re.Match[str], call: _Call) -> str:
    s = m.string
    p2, p1 = _prev_words(s, m.start())
    nxt = _next_word(s, m.end())
    # "ngày 15-12 năm 2024", "sáng 3-7 năm nay": the year of the date
    year = nxt == "năm" and bool(_YEAR_AFTER_RE.match(s, m.end()))
    if (p1 in _DATE_BEFORE and p2 not in _NOT_DATED_BY and nxt != "tháng" and nxt not in _DURATION_AFTER
            and (year or nxt not in QUANTITY_WORDS and nxt not in _COUNTED_AFTER)):
        return f"{num.day(int(m.group('xd')))} tháng {num.month(int(m.group('xm')))}"
    return f"{read_number(m.group('xd'))} đến {read_number(m.group('xm'))}"


def _neg(m: re.Match[str], call: _Call) -> str:
    return "âm"


# A dash between two times, days or weekdays is "đến": "7h30 - 11h00", "7 giờ - 9 giờ", "thứ Hai - thứ Sáu",
# "T2 - T6", "2/9 - 5/9" (two plain numbers are the "range" rule's).
_RANGE_LEFT_RE = re.compile(
    r"(?:[0-9][hg]?|[0-9][hg][0-5][0-9]|[0-9]\s?(?:giờ|phút)|(?i:thứ)\s+(?i:hai|ba|tư|năm|sáu|bảy)|(?<!\w)(?:T[2-7]|CN)"
    r"|(?i:chủ nhật))\s*$"
)
_RANGE_RIGHT_RE = re.compile(r"\s*(?:[0-9]|(?i:thứ)\s|(?:T[2-7]|CN)(?!\w)|(?i:chủ nhật))")


def _dash(m: re.Match[str], call: _Call) -> str:
    # "Độc lập - Tự do": a pause; "Covid-19", "Wi-Fi": nothing; "7h30 - 11h00": "đến".
    s = m.string
    if (_RANGE_LEFT_RE.search(s, max(0, m.start() - 12), m.start())
            and _RANGE_RIGHT_RE.match(s, m.end())):
        return "đến"
    return "," if m.group()[0].isspace() else ""


def _per(m: re.Match[str], call: _Call) -> str:
    return f"trên {UNITS[m.group('pu')]}"


def _slash(m: re.Match[str], call: _Call) -> str:
    s, i = m.string, m.start()
    if i and (s[i - 1].isalpha() or s[i - 1] == "%"):  # "đồng/tháng", "3%/tháng"
        nxt = _next_word(s, i + 1)
        if nxt in PER_WORDS or s[i - 1] == "%" or _PRICE_BEFORE_RE.search(s, max(0, i - 5), i):
            return "trên"  # "200.000 đồng/đơn hàng"
        if nxt[:1].isalpha():
            return ","  # "cổng/trang": either one
    return "gạch chéo"


_PRICE_BEFORE_RE = re.compile(r"(?<![^\W\d_])(?:đồng|đ|USD|VNĐ|VND)$")


def _sym(m: re.Match[str], call: _Call) -> str:
    return SYMBOLS.get(m.group(), "").strip()
