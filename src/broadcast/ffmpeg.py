"""The project's one use of FFmpeg: decoding any audio, the `atempo` time-stretch, and an
independent loudness meter. Failures are wrapped here once, as the project's errors.

Decoding (MP3 from gTTS, recordings in any format staff bring, our own files for verification)
and `atempo` (a WSOLA time-stretch, pitch kept) run in-process through PyAV's FFmpeg libraries:
a week's build cuts messages into thousands of short segments, and starting an ffmpeg process
for each stretch and each verifying decode cost more than the work itself. The `ebur128` check
runs the separate ffmpeg program of imageio-ffmpeg, so the meter that checks our numpy meter
shares no code with the build; `ffmpeg_status` reports that program for `doctor`. Loudness,
filters and limiting are done in numpy (`audio.dsp`), because ffmpeg's `loudnorm` is slow and
its two-pass mode needs a second run per file.
"""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import numpy as np

from broadcast.errors import AudioError, BroadcastError, EngineUnavailable, bilingual
from broadcast.pcm import Clip, to_pcm16

FFMPEG_FIX = bilingual("cài gói imageio-ffmpeg: pip install imageio-ffmpeg", "install the imageio-ffmpeg wheel")
_CHUNK = 1 << 16  # samples pushed into a filter graph at a time


# --------------------------------------------------------------------------- in-process (PyAV)


def decode(
    source: bytes | Path | str,
    rate: int | None = None,
    *,
    fmt: str | None = None,
    what: str = "",
    error: type[BroadcastError] = AudioError,
    max_seconds: float | None = None,
    formats: str | None = None,
) -> tuple[np.ndarray, int]:
    """Decode a file or in-memory audio the way a player would: every frame (without a LAME
    tag nothing is trimmed), mixed to mono, resampled to `rate` if given (else kept).

    Returns (float64 samples, full scale 1.0, and their rate). `fmt` names the container when
    decoding bytes (e.g. "mp3"). Raises `error` (AudioError, or TTSError for an engine) naming
    `what` (default: the file name); `TooLong` once more than `max_seconds` are decoded (a 45-minute
    meeting uploaded as a recording took 3.5 GB before its length was checked). `formats`: the only
    containers (FFmpeg demuxer names, comma-separated) a file from elsewhere may be read as: FFmpeg
    otherwise also reads a playlist (ffconcat, HLS), which opens other files and addresses itself.
    """
    label = what or (Path(source).name if not isinstance(source, (bytes, bytearray)) else "")
    try:
        stream_source = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray)) else str(source)
        options = {"format_whitelist": formats} if formats else None
        with av.open(stream_source, mode="r", format=fmt, options=options) as container:
            stream = container.streams.audio[0]
            out_rate = rate or stream.codec_context.sample_rate or stream.rate
            out: list[np.ndarray] = []
            resampler: av.AudioResampler | None = None  # for frames of another rate or sample format
            decoded = 0  # samples out so far
            shape = None
            for frame in container.decode(stream):
                # frame by frame: a stream may change rate or layout midway (MP3s joined byte by byte)
                if (frame.sample_rate, frame.layout.name, frame.format.name) != shape:
                    out.extend(_drained(resampler))
                    shape = (frame.sample_rate, frame.layout.name, frame.format.name)
                    as_decoded = frame.sample_rate == out_rate and frame.format.name in ("flt", "fltp")
                    resampler = None if as_decoded else av.AudioResampler(format="fltp", rate=out_rate)
                before = len(out)
                if resampler is None:
                    out.append(_mono(frame))
                else:
                    out.extend(_mono(f) for f in resampler.resample(frame))
                decoded += sum(len(x) for x in out[before:])  # what was decoded: a stream may start late
                if max_seconds is not None and decoded > max_seconds * out_rate:
                    raise TooLong(decoded / out_rate)
            out.extend(_drained(resampler))
    except (av.InvalidDataError, av.ArgumentError) as e:
        # FFmpeg's own words ('[Errno 1094995529] Invalid data found ...') told nothing; a container not in
        # `formats` is refused as an invalid argument
        if isinstance(e, av.ArgumentError) and not formats:
            raise error(bilingual(f"không giải mã được {label}: {e}", "could not decode the audio")) from e
        raise error(bilingual(f"không giải mã được {label}: tệp hỏng hoặc không phải âm thanh; hãy xuất lại thành "
                              "WAV hoặc MP3 (ví dụ mở bằng Audacity rồi Export)", "not audio, or damaged")) from e
    except (av.FFmpegError, IndexError, ValueError) as e:
        raise error(bilingual(f"không giải mã được {label}: {e}", "could not decode the audio")) from e
    return (np.concatenate(out).astype(np.float64) if out else np.zeros(0)), out_rate


class TooLong(Exception):
    """Decoding went past its `max_seconds` (at `seconds`)."""

    def __init__(self, seconds: float):
        super().__init__(seconds)
        self.seconds = seconds


