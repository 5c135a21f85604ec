"""Joining finished files end to end without re-mastering: a message from its mastered
segments, a program from its messages.

Every part is already mastered to the preset's loudness, so the whole is too. MP3 parts are
joined frame by frame (no re-encoding, no generation loss); WAV parts sample by sample.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from broadcast import pcm
from broadcast.wav import read_wav

from .concat import concat_mp3
from .encoding import encode_samples
from .model import AudioFile, Tags
from .presets import Preset


def join_files(parts: list[Path], preset: Preset, path: Path, tags: Tags, in_place: bool = False) -> AudioFile:
    """One file that plays `parts` in order, tagged with `tags`. `in_place`: `path` holds an old
    file to write over (see `concat_mp3`; a WAV is written anew)."""
    if preset.container == "mp3":  # parts are mastered: the sum of parts is on target
        return concat_mp3(parts, path, tags, measure=False, in_place=in_place)
    samples = [pcm.from_pcm16(read_wav(part).samples) for part in parts]
    return encode_samples(np.concatenate(samples), preset, path, tags)

