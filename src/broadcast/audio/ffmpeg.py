"""The audio stage's uses of FFmpeg: tempo change, decoding for verification, and an
independent loudness meter.

FFmpeg is used only where numpy would be worse: `atempo` (a WSOLA time-stretch, pitch kept)
and MP3 decoding. Both run in-process through PyAV's FFmpeg libraries: a week's build cuts
messages into thousands of short segments, and starting an ffmpeg process twice for each
(stretch, then decode to verify) cost more than the work itself. The `ebur128` check runs the
separate ffmpeg program of imageio-ffmpeg, so the meter that checks our numpy meter shares no
code with the build. Loudness, filters and limiting are done in numpy (`dsp`), because ffmpeg's
`loudnorm` is slow and its two-pass mode needs a second run per file. Failures are wrapped here
once, as `AudioError`.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from broadcast.errors import bilingual
from broadcast.tts.ffmpeg import ffmpeg_exe

from .model import AudioError

_CHUNK = 1 << 16  # samples pushed into a filter graph at a time


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


def encode_mp3(pcm16: bytes, rate: int, bitrate_kbps: int, path: Path) -> None:
    """Encode 16-bit mono PCM to a CBR MP3 at `path` (untagged).

    LAME in-process (lameenc), not an ffmpeg subprocess: a week's build encodes thousands of
    short segments, and starting ffmpeg cost more than the encoding itself.
    """
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate_kbps)
    encoder.set_in_sample_rate(rate)
    encoder.set_out_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(5)  # -q 5: fast, and no audible difference for speech band-limited to 7.5 kHz
    path.write_bytes(bytes(encoder.encode(pcm16)) + bytes(encoder.flush()))


def decode(path: Path, rate: int) -> np.ndarray:
    """Decode a file the way a player would: every frame (without a LAME tag nothing is
    trimmed), mixed to mono and resampled to `rate` where it differs."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            out: list[np.ndarray] = []
            if stream.rate == rate and stream.channels == 1 and stream.format.name in ("flt", "fltp"):
                out.extend(frame.to_ndarray()[0] for frame in container.decode(stream))  # as decoded
            else:
                resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
                for frame in container.decode(stream):
                    out.extend(f.to_ndarray()[0] for f in resampler.resample(frame))
                out.extend(f.to_ndarray()[0] for f in resampler.resample(None))
    except (av.FFmpegError, IndexError) as e:
        raise AudioError(bilingual(f"không giải mã được {Path(path).name}: {e}", "could not decode the file")) from e
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


@dataclass(frozen=True)
class Ebur128:
    """ffmpeg's own EBU R128 reading of a file: an independent check on our numpy meter."""

    integrated_lufs: float
    true_peak_dbtp: float


def measure_ebur128(path: Path) -> Ebur128:
    """Integrated loudness and true peak of a file, measured by ffmpeg's `ebur128` filter."""
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-i",
        str(path),
        "-af",
        "ebur128=peak=true",
        "-f",
        "null",
        "-",
    ]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as e:
        raise AudioError(bilingual(f"ffmpeg không chạy được (ebur128): {e}", "ffmpeg failed (ebur128)")) from e
    summary = out.stderr.decode(errors="replace").rsplit("Summary:", 1)[-1]
    found = {k: re.search(rf"{k}:\s+(-?[\d.]+|-inf)", summary) for k in ("I", "Peak")}
    if out.returncode != 0 or not all(found.values()):
        raise AudioError(bilingual(f"ffmpeg không đo được {path.name}", "ffmpeg could not measure the file"))
    return Ebur128(float(found["I"].group(1)), float(found["Peak"].group(1)))
