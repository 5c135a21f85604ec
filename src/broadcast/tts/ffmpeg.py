"""Decode any audio (MP3 from gTTS, recordings) to a `Clip`, with the ffmpeg of `imageio-ffmpeg`.

The one place this stage runs ffmpeg, so its failures are wrapped once. We ask ffmpeg for
a WAV on stdout and read the sample rate from its ``fmt`` chunk (the lengths in a piped
WAV header are placeholders, so the data is everything after the ``data`` chunk header).
pydub is not used for decoding because it wants ffprobe, which the wheel does not ship.
"""

from __future__ import annotations

import struct
import subprocess
from functools import lru_cache
from pathlib import Path

from .base import Availability, Clip, EngineUnavailable, TTSError, bilingual

FFMPEG_FIX = bilingual("cài gói imageio-ffmpeg: pip install imageio-ffmpeg", "install the imageio-ffmpeg wheel")


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as e:  # ImportError or its RuntimeError "no ffmpeg found"
        raise EngineUnavailable(bilingual(f"không tìm thấy ffmpeg: {e}", "ffmpeg not found") + "; " + FFMPEG_FIX) from e


def ffmpeg_status() -> Availability:
    try:
        exe = ffmpeg_exe()
        out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, timeout=20)
        first = out.stdout.decode(errors="replace").splitlines()[0] if out.stdout else exe
        if out.returncode != 0:
            return Availability(False, bilingual(f"ffmpeg không chạy được: {exe}", "ffmpeg does not run"), FFMPEG_FIX)
        return Availability(True, first)
    except EngineUnavailable as e:
        return Availability(False, e.message, FFMPEG_FIX)
    except (OSError, subprocess.SubprocessError) as e:
        return Availability(False, bilingual(f"ffmpeg không chạy được: {e}", "ffmpeg does not run"), FFMPEG_FIX)


def decode(source: bytes | Path, fmt: str | None = None, rate: int | None = None, what: str = "") -> Clip:
    """Decode audio bytes or a file to 16-bit mono PCM (resampled to `rate` if given).

    `fmt` forces the input format (e.g. "mp3") when decoding bytes from a pipe.
    Raises `TTSError` naming `what` (the sentence or file) when ffmpeg fails.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin"]
    if fmt:
        cmd += ["-f", fmt]
    cmd += ["-i", "pipe:0" if isinstance(source, (bytes, bytearray)) else str(source)]
    cmd += ["-vn", "-ac", "1", "-acodec", "pcm_s16le"]
    if rate:
        cmd += ["-ar", str(rate)]
    cmd += ["-f", "wav", "pipe:1"]
    try:
        out = subprocess.run(
            cmd,
            input=bytes(source) if isinstance(source, (bytes, bytearray)) else None,
            capture_output=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError) as e:
        raise TTSError(bilingual(f"ffmpeg lỗi khi giải mã {what}: {e}", "ffmpeg failed to decode")) from e
    if out.returncode != 0:
        err = out.stderr.decode(errors="replace").strip().splitlines()
        raise TTSError(
            bilingual(
                f"ffmpeg không giải mã được {what}: {err[-1] if err else out.returncode}",
                "ffmpeg could not decode the audio",
            )
        )
    return _parse_piped_wav(out.stdout, what)


def _parse_piped_wav(blob: bytes, what: str) -> Clip:
    if blob[:4] != b"RIFF" or blob[8:12] != b"WAVE":
        raise TTSError(bilingual(f"ffmpeg trả về dữ liệu lạ khi giải mã {what}", "unexpected ffmpeg output"))
    pos, rate = 12, None
    while pos + 8 <= len(blob):
        cid = blob[pos : pos + 4]
        (size,) = struct.unpack_from("<I", blob, pos + 4)
        if cid == b"fmt ":
            rate = struct.unpack_from("<I", blob, pos + 12)[0]
        elif cid == b"data":
            data = blob[pos + 8 :]
            if rate is None:
                break
            return Clip(data[: len(data) - len(data) % 2], rate)
        pos += 8 + size + (size & 1)
    raise TTSError(bilingual(f"ffmpeg trả về WAV hỏng khi giải mã {what}", "malformed WAV from ffmpeg"))
