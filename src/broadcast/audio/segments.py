"""Messages built from independently mastered segments, so identical pieces are made once.

A province's communes hear the same warning with a different greeting and police post: most
sentences are identical across communes, and a commune's name is in one or two sentences of a
paragraph. The message is therefore cut at every sentence pause:

    [lead-in + chime] (gap) [sentence] (pause) [sentence] ... (pause before the repeat)
    ( ["Xin nhắc lại"] (pause) [sentence] (pause) ... )  x (repeat - 1)   (tail)

Each segment (the chime, or one sentence with its short pauses between word groups) is
assembled, mastered to the preset's loudness and encoded on its own; the message file is the
parts' MP3 frames joined end to end (see concat.py), cut at the edge of a pause, so the joins
are inaudible and the whole message lands on the target loudness. Mastering each sentence to
the target evens out the level from one sentence to the next, which is what a loudspeaker
announcement wants. The pauses are parts of their own (encoded digital silence), so a sentence
is the same segment wherever it stands. A part is named by what it is made of (clip keys or
seconds, and preset), so the build makes each distinct one once for all communes, and an edit
to one sentence remakes one segment.
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
from .presets import Preset

Ref = TypeVar("Ref")  # what a segment's speech is made of: clip keys in the build, Clips when rendering


@dataclass(frozen=True)
class Segment(Generic[Ref]):
    """One independently mastered piece: a chime (when `level` is set) or one sentence."""

    level: str | None
    parts: tuple[Ref, ...]  # the sentence's word groups, said with the preset's group pause between


@dataclass(frozen=True)
class Pause:
    """Silence between segments, encoded once per length and preset."""

    seconds: float


def layout(paragraphs: list[tuple[tuple[Ref, ...], ...]], reminder: Ref | None, repeat: int, level: str,
           p: Preset) -> list[Segment[Ref] | Pause]:
    """The parts of a message, in order (same pauses as assemble.speech)."""
    parts: list[Segment[Ref] | Pause] = [Segment(level, ()), Pause(p.after_chime)]
    for n in range(repeat):
        if n and reminder is not None:
            parts += [Segment(None, (reminder,)), Pause(p.pause_sentence)]
        for i, paragraph in enumerate(paragraphs):
            last = i == len(paragraphs) - 1
            after = p.pause_paragraph if not last else (p.pause_repeat if n < repeat - 1 else p.tail)
            for j, sentence in enumerate(paragraph):
                parts += [Segment(None, tuple(sentence)), Pause(after if j == len(paragraph) - 1 else p.pause_sentence)]
    return parts


def render_segment(segment: Segment | Pause, preset: Preset, path: Path) -> Rendered:
    """Assemble, master and encode one segment whose parts are Clips, or encode a pause."""
    rate = preset.rate
    if isinstance(segment, Pause):
        n = round(segment.seconds * rate)
        if preset.container == "mp3":
            # LAME adds its start delay and pads to whole frames: fed one frame less than the whole
            # number of frames nearest the pause, it writes exactly that many frames of silence
            frame = 1152 if rate >= 32000 else 576
            n = max(1, max(1, round(n / frame)) * frame - frame)
        x = np.zeros(n)
    elif segment.level is not None:
        x = master_samples(np.concatenate([dsp.silence(preset.lead_in, rate), chime(segment.level, rate)]), rate,
                           preset)
    else:
        line = _Timeline(preset)
        line.spoken(Spoken(((segment.parts,),)))
        x = master_samples(line.signal(), rate, preset)
    return encode_samples(x, preset, path, Tags(title="", artist=""))
