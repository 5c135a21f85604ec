"""Every way staff can break a project gives file:line, a fix, exit code 2 and no traceback."""

from __future__ import annotations

import json
import os
import shutil
import time
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import make_project, run

SCRIPT = "scripts/canh-bao.yaml"


def script(body: str = "Kính thưa bà con {{ locale.name }}!", **fields: str) -> str:
    head = {"id": "canh-bao", "title": "Cảnh báo thử", "source": "Công an tỉnh Lạng Sơn",
            "level": "normal", "valid": "{from: 2024-12-04}", "repeat": "1", **fields}
    lines = [f"{k}: {v}" for k, v in head.items() if v is not None]
    return "\n".join(lines) + "\nbody: |\n" + "".join(f"  {line}\n" for line in body.splitlines())


# (name, files, expected "file:line", a word the message must contain)
BROKEN = [
    ("yaml-syntax", {SCRIPT: "id: canh-bao\ntitle: [chưa đóng ngoặc\nbody: x\n"}, f"{SCRIPT}:2", "'['"),
    ("tab-indent", {SCRIPT: "id: canh-bao\nvalid:\n\tfrom: 2024-12-04\n"}, f"{SCRIPT}:3", "tab"),
    ("unknown-field", {SCRIPT: script(titel="x")}, f"{SCRIPT}:7", "unknown field"),
    ("wrong-type", {SCRIPT: script(repeat="hai")}, f"{SCRIPT}:6", "số nguyên"),
    ("missing-title", {SCRIPT: script(title=None)}, f"{SCRIPT}:1", "thiếu trường bắt buộc 'title'"),
    ("bad-level", {SCRIPT: script(level="urgent")}, f"{SCRIPT}:4", "emergency"),
    ("id-not-slug", {SCRIPT: script(id="'Canh Bao'")}, f"{SCRIPT}:1", "not a slug"),
    ("id-traversal", {SCRIPT: script(id="../../etc/passwd")}, f"{SCRIPT}:1", "not a slug"),
    ("id-not-file-name", {SCRIPT: script(id="canh-bao-khac")}, f"{SCRIPT}:1", "file name"),
    ("undefined-variable", {SCRIPT: script("Dòng một.\n\nGọi {{ locale.contacts.fire.phone }}.")}, f"{SCRIPT}:10",
     "fire"),
    ("sandbox-mro", {SCRIPT: script("Xin chào {{ ''.__class__.__mro__ }}")}, f"{SCRIPT}:8", "sandbox"),
    ("sandbox-globals", {SCRIPT: script("A\n{{ locale.name.upper.__globals__ }}")}, f"{SCRIPT}:9", "sandbox"),
    ("include-file", {SCRIPT: script("{% include '/etc/passwd' %}")}, f"{SCRIPT}:8", "include"),
    ("import-file", {SCRIPT: script("a\n{% import 'os' as os %}")}, f"{SCRIPT}:9", "include"),
    ("template-syntax", {SCRIPT: script("Dòng một.\n{{ locale.name }")}, f"{SCRIPT}:9", "cú pháp mẫu"),
    ("until-before-from", {SCRIPT: script(valid="{from: 2025-01-01, until: 2024-01-01}")}, f"{SCRIPT}:5",
     "until"),
    ("bad-date", {SCRIPT: script(valid="{from: 31/12/2024}")}, f"{SCRIPT}:5", "YYYY-MM-DD"),
    ("unknown-voice", {SCRIPT: script(voice="giong-la")}, f"{SCRIPT}:7", "espeak-vi"),
    ("bad-start-time", {"schedules/sang-chieu.yaml": "id: sang-chieu\nslots:\n  - name: sang\n    start: '25:00'\n"
                        "    minutes: 15\n"}, "schedules/sang-chieu.yaml:4", "06:00"),
    ("bad-days", {"schedules/sang-chieu.yaml": "id: sang-chieu\nslots:\n  - name: sang\n    days: [thu-hai]\n"
                  "    start: '06:00'\n    minutes: 15\n"}, "schedules/sang-chieu.yaml:4", "t2"),
    ("bad-commune-code", {"locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: sáu\n"},
     "locales/lang-son/xa-chi-lang.yaml:2", "administrative code"),
    ("bad-phone", {"locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\ncontacts:\n"
                   "  police:\n    phone: gọi cho tôi\n"}, "locales/lang-son/xa-chi-lang.yaml:5", "phone"),
    ("unknown-schedule", {"locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\nschedule: ca-ngay\n"},
     "locales/lang-son/xa-chi-lang.yaml:3", "sang-chieu"),
    ("duplicate-key", {"locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\nname: Xã Khác\n"},
     "locales/lang-son/xa-chi-lang.yaml:3", "dòng 1"),
    ("missing-province-file", {"locales/lang-son/_province.yaml": None}, "locales/lang-son/_province.yaml",
     "_province.yaml"),
    ("not-a-mapping", {"voices/espeak-vi.yaml": "- espeak\n- vi\n"}, "voices/espeak-vi.yaml:1", "mapping"),
    ("not-utf8", {"voices/espeak-vi.yaml": "id: espeak-vi\nengine: espeak\ndescription: Gi\xf4ng\n".encode("latin-1")},
     "voices/espeak-vi.yaml:3", "UTF-8"),
    ("unknown-fallback", {"voices/espeak-vi.yaml": "id: espeak-vi\nengine: espeak\nfallback: khong-co\n"},
     "voices/espeak-vi.yaml:3", "fallback"),
    ("settings-bad-preset", {"broadcast.yaml": "name: Thử\npreset: radio\n"}, "broadcast.yaml:2", "phat-thanh"),
    ("duplicate-slot", {"schedules/sang-chieu.yaml": "id: sang-chieu\nslots:\n  - {name: sang, start: '06:00', minutes: 5}\n"
                        "  - {name: sang, start: '07:00', minutes: 5}\n"}, "schedules/sang-chieu.yaml:2", "sang"),
]

