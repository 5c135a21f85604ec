"""lich-phat-song.ics (RFC 5545): one event per slot, times in Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar

from .model import StationWeek

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def write(station: StationWeek) -> dict[str, bytes]:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//broadcast//lich phat song//VI")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Lịch phát sóng {station.station} — tuần {station.week.id}")
    # DTSTAMP must be the same on every rebuild (byte-identical outputs): use the week's Monday
    stamp = datetime.combine(station.week.monday, datetime.min.time(), tzinfo=UTC)
    for program in station.programs:
        event = icalendar.Event()
        event.add("uid", f"{station.week.id}-{station.locale_id.replace('/', '-')}-{program.scheduled.name}@broadcast")
        event.add("dtstamp", stamp)
        event.add("dtstart", program.scheduled.start.replace(tzinfo=TZ))
        event.add("dtend", program.scheduled.end.replace(tzinfo=TZ))
        event.add("summary", f"{program.scheduled.slot.label}: {len(program.items)} tin — {station.station}")
        lines = [f"{start:%H:%M:%S} {item.title} ({item.file})" for item, start, _ in program.item_times()]
        event.add("description", f"Tệp chương trình: {program.file}\n" + "\n".join(lines))
        event.add("location", station.name)
        cal.add_component(event)
    cal.add_missing_timezones()
    return {"lich-phat-song.ics": cal.to_ical()}
