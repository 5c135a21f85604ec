"""Phone numbers on air: every number a message tells people to call must be one they may call.

A number read as a phone number in a rendered message (the same notion the speech stage uses
to read it digit by digit: `Speech.phones`) must be

- an emergency or public-service number (111, 112, 113, 114, 115), or
- declared in the commune's or province's `contacts`, or
- in the project's list of official numbers (`official_numbers.yaml`), each with who answers it
  and the directive it comes from;

and every declared number must fit the Vietnamese numbering plan: a mobile number has 10 digits
and a mobile prefix (03x, 05x, 07x, 08x, 09x), a landline 11 digits (0, an area code 2xx, the
subscriber number), a 1800/1900 service number 8 or 10 digits. Anything else is an error at the
line of the script that produced it, naming the number and the commune: a made-up or mistyped
number in a warning against scams does harm.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import Problem
from .model import Locale, OfficialNumber, Script
from .speech import Speech
from .speech.markup import has_placeholder
from .yamlio import source_lines

OFFICIAL_FILE = "official_numbers.yaml"
SERVICE_NUMBERS = {"111": "tổng đài bảo vệ trẻ em", "112": "cứu nạn", "113": "công an", "114": "cứu hỏa",
                   "115": "cấp cứu"}
MOBILE_PREFIXES = ("03", "05", "07", "08", "09")
FIX_OFFICIAL = (f"kiểm tra lại số với văn bản gốc; nếu là số chính thức, khai báo trong {OFFICIAL_FILE} kèm "
                "'who' và 'source' (văn bản nêu số đó), hoặc dùng số trong 'contacts' của xã/tỉnh (xem README)")


def digits(number: str) -> str:
    """The digits of a number as dialled in Vietnam: "+84 912 345 678" -> "0912345678"."""
    found = re.sub(r"[^0-9]", "", number)
    if number.strip().startswith("+84"):
        found = "0" + found[2:]
    return found


def numbering_problem(number: str) -> str | None:
    """Why `number` is not a Vietnamese phone number (None when it is one)."""
    d = digits(number)
    if d in SERVICE_NUMBERS:
        return None
    if d.startswith(("1800", "1900")):
        return None if len(d) in (8, 10) else f"số dịch vụ {d[:4]} phải có 8 hoặc 10 chữ số, số này có {len(d)}"
    if d.startswith("02"):
        return None if len(d) == 11 else f"số cố định (0 + mã vùng 2xx) phải có 11 chữ số, số này có {len(d)}"
    if d.startswith(MOBILE_PREFIXES):
        return None if len(d) == 10 else f"số di động phải có 10 chữ số, số này có {len(d)}"
    if not d:
        return "không có chữ số nào"
    return ("không phải số khẩn cấp (111-115), số di động (10 chữ số, đầu 03, 05, 07, 08, 09), "
            "số cố định (11 chữ số, đầu 02) hay số 1800/1900")


@dataclass(frozen=True)
class Unlisted:
    """A phone number in one commune's rendering of a script that may not go on air."""

    script: Script
    locale: Locale
    number: str  # as written in the rendered text
    line: int  # in the script file
    why: str
    fix: str


def declared(locale: Locale, official: Iterable[OfficialNumber]) -> dict[str, str]:
    """The numbers a commune's messages may give, by their digits: where each is declared."""
    known = {d: f"số khẩn cấp {d} ({name})" for d, name in SERVICE_NUMBERS.items()}
    known.update({digits(n.number): f"{n.who} ({n.source})" for n in official})
    known.update({digits(c.phone): f"contacts.{key} của {locale.file} hoặc tỉnh"
                  for key, c in locale.contacts.items() if digits(c.phone)})
    return known


@dataclass(frozen=True)
class Dialable:
    """What one commune's messages may say: the numbers declared for it (`declared`), and its own
    contact numbers (as written, their digits, how to find them in a text). Made once per commune,
    not once per script: lint checks the country's 23,247 messages."""

    known: dict[str, str]
    contacts: tuple[tuple[str, str, re.Pattern[str]], ...]


def dialable(locale: Locale, official: Iterable[OfficialNumber]) -> Dialable:
    contacts = []
    for contact in locale.contacts.values():
        if not digits(contact.phone) or has_placeholder(contact.phone):
            continue  # "<<CẦN ĐIỀN: ... phường Long Phú 1 ...>>" holds digits but is no number
        written = contact.phone.strip()
        contacts.append((written, digits(contact.phone), re.compile(rf"(?<![0-9]){re.escape(written)}(?![0-9])")))
    return Dialable(declared(locale, official), tuple(contacts))


