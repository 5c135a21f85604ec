"""Finished files: mastered PCM -> MP3 or WAV with tags, verified as a player would decode it.

Files are written to a temp name in the target folder and renamed into place, so a reader
never sees half a file and a failed run leaves the old file intact. The MP3 is decoded again
and its true peak measured, because encoding overshoots the PCM peaks; if it is over the
preset's limit the PCM is turned down by the excess and encoded once more.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from broadcast.errors import bilingual
from broadcast.ffmpeg import decode
from broadcast.pcm import Clip, from_pcm16, to_pcm16

from . import dsp
from .files import finish, temp_beside
from .mastering import normalize
from .model import AudioError, AudioFile, Tags
from .presets import Preset
from .tags import Measured, tagged_wav_bytes, write_id3

_GUARD_DB = 0.2  # meters differ (4x here, 192 kHz in ffmpeg's ebur128): keep this far under the limit
_SLACK_LU = 0.35  # decoded loudness this close to the target is accepted (presets allow 1 LU)
_ATTEMPTS = 4


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
    # -q 7: 1.6x faster than -q 5 and, on the example week's mastered speech, the same error
    # against its PCM as -q 2 and -q 5 (26 dB SNR at 96 kbps): the quality setting buys nothing
    # for mono speech band-limited to 7.5 kHz, while encoding is most of a build's mastering time
    encoder.set_quality(7)
    path.write_bytes(bytes(encoder.encode(pcm16)) + bytes(encoder.flush()))


def _encode_mp3(x: np.ndarray, preset: Preset, path: Path, tags: Tags, relative_lu: float) -> AudioFile:
    """Encode, decode, measure, and correct until the decoded file is on target (the preset's
    loudness moved by `relative_lu`, as `master_samples` aimed at).

    LAME in CBR mode at 64-192 kbps plays back about 0.4 dB quieter than its input (measured
    on a 1 kHz tone as well as speech), and its true peaks land up to ~0.7 dB above the PCM's,
    varying from one encode to the next. The preset's `codec_gain_db` pre-compensates the
    usual loss (mastering aims at `pcm_target_lufs`) and its `ceiling_dbtp` leaves room for
    the usual overshoot, so the first
    attempt normally lands and the file is encoded once; otherwise the next attempt corrects
    the measured loudness error and lowers the ceiling by the worst overshoot seen.
    """
    rate, peak_limit = preset.rate, preset.max_true_peak_dbtp - _GUARD_DB
    goal = preset.target_lufs + relative_lu
    target, ceiling, overshoot = preset.pcm_target_lufs + relative_lu, preset.ceiling_dbtp, 0.0
    y = x
    tmp = temp_beside(path)
    try:
        for _ in range(_ATTEMPTS):
            encode_mp3(to_pcm16(y), rate, preset.bitrate_kbps, tmp)
            decoded, _ = decode(tmp, rate)
            level, peak = dsp.loudness(decoded, rate), dsp.true_peak(decoded)
            if not math.isfinite(level):
                break  # silence: nothing to correct
            if abs(level - goal) <= _SLACK_LU and peak <= peak_limit:
                break
            target += goal - level
            # the overshoot varies from one encode to the next: plan for the worst seen
            overshoot = max(overshoot, peak - dsp.true_peak(y))
            ceiling = min(ceiling, peak_limit - overshoot - 0.1)
            y = normalize(x, rate, target, ceiling)
        else:
            raise AudioError(
                bilingual(
                    f"{path.name}: không đạt {goal} LUFS / "
                    f"{preset.max_true_peak_dbtp} dBTP sau khi mã hoá",
                    "loudness or true peak off target after encoding",
                )
            )
        write_id3(tmp, tags, len(decoded) / rate)
        return finish(tmp, path, decoded, rate, level, peak)
    finally:
        tmp.unlink(missing_ok=True)


def _encode_wav(x: np.ndarray, preset: Preset, path: Path, tags: Tags, relative_lu: float) -> AudioFile:
    pcm = to_pcm16(x)
    decoded = from_pcm16(pcm)
    stats, peak = dsp.loudness_stats(decoded, preset.rate), dsp.true_peak(decoded)
    tmp = temp_beside(path)
    try:
        tmp.write_bytes(tagged_wav_bytes(pcm, preset.rate, tags, Measured(stats, peak)))
        return finish(tmp, path, decoded, preset.rate, stats.integrated_lufs, peak)
    finally:
        tmp.unlink(missing_ok=True)


_ENCODERS = {"mp3": _encode_mp3, "wav": _encode_wav}


def encode_samples(x: np.ndarray, preset: Preset, path: Path | str, tags: Tags, relative_lu: float = 0.0) -> AudioFile:
    """Write mastered float samples at `preset.rate` to `path`, tagged; return what was written.
    `relative_lu`: what `master_samples` was given (a WAV is written as mastered; an MP3 is held there)."""
    return _ENCODERS[preset.container](np.asarray(x, dtype=np.float64), preset, Path(path), tags, relative_lu)


def encode(clip: Clip, preset: Preset, path: Path | str, tags: Tags) -> AudioFile:
    """Write a mastered clip (see `master`) as the preset's file format at `path`."""
    x = dsp.resample(from_pcm16(clip.samples), clip.rate, preset.rate)
    return encode_samples(x, preset, path, tags)
