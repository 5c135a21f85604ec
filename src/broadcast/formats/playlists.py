"""One M3U8 playlist per slot (for stations with a player), paths relative, UTF-8."""

from __future__ import annotations

from .model import StationWeek
from .text import one_line, path_line


def write(station: StationWeek) -> dict[str, bytes]:
    files = {}
    for program in station.programs + station.emergencies:
        lines = ["#EXTM3U"]
        for item in program.items:
            lines += [f"#EXTINF:{item.seconds:.3f},{one_line(item.title)}", path_line(item.file)]
        files[f"{program.name}.m3u8"] = ("\n".join(lines) + "\n").encode("utf-8")
    return files
