"""Assembly: a message's clips -> one float signal at the preset's work rate, before mastering.

The message's parts and pauses are `layout`'s (layout.py), assembled in one piece. Pause lengths
and the speech tempo come from the preset. Every clip is trimmed of its own leading and
trailing silence first (engines add different amounts), so the pauses heard are the preset's,
and its sound faded in and out wherever it meets silence, so no pause begins or ends with a tick.
The tempo change is one ffmpeg `atempo` pass over all the speech with its pauses (pauses pre-
shrunk by the tempo so they come out at their nominal length); the chime
is added afterwards and keeps its pitch and rhythm.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from broadcast import pcm
from broadcast.ffmpeg import stretch
from broadcast.pcm import Clip

from . import dsp
from .chimes import chime
from .layout import Paragraphs, Pause, Segment, layout
from .model import MessageAudio, Spoken
from .presets import Preset

_TRIM_WINDOW = 0.01  # s
_TRIM_BELOW_PEAK_DB = 45.0  # a window this far under the clip's peak counts as silence
_TRIM_KEEP = 0.02  # s kept either side so consonant onsets and releases are not cut
_FADE_IN = 0.003  # s: short, so a plosive's burst keeps its attack
_FADE_OUT = 0.01  # s: short, so a final syllable keeps its length; its last millisecond 32 dB down
_FADE_GAP = 0.1  # s: espeak's pauses at commas are 200-400 ms of zeros, its stop closures 2-100 ms
_EDGE_BELOW_PEAK_DB = 80.0  # quieter than this under the clip's peak is silence (a decoder's dither)


def trim_silence(x: np.ndarray, rate: int) -> np.ndarray:
    if not len(x):
        return x
    size = max(1, int(_TRIM_WINDOW * rate))
    n = len(x) // size
    if n == 0:
        return x
    peaks = np.abs(x[: n * size]).reshape(n, size).max(axis=1)
    loud = np.flatnonzero(peaks > peaks.max() * dsp.db_to_gain(-_TRIM_BELOW_PEAK_DB))
    if not len(loud):
        return x[:0]
    keep = int(_TRIM_KEEP * rate)
    return x[max(0, loud[0] * size - keep) : min(len(x), (loud[-1] + 1) * size + keep)]


def fade_edges(x: np.ndarray, rate: int) -> np.ndarray:
    """`x` with each stretch of its sound faded in over `_FADE_IN` and out over `_FADE_OUT` (raised
    cosine) where it meets silence: the clip's start and end, and every pause inside it of at least
    `_FADE_GAP` (espeak's at a comma). espeak starts speech at full level straight out of digital
    silence and stops it mid-waveform, up to 8 dB under its peak: each such edge, a step in the
    waveform, was a tick before and after every pause. The shorter silences inside words (a stop
    consonant's closure) are speech and kept as they are. Silence is anything `_EDGE_BELOW_PEAK_DB`
    under the clip's peak; the length is kept."""
    loud = np.flatnonzero(np.abs(x) > np.abs(x).max() * dsp.db_to_gain(-_EDGE_BELOW_PEAK_DB)) if len(x) else x
    if not len(loud):
        return x
    gaps = np.flatnonzero(np.diff(loud) > _FADE_GAP * rate)
    y = x.copy()
    for start, end in zip(loud[np.concatenate([[0], gaps + 1])], loud[np.concatenate([gaps, [len(loud) - 1]])] + 1,
                          strict=True):
        fade_in, fade_out = (min(round(seconds * rate), (end - start) // 2) for seconds in (_FADE_IN, _FADE_OUT))
        y[start : start + fade_in] *= _rising(fade_in)
        y[end - fade_out : end] *= _rising(fade_out)[::-1]
    return y


def _rising(n: int) -> np.ndarray:
    """n gains rising from just above 0 to just under 1 (half a cosine period)."""
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(1, n + 1) / (n + 1))


class _Timeline:
    """Speech pieces and pauses at one rate; pauses are stored pre-divided for the tempo."""

    def __init__(self, preset: Preset):
        self.preset = preset
        self.rate = preset.work_rate
        self.pieces: list[np.ndarray] = []
        self._cache: dict[Clip, np.ndarray] = {}

    def clip(self, clip: Clip) -> None:
        if clip not in self._cache:
            # trimmed and faded at the clip's own rate: resampled first, each step's ringing ran ahead of its fade
            x = fade_edges(trim_silence(pcm.from_pcm16(clip.samples), clip.rate), clip.rate)
            self._cache[clip] = dsp.resample(x, clip.rate, self.rate)
        self.pieces.append(self._cache[clip])

    def pause(self, seconds: float) -> None:
        if self.pieces:  # never lead with a pause: the chime's own gap is added later
            self.pieces.append(dsp.silence(seconds * self.preset.tempo, self.rate))

    def sentence(self, parts: tuple[Clip, ...]) -> None:
        for k, part in enumerate(parts):
            if k:
                self.pause(self.preset.pause_group)
            self.clip(part)

    def signal(self) -> np.ndarray:
        x = np.concatenate(self.pieces) if self.pieces else np.zeros(0)
        return stretch(x, self.rate, self.preset.tempo)


def _paragraphs(spoken: Spoken | None) -> Paragraphs[Clip]:
    return spoken.paragraphs if spoken is not None else ()


def assemble_samples(message: MessageAudio, preset: Preset) -> np.ndarray:
    """The whole message as float samples at `preset.work_rate`, not yet mastered: the parts of
    `layout`, the speech between chime and tail stretched in one piece to the preset's tempo."""
    rate = preset.work_rate
    chime_part, after_chime, *spoken, tail = layout(
        message.body.paragraphs, message.reminder, message.repeat, message.level, preset,
        opening=_paragraphs(message.opening), closing=_paragraphs(message.closing),
    )
    assert isinstance(chime_part, Segment) and isinstance(after_chime, Pause) and isinstance(tail, Pause)
    line = _Timeline(preset)
    for part in spoken:
        if isinstance(part, Pause):
            line.pause(part.seconds)
        else:
            line.sentence(part.parts)
    voice = line.signal()
    bell = chime(message.level, rate)
    # the chime sits a little under the speech, whatever level the engine spoke at
    voice_lufs = dsp.loudness(voice, rate)
    if voice_lufs != -np.inf:
        bell = bell * dsp.db_to_gain(voice_lufs + preset.chime_lu - _chime_loudness(message.level, rate))
    return np.concatenate(
        [
            dsp.silence(preset.lead_in, rate),
            bell,
            dsp.silence(after_chime.seconds, rate),
            voice,
            dsp.silence(tail.seconds, rate),
        ]
    )


@lru_cache(maxsize=12)
def _chime_loudness(level: str, rate: int) -> float:
    return dsp.loudness(chime(level, rate), rate)


def assemble_message(message: MessageAudio, preset: Preset) -> Clip:
    """The message as a clip at `preset.work_rate`, ready for `master`."""
    x = assemble_samples(message, preset)
    peak = float(np.abs(x).max()) if len(x) else 0.0
    if peak > 1.0:  # loud clips plus the chime: scale rather than clip; mastering sets the level
        x = x / peak
    return Clip(pcm.to_pcm16(x), preset.work_rate)
