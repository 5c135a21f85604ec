"""Where everything in a message goes, said once: the chime, the sentences, the reminder and
every pause between them. Both ways of making a message read it: `assemble` assembles the whole
message as one signal, `segments` masters each part on its own and joins the files.

    [lead-in + chime] (after chime) [opening] (paragraph)
    [sentence] (sentence pause) [sentence] (paragraph pause) ... (repeat pause)
    ( ["Xin nhắc lại"] (sentence pause) [body again] ) x (repeat - 1)
    (paragraph pause) [closing]  (tail)

A sentence is one `Segment` of word groups, said with the preset's group pause between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from .presets import Preset

Ref = TypeVar("Ref")  # what a segment's speech is made of: clip keys in the build, Clips when mastering
Paragraphs = Sequence[Sequence[Sequence[Ref]]]  # paragraphs -> sentences -> word groups


@dataclass(frozen=True)
class Segment(Generic[Ref]):
    """One independently mastered piece: a chime (when `level` is set) or one sentence."""

    level: str | None
    parts: tuple[Ref, ...]  # the sentence's word groups, said with the preset's group pause between


@dataclass(frozen=True)
class Pause:
    """Silence between segments, encoded once per length and preset."""

    seconds: float


def layout(paragraphs: Paragraphs[Ref], reminder: Ref | None, repeat: int, level: str, p: Preset,
           opening: Paragraphs[Ref] = (), closing: Paragraphs[Ref] = ()) -> list[Segment[Ref] | Pause]:
    """The parts of a message, in order: the chime segment first, the tail pause last, and
    between them sentences and the pauses after each."""
    parts: list[Segment[Ref] | Pause] = [Segment(level, ()), Pause(p.after_chime)]

    def say(text: Paragraphs[Ref], last_pause: float) -> None:
        for i, paragraph in enumerate(text):
            after = p.pause_paragraph if i < len(text) - 1 else last_pause
            for j, sentence in enumerate(paragraph):
                pause = after if j == len(paragraph) - 1 else p.pause_sentence
                parts.extend([Segment(None, tuple(sentence)), Pause(pause)])

    say(opening, p.pause_paragraph)
    for n in range(repeat):
        if n and reminder is not None:
            parts.extend([Segment(None, (reminder,)), Pause(p.pause_sentence)])
        say(paragraphs, p.pause_repeat if n < repeat - 1 else (p.pause_paragraph if closing else p.tail))
    say(closing, p.tail)
    return parts