COMMUNE = "locales/lang-son/xa-chi-lang.yaml"
PROVINCE = "locales/lang-son/_province.yaml"
SCHEDULE = "schedules/sang-chieu.yaml"
LEXICON = "lexicon.yaml"


def commune(*lines: str) -> str:
    return "name: Xã Chi Lăng\ncode: '06463'\n" + "".join(line + "\n" for line in lines)


def schedule(*slots: str, head: str = "id: sang-chieu\nslots:\n") -> str:
    return head + "".join(f"  - {slot}\n" for slot in slots)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# ~600 bytes that expand to 10**9 strings when aliases are followed ("billion laughs")
ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))

# issue 12: every bad input in a project file is a file:line error, never a traceback
BROKEN += [
    ("date-month-13", {SCRIPT: script(valid="{from: 2026-13-01}")}, f"{SCRIPT}:5", "2026-13-01"),
    ("date-feb-30", {SCRIPT: script(valid="{from: 2024-02-30}")}, f"{SCRIPT}:5", "2024-02-30"),
    ("date-year-0", {SCRIPT: script(valid="{from: 0000-01-01}")}, f"{SCRIPT}:5", "0000-01-01"),
    ("date-until-impossible", {SCRIPT: script(valid="{from: 2024-01-01, until: 2025-04-31}")}, f"{SCRIPT}:5",
     "2025-04-31"),
    ("date-in-block", {SCRIPT: script(valid="\n  from: 2024-01-01\n  until: 2025-02-29")}, f"{SCRIPT}:7",
     "2025-02-29"),
    ("datetime-from", {SCRIPT: script(valid="{from: 2025-01-01T10:00:00}")}, f"{SCRIPT}:5", "YYYY-MM-DD"),
    ("datetime-space-from", {SCRIPT: script(valid="{from: 2025-01-01 10:00:00}")}, f"{SCRIPT}:5", "YYYY-MM-DD"),
    ("timestamp-until", {SCRIPT: script(valid="{from: 2024-01-01, until: 2027-12-31 23:59:59+07:00}")},
     f"{SCRIPT}:5", "YYYY-MM-DD"),
    ("deep-nesting", {SCRIPT: script() + "extra: " + nested(5000) + "\n"}, f"{SCRIPT}:9", "nesting"),
    ("deep-nesting-block", {COMMUNE: commune("vars:") + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(300))},
     f"{COMMUNE}:", "nesting"),
    ("alias-bomb", {COMMUNE: commune("vars:") + "".join("  " + line + "\n" for line in ALIAS_BOMB.splitlines())},
     f"{COMMUNE}:", "alias"),
    ("minutes-1e20", {SCHEDULE: schedule("{name: sang, start: '06:00', minutes: 100000000000000000000}")},
     f"{SCHEDULE}:3", "1440"),
    ("minutes-float-1e20", {SCHEDULE: schedule("{name: sang, start: '06:00', minutes: 1.0e20}")},
     f"{SCHEDULE}:3", "số nguyên"),
    ("minutes-over-a-day", {SCHEDULE: schedule("{name: sang, start: '00:00', minutes: 1441}")},
     f"{SCHEDULE}:3", "1440"),
    ("slot-past-midnight", {SCHEDULE: schedule("{name: toi, start: '23:30', minutes: 45}")},
     f"{SCHEDULE}:3", "midnight"),
    ("slots-overlap", {SCHEDULE: schedule("{name: sang, start: '06:00', minutes: 30}",
                                          "{name: sang-2, start: '06:15', minutes: 10}")},
     f"{SCHEDULE}:4", "overlap"),
    ("slots-empty", {SCHEDULE: "id: sang-chieu\nslots: []\n"}, f"{SCHEDULE}:2", "no slots"),
    ("station-newline", {COMMUNE: commune('station: "Đài xã\\nChi Lăng"')}, f"{COMMUNE}:3", "newline"),
    ("name-newline", {COMMUNE: "name: \"Xã Chi\\rLăng\"\ncode: '06463'\n"}, f"{COMMUNE}:1", "newline"),
    ("name-control", {COMMUNE: "name: \"Xã Chi\\x07Lăng\"\ncode: '06463'\n"}, f"{COMMUNE}:1", "control"),
    ("name-tab", {COMMUNE: "name: Xã\tChi Lăng\ncode: '06463'\n"}, f"{COMMUNE}:1", "control"),
    ("station-block-scalar", {COMMUNE: commune("station: |", "  Đài xã", "  Chi Lăng")}, f"{COMMUNE}:3", "newline"),
    ("province-name-newline", {PROVINCE: 'province: {name: "Lạng\\nSơn", code: "20"}\nschedule: sang-chieu\n'},
     f"{PROVINCE}:1", "newline"),
    ("lexicon-private-use", {LEXICON: 'words:\n  Zalo: "da\\ue000 lô"\n'}, f"{LEXICON}:2", "private"),
    ("lexicon-control", {LEXICON: 'words:\n  Zalo: "da\\x00lô"\n'}, f"{LEXICON}:2", "control"),
    ("lexicon-commune-private-use", {COMMUNE: commune("lexicon:", "  words:", '    Zalo: "da\\uf8ff lô"')},
     f"{COMMUNE}:5", "private"),
    ("contact-null-phone", {COMMUNE: commune("contacts:", "  police:", "    phone:")}, f"{COMMUNE}:5", "phone"),
    ("contact-null", {COMMUNE: commune("contacts:", "  police: ~")}, f"{COMMUNE}:4", "police"),
    ("contact-empty-name", {COMMUNE: commune("contacts:", "  police:", "    name: ''")}, f"{COMMUNE}:5", "name"),
    ("unclosed-markup", {SCRIPT: script("Dòng một.\nHãy tải [đọc: Zalo | da lô về máy.")}, f"{SCRIPT}:9",
     "unclosed"),
    ("unclosed-markup-spell", {SCRIPT: script("Gọi [từng số: 0889 226 999 ngay.")}, f"{SCRIPT}:8", "unclosed"),
]


