"""`broadcast.audio` — a message's clips -> a finished, mastered file for one delivery.

    assemble (chime, pauses, repeat, tempo) -> master (band, compression, loudness,
    true peak) -> encode (MP3 / WAV, tags, verified, atomic)

Deliveries are `Preset` objects, which only the code reading the configuration looks up by
name with `get_preset`: `loa` (horn loudspeakers, default), `fm`,
`phat-thanh` (EBU R128 WAV for the provincial station).
"""

from .assemble import assemble_message
from .chimes import chime
from .concat import concat_mp3
from .deliver import master_message
from .encoding import encode
from .mastering import master
from .model import LEVELS, AudioError, AudioFile, MessageAudio, Spoken, Tags
from .presets import DEFAULT_PRESET, Preset, get_preset, preset_names

__all__ = [
    "DEFAULT_PRESET",
    "LEVELS",
    "AudioError",
    "MessageAudio",
    "Preset",
    "AudioFile",
    "Spoken",
    "Tags",
    "assemble_message",
    "chime",
    "concat_mp3",
    "encode",
    "get_preset",
    "master",
    "preset_names",
    "master_message",
]
