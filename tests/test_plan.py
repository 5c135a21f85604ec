"""Weekly planning rules: levels, validity to the day, rotation, overflow."""

from __future__ import annotations

from collections import Counter
from datetime import date

from broadcast.model import Week
from broadcast.plan import plan_week
from broadcast.project import load_project
from conftest import run

WEEK = Week(2026, 49)  # Monday 30/11/2026 .. Sunday 06/12/2026


def script(sid: str, level: str = "normal", valid: str = "{from: 2024-01-01}", repeat: int = 1) -> str:
    return (f"id: {sid}\ntitle: Tin {sid}\nsource: thử\nlevel: {level}\nvalid: {valid}\nrepeat: {repeat}\n"
            "body: |\n  Kính thưa bà con {{ locale.name }}!\n")


def fixed(seconds: dict[str, float]):
    return lambda s, loc: seconds[s.id]


def plan(project, scripts: dict[str, str], seconds: dict[str, float], min_airings: int = 3, slots: str | None = None):
    files = {f"scripts/{sid}.yaml": text for sid, text in scripts.items()}
    files["scripts/canh-bao.yaml"] = None
    files["broadcast.yaml"] = f"name: Thử\nmin_airings: {min_airings}\n"
    if slots:
        files["schedules/sang-chieu.yaml"] = "id: sang-chieu\nslots:\n" + slots
    p = load_project(project(files))
    return plan_week(p, WEEK, fixed(seconds)).locales[0]


TWO_SLOTS = ("  - {name: sang, days: all, start: '06:00', minutes: 10}\n"
             "  - {name: chieu, days: all, start: '17:00', minutes: 10}\n")


def test_priority_first_in_every_slot_and_normals_rotate(project):
    lp = plan(project, {"a": script("a"), "b": script("b"), "c": script("c"), "u": script("u", "priority")},
              {"a": 200, "b": 200, "c": 200, "u": 100}, slots=TWO_SLOTS)
    assert len(lp.programs) == 14
    for program in lp.programs:
        assert program.items[0].script_id == "u"
        ids = [i.script_id for i in program.items]
        assert len(ids) == len(set(ids))  # never twice in one slot
        assert program.seconds <= 600
    # 500 s free per slot, 200 s each: two normals per slot, 28 normal airings over 3 scripts
    counts = Counter(i.script_id for p in lp.programs for i in p.items)
    assert counts["u"] == 14 and sorted(counts[s] for s in "abc") == [9, 9, 10]
    assert lp.shortfalls == ()
    # spread: every normal message airs on at least 5 different days
    for sid in "abc":
        assert len({p.day for p in lp.programs if any(i.script_id == sid for i in p.items)}) >= 5


def test_validity_is_respected_to_the_day(project):
    lp = plan(project, {"a": script("a", valid="{from: 2024-01-01, until: 2026-12-02}"),
                        "b": script("b", valid="{from: 2026-12-04}")}, {"a": 60, "b": 60}, min_airings=1,
              slots=TWO_SLOTS)
    days_a = {p.day for p in lp.programs if any(i.script_id == "a" for i in p.items)}
    days_b = {p.day for p in lp.programs if any(i.script_id == "b" for i in p.items)}
    assert max(days_a) == date(2026, 12, 2)  # expires Wednesday: not planned on Thursday
    assert min(days_b) == date(2026, 12, 4)


def test_overflow_names_the_message_and_the_slots(project):
    lp = plan(project, {"a": script("a"), "b": script("b"), "u": script("u", "priority")},
              {"a": 300, "b": 300, "u": 250}, slots="  - {name: sang, days: [t2, t4], start: '06:00', minutes: 10}\n")
    # 350 s left per slot: one normal fits, so a and b share 2 slots and neither reaches 3 airings
    assert {s.script_id for s in lp.shortfalls} == {"a", "b"}
    text = str(next(s for s in lp.shortfalls if s.script_id == "b"))
    assert "1/3" in text and "2026-11-30 06:00 sang" in text


def test_priority_that_does_not_fit_is_reported_for_that_slot(project):
    lp = plan(project, {"u": script("u", "priority")}, {"u": 900}, slots=TWO_SLOTS)
    assert len(lp.shortfalls) == 14 and all("u" == s.script_id for s in lp.shortfalls)
    assert lp.shortfalls[0].where == "2026-11-30 06:00 sang"


def test_emergency_gets_a_standalone_program(project):
    lp = plan(project, {"e": script("e", "emergency"), "a": script("a")}, {"e": 60, "a": 60})
    assert [a.script_id for a in lp.emergencies] == ["e"]
    assert all(p.items[0].script_id == "e" for p in lp.programs)