VOICE = "voices/espeak-vi.yaml"
OFFICIAL = "official_numbers.yaml"

# issue 12: what would air wrong, and templates that would hang or eat the machine
BROKEN += [
    ("phone-not-in-plan", {COMMUNE: commune("contacts:", "  police:", "    phone: '12345'")}, f"{COMMUNE}:5", "12345"),
    ("made-up-number-in-body", {SCRIPT: script("Dòng một.\nGọi 0912.345.678 ngay.")}, f"{SCRIPT}:9",
     "0912.345.678"),
    ("official-number-no-source", {OFFICIAL: "numbers:\n  - number: '0889.226.999'\n    who: Sở TT&TT Phú Thọ\n"},
     f"{OFFICIAL}:2", "source"),
    ("official-number-bad", {OFFICIAL: "numbers:\n  - number: '0889.226'\n    who: Sở\n    source: Công văn 1\n"},
     f"{OFFICIAL}:2", "0889.226"),
    ("bomb-pow", {SCRIPT: script("Dòng một.\n{{ 9 ** (9 ** 9) }}")}, f"{SCRIPT}:9", "giới hạn"),
    ("bomb-lipsum", {SCRIPT: script("Dòng một.\n{{ lipsum(200000) }}")}, f"{SCRIPT}:9", "lipsum"),
    ("bomb-str-mul", {SCRIPT: script("Dòng một.\n{{ 'a' * 10**9 }}")}, f"{SCRIPT}:9", "giới hạn"),
    ("bomb-range", {SCRIPT: script("Dòng một.\n{% for i in range(10**6) %}{% for j in range(10**6) %}x{% endfor %}"
                                   "{% endfor %}")}, f"{SCRIPT}:9", "giới hạn"),
    ("bomb-macro", {SCRIPT: script("Dòng một.\n{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}")}, f"{SCRIPT}:9",
     "macro"),
    ("bomb-format", {SCRIPT: script("Dòng một.\n{{ '%0999999999d' | format(1) }}")}, f"{SCRIPT}:9", "độ rộng"),
    ("bomb-center", {SCRIPT: script("Dòng một.\n{{ 'x'.center(10**9) }}")}, f"{SCRIPT}:9", "độ rộng"),
    ("body-empty", {SCRIPT: script("{{ '' }}")}, f"{SCRIPT}:8", "chuông"),
    ("body-punctuation", {SCRIPT: script("... !!! ???")}, f"{SCRIPT}:8", "chuông"),
    ("unclosed-if", {SCRIPT: script("Dòng một.\n{% if locale.name %}\nBà con chú ý.\nDòng ba.")}, f"{SCRIPT}:9",
     "endif"),
    ("misspelt-variable", {SCRIPT: script("Gọi {{ locale.contact.police.phone }}.")}, f"{SCRIPT}:8",
     "locale.contacts"),
    ("wrong-end-tag", {SCRIPT: script("{% if locale.name %}\nA.\n{% endfor %}")}, f"{SCRIPT}:10", "dòng 8"),
    ("param-out-of-range", {VOICE: "id: espeak-vi\nengine: espeak\nparams:\n  voice: vi\n  rate: 900\n"},
     f"{VOICE}:5", "80–450"),
    # a path written with "\0" in quotes: lint and build ended in a traceback (ValueError: embedded null byte)
    ("param-nul-model", {VOICE: 'id: espeak-vi\nengine: piper\nparams:\n  model: "vi\\0.onnx"\n'}, f"{VOICE}:4", "NUL"),
    ("param-nul-folder", {VOICE: 'id: espeak-vi\nengine: recorded\nparams:\n  folder: "assets/a\\0b"\n'},
     f"{VOICE}:4", "NUL"),
    ("param-unknown", {VOICE: "id: espeak-vi\nengine: espeak\nparams:\n  voice: vi\n  pich: 50\n"}, f"{VOICE}:5",
     "pitch"),
    ("engine-unknown", {VOICE: "id: espeak-vi\nengine: espeek\n"}, f"{VOICE}:2", "espeak, fpt, gtts"),
    # the station's line of punctuation alone: the build's first program ended in a traceback
    ("opening-says-nothing", {"broadcast.yaml": "name: Thử\nopening: '...'\n"}, "broadcast.yaml:2", "lời mở đầu"),
    ("closing-says-nothing", {"broadcast.yaml": "name: Thử\nclosing: '!'\n"}, "broadcast.yaml:2", "lời kết thúc"),
    ("min-airings-zero", {"broadcast.yaml": "name: Thử\nmin_airings: 0\n"}, "broadcast.yaml:2", "min_airings"),
    ("repeat-nine", {SCRIPT: script(repeat="9")}, f"{SCRIPT}:6", "1–5"),
    ("schedule-id-mismatch", {SCHEDULE: schedule("{name: sang, start: '06:00', minutes: 15}",
                                                 head="id: ca-ngay\nslots:\n")}, f"{SCHEDULE}:1", "file name"),
    ("slot-label-newline", {SCHEDULE: schedule('{name: sang, label: "Buổi\\nsáng", start: \'06:00\', minutes: 15}')},
     f"{SCHEDULE}:3", "newline"),
    ("contact-not-a-mapping", {PROVINCE: 'province: {name: "Lạng Sơn", code: "20"}\nschedule: sang-chieu\n'
                                          "contacts:\n  police: false\n"}, f"{PROVINCE}:4", "police"),
    ("title-newline", {SCRIPT: script(title='"Cảnh báo\\nthử"')}, f"{SCRIPT}:2", "newline"),
    # the same id in x.yaml and x.yml: lint said nothing and the build crashed writing it twice
    ("duplicate-yml", {SCRIPT.replace(".yaml", ".yml"): script()}, SCRIPT.replace(".yaml", ".yml"), "trùng tên"),
    # names Windows keeps for devices: messages/con.mp3 cannot be made or unzipped on a station PC
    ("id-windows-device", {"scripts/con.yaml": script(id="con")}, "scripts/con.yaml:1", "Windows"),
    # a path past Windows' 260 characters: the station PC cannot unzip or play it
    ("id-too-long", {f"scripts/{'canh-bao-' * 8}otp.yaml": script(id=f"{'canh-bao-' * 8}otp")},
     f"scripts/{'canh-bao-' * 8}otp.yaml:1", "tối đa 60"),
    # the station's opening line's message file: lint said nothing and the build crashed writing it twice
    ("id-station-line", {"scripts/loi-mo-dau.yaml": script(id="loi-mo-dau")}, "scripts/loi-mo-dau.yaml:1",
     "lời mở đầu"),
    ("commune-windows-device", {COMMUNE: None, "locales/lang-son/nul.yaml": "name: Xã Nul\ncode: '06999'\n"},
     "locales/lang-son/nul.yaml", "Windows"),
    ("fallback-itself", {VOICE: "id: espeak-vi\nengine: espeak\nfallback: espeak-vi\n"}, f"{VOICE}:3", "chính tệp này"),
    ("no-break-space-indent", {SCRIPT: script().replace("valid: {from: 2024-12-04}",
                                                        "valid:\n\u00a0\u00a0from: 2024-12-04")},
     f"{SCRIPT}:6", "dấu cách đặc biệt"),
    ("id-of-a-file-named-wrong", {"scripts/Canh-Bao.yaml": script(id="canh-bao-2")}, "scripts/Canh-Bao.yaml:1",
     "đổi tên tệp thành canh-bao-2.yaml"),
    ("unknown-filter", {SCRIPT: script("Kính thưa bà con {{ locale.name | uper }}!")}, f"{SCRIPT}:8",
     "có phải ý bạn là 'upper'"),
    ("lexicon-scope-typo", {LEXICON: "words:\n  Zalo:\n    espek: da lô\n"}, f"{LEXICON}:3", "có phải ý bạn là 'espeak'"),
    # Jinja gives up at the end of the template: the line where '{{' was opened
    ("unclosed-print", {SCRIPT: script("Kính thưa bà con {{ locale.name\n\nDòng hai.\nDòng ba.")}, f"{SCRIPT}:8",
     "'{{' ở dòng này chưa được đóng"),
    ("unclosed-print-at-end", {SCRIPT: script("Dòng một.\n\nKính thưa bà con {{ locale.name")}, f"{SCRIPT}:10",
     "'{{' ở dòng này chưa được đóng"),
    # a folded or plain body joins the file's lines: the error is still at the line written
    ("folded-body-undefined", {SCRIPT: script().split("body: |")[0] + "body: >\n  Kính thưa bà con.\n  Dòng hai.\n\n"
                               "  Dòng bốn {{ foo }}.\n"}, f"{SCRIPT}:11", "foo"),
    ("folded-body-phone", {SCRIPT: script().split("body: |")[0] + "body: >-\n  Kính thưa bà con.\n  Dòng hai\n  và ba."
                           "\n\n  Gọi 0912.345.678 ngay.\n"}, f"{SCRIPT}:12", "0912.345.678"),
    ("plain-body-undefined", {SCRIPT: script().split("body: |")[0] + "body: Kính thưa bà con.\n  Dòng hai.\n\n"
                              "  Dòng ba {{ bar }}.\n"}, f"{SCRIPT}:10", "bar"),
    # markup whose readings say nothing: it aired the chime alone, and the build stopped at an empty clip
    ("markup-saying-nothing", {SCRIPT: script("[đọc: UBND | ]\n[nguyên văn: ...]")}, f"{SCRIPT}:8",
     "không có lời nào"),
    ("full-width-colon", {SCRIPT: script(title="Cảnh báo").replace("title:", "title：")}, f"{SCRIPT}:2", "':'"),
]


