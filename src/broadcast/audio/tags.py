"""Tags that players show: ID3v2.3 for MP3; RIFF LIST/INFO plus an `id3 ` chunk for WAV.

ID3v2.3 rather than 2.4: older players, car radios and Windows Explorer read 2.3 only, and
mutagen writes its text as UTF-16, which carries Vietnamese diacritics. Padding is fixed at
zero so the same tags always give the same bytes.

WAV: mutagen's WAVE support writes only an ID3 chunk, but broadcast tools (and ffmpeg) read
the RIFF LIST/INFO chunk, so both go in as extra chunks of `broadcast.wav`. INFO text is UTF-8:
the RIFF spec predates Unicode and Vietnamese has no single-byte code page readers agree on;
UTF-8 is what ffmpeg, foobar2000 and the broadcast tools that honour INFO decode.
"""

from __future__ import annotations

import errno
import io
import math
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from mutagen import MutagenError
from mutagen.id3 import COMM, ID3, TALB, TCON, TDRC, TIT2, TLAN, TLEN, TPE1, TRCK

from broadcast import wav
from broadcast.pcm import Clip

from .dsp import LoudnessStats
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
    """Prepend an ID3v2.3 tag to the MP3 at `path` (it must have none). A disk error is raised as
    the OSError it is: mutagen wraps it in its own type, which the commands did not know for the
    machine's problem (a full USB stick ended a build with a traceback)."""
    try:
        id3_tag(tags, duration).save(str(path), v2_version=3, v1=0, padding=lambda info: 0)
    except MutagenError as error:
        cause = error.args[0] if error.args and isinstance(error.args[0], OSError) else None
        raise cause or OSError(errno.EIO, f"{path}: {error}") from None


def id3_bytes(tags: Tags, duration: float) -> bytes:
    buf = io.BytesIO()
    id3_tag(tags, duration).save(buf, v2_version=3, v1=0, padding=lambda info: 0)
    return buf.getvalue()


def _info(tags: Tags) -> bytes:
    """The body of the LIST/INFO chunk."""
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
    return b"INFO" + b"".join(wav.chunk(cid, v.encode("utf-8") + b"\0") for cid, v in fields if v)


@dataclass(frozen=True)
class Measured:
    """What the `bext` chunk says of the file's sound."""

    loudness: LoudnessStats
    true_peak_dbtp: float


def tagged_wav_bytes(pcm16: bytes, rate: int, tags: Tags, measured: Measured | None = None) -> bytes:
    """A complete 16-bit mono PCM WAV: fmt, bext (Broadcast Wave, when `measured`), LIST/INFO, id3, data."""
    clip = Clip(pcm16, rate)
    extra = [(b"bext", bext_bytes(tags, rate, measured))] if measured else []
    return wav.wav_bytes(clip, extra + [(b"LIST", _info(tags)), (b"id3 ", id3_bytes(tags, clip.duration))])


def _ascii(text: str, size: int) -> bytes:
    """`text` in the plain ASCII the `bext` chunk holds ("Cảnh báo" -> "Canh bao"), NUL-padded to `size`."""
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    data = "".join(c for c in plain if not unicodedata.combining(c)).encode("ascii", "replace")[:size]
    return data.ljust(size, b"\0")


def _centi(value: float) -> int:
    """A loudness field: the value x 100 as a signed 16-bit number; 0x7FFF where not measurable."""
    return round(value * 100) if math.isfinite(value) and -327 < value < 327 else 0x7FFF


def bext_bytes(tags: Tags, rate: int, measured: Measured) -> bytes:
    """The Broadcast Wave Format `bext` chunk, version 2 (EBU Tech 3285 v2), written by hand: no
    library we have writes it (mutagen reads WAV tags only as ID3, soundfile does not do `bext`).
    The origination date is the broadcast date from the tags and the time 00:00:00, so that the
    same content gives the same bytes whenever it is built."""
    date = (tags.date or "1970-01-01")[:10]
    loud = measured.loudness
    history = f"A=PCM,F={rate},W=16,M=mono,T=broadcast\r\n".encode("ascii")
    return (_ascii(tags.title, 256) + _ascii(tags.artist, 32) + _ascii(tags.script_id or "broadcast", 32)
            + date.encode("ascii").ljust(10, b"0") + b"00:00:00"
            + struct.pack("<IIH", 0, 0, 2) + b"\0" * 64  # time reference 0; version 2; no UMID
            + struct.pack("<hhhhh", _centi(loud.integrated_lufs), _centi(loud.range_lu),
                          _centi(measured.true_peak_dbtp), _centi(loud.max_momentary_lufs),
                          _centi(loud.max_short_term_lufs))
            + b"\0" * 180 + history)


def read_wav_info(path: Path) -> dict[str, str]:
    """The LIST/INFO fields of a WAV file, by RIFF id (e.g. {"INAM": "..."})."""
    out: dict[str, str] = {}
    for cid, data in wav.riff_chunks(Path(path).read_bytes()):
        if cid == b"LIST" and data[:4] == b"INFO":
            for sid, value in wav.walk_chunks(data, 4):
                out[sid.decode("ascii")] = value.rstrip(b"\0").decode("utf-8")
    return out