def check_message(script: Script, locale: Locale, text: str, numbers: Dialable, speech: Speech) -> list[Unlisted]:
    """The numbers in `text` (`script` rendered for `locale`, spoken as `speech`) that may not go on
    air; `numbers`: `dialable(locale, ...)`."""
    known = numbers.known
    found = []
    for number, line in _said(numbers, text, speech):
        d = digits(number)
        if d not in known:
            found.append(Unlisted(script, locale, number, _source_line(script, locale, number, line),
                                  f"số điện thoại '{number}' không phải số khẩn cấp, không có trong contacts của "
                                  f"xã/tỉnh hay danh sách số chính thức {OFFICIAL_FILE} (unknown phone number)",
                                  FIX_OFFICIAL))
            continue
        why = numbering_problem(number)
        if why:
            found.append(Unlisted(script, locale, number, _source_line(script, locale, number, line),
                                  f"số điện thoại '{number}' sai quy hoạch số Việt Nam: {why} (invalid phone number; "
                                  f"khai báo ở {known[d]})",
                                  f"sửa số ở nơi khai báo ({known[d]}) cho đúng số thật"))
    return found


def problems(found: Iterable[Unlisted], shown: int = 3) -> list[Problem]:
    """One error per script line and number, naming the communes where it is said."""
    grouped: dict[tuple[str, int, str, str], list[Unlisted]] = {}
    for item in found:
        grouped.setdefault((item.script.file, item.line, item.number, item.why), []).append(item)
    out = []
    for (file, line, _, why), items in grouped.items():
        communes = sorted({f"{i.locale.id} ({i.locale.name})" for i in items})
        where = ", ".join(communes[:shown]) + (f" và {len(communes) - shown} xã khác" if len(communes) > shown else "")
        out.append(Problem(file, line, "phone", f"{why}, ở xã {where}", items[0].fix))
    return out


def contact_problems(root: Path, locales: Iterable[Locale]) -> list[Problem]:
    """Declared contact numbers that do not fit the numbering plan, at the line that declares them."""
    out: dict[tuple[str, int, str], Problem] = {}
    for locale in locales:
        for key, contact in locale.contacts.items():
            if not digits(contact.phone) or has_placeholder(contact.phone):
                continue  # empty, or a placeholder (reported as such), even one whose text holds digits
            why = numbering_problem(contact.phone)
            if why:
                file, line = _declaring(root, locale, contact.phone)
                out.setdefault((file, line, contact.phone), Problem(
                    file, line, f"contacts.{key}.phone",
                    f"số điện thoại '{contact.phone}' của {key} ({locale.id}) sai quy hoạch số Việt Nam: {why} "
                    "(invalid phone number)",
                    "viết đúng số thật, ví dụ \"113\", \"0912 345 678\" hoặc \"0205 3870 000\""))
    return list(out.values())


def _said(numbers: Dialable, text: str, speech: Speech) -> list[tuple[str, int]]:
    """(number, rendered line) of every phone number in `text`: those `speech` reads as phone numbers,
    and the commune's contact numbers wherever they appear (even where they would be read as a quantity)."""
    said = list(speech.phones)
    seen = {(digits(number), line) for number, line in said}
    for written, dialled, pattern in numbers.contacts:
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            if (dialled, line) not in seen:
                seen.add((dialled, line))
                said.append((written, line))
    return said


def _source_line(script: Script, locale: Locale, number: str, rendered_line: int) -> int:
    """The script line that produced `number`: where it is written, or where the contact giving
    it is used, else the rendered line's offset in the body."""
    needles = [number] + [f"contacts.{key}.phone" for key, c in locale.contacts.items()
                          if digits(c.phone) == digits(number)]
    for needle in needles:
        for offset, source in enumerate(script.body.splitlines()):
            if needle in source:
                return script.line_of(offset + 1)
    return script.line_of(rendered_line)


def _declaring(root: Path, locale: Locale, phone: str) -> tuple[str, int]:
    """The file (the commune's, else its province's) and line declaring `phone`."""
    province = f"locales/{locale.province.id}/_province.yaml"
    for file in (locale.file, province):
        line = next((n for n, text in enumerate(source_lines(root / file), 1) if phone in text and "phone" in text), 0)
        if line:
            return file, line
    return locale.file, 0