@pytest.mark.parametrize("files, where, word", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_project_is_reported_with_file_and_line(project, files, where, word):
    root = project(files)
    result = run("lint", "--project", str(root))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.startswith(where + ":") or line.startswith(where)]
    assert lines, f"no problem at {where}:\n{result.output}"
    assert any(word in line for line in lines), result.output
    assert all("Cách sửa:" in line for line in lines)


def test_a_recordings_index_naming_a_file_with_nul_is_an_error_at_its_line(project):
    """A file name written with "\\0" in recordings.yaml: lint and build ended in a traceback."""
    root = project({VOICE: "id: espeak-vi\nengine: recorded\nparams: {folder: assets/ghi-am}\n",
                    "assets/ghi-am/recordings.yaml": '"Kính thưa bà con Xã Chi Lăng!": "a\\0.wav"\n'})
    for command in ("lint", "build"):
        result = run(command, "--week", "2026-W49", "--jobs", "1", "--project", str(root)) if command == "build" \
            else run(command, "--project", str(root))
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert result.exit_code in (1, 2) and "recordings.yaml:1" in result.output and "NUL" in result.output


def test_undefined_variable_names_script_locale_line_and_name(project):
    root = project({SCRIPT: script("Dòng một.\n\nGọi {{ locale.contacts.fire.phone }}.")})
    result = run("render", "canh-bao", "--locale", "xa-chi-lang", "--project", str(root))
    assert result.exit_code == 2
    assert f"{SCRIPT}:10" in result.output and "lang-son/xa-chi-lang" in result.output and "'fire'" in result.output


