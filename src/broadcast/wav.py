"""WAV files: the one reader and writer of the project, and the one RIFF chunk codec.

Plain 16-bit mono WAV is read and written by the standard `wave` module. By hand we do only
what no installed library does: RIFF chunks of our own between ``fmt `` and ``data`` (the
clip cache's ``bcsm`` checksum, the ``LIST/INFO`` and ``id3 `` tags of finished files).
`wave` skips unknown chunks when reading but cannot write them, mutagen writes only an
``id3 `` chunk, and soundfile is not a dependency; so `wav_bytes` has `wave` write the file
and splices the extra chunks in before ``data``, and `riff_chunks` walks any chunk list.
"""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import Iterator, Sequence
from pathlib import Path

from broadcast.errors import WavError
from broadcast.pcm import SAMPLE_WIDTH, Clip, to_mono16

__all__ = ["WavError", "chunk", "read_pcm", "read_wav", "riff_chunks", "walk_chunks", "wav_bytes", "write_wav"]


def chunk(cid: bytes, data: bytes) -> bytes:
    """One RIFF chunk: id, little-endian length, data, and a pad byte to an even length."""
    return cid + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def walk_chunks(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, bytes]]:
    """(id, data) of each chunk in `data[start:end]`; raises `WavError` if a chunk runs past the end."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        cid = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        if pos + 8 + size > end:
            raise WavError(f"chunk {cid!r} runs past the end")
        yield cid, data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)


def riff_chunks(blob: bytes) -> list[tuple[bytes, bytes]]:
    """The top-level chunks of a WAV file held in memory. Raises `WavError` unless the bytes
    are exactly one complete RIFF/WAVE file (the header's length matches, no chunk cut off)."""
    if len(blob) < 12 or blob[:4] != b"RIFF" or blob[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    if struct.unpack_from("<I", blob, 4)[0] != len(blob) - 8:
        raise WavError("truncated or padded")
    return list(walk_chunks(blob, 12))


def wav_bytes(clip: Clip, extra: Sequence[tuple[bytes, bytes]] = ()) -> bytes:
    """A 16-bit mono PCM WAV of `clip`, with the `extra` (id, data) chunks before ``data``."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(SAMPLE_WIDTH)
        w.setframerate(clip.rate)
        w.writeframes(clip.samples)
    plain = buf.getvalue()
    if not extra:
        return plain
    # `wave` writes RIFF header, "fmt " and "data" chunks: splice ours in between
    fmt_end = 12 + 8 + struct.unpack_from("<I", plain, 16)[0]
    body = plain[12:fmt_end] + b"".join(chunk(cid, data) for cid, data in extra) + plain[fmt_end:]
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def write_wav(clip: Clip, path: Path | str) -> Path:
    path = Path(path)
    path.write_bytes(wav_bytes(clip))
    return path


def read_pcm(source: Path | str | bytes) -> tuple[bytes, int, int, int]:
    """(interleaved PCM, channels, sample width in bytes, rate) of an integer-PCM WAV.
    Raises `WavError` for anything `wave` cannot read (float, ADPCM, damaged)."""
    try:
        with wave.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else str(source), "rb") as w:
            return w.readframes(w.getnframes()), w.getnchannels(), w.getsampwidth(), w.getframerate()
    except (wave.Error, EOFError, struct.error) as e:
        raise WavError(str(e)) from e


def read_wav(source: Path | str | bytes) -> Clip:
    """A PCM WAV (any channel count; 8/16/24/32-bit) as a 16-bit mono clip."""
    data, channels, width, rate = read_pcm(source)
    try:
        return Clip(to_mono16(data, channels, width), rate)
    except ValueError as e:
        raise WavError(str(e)) from e
