"""Plan a week: which messages air in which slot of each commune's schedule.

Rules (Thông tư 39/2020/TT-BTTTT levels):
- priority and emergency messages go first in every slot of every day they are valid;
- normal messages fill the rest of each slot, least-aired first (a round robin, so airings
  spread over days and slots), never twice in one slot;
- every valid normal message must air at least `min_airings` times in the week; when slots are
  too short, the plan says exactly which message did not fit where;
- emergency messages also get a standalone program for immediate airing.
Planning needs only durations (estimated from text before synthesis, exact after), so it is
fast enough for every commune in the country.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .model import Locale, Project, Schedule, Script, Slot, Week

LEVEL_ORDER = {"emergency": 0, "priority": 1, "normal": 2}
WEEKDAY_NAMES = {1: "Thứ Hai", 2: "Thứ Ba", 3: "Thứ Tư", 4: "Thứ Năm", 5: "Thứ Sáu", 6: "Thứ Bảy", 7: "Chủ Nhật"}


@dataclass(frozen=True)
class Airing:
    script_id: str
    level: str
    seconds: float


@dataclass(frozen=True)
class Program:
    """One slot on one day for one commune: the messages in the order they air."""

    locale_id: str
    day: date
    slot: Slot
    items: tuple[Airing, ...]
    capacity: float  # seconds available for messages

    @property
    def start(self) -> datetime:
        return datetime.combine(self.day, self.slot.start)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.slot.minutes)

    @property
    def seconds(self) -> float:
        return sum(item.seconds for item in self.items)

    @property
    def name(self) -> str:
        """Sortable file stem, e.g. 2026-12-01_0600_sang."""
        return f"{self.day.isoformat()}_{self.slot.start:%H%M}_{self.slot.name}"


@dataclass(frozen=True)
class Shortfall:
    """A message that did not fit: where, and why."""

    locale_id: str
    script_id: str
    where: str  # e.g. "2026-12-01 06:00 sang", or "cả tuần" (whole week)
    message: str

    def __str__(self) -> str:
        return f"{self.locale_id}: {self.script_id}: {self.where}: {self.message}"


@dataclass(frozen=True)
class NotAiring:
    """A script that will not air this week, in any commune (`locale_id` "") or in one, and why:
    `reason` is "expired", "not-yet-valid", "not-approved", "no-slot" or "shortfall"."""

    script_id: str
    reason: str
    message: str
    fix: str
    file: str  # the script's file
    locale_id: str = ""

    def __str__(self) -> str:
        where = f"{self.locale_id}: " if self.locale_id else ""
        return f"{where}{self.script_id}: {self.message}"


@dataclass(frozen=True)
class LocalePlan:
    locale_id: str
    programs: tuple[Program, ...]
    emergencies: tuple[Airing, ...]  # each gets a standalone program for immediate airing
    shortfalls: tuple[Shortfall, ...]
    not_airing: tuple[NotAiring, ...] = ()  # valid this week, but no airing in this commune

    def airings(self, script_id: str) -> int:
        return sum(item.script_id == script_id for p in self.programs for item in p.items)


@dataclass(frozen=True)
class WeekPlan:
    week: Week
    locales: tuple[LocalePlan, ...]
    outside: tuple[NotAiring, ...] = ()  # scripts whose validity does not touch the week

    @property
    def shortfalls(self) -> list[Shortfall]:
        return [s for plan in self.locales for s in plan.shortfalls]

    @property
    def not_airing(self) -> list[NotAiring]:
        """Every script that will not air, nowhere or in some commune: nothing vanishes silently."""
        return list(self.outside) + [n for plan in self.locales for n in plan.not_airing]


Durations = Callable[[Script, Locale], float]


def estimate_seconds(script: Script, words: int, syllables_per_second: float = 2.6) -> float:
    """A message's length before synthesis: Vietnamese words are syllables, read at radio pace.

    Includes the repeat, the spoken reminder between repeats and the chime (about 4 s).
    """
    speech = words / syllables_per_second
    return round(4.0 + script.repeat * speech + (script.repeat - 1) * 2.0, 1)


def plan_week(project: Project, week: Week, durations: Durations, locales: Iterable[Locale] | None = None,
              overhead: float = 0.0, held: Iterable[Script] = ()) -> WeekPlan:
    """Plan `week` for `locales` (default: all). `overhead`: seconds per slot taken by opening/closing.

    Only the scripts valid on some day of the week are planned (and asked their durations);
    the others, and the `held` ones (approval required, not approved), are named in `WeekPlan.outside`."""
    schedules = {s.id: s for s in project.schedules}
    held_ids = {s.id for s in held}
    airing = tuple(s for s in project.scripts if s.valid.touches(week.days) and s.id not in held_ids)
    plans = tuple(
        _plan_locale(locale, schedules[locale.schedule], airing, week, durations,
                     project.settings.min_airings, overhead)
        for locale in (project.locales if locales is None else locales)
    )
    outside = tuple(_outside(s, week) for s in project.scripts if not s.valid.touches(week.days))
    outside += tuple(NotAiring(s.id, "not-approved", f"chưa được duyệt nên không phát trong tuần {week.id} "
                               "(approval required: not approved)",
                               "người duyệt mở kịch bản trong studio và bấm Duyệt", s.file)
                     for s in project.scripts if s.id in held_ids)
    return WeekPlan(week, plans, outside)


def _outside(script: Script, week: Week) -> NotAiring:
    """Why a script valid on no day of `week` does not air."""
    if script.valid.until is not None and script.valid.until < week.monday:
        return NotAiring(script.id, "expired",
                         f"đã hết hạn ngày {script.valid.until:%d/%m/%Y}, không phát trong tuần {week.id} "
                         "(expired: will not air)",
                         "nếu tin còn cần phát, gia hạn 'valid: until'; nếu không, chuyển tệp ra khỏi scripts/",
                         script.file)
    return NotAiring(script.id, "not-yet-valid",
                     f"chỉ có hiệu lực từ ngày {script.valid.start:%d/%m/%Y}, chưa phát trong tuần {week.id} "
                     "(not yet valid: will not air)",
                     "nếu cần phát ngay tuần này, sửa 'valid: from'", script.file)


def _plan_locale(locale: Locale, schedule: Schedule, scripts: tuple[Script, ...], week: Week,
                 durations: Durations, min_airings: int, overhead: float) -> LocalePlan:
    seconds = {s.id: durations(s, locale) for s in scripts}
    urgent = sorted((s for s in scripts if s.level != "normal"), key=lambda s: (LEVEL_ORDER[s.level], s.id))
    normal = sorted((s for s in scripts if s.level == "normal"), key=lambda s: s.id)
    aired: dict[str, int] = {s.id: 0 for s in scripts}
    last: dict[str, int] = {s.id: -1 for s in scripts}
    missed: dict[str, list[str]] = {s.id: [] for s in scripts}
    shortfalls: list[Shortfall] = []
    programs: list[Program] = []
    instances = sorted(((day, slot) for day in week.days for slot in schedule.slots if day.isoweekday() in slot.days),
                       key=lambda pair: (pair[0], pair[1].start))
    for index, (day, slot) in enumerate(instances):
        capacity = slot.minutes * 60 - overhead
        left = capacity
        items: list[Airing] = []
        where = f"{day.isoformat()} {slot.start:%H:%M} {slot.name}"
        for script in urgent:
            if not script.valid.covers(day):
                continue
            if seconds[script.id] > left:
                shortfalls.append(Shortfall(locale.id, script.id, where,
                                            f"tin {script.level} dài {seconds[script.id]:.0f} giây, buổi phát chỉ còn "
                                            f"{max(left, 0):.0f} giây (does not fit)"))
                continue
            items.append(Airing(script.id, script.level, seconds[script.id]))
            left -= seconds[script.id]
        # least aired first, then least recently aired: a round robin that spreads airings
        for script in sorted((s for s in normal if s.valid.covers(day)),
                             key=lambda s: (aired[s.id], last[s.id], s.id)):
            if seconds[script.id] <= left:
                items.append(Airing(script.id, script.level, seconds[script.id]))
                left -= seconds[script.id]
            else:
                missed[script.id].append(where)
        for item in items:
            aired[item.script_id] += 1
            last[item.script_id] = index
        programs.append(Program(locale.id, day, slot, tuple(items), capacity))
    for script in normal:
        valid_slots = sum(script.valid.covers(day) for day, _ in instances)
        if valid_slots and aired[script.id] < min_airings:
            where = ", ".join(missed[script.id][:6]) + (" ..." if len(missed[script.id]) > 6 else "")
            reason = (f"chỉ phát được {aired[script.id]}/{min_airings} lần trong tuần (aired {aired[script.id]} of "
                      f"{min_airings} times)")
            if valid_slots < min_airings:
                reason += f"; chỉ còn hiệu lực trong {valid_slots} buổi phát"
            if missed[script.id]:
                reason += f"; không vừa thời lượng ở: {where}"
            shortfalls.append(Shortfall(locale.id, script.id, "cả tuần", reason))
    emergencies = tuple(Airing(s.id, s.level, seconds[s.id]) for s in urgent
                        if s.level == "emergency" and any(s.valid.covers(d) for d in week.days))
    silent = tuple(_silent(locale, s, sum(s.valid.covers(day) for day, _ in instances)) for s in scripts
                   if aired[s.id] == 0 and s.level != "emergency")  # an emergency has its own program
    return LocalePlan(locale.id, tuple(programs), emergencies, tuple(shortfalls), silent)


def _silent(locale: Locale, script: Script, valid_slots: int) -> NotAiring:
    """Why a script valid this week airs nowhere in `locale`."""
    if not valid_slots:
        return NotAiring(script.id, "no-slot",
                         f"lịch '{locale.schedule}' không có buổi phát nào trong những ngày tin còn hiệu lực "
                         "(no slot: will not air)",
                         "thêm buổi phát vào lịch của xã hoặc sửa 'valid' của kịch bản", script.file, locale.id)
    return NotAiring(script.id, "shortfall",
                     "không vừa buổi phát nào trong tuần (shortfall: will not air)",
                     "rút ngắn nội dung, giảm 'repeat' hoặc kéo dài buổi phát trong lịch", script.file, locale.id)


def durations_from(table: Mapping[tuple[str, str], float]) -> Durations:
    """Exact durations measured after mastering, keyed by (script id, locale id)."""
    return lambda script, locale: table[(script.id, locale.id)]