def test_symlink_escaping_the_project_is_rejected(project, tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("id: ngoai\n", encoding="utf-8")
    root = project()
    os.symlink(outside, root / "scripts" / "ngoai.yaml")
    result = run("lint", "--project", str(root))
    assert result.exit_code == 2 and "scripts/ngoai.yaml" in result.output and "ngoài thư mục dự án" in result.output


def test_not_a_project_is_a_clear_error(tmp_path):
    result = run("lint", "--project", str(tmp_path))
    assert result.exit_code == 2 and "broadcast.yaml" in result.output and "Traceback" not in result.output


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_nfd_files_are_read_as_nfc(project):
    """A province file saved in NFD (macOS, some keyboards) still matches "Phú Thọ" in a template."""
    body = '{% if "Phú Thọ" in locale.province.name %}Gọi đường dây nóng.{% else %}KHÔNG KHỚP.{% endif %}'
    root = project({
        "locales/lang-son/_province.yaml": _nfd("province:\n  name: Phú Thọ\n  code: '25'\nschedule: sang-chieu\n"
                                                 "contacts:\n  police: {name: Công an tỉnh, phone: '113'}\n"
                                                 ).encode("utf-8"),
        COMMUNE: _nfd("name: Xã Chi Lăng\ncode: '06463'\ndivision_type: xã\n").encode("utf-8"),
        SCRIPT: script(body),
    })
    result = run("lint", "--project", str(root))
    assert result.exit_code == 0, result.output
    rendered = run("render", "canh-bao", "--locale", "xa-chi-lang", "--project", str(root))
    assert rendered.exit_code == 0, rendered.output
    assert "Gọi đường dây nóng" in rendered.output and "KHÔNG KHỚP" not in rendered.output
    assert unicodedata.is_normalized("NFC", rendered.output)


def test_alias_bomb_is_rejected_quickly(project):
    root = project({COMMUNE: commune("vars:") + "".join("  " + line + "\n" for line in ALIAS_BOMB.splitlines())})
    assert len(ALIAS_BOMB) < 700
    started = time.monotonic()
    result = run("lint", "--project", str(root))
    assert time.monotonic() - started < 5
    assert result.exit_code == 2 and f"{COMMUNE}:" in result.output


def test_symlink_loop_in_scripts_is_reported(project):
    root = project()
    os.symlink("tu-tro.yaml", root / "scripts" / "tu-tro.yaml")
    os.symlink("vong-b.yaml", root / "scripts" / "vong-a.yaml")
    os.symlink("vong-a.yaml", root / "scripts" / "vong-b.yaml")
    result = run("lint", "--project", str(root))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    for name in ("tu-tro", "vong-a", "vong-b"):
        assert any(line.startswith(f"scripts/{name}.yaml") and "symlink" in line and "Cách sửa:" in line
                   for line in result.output.splitlines()), result.output


def test_unreadable_and_special_files_are_reported(project, monkeypatch):
    root = project({"scripts/khac.yaml": script().replace("canh-bao", "khac")})
    (root / "scripts" / "thu-muc.yaml").mkdir()
    os.mkfifo(root / "scripts" / "ong.yaml")  # reading a FIFO would block lint for ever
    real, real_bytes = Path.read_text, Path.read_bytes

    def read_text(self, *args, **kwargs):
        if self.name == "khac.yaml":
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kwargs)

    def read_bytes(self):  # a script is read as bytes (its hash is what an approval is for)
        if self.name == "khac.yaml":
            raise PermissionError(13, "Permission denied")
        return real_bytes(self)

    monkeypatch.setattr(Path, "read_text", read_text)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = run("lint", "--project", str(root))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    for name in ("khac", "thu-muc", "ong"):
        assert any(line.startswith(f"scripts/{name}.yaml") and "Cách sửa:" in line
                   for line in result.output.splitlines()), result.output


