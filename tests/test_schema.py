"""The declarative schema: each option checks one value and reports at the key's line."""

from __future__ import annotations

from datetime import date, datetime, time

import yaml

from broadcast.model import Slot
from broadcast.options import Line, Place, is_kind
from broadcast.schema import COMMUNE, SCHEDULE, SETTINGS, Days, Time
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


def test_a_date_time_is_not_a_date():
    assert is_kind(date(2025, 1, 1), date) and not is_kind(datetime(2025, 1, 1, 10), date)
    assert is_kind(datetime(2025, 1, 1, 10), datetime)


def test_line_keeps_one_line_fields_on_one_line():
    problems: list = []
    assert Line().validate("  Đài xã Chi Lăng\n", place(problems)) == "Đài xã Chi Lăng"  # a '>' block's newline
    assert not problems
    for bad in ("Đài\nxã", "Đài\rxã", "Đài\u2028xã", "Đài\x07xã", "Đài\ue000xã", "Đài\ufffexã", "Đài\uffff",
                "\ufdd0Đài", "Đài\U0010ffff"):
        Line().validate(bad, place(problems))
    assert Line(blank=False).validate(" ", place(problems)) is None
    assert [p.message.split(" (")[-1] for p in problems] == ["newline)"] * 3 + ["control character)"] * 6 + \
        ["empty value)"]
    assert Line().validate("Đài \ufffd xã 😀", place(problems)) == "Đài \ufffd xã 😀"  # characters, not these


def test_slots_are_within_a_day_and_do_not_overlap():
    problems: list = []
    data = parse("id: sang\nslots:\n"
                 "  - {name: sang, days: [t2, t3], start: '06:00', minutes: 30}\n"
                 "  - {name: chieu, days: [t4], start: '06:10', minutes: 30}\n"  # other day: fine
                 "  - {name: sang-2, days: [t3], start: '06:29', minutes: 5}\n"  # overlaps 'sang' on Tuesday
                 "  - {name: ke-tiep, days: [t2], start: '06:30', minutes: 5}\n"  # starts as 'sang' ends: fine
                 "  - {name: toi, days: [t6], start: '23:50', minutes: 11}\n"
                 "  - {name: ca-ngay, days: [t5], start: '00:00', minutes: 1440}\n")  # a whole day: fine
    SCHEDULE.validate(data, place(problems))
    assert [(p.line, p.message.split(" (")[-1]) for p in problems] == [(5, "overlapping slots)"),
                                                                        (7, "slot runs past midnight)")]
    assert "'sang'" in problems[0].message and "06:00–06:30" in problems[0].message
    problems.clear()
    SCHEDULE.validate(parse("id: sang\nslots: []\n"), place(problems))
    assert [(p.line, p.field) for p in problems] == [(2, "slots")] and "no slots" in problems[0].message


def test_a_slot_a_minute_is_refused_once_at_the_first_slot_too_many():
    """1,440 one-minute slots a day: 10,080 program files a commune a week, and lint and plan took minutes."""
    from broadcast.schema import MAX_SLOTS_PER_DAY

    slots = "".join(f"  - {{name: s{m}, days: all, start: '{m // 60:02d}:{m % 60:02d}', minutes: 1}}\n"
                    for m in range(1440))
    problems: list = []
    schedule = SCHEDULE.validate(parse("id: sang\nslots:\n" + slots), place(problems))
    assert [(p.line, p.message.split(" (")[-1]) for p in problems] == [(3 + MAX_SLOTS_PER_DAY, "too many slots a day)")]
    assert "'s24'" in problems[0].message and "Thứ Hai" in problems[0].message
    weekly = "".join(f"  - {{name: s{d}{h}, days: [{d}], start: '{h:02d}:00', minutes: 30}}\n"
                     for d in ("t2", "t3", "t4", "t5", "t6", "t7", "cn") for h in range(MAX_SLOTS_PER_DAY))
    problems.clear()  # every hour of every day, each day its own slots: allowed
    assert SCHEDULE.validate(parse("id: sang\nslots:\n" + weekly), place(problems)) and not problems
    assert schedule is None or len(schedule["slots"]) <= MAX_SLOTS_PER_DAY


def test_contacts_refuse_a_key_without_a_value():
    problems: list = []
    data = parse("name: Xã A\ncode: '00001'\ncontacts:\n  police:\n    phone:\n  fire: ~\n  hotline: {name: Đường dây nóng}\n")
    values = COMMUNE.validate(data, place(problems, "locales/a/xa-a.yaml"))
    assert sorted((p.line, p.field) for p in problems) == [(5, "contacts.police.phone"), (6, "contacts.fire")]
    assert all("empty value" in p.message and p.hint for p in problems)
    assert set(values["contacts"]) == {"police", "hotline"}
