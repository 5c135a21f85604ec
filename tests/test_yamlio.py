"""Project YAML is read by libyaml where PyYAML has it, and reads the same as with PyYAML's own parser."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from broadcast import yamlio
from broadcast.errors import YamlError

REPO = Path(__file__).resolve().parent.parent

TRICKY = [
    "name: Xã Chi Lăng\ncode: '06463'\ntime: 17:00\nflag: no\nyes: on\nn: 012\nf: 1.5\nb: true\n",
    "base: &b {voice: espeak-vi, rate: 1.0}\nother:\n  <<: *b\n  pitch: 2\nlist: [*b, *b]\n",
    "base: &b {voice: espeak-vi}\nother:\n  <<: *b\n  voice: x\n",  # a merged key given again: refused alike
    "body: |\n  Dòng một.\n\n  Dòng hai {{ locale.name }}.\nfolded: >\n  a\n  b\nafter: 1\n",
    "valid: {from: 2026-01-05, until: 2026-12-31}\nslots:\n  - {name: sang, start: '06:00'}\n  - chieu\n",
    "ten: \"Xa\u0303 Chi La\u0306ng\"\n",  # NFD: read as NFC
    "- a\n- - b\n  - c\n- {d: [e, {f: g}]}\n",
    "",
    "# only a comment\n",
    "key: ~\nempty:\nquoted: 'it''s'\n",
]
MERGED = "<<<<<<< HEAD\nid: x\ntitle: Bản của tôi\n=======\nid: x\ntitle: Bản của người khác\n>>>>>>> khac\n"
BROKEN = [
    MERGED,
    "a: [1, 2\n",
    "a: 1\na: 2\n",
    "a:\n\tb: 1\n",
    "a: b: c\n",
    "valid: {from: 2024-02-30}\n",
    "x: " + "[" * 60 + "]" * 60 + "\n",
    "a: *missing\n",
    "a: 1\nb: *nope\nc: 1\nd: [\n",  # the first mistake in the file is the one reported
    "a: 1\n---\nb: 1\nc: [\n",
    "ok: 1\nx: " + "1" * 5000 + "\n",  # past Python's 4,300 digits
    "k: !nesting%20depth x\n",
    "a: 1\nb: Đường Đông\nc: Xã \x0b tên\n",  # a control character pasted in: at its line
    'id: x\ntitle: "Tiêu đề \\"\nbody: x\n',
]


@pytest.fixture(scope="module")
def pure() -> ModuleType:
    """broadcast.yamlio loaded again as it is where PyYAML has no libyaml."""
    saved = yaml.__with_libyaml__
    yaml.__with_libyaml__ = False
    try:
        spec = importlib.util.spec_from_file_location("broadcast._yamlio_pure", yamlio.__file__)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        yaml.__with_libyaml__ = saved
    assert not issubclass(module.Loader, yaml.cyaml.CParser)
    return module


def described(value: Any) -> Any:
    """A value with the lines it knows, to compare two readings of one file."""
    if isinstance(value, dict):
        lines = (getattr(value, "line", None), getattr(value, "key_lines", None), getattr(value, "value_lines", None))
        return ("map", lines, {k: described(v) for k, v in value.items()})
    if isinstance(value, list):
        return ("list", getattr(value, "line", None), getattr(value, "item_lines", None), [described(v) for v in value])
    return (type(value).__name__, value)


def outcome(module: ModuleType, text: str) -> Any:
    try:
        return described(module.parse_yaml(text))
    except YamlError as exc:  # a syntax error at the same line (libyaml words the English part its own way)
        return ("error", exc.line, "syntax" if "YAML syntax error" in exc.message else exc.message)


def test_project_files_are_read_by_libyaml():
    # the country's 3,321 commune files: ~4x faster than PyYAML's Python parser
    assert issubclass(yamlio.Loader, yaml.cyaml.CParser)


def test_both_parsers_read_every_example_file_alike(pure):
    files = sorted(p for p in REPO.glob("**/*.yaml") if ".venv" not in p.parts and "tests" not in p.parts)
    assert len(files) > 20
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert outcome(yamlio, text) == outcome(pure, text), path


@pytest.mark.parametrize("text", TRICKY + BROKEN)
def test_both_parsers_agree_on_values_lines_and_errors(pure, text):
    assert outcome(yamlio, text) == outcome(pure, text)


def test_what_is_read_is_what_a_person_means():
    data = yamlio.parse_yaml(TRICKY[0])
    assert data == {"name": "Xã Chi Lăng", "code": "06463", "time": "17:00", "flag": "no", "yes": "on", "n": "012",
                    "f": 1.5, "b": True}
    assert data.line_of("flag") == 4
    assert yamlio.parse_yaml(TRICKY[5]) == {"ten": "Xã Chi Lăng"}
    assert yamlio.parse_yaml(TRICKY[1])["list"] == [{"voice": "espeak-vi", "rate": 1.0}] * 2


@pytest.mark.parametrize("depth, line", [(60, 1), (5000, 1)])
def test_nesting_too_deep_is_refused_at_its_line_by_either_bound(depth, line):
    # 60 levels: our bound (50), seen on the events before any node is built; 5,000: libyaml's
    # own (1,000 flow levels), met while it scans ahead
    with pytest.raises(YamlError) as caught:
        yamlio.parse_yaml("ok: 1\n" * (line - 1) + "x: " + "[" * depth + "]" * depth + "\n")
    assert caught.value.line == line and "nesting too deep" in caught.value.message


def test_nesting_up_to_the_bound_is_read():
    text = "x: " + "[" * (yamlio.MAX_DEPTH - 2) + "1" + "]" * (yamlio.MAX_DEPTH - 2) + "\n"
    value = yamlio.parse_yaml(text)["x"]
    for _ in range(yamlio.MAX_DEPTH - 3):
        (value,) = value
    assert value == [1]
    with pytest.raises(YamlError, match="nesting"):
        yamlio.parse_yaml("x: " + "[" * (yamlio.MAX_DEPTH - 1) + "1" + "]" * (yamlio.MAX_DEPTH - 1) + "\n")


@pytest.mark.parametrize("text, line, words", [
    ("a: 1\nb: *nope\nc: 1\nd: [\n", 2, "undefined alias"),
    ("a: 1\n---\nb: 1\nc: [\n", 2, "syntax error"),
    ("ok: 1\nx: " + "1" * 5000 + "\n", 2, "number too long"),
    ("ok: 1\nx: !!int " + "9" * 5000 + "\n", 2, "number too long"),
    ("ok: 1\na: b\ud800c\n", 2, "unacceptable character"),  # a lone surrogate (not from a file)
    ("k: !nesting%20depth x\n", 1, "syntax error"),  # a tag, not libyaml's nesting bound
    ("a: 1\nb: Đường Đông\nc: Xã \x0b tên\n", 3, "U+000B (control character)"),  # libyaml counts bytes
    ("a: 1\n\nb: x\x01\n", 3, "U+0001 (control character)"),
    # a quote never closed: where it opened, not the end of the file where the parser stopped
    ('id: x\ntitle: "Tiêu đề \\"\nbody: |\n  Câu một.\n', 2, "unclosed quoted text"),
    ("id: x\ntitle: 'Tiêu đề\n\nbody: x\n", 2, "unclosed quoted text"),
    ('id: x\ntitle: "a \\q b"\n', 2, "syntax error"),  # a wrong escape: at the escape
    # the mistakes staff make most, in words they use
    ("id: x\ntitle: Cảnh báo: lừa đảo qua mạng\nrepeat: 1\n", 2, "có dấu ': ' ở giữa giá trị"),
    ('id: x\nsource: "Công văn" số 12\n', 2, "chữ sau dấu ngoặc đóng"),
    ("id: x\ntitle: [Khẩn] Cảnh báo\nbody: x\n", 2, "chữ sau dấu ngoặc đóng"),
    ("id: x\ntitle: [Khẩn Cảnh báo\nbody: x\n", 2, "'[' ở dòng này chưa được đóng"),
    ("id: x\ntitle: @Zalo giả\n", 2, "bắt đầu bằng '@'"),
    ("\ufeffa: [ồ, @x]\n", 1, "bắt đầu bằng '@'"),  # a BOM is not a column of line 1
    ("id: x\nvalid:\n\tfrom: 2024-12-04\n", 3, "tab"),
    ("id: x\nbody: |x\n  Câu.\n", 2, "xuống dòng"),
    # no ':' on a line (a full-width colon, a no-break space from Word, text out of its block):
    # that line, not the next one where the parser noticed
    ("id: x\ntitle： T\nsource: y\n", 2, "expected ':'"),
    ("id: x\nlevel:\u00a0priority\nrepeat: 1\n", 2, "expected ':'"),
    ("id: x\nbody: |\n  Câu một.\nCâu hai lạc ra ngoài.\nrepeat: 1\n", 4, "expected ':'"),
    # a git merge that left both versions: where they begin, said as what it is (was 'did not find expected
    # <document start>' at line 3, or "expected ':'" further down, and 'kiểm tra thụt lề')
    (MERGED, 1, "dấu xung đột của git"),
    ("id: x\n" + MERGED.replace("id: x\n", ""), 2, "dấu xung đột của git ('<<<<<<<' ở dòng này)"),
    ("id: x\ntitle: T\n>>>>>>> nhanh-khac\n", 3, "dấu xung đột của git ('>>>>>>>' ở dòng này)"),  # the marker found
])
def test_every_mistake_is_a_yaml_error_at_its_line(text, line, words):
    with pytest.raises(YamlError) as caught:
        yamlio.parse_yaml(text)
    assert (caught.value.line, words in caught.value.message) == (line, True), caught.value


def test_a_tab_inside_a_value_is_read_as_part_of_it():
    # the one place the parsers differ: libyaml takes a tab between words of a plain value as YAML
    # allows, PyYAML's parser refuses it; one-line fields then refuse the tab (test_broken_projects)
    assert yamlio.parse_yaml("name: Xã\tChi Lăng\n") == {"name": "Xã\tChi Lăng"}
    with pytest.raises(YamlError, match="tab ở chỗ thụt lề"):
        yamlio.parse_yaml("a:\n\tb: 1\n")  # a tab as indentation stays a syntax error
