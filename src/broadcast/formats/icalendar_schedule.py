"""lich-phat-song.ics (RFC 5545): one event per slot, times in Asia/Ho_Chi_Minh. An event lasts
as long as its program file plays; its description lists each file at the second it starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import icalendar

from .model import StationWeek
from .text import one_line

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@lru_cache(maxsize=1)
def _vtimezone() -> icalendar.Timezone:
    """The VTIMEZONE of TZ, derived once from the zone's rules (30 ms each time: a whole
    province's calendars spent seconds on it). Only ever serialised, never changed."""
    return icalendar.Timezone.from_tzid(TZ.key)


def write(station: StationWeek) -> dict[str, bytes]:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//broadcast//lich phat song//VI")
    cal.add("version", "2.0")
    # every text property is one line (icalendar escapes \n but not a lone CR); the description's
    # own line breaks are between lines of one-line text
    station_name = one_line(station.station)
    # an X- property is stored as it is given (vUnknown): TEXT, so that ; , and \ are escaped
    cal.add("x-wr-calname", icalendar.vText(f"Lịch phát sóng {station_name} — tuần {station.week.id}"))
    # DTSTAMP must be the same on every rebuild (byte-identical outputs): use the week's Monday
    stamp = datetime.combine(station.week.monday, datetime.min.time(), tzinfo=UTC)
    for program in station.programs:
        event = icalendar.Event()
        event.add("uid", f"{station.week.id}-{station.locale_id.replace('/', '-')}-{program.scheduled.name}@broadcast")
        event.add("dtstamp", stamp)
        event.add("dtstart", program.scheduled.start.replace(tzinfo=TZ))
        event.add("dtend", (program.scheduled.start + timedelta(seconds=round(program.seconds))).replace(tzinfo=TZ))
        event.add("summary", f"{one_line(program.scheduled.slot.label)}: {len(program.messages)} tin — {station_name}")
        lines = [f"{start + timedelta(microseconds=500_000):%H:%M:%S} {one_line(item.title)} ({one_line(item.file)})"
                 for item, start, _ in program.item_times()]
        event.add("description", f"Tệp chương trình: {one_line(program.file)}\n" + "\n".join(lines))
        event.add("location", one_line(station.name))
        cal.add_component(event)
    cal.subcomponents.insert(0, _vtimezone())  # what add_missing_timezones() would insert
    cal.add_missing_timezones()  # none left: every time above is in TZ
    return {FILE: cal.to_ical()}


FILE = "lich-phat-song.ics"


def joined(newest: bytes, earlier: list[bytes]) -> bytes:
    """One calendar of a commune's weeks, for an address that stays (output/moi-nhat/): `newest`
    with the events of the `earlier` weeks' calendars (ours) added, named for the station, not a
    week. A calendar app subscribed to it keeps the week on air after Friday's build of the next."""
    cal = icalendar.Calendar.from_ical(newest)
    name = str(cal.get("x-wr-calname", ""))
    cal["x-wr-calname"] = icalendar.vText(name.rsplit(" — tuần ", 1)[0])
    for data in earlier:
        for event in icalendar.Calendar.from_ical(data).walk("VEVENT"):
            cal.add_component(event)
    return cal.to_ical()
