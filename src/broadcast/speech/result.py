"""The structured spoken form handed to the synthesis stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FindingKind = Literal["spelled", "unchanged", "ambiguous"]

# Suggested silences (seconds) for the audio stage; it may use its own.
GROUP_PAUSE = 0.25
SENTENCE_PAUSE = 0.5
PARAGRAPH_PAUSE = 1.0

# Longest part (characters of spoken text) handed to a TTS engine in one request.
# Engines truncate, time out or drift on long inputs (piper and the online voices
# start to misread past a few hundred characters), so a longer sentence is cut at
# its commas, then between words, into parts no longer than this; each cut is
# read with GROUP_PAUSE.  300 characters is about 20 seconds of speech.
MAX_PART_CHARS = 300


@dataclass(frozen=True)
class Finding:
    """A token the normaliser could not read from the lexicon.

    kind "spelled": an all-caps token or domain piece read letter by letter;
    kind "unchanged": a word that is not Vietnamese, left for the TTS engine.
    kind "ambiguous": a token no rule could decide ("1/3": a date or a fraction?), read as
    ``reading``; the editor can force another reading with the inline markup.
    line: 1-based line in the text given to speak()/check_readings().
    """

    token: str
    kind: FindingKind
    line: int
    reading: str = ""


@dataclass(frozen=True)
class Sentence:
    """One sentence to synthesise.

    parts: the sentence cut at group pauses (phone-number groups), and a sentence
    longer than MAX_PART_CHARS cut at commas, then words, so no part is longer;
    synthesise them in order with GROUP_PAUSE between.
    text: the parts joined with ", " - the plain spoken sentence.
    line: 1-based source line where the sentence starts.
    """

    parts: tuple[str, ...]
    line: int = 0

    @property
    def text(self) -> str:
        return ", ".join(self.parts)


@dataclass(frozen=True)
class Paragraph:
    """Sentences separated by SENTENCE_PAUSE; paragraphs by PARAGRAPH_PAUSE."""

    sentences: tuple[Sentence, ...]

    @property
    def text(self) -> str:
        return "\n".join(s.text for s in self.sentences)


@dataclass(frozen=True)
class Speech:
    """The whole spoken script plus what lint should tell the editor about."""

    paragraphs: tuple[Paragraph, ...]
    unknown: tuple[Finding, ...] = ()
    phones: tuple[tuple[str, int], ...] = ()  # (token as written, line): what is read as a phone number

    @property
    def text(self) -> str:
        """The same string normalize() returns."""
        return "\n\n".join(p.text for p in self.paragraphs)

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        return tuple(s for p in self.paragraphs for s in p.sentences)

    @property
    def parts(self) -> tuple[str, ...]:
        """Every piece to synthesise, in order (sentences cut at group pauses)."""
        return tuple(part for s in self.sentences for part in s.parts)
