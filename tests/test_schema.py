"""The declarative schema: each option checks one value and reports at the key's line."""

from __future__ import annotations

from datetime import time

import yaml

from broadcast.model import Slot
from broadcast.options import Place, is_kind
from broadcast.schema import SCHEDULE, SETTINGS, Days, Time
from broadcast.yamlio import Loader


def parse(text: str):
    return yaml.load(text, Loader=Loader)


def place(problems: list, file: str = "schedules/sang.yaml") -> Place:
    return Place(problems, file, known={"voices": frozenset({"espeak-vi"}), "schedules": frozenset({"sang"})})


def test_options_convert_or_report():
    problems: list = []
    assert Time().validate("6:05", place(problems)) == time(6, 5)
    assert Days().validate(["cn", "T2", "t2"], place(problems)) == (1, 7)
    assert Days().validate("weekdays", place(problems)) == (1, 2, 3, 4, 5)
    assert not problems
    assert Time(default="x").validate("24:00", place(problems)) == "x"
    assert Days().validate([], place(problems)) is None
    assert [p.message.split(" (")[-1] for p in problems] == ["invalid time)", "invalid days)"]


def test_schedule_schema_builds_slots_and_reports_nested_lines():
    problems: list = []
    data = parse("id: sang\nslots:\n  - name: sang\n    start: '06:00'\n    minutes: 10\n"
                 "  - name: toi\n    start: '19:00'\n    minuts: 10\n  - sang\n")
    values = SCHEDULE.validate(data, place(problems))
    assert values["slots"] == [Slot("sang", "sang", (1, 2, 3, 4, 5, 6, 7), time(6, 0), 10)]
    found = sorted((p.line, p.field, p.hint) for p in problems)
    assert found[0][:2] == (6, "slots[1].minutes")  # missing: the item's line
    assert found[1] == (8, "slots[1].minuts", "có phải ý bạn là 'minutes'?")
    assert found[2][:2] == (9, "slots[2]") and len(found) == 3


def test_settings_reference_and_defaults():
    problems: list = []
    settings = SETTINGS.validate(parse("name: Thử\ndefault_voice: giong-khac\nmin_airings: true\n"),
                                 place(problems, "broadcast.yaml"))
    assert settings.default_voice == "espeak-vi" and settings.min_airings == 3  # defaults after the problems
    assert [(p.line, p.field) for p in problems] == [(2, "default_voice"), (3, "min_airings")]
    assert "espeak-vi" in problems[0].hint and "true/false" in problems[1].message


def test_is_kind_is_what_a_person_means():
    assert is_kind(1, float) and not is_kind(True, int) and is_kind(True, bool) and not is_kind(1.5, int)
    assert is_kind(None, (int, type(None)))


def test_engine_params_and_project_fields_share_one_set_of_primitives():
    from broadcast.options import Type
    from broadcast.schema import SCRIPT
    from broadcast.tts import ENGINES
    from broadcast.tts.base import Param

    assert all(isinstance(p, Type) for cls in ENGINES.values() for p in cls.PARAMS)
    problems: list = []
    rate = Param("rate", int, 150, "tốc độ", low=80, high=450)
    assert rate.validate(900, place(problems)) == 150  # the default, once the problem is recorded
    repeat = SCRIPT.options["repeat"]
    assert repeat.validate(9, place(problems)) == 1
    assert [p.message.split(" (")[-1] for p in problems] == ["out of range)", "out of range)"]
    assert Param("tld", str, "vi").validate(12345, place(problems)) == "vi"  # no number-to-text for params
    assert "(wrong type)" in problems[-1].message


def test_param_check_and_choices_report_with_the_help_as_fix():
    from broadcast.tts.base import Param

    problems: list = []
    mode = Param("mode", str, "a", "chế độ đọc", choices=("a", "b"))
    even = Param("n", int, 0, "số chẵn", check=lambda v: None if v % 2 == 0 else "số lẻ (odd)")
    assert mode.validate("c", place(problems)) == "a" and even.validate(3, place(problems)) == 0
    assert mode.validate("b", place(problems)) == "b" and even.validate(4, place(problems)) == 4
    assert [(p.message, p.hint) for p in problems] == [
        ("giá trị 'c' không hợp lệ (invalid value)", "dùng một trong: a, b"), ("số lẻ (odd)", "n: số chẵn")]
