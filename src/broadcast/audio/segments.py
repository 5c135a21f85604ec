"""Messages built from independently mastered segments, so identical pieces are made once.

A province's communes hear the same warning with a different greeting and police post: most
paragraphs are identical across communes. The message is therefore cut at paragraph pauses:

    [lead-in + chime + gap] [paragraph 1 + pause] ... [paragraph n + pause or tail]
    ( ["Xin nhắc lại" + pause] [paragraph 1 + pause] ... )  x (repeat - 1)

Each segment is assembled, mastered to the preset's loudness and encoded on its own; the
message file is the segments' MP3 frames joined end to end (see concat.py), cut inside the
silence of a pause, so the joins are inaudible and the whole message lands on the target
loudness. A segment is named by what it is made of (clip keys, pause, preset), so the build
masters each distinct one once for all communes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from . import dsp
from .assemble import _Timeline
from .chimes import chime
from .encoding import encode_samples
from .mastering import master_samples
from .model import Rendered, Spoken, Tags
from .presets import get_preset

Ref = TypeVar("Ref")  # what a segment's speech is made of: clip keys in the build, Clips when rendering


@dataclass(frozen=True)
class Segment(Generic[Ref]):
    """One independently mastered piece: a chime (when `level` is set) or one paragraph."""

    level: str | None
    paragraph: tuple[tuple[Ref, ...], ...]  # sentences -> parts
    after: float  # seconds of silence after it


def layout(paragraphs: list[tuple[tuple[Ref, ...], ...]], reminder: Ref | None, repeat: int, level: str,
           preset_name: str) -> list[Segment[Ref]]:
    """The segments of a message, in order (same pauses as assemble.speech)."""
    p = get_preset(preset_name)
    segments: list[Segment[Ref]] = [Segment(level, (), p.after_chime)]
    for n in range(repeat):
        if n and reminder is not None:
            segments.append(Segment(None, ((reminder,),), p.pause_sentence))
        for i, paragraph in enumerate(paragraphs):
            last = i == len(paragraphs) - 1
            after = p.pause_paragraph if not last else (p.pause_repeat if n < repeat - 1 else p.tail)
            segments.append(Segment(None, paragraph, after))
    return segments


def render_segment(segment: Segment, preset_name: str, path: Path) -> Rendered:
    """Assemble, master and encode one segment whose parts are Clips."""
    preset = get_preset(preset_name)
    rate = preset.rate
    if segment.level is not None:
        x = np.concatenate([dsp.silence(preset.lead_in, rate), chime(segment.level, rate)])
    else:
        line = _Timeline(preset)
        line.spoken(Spoken((segment.paragraph,)))
        x = line.signal()
    x = master_samples(x, rate, preset)
    x = np.concatenate([x, dsp.silence(segment.after, rate)])
    return encode_samples(x, preset, path, Tags(title="", artist=""))
