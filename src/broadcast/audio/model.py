"""Plain data of the audio stage: what a message says (clips), how it is tagged, what came out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from broadcast.errors import AudioError, bilingual
from broadcast.pcm import Clip

LEVELS = ("normal", "priority", "emergency")  # Thông tư 39/2020/TT-BTTTT


@dataclass(frozen=True)
class Spoken:
    """The clips of one spoken text: paragraphs -> sentences -> parts.

    A sentence is split into parts where the speech stage marked a group pause
    (e.g. between the digit groups of a phone number).
    """

    paragraphs: tuple[tuple[tuple[Clip, ...], ...], ...]

    @classmethod
    def of(cls, *clips: Clip) -> Spoken:
        """One paragraph of one-part sentences: a convenience for short lines and tests."""
        return cls(paragraphs=(tuple((c,) for c in clips),))

    def clips(self) -> tuple[Clip, ...]:
        return tuple(c for para in self.paragraphs for sentence in para for c in sentence)


@dataclass(frozen=True)
class MessageAudio:
    """Everything one finished message file says, in order:
    chime, opening, body, ("Xin nhắc lại", body) x (repeat - 1), closing."""

    body: Spoken
    repeat: int = 1
    level: str = "normal"
    reminder: Clip | None = None  # the spoken "Xin nhắc lại", same voice as the body
    opening: Spoken | None = None
    closing: Spoken | None = None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise AudioError(
                bilingual(
                    f"mức '{self.level}' không hợp lệ; chọn một trong: {', '.join(LEVELS)}",
                    f"level '{self.level}' is not one of {', '.join(LEVELS)}",
                )
            )
        if self.repeat < 1:
            raise AudioError(bilingual(f"repeat phải >= 1, nhận {self.repeat}", "repeat must be >= 1"))


@dataclass(frozen=True)
class Tags:
    """What a player shows for a file. Written as ID3v2.3 (MP3) or RIFF LIST/INFO (WAV)."""

    title: str  # Vietnamese script title
    artist: str  # the station (commune) name
    album: str = ""  # the week, e.g. "Tuần 2026-W49"
    track: int = 0  # 0: not written
    track_total: int = 0
    date: str = ""  # ISO date (or year) of the broadcast
    script_id: str = ""
    source: str = ""  # the directive the warning is based on
    language: str = "vie"  # ISO 639-2
    genre: str = "Speech"

    @property
    def comment(self) -> str:
        parts = [f"script: {self.script_id}" if self.script_id else "", f"nguồn: {self.source}" if self.source else ""]
        return "; ".join(p for p in parts if p)


@dataclass(frozen=True)
class AudioFile:
    """A finished file and what was measured on it as players will decode it."""

    path: Path
    duration: float  # seconds of decoded audio (MP3: including encoder delay and padding)
    sha256: str
    loudness_lufs: float
    true_peak_dbtp: float
