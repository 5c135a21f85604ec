"""Join finished MP3 message files into one program file without re-encoding.

CBR MP3 frames with identical parameters are independent enough to concatenate: LAME starts
each file's bit reservoir empty, and our files begin and end in silence, so the frame
boundary between two parts is inaudible. We strip each part's ID3v2/ID3v1 tags and any
Xing/Info/VBRI frame (whose frame count would describe one part only), refuse parts whose
frame parameters differ, and write fresh tags. No quality is lost and it runs at disk speed.
"""

from __future__ import annotations

import math
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from cachetools import LRUCache, cached

from broadcast.errors import bilingual
from broadcast.ffmpeg import decode

from .files import finish, temp_beside, write_chunks
from .model import AudioError, AudioFile, Tags
from .tags import id3_bytes

_BITRATES = {  # kbps by bitrate index, Layer III
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2 and 2.5
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}  # by version bits


@dataclass(frozen=True)
class Mp3Frames:
    """The audio frames of one MP3 file and the parameters they share."""

    data: bytes
    count: int
    rate: int
    samples_per_frame: int
    signature: tuple[int, ...]  # version, layer, bitrate, rate, channel mode: must match to join

    @property
    def duration(self) -> float:
        return self.count * self.samples_per_frame / self.rate


def _strip_tags(blob: bytes) -> bytes:
    if blob[:3] == b"ID3":
        if len(blob) < 10:  # a cut-off tag: no frames follow
            return b""
        size = (blob[6] << 21) | (blob[7] << 14) | (blob[8] << 7) | blob[9]
        blob = blob[10 + size + (10 if blob[5] & 0x10 else 0) :]
    if len(blob) >= 128 and blob[-128:-125] == b"TAG":
        blob = blob[:-128]
    return blob


_SAME = 0xFFFEFCC0  # header bits every frame of a CBR file shares: sync, version, layer, bitrate, rate, mode
_HEADER = struct.Struct(">I")


def _not_valid(path: Path, pos: int) -> AudioError:
    return AudioError(bilingual(f"{Path(path).name}: không phải MP3 CBR hợp lệ ở byte {pos}",
                                "not a valid Layer III stream"))


def read_frames(path: Path) -> Mp3Frames:
    """Parse the Layer III frames of `path`, dropping tags and any VBR info frame.

    The first frame's header gives the frame length; each frame after it is found from the one
    before by that length and its padding bit, and then every header is checked at once (numpy)
    to carry the first one's parameters. A week's programs walk millions of frames: this reads a
    byte per frame in the loop where decoding each header in Python took seconds per province."""
    blob = _strip_tags(Path(path).read_bytes())
    if len(blob) < 4:
        raise AudioError(bilingual(f"{Path(path).name}: không có khung MP3 nào", "no MP3 frames"))
    (h,) = _HEADER.unpack_from(blob)
    version, layer = (h >> 19) & 3, (h >> 17) & 3
    bitrate_i, rate_i, mode = (h >> 12) & 15, (h >> 10) & 3, (h >> 6) & 3
    if h >> 21 != 0x7FF or layer != 1 or version == 1 or bitrate_i in (0, 15) or rate_i == 3:
        raise _not_valid(path, 0)
    mpeg1 = version == 3
    kbps = _BITRATES[1 if mpeg1 else 2][bitrate_i]
    rate = _RATES[version][rate_i]
    base = (144 if mpeg1 else 72) * kbps * 1000 // rate  # bytes per frame, plus the padding bit
    starts = []
    pos, size = 0, len(blob)
    while pos + 4 <= size:
        starts.append(pos)
        pos += base + ((blob[pos + 2] >> 1) & 1)
    at = np.array(starts)
    bytes_ = np.frombuffer(blob, np.uint8)
    headers = (bytes_[at].astype(np.uint32) << 24 | bytes_[at + 1].astype(np.uint32) << 16
               | bytes_[at + 2].astype(np.uint32) << 8 | bytes_[at + 3])
    wrong = np.flatnonzero((headers & _SAME) != (h & _SAME))
    if len(wrong):  # not a frame where one should be, or a frame of other parameters (VBR, mixed)
        raise _not_valid(path, starts[wrong[0]])
    side = (32 if mode != 3 else 17) if mpeg1 else (17 if mode != 3 else 9)
    first = blob[: base + ((h >> 9) & 1)]
    is_info = first[4 + side : 8 + side] in (b"Xing", b"Info") or first[36:40] == b"VBRI"
    skip = 1 if is_info else 0
    if len(starts) <= skip:
        raise AudioError(bilingual(f"{Path(path).name}: không có khung MP3 nào", "no MP3 frames"))
    return Mp3Frames(blob[starts[skip]:min(pos, size)], len(starts) - skip, rate, 1152 if mpeg1 else 576,
                     (version, layer, kbps, rate, mode))


# A message joins ~25 of a province's ~700 segments (~100 KB each), a program ~8 message files
# (~1.5 MB each), over and over: held by bytes, not by count, so a country's build stays bounded.
_CACHE_BYTES = 128 * 1024 * 1024


@cached(LRUCache(maxsize=_CACHE_BYTES, getsizeof=lambda frames: len(frames.data) + 200), lock=threading.Lock())
def _frames_of(path: str, size: int, mtime_ns: int) -> Mp3Frames:
    return read_frames(Path(path))


def _frames(path: Path) -> Mp3Frames:
    """read_frames, remembered: a week's messages reuse the same segments, and its programs the
    same few message files, many times."""
    st = os.stat(path)
    return _frames_of(str(path), st.st_size, st.st_mtime_ns)


def concat_mp3(parts: list[Path], out: Path, tags: Tags, measure: bool = True, in_place: bool = False) -> AudioFile:
    """Join CBR MP3 files of identical format into `out` (atomically), tagged with `tags`.

    `measure=False` skips decoding the result to meter it (a program of parts that are each
    already on target): the duration is then exact from the frame count, loudness is NaN.
    `in_place` (with `measure=False`): `out` is a scratch path holding an old file to write over
    (`files.write_chunks`), not a published one: no temp file and rename.
    """
    if not parts:
        raise AudioError(bilingual("không có tệp nào để ghép", "nothing to concatenate"))
    frames = [_frames(p) for p in parts]
    for p, f in zip(parts[1:], frames[1:], strict=True):
        if f.signature != frames[0].signature:
            raise AudioError(
                bilingual(
                    f"{Path(p).name} có định dạng MP3 khác {Path(parts[0]).name}; hãy dùng cùng một preset",
                    "parts differ in MP3 format; master them with the same preset",
                )
            )
    out = Path(out)
    duration = sum(f.duration for f in frames)
    chunks = (id3_bytes(tags, duration), *(f.data for f in frames))  # written part by part: programs are GBs
    if in_place and not measure:
        return AudioFile(out, duration, write_chunks(out, chunks, in_place=True), math.nan, math.nan)
    tmp = temp_beside(out)
    try:
        digest = write_chunks(tmp, chunks)
        if not measure:
            os.replace(tmp, out)
            return AudioFile(out, duration, digest, math.nan, math.nan)
        return finish(tmp, out, decode(tmp, frames[0].rate)[0], frames[0].rate)
    finally:
        tmp.unlink(missing_ok=True)