def _mono(frame: av.AudioFrame) -> np.ndarray:
    """A float frame's samples, channels averaged as the ffmpeg program's `-ac 1` does (PyAV's mono
    resampler would sum stereo at 0.707 each, 3 dB louder than any player)."""
    channels = frame.layout.nb_channels
    if channels == 1 and frame.format.is_planar:  # the plane's bytes as they are (to_ndarray: 5x the cost)
        return np.frombuffer(memoryview(frame.planes[0]), np.float32, frame.samples).copy()
    x = frame.to_ndarray()
    return x.reshape(-1, channels).mean(axis=1) if not frame.format.is_planar else x.mean(axis=0)


def _drained(resampler: av.AudioResampler | None) -> list[np.ndarray]:
    return [_mono(f) for f in resampler.resample(None)] if resampler is not None else []


def decode_clip(
    source: bytes | Path | str,
    rate: int | None = None,
    *,
    fmt: str | None = None,
    what: str = "",
    error: type[BroadcastError] = AudioError,
    max_seconds: float | None = None,
    formats: str | None = None,
) -> Clip:
    """`decode`, as a 16-bit mono clip (what the TTS engines return)."""
    x, out_rate = decode(source, rate, fmt=fmt, what=what, error=error, max_seconds=max_seconds, formats=formats)
    return Clip(to_pcm16(x), out_rate)


def _frames_out(graph: av.filter.Graph, out: list[np.ndarray]) -> None:
    while True:
        try:
            out.append(graph.pull().to_ndarray()[0])
        except (av.BlockingIOError, av.EOFError):
            return


def stretch(x: np.ndarray, rate: int, tempo: float) -> np.ndarray:
    """Speak `tempo` times as fast (0.92: 8 % slower) without changing pitch (FFmpeg `atempo`)."""
    if tempo == 1.0 or not len(x):
        return x
    try:
        graph = av.filter.Graph()
        source = graph.add_abuffer(format="flt", sample_rate=rate, layout="mono", time_base=Fraction(1, rate))
        tempo_filter = graph.add("atempo", f"{tempo:.4f}")
        sink = graph.add("abuffersink")
        source.link_to(tempo_filter)
        tempo_filter.link_to(sink)
        graph.configure()
        samples = np.ascontiguousarray(x, dtype=np.float32)
        out: list[np.ndarray] = []
        for start in range(0, len(samples), _CHUNK):
            frame = av.AudioFrame.from_ndarray(samples[None, start : start + _CHUNK], format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            graph.push(frame)
            _frames_out(graph, out)
        graph.push(None)
        _frames_out(graph, out)
    except av.FFmpegError as e:
        raise AudioError(bilingual(f"FFmpeg lỗi khi đổi nhịp độ: {e}", "FFmpeg failed while changing tempo")) from e
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


# --------------------------------------------------------------------------- the ffmpeg program


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The ffmpeg program shipped in the imageio-ffmpeg wheel."""
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as e:  # ImportError or its RuntimeError "no ffmpeg found"
        raise EngineUnavailable(bilingual(f"không tìm thấy ffmpeg: {e}", "ffmpeg not found") + "; " + FFMPEG_FIX) from e


def ffmpeg_status() -> tuple[bool, str]:
    """(runs, version line or what went wrong) for the ffmpeg program; the fix is `FFMPEG_FIX`."""
    try:
        exe = ffmpeg_exe()
        out = subprocess.run([exe, "-hide_banner", "-version"], check=False, capture_output=True, timeout=20)
    except EngineUnavailable as e:
        return False, e.message
    except (OSError, subprocess.SubprocessError) as e:
        return False, bilingual(f"ffmpeg không chạy được: {e}", "ffmpeg does not run")
    if out.returncode != 0:
        return False, bilingual(f"ffmpeg không chạy được: {exe}", "ffmpeg does not run")
    return True, out.stdout.decode(errors="replace").splitlines()[0] if out.stdout else exe


@dataclass(frozen=True)
class Ebur128:
    """ffmpeg's own EBU R128 reading of a file: an independent check on our numpy meter."""

    integrated_lufs: float
    true_peak_dbtp: float
    range_lu: float = 0.0  # EBU Tech 3342 loudness range


def measure_ebur128(path: Path) -> Ebur128:
    """Integrated loudness and true peak of a file, measured by ffmpeg's `ebur128` filter."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path), "-af", "ebur128=peak=true",
           "-f", "null", "-"]
    try:
        out = subprocess.run(cmd, check=False, capture_output=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as e:
        raise AudioError(bilingual(f"ffmpeg không chạy được (ebur128): {e}", "ffmpeg failed (ebur128)")) from e
    summary = out.stderr.decode(errors="replace").rsplit("Summary:", 1)[-1]
    found = {k: re.search(rf"{k}:\s+(-?[\d.]+|-inf)", summary) for k in ("I", "Peak", "LRA")}
    i, peak, lra = found["I"], found["Peak"], found["LRA"]
    if out.returncode != 0 or i is None or peak is None:
        raise AudioError(bilingual(f"ffmpeg không đo được {path.name}", "ffmpeg could not measure the file"))
    return Ebur128(float(i.group(1)), float(peak.group(1)), float(lra.group(1)) if lra else 0.0)