def test_plan_command_prints_a_table_and_strict_fails_on_shortfall(project):
    root = project({"schedules/sang-chieu.yaml": "id: sang-chieu\nslots:\n"
                    "  - {name: sang, days: [t2], start: '06:00', minutes: 1}\n"})
    result = run("plan", "--week", "2026-W49", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert "Thứ Hai 30/11" in result.output and "06:00" in result.output
    assert "canh-bao" in result.output and "1 tin không đủ chỗ" in result.output
    assert run("plan", "--week", "2026-W49", "--strict", "--project", str(root)).exit_code == 1


def test_opening_and_closing_time_is_taken_off_every_slot(project):
    files = {"scripts/canh-bao.yaml": None, "broadcast.yaml": "name: Thử\nmin_airings: 1\n",
             "schedules/sang-chieu.yaml": "id: sang-chieu\nslots:\n" + TWO_SLOTS}
    for sid in "abc":
        files[f"scripts/{sid}.yaml"] = script(sid)
    p = load_project(project(files))
    seconds = fixed({"a": 200, "b": 200, "c": 200})
    assert all(len(pr.items) == 3 for pr in plan_week(p, WEEK, seconds).locales[0].programs)
    tight = plan_week(p, WEEK, seconds, overhead=30).locales[0]
    assert all(len(pr.items) == 2 and pr.seconds + 30 <= 600 for pr in tight.programs)


def test_scripts_outside_the_week_are_not_planned_nor_measured(project):
    # the build measures only the scripts valid this week: the plan must not ask for the others
    lp = plan(project, {"a": script("a"), "old": script("old", valid="{from: 2024-01-01, until: 2024-12-31}"),
                        "next": script("next", valid="{from: 2027-01-04}")}, {"a": 60}, min_airings=1)
    assert {i.script_id for p in lp.programs for i in p.items} == {"a"}


def test_scripts_that_will_not_air_are_named_with_the_reason(project):
    files = {"scripts/canh-bao.yaml": None, "broadcast.yaml": "name: Thử\nmin_airings: 1\n",
             "schedules/sang-chieu.yaml": "id: sang-chieu\nslots:\n"
                                          "  - {name: sang, days: [t2], start: '06:00', minutes: 2}\n",
             "scripts/a.yaml": script("a"), "scripts/dai.yaml": script("dai"),
             "scripts/old.yaml": script("old", valid="{from: 2024-01-01, until: 2024-12-31}"),
             "scripts/next.yaml": script("next", valid="{from: 2027-01-04}"),
             "scripts/thu-ba.yaml": script("thu-ba", valid="{from: 2026-12-01, until: 2026-12-01}")}
    p = load_project(project(files))
    week_plan = plan_week(p, WEEK, fixed({"a": 60, "dai": 500, "thu-ba": 30}))
    reasons = {(n.script_id, n.reason, n.locale_id) for n in week_plan.not_airing}
    assert reasons == {("old", "expired", ""), ("next", "not-yet-valid", ""),
                       ("thu-ba", "no-slot", "lang-son/xa-chi-lang"), ("dai", "shortfall", "lang-son/xa-chi-lang")}
    old = next(n for n in week_plan.not_airing if n.script_id == "old")
    assert old.file == "scripts/old.yaml" and "31/12/2024" in old.message and "(expired" in old.message and old.fix
    # the command names them too (with lengths estimated from the text, "dai" fits there)
    result = run("plan", "--week", "2026-W49", "--project", str(p.root))
    assert result.exit_code == 0, result.output
    for sid in ("old", "next", "thu-ba"):
        assert f"{sid}: " in result.output
    assert "3 tin không phát (not airing)" in result.output


def test_plan_command_summarises_many_communes_and_details_on_demand(project):
    import json

    from conftest import run

    files: dict[str, str | bytes | None] = {f"locales/lang-son/xa-thu-{i:02}.yaml": f"name: Xã Thử {i:02}\ncode: '{20000 + i}'\n"
                                            for i in range(25)}
    root = project(files)
    summary = run("plan", "--week", "2026-W49", "--project", str(root))
    assert summary.exit_code == 0, summary.output
    assert "theo tỉnh" in summary.output and "│ lang-son" in summary.output and "26 xã" in summary.output
    assert "xa-thu-07 — tuần" not in summary.output  # no table per commune
    detail = run("plan", "--week", "2026-W49", "--detail", "--project", str(root))
    assert "lang-son/xa-thu-07 — tuần 2026-W49" in detail.output
    one = run("plan", "--week", "2026-W49", "--locale", "xa-thu-07", "--project", str(root))
    assert "lang-son/xa-thu-07 — tuần 2026-W49" in one.output and "theo tỉnh" not in one.output
    data = json.loads(run("plan", "--week", "2026-W49", "--json", "--project", str(root)).output)
    assert data["week"] == "2026-W49" and len(data["locales"]) == 26
    first = data["locales"][0]["programs"][0]
    assert first["items"] == ["canh-bao"] and first["capacity"] > first["seconds"] > 0