# a folder the account running the command cannot open (chmod 000, a share's permissions): a
# traceback from the listing in lint and plan, and build said it could not *write* the folder (exit 3)
@pytest.mark.parametrize("folder", ["scripts", "voices", "schedules", "locales", "locales/lang-son"])
def test_a_folder_that_cannot_be_read_is_named_with_a_fix(project, monkeypatch, folder):
    root = project()
    real = Path.iterdir

    def iterdir(self):
        if self == root.resolve() / folder:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    for command in (("lint",), ("plan", "--week", "2026-W10"), ("build", "--week", "2026-W10", "--jobs", "1")):
        result = run(*command, "--project", str(root))
        assert result.exit_code == 2, (command, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (command, result.output)
        assert any(line.startswith(f"{folder}: lỗi") and "không đọc được thư mục" in line and "Cách sửa:" in line
                   for line in result.output.splitlines()), (command, result.output)
    assert not (root / "output" / "2026-W10").exists()


@pytest.mark.parametrize("week", ["9999-W52", "0000-W10", "9999-W53"])
def test_week_out_of_range_is_a_usage_error(project, week):
    root = project()
    for command in (("lint",), ("plan",), ("render", "canh-bao", "--locale", "xa-chi-lang")):
        result = run(*command, "--project", str(root), "--week", week)
        assert result.exit_code == 2, (command, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (command, result.output)
        assert "--week" in result.output or "tuần" in result.output


def test_null_contact_never_says_none(project):
    root = project({COMMUNE: commune("contacts:", "  police:", "    name: Công an xã", "    phone: ~")})
    result = run("render", "canh-bao", "--locale", "xa-chi-lang", "--project", str(root))
    assert result.exit_code == 2 and "None" not in result.output
    assert f"{COMMUNE}:6" in result.output


WEEK = "2026-W49"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def published_project(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("pub") / "p")
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert result.exit_code == 0, result.output
    return root


@pytest.mark.parametrize("name", [b[0] for b in BROKEN])
def test_broken_project_leaves_the_published_week_untouched(published_project, tmp_path, name):
    files = next(b[1] for b in BROKEN if b[0] == name)
    root = tmp_path / "p"
    shutil.copytree(published_project, root, symlinks=True)
    before = _snapshot(root / "output")
    assert any(p.endswith(".mp3") for p in before)
    for rel, text in files.items():
        if text is None:
            (root / rel).unlink()
        else:
            (root / rel).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert _snapshot(root / "output") == before


@pytest.mark.parametrize("name", ["broadcast.yaml", "lexicon.yaml", "locales/lang-son/_province.yaml"])
def test_every_project_file_is_read_inside_the_project(project, tmp_path, name):
    root = project({"lexicon.yaml": "words:\n  Zalo: da lô\n"})
    outside = tmp_path / "outside.yaml"
    outside.write_text((root / name).read_text(encoding="utf-8"), encoding="utf-8")
    (root / name).unlink()
    (root / name).symlink_to(outside)
    result = run("lint", "--project", str(root))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert any(line.startswith(f"{name}: lỗi") and "ngoài" in line for line in result.output.splitlines()), result.output


def test_a_commune_that_cannot_be_read_keeps_its_names_in_the_province_page_and_feed(project):
    """Its files are kept as published; the province's page and feed, written again for the others,
    named it by its folder ("lang-son/xa-huu-lung") until its file was fixed."""
    huu_lung = "locales/lang-son/xa-huu-lung.yaml"
    root = project({huu_lung: "name: Xã Hữu Lũng\ncode: '06385'\n"})
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    week = root / "output" / WEEK
    page = (week / "lang-son/index.html").read_text(encoding="utf-8")
    assert "Xã Hữu Lũng" in page and "Xã Chi Lăng" in page
    (root / huu_lung).write_text('code: "06385"\nname: "Xã Hữu Lũng\n', encoding="utf-8")  # a quote left open
    (root / COMMUNE).write_text((root / COMMUNE).read_text(encoding="utf-8").replace(
        "Xã Chi Lăng\n", "Xã Chi Lăng (mới)\n", 1), encoding="utf-8")
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert result.exit_code == 1 and "xa-huu-lung" in result.output
    page = (week / "lang-son/index.html").read_text(encoding="utf-8")
    assert "Xã Hữu Lũng" in page and "Xã Chi Lăng (mới)" in page and "lang-son/xa-huu-lung<" not in page
    titles = [t.text or "" for t in ET.fromstring((week / "lang-son/podcast.xml").read_bytes()).iter("title")]
    assert any(t.startswith("Xã Hữu Lũng: ") for t in titles), titles
    assert not any(t.startswith("lang-son/") for t in titles)
    names = json.loads((week / "manifest.json").read_text(encoding="utf-8"))["names"]
    assert names["lang-son/xa-huu-lung"] == {"name": "Xã Hữu Lũng", "province": "Lạng Sơn"}


def test_a_week_with_nothing_to_air_is_a_warning_and_fails_under_strict(project):
    """Every script expired: the build published an empty week with exit 0 and no word about it."""
    root = project({SCRIPT: script(valid="{from: 2024-12-04, until: 2025-06-01}")})
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert "lang-son/xa-chi-lang: không có tin nào phát trong tuần 2026-W49" in result.output
    warnings = json.loads((root / "output" / WEEK / "manifest.json").read_text(encoding="utf-8"))["warnings"]
    assert any("loa sẽ im cả tuần" in w for w in warnings)
    strict = run("build", "--week", WEEK, "--jobs", "1", "--strict", "--project", str(root))
    assert strict.exit_code == 1, strict.output


def test_a_voice_model_that_is_not_there_is_a_lint_error_or_with_a_fallback_a_warning(project):
    """Every sentence of that voice failed at build (exit 1, the commune kept as published); lint said nothing."""
    voice = "id: espeak-vi\nengine: piper\nparams:\n  model: voices/khong-co.onnx\n"
    root = project({"voices/espeak-vi.yaml": voice})
    result = run("lint", "--project", str(root))
    assert result.exit_code == 2, result.output
    assert ("voices/espeak-vi.yaml:3: lỗi [params]: không có tệp voices/khong-co.onnx, voices/khong-co.onnx.json "
            "mà giọng 'espeak-vi' cần") in result.output
    backed = project({"voices/espeak-vi.yaml": voice + "fallback: may-doc\n",
                      "voices/may-doc.yaml": "id: may-doc\nengine: espeak\n"})
    result = run("lint", "--project", str(backed))
    assert result.exit_code == 0, result.output
    assert "cảnh báo [params]: không có tệp voices/khong-co.onnx" in result.output
    assert "'may-doc' sẽ đọc thay" in result.output


def test_a_choice_with_a_no_break_space_after_it_is_the_choice_typed(project):
    root = project({SCRIPT: script(level='"priority\u00a0"')})
    result = run("lint", "--project", str(root))
    assert result.exit_code == 0, result.output


def test_a_province_whose_file_has_errors_is_named_with_its_error_not_as_unknown(project):
    root = project({PROVINCE: 'province: {name: "Lạng Sơn", code: "20"\nschedule: sang-chieu\n'})
    result = run("build", "--week", WEEK, "--province", "lang-son", "--project", str(root))
    assert result.exit_code == 2, result.output
    assert f"{PROVINCE}:1" in result.output and "không có tỉnh" not in result.output


def test_a_folded_body_saved_in_decomposed_unicode_is_reported_at_the_line_written(project):
    """Files from some editors (macOS) are NFD; the body is read as NFC and matched to the file's lines."""
    text = script().split("body: |")[0] + "body: >\n  Kính thưa bà con.\n  Dòng hai.\n\n  Dòng bốn {{ foo }}.\n"
    root = project({SCRIPT: unicodedata.normalize("NFD", text)})
    result = run("lint", "--project", str(root))
    assert result.exit_code == 2 and f"{SCRIPT}:11:" in result.output, result.output


def test_a_word_in_a_commune_file_saved_in_nfd_is_reported_in_that_file(project):
    """The unread word of a commune's name was put at the script's line that prints the name, with the
    advice to edit the project's lexicon, when the commune file was saved decomposed."""
    for form in ("NFC", "NFD"):
        root = project({COMMUNE: unicodedata.normalize(form, "name: Xã Ea Kpăm\ncode: '06463'\n").encode("utf-8"),
                        SCRIPT: script("Kính thưa bà con {{ locale.name }}. Gọi 113 khi bị đe dọa.")})
        result = run("lint", "--project", str(root))
        warning = next((line for line in result.output.splitlines() if "Kpăm" in line), "")
        assert warning.startswith(f"{COMMUNE}:1"), (form, result.output)


def test_a_province_schedule_that_does_not_exist_is_one_error_at_its_line(project):
    """It was also "xã chưa có lịch phát" for each of the province's communes (65 of them in Lạng Sơn)."""
    root = project({PROVINCE: 'province: {name: "Lạng Sơn", code: "20"}\nschedule: sang-chieuu\n'})
    result = run("lint", "--project", str(root))
    assert result.exit_code == 2, result.output
    assert f"{PROVINCE}:2" in result.output and "sang-chieuu" in result.output
    assert "chưa có lịch phát" not in result.output
    root = project({PROVINCE: 'province: {name: "Lạng Sơn", code: "20"}\n'})  # none at all: the commune says so
    assert "chưa có lịch phát" in run("lint", "--project", str(root)).output


def test_a_long_string_named_by_many_aliases_is_scanned_once(project, monkeypatch):
    # Each alias of one string was searched for placeholders again: 1.6 MB of commune file (a 1 MB
    # string named 150,000 times) took a minute of lint, 10 MB an hour.
    import broadcast.project as loader

    scanned, pattern = [], loader.PLACEHOLDER

    class Counting:
        def finditer(self, text):
            scanned.append(len(text))
            return pattern.finditer(text)

    monkeypatch.setattr(loader, "PLACEHOLDER", Counting())
    long = "<<CẦN ĐIỀN: tên trưởng thôn>> " + "x" * 10_000
    root = project({COMMUNE: commune("vars:", f'  s: &s "{long}"', f"  l: [{', '.join(['*s'] * 5_000)}]")})
    result = run("lint", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert sum(scanned) < 2 * (root / COMMUNE).stat().st_size, sum(scanned)
    assert result.output.count(f"{COMMUNE}:4: cảnh báo [placeholder]") == 1, result.output


def test_a_station_line_that_says_nothing_once_its_markup_is_read_is_named_not_a_traceback(project):
    from broadcast.errors import ContentError
    from broadcast.messages import speak_messages
    from broadcast.model import Week
    from broadcast.project import load_project

    root = project({"broadcast.yaml": "name: Thử\nclosing: '[nguyên văn: !!!]'\n"})
    loaded = load_project(root)
    with pytest.raises(ContentError) as caught:
        speak_messages(loaded, Week(2026, 49), list(loaded.locales), list(loaded.scripts))
    assert [(p.file, p.field) for p in caught.value.problems] == [("broadcast.yaml", "closing")]
    assert "lời kết thúc" in caught.value.problems[0].message
