"""One call from a message's clips to a finished file: assemble -> master -> encode."""

from __future__ import annotations

from pathlib import Path

from .assemble import assemble_samples
from .encoding import encode_samples
from .mastering import master_samples
from .model import AudioFile, MessageAudio, Tags
from .presets import Preset


def master_message(message: MessageAudio, preset: Preset, path: Path | str, tags: Tags) -> AudioFile:
    """Assemble, master and write one message file for the delivery `preset`.

    Samples stay float from assembly to the encoder: quantised once.
    """
    x = master_samples(assemble_samples(message, preset), preset.work_rate, preset)
    return encode_samples(x, preset, path, tags)
