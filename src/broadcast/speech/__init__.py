"""Vietnamese spoken-form normaliser for loudspeaker scripts.

Turns written official Vietnamese ("UBND", "0889.226.999", "03/7/2024",
"1 - 2 tỷ", URLs) into what a Northern radio presenter would say, so any
TTS engine reads it right.  Pure Python, stdlib only.
"""

from .builtin import BUILTIN
from .lexicon import Lexicon
from .pipeline import check_readings, normalize, phone_numbers, speak
from .result import (
    GROUP_PAUSE,
    PARAGRAPH_PAUSE,
    SENTENCE_PAUSE,
    Finding,
    Paragraph,
    Sentence,
    Speech,
)

DEFAULT = BUILTIN

__all__ = [
    "BUILTIN",
    "DEFAULT",
    "GROUP_PAUSE",
    "PARAGRAPH_PAUSE",
    "SENTENCE_PAUSE",
    "Finding",
    "Lexicon",
    "Paragraph",
    "Sentence",
    "Speech",
    "normalize",
    "check_readings",
    "phone_numbers",
    "speak",
]
