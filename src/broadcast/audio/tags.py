"""Tags that players show: ID3v2.3 for MP3; RIFF LIST/INFO plus an `id3 ` chunk for WAV.

ID3v2.3 rather than 2.4: older players, car radios and Windows Explorer read 2.3 only, and
mutagen writes its text as UTF-16, which carries Vietnamese diacritics. Padding is fixed at
zero so the same tags always give the same bytes.

WAV: mutagen's WAVE support writes only an ID3 chunk, but broadcast tools (and ffmpeg) read
the RIFF LIST/INFO chunk, so we write the WAV file ourselves with both. INFO text is UTF-8:
the RIFF spec predates Unicode and Vietnamese has no single-byte code page readers agree on;
UTF-8 is what ffmpeg, foobar2000 and the broadcast tools that honour INFO decode.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

from mutagen.id3 import COMM, ID3, TALB, TCON, TDRC, TIT2, TLAN, TLEN, TPE1, TRCK

from .model import Tags


def _track(tags: Tags) -> str:
    if not tags.track:
        return ""
    return f"{tags.track}/{tags.track_total}" if tags.track_total else str(tags.track)


def id3_tag(tags: Tags, duration: float) -> ID3:
    id3 = ID3()
    text = [
        (TIT2, tags.title),
        (TPE1, tags.artist),
        (TALB, tags.album),
        (TRCK, _track(tags)),
        (TDRC, tags.date),
        (TLAN, tags.language),
        (TCON, tags.genre),
        (TLEN, str(round(duration * 1000))),  # ms: players need not scan the file
    ]
    for frame, value in text:
        if value:
            id3.add(frame(encoding=3, text=value))
    if tags.comment:
        id3.add(COMM(encoding=3, lang=tags.language or "vie", desc="", text=tags.comment))
    return id3


def write_id3(path: Path, tags: Tags, duration: float) -> None:
    """Prepend an ID3v2.3 tag to the MP3 at `path` (it must have none)."""
    id3_tag(tags, duration).save(str(path), v2_version=3, v1=0, padding=lambda info: 0)


def id3_bytes(tags: Tags, duration: float) -> bytes:
    buf = io.BytesIO()
    id3_tag(tags, duration).save(buf, v2_version=3, v1=0, padding=lambda info: 0)
    return buf.getvalue()


def _chunk(cid: bytes, data: bytes) -> bytes:
    return cid + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def _info_chunk(tags: Tags) -> bytes:
    fields = (
        (b"INAM", tags.title),
        (b"IART", tags.artist),
        (b"IPRD", tags.album),  # "product": what INFO readers show as the album
        (b"ITRK", _track(tags)),
        (b"ICRD", tags.date),
        (b"IGNR", tags.genre),
        (b"ILNG", tags.language),
        (b"ICMT", tags.comment),
    )
    return _chunk(b"LIST", b"INFO" + b"".join(_chunk(cid, v.encode("utf-8") + b"\0") for cid, v in fields if v))


def wav_bytes(pcm16: bytes, rate: int, tags: Tags) -> bytes:
    """A complete 16-bit mono PCM WAV: fmt, LIST/INFO, id3, data."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    duration = len(pcm16) / 2 / rate
    chunks = (
        _chunk(b"fmt ", fmt) + _info_chunk(tags) + _chunk(b"id3 ", id3_bytes(tags, duration)) + _chunk(b"data", pcm16)
    )
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def read_wav_info(path: Path) -> dict[str, str]:
    """The LIST/INFO fields of a WAV file, by RIFF id (e.g. {"INAM": "..."})."""
    blob = Path(path).read_bytes()
    out: dict[str, str] = {}
    pos = 12
    while pos + 8 <= len(blob):
        cid, size = blob[pos : pos + 4], struct.unpack_from("<I", blob, pos + 4)[0]
        if cid == b"LIST" and blob[pos + 8 : pos + 12] == b"INFO":
            sub, end = pos + 12, pos + 8 + size
            while sub + 8 <= end:
                sid, ssize = blob[sub : sub + 4], struct.unpack_from("<I", blob, sub + 4)[0]
                out[sid.decode("ascii")] = blob[sub + 8 : sub + 8 + ssize].rstrip(b"\0").decode("utf-8")
                sub += 8 + ssize + (ssize & 1)
        pos += 8 + size + (size & 1)
    return out
