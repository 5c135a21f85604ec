"""Spoken sentences -> audio clips, via pluggable engines; each clip synthesised once and cached.

Public API (everything else is internal):

- `Clip`, `Availability`, `TTSError`, `EngineUnavailable`, `MissingRecording`, `Engine`
- `ENGINES`, `engine_class(name)`, `make_engine(name, params, base_dir)`
- `ClipCache(folder)`, `clip_key(...)`
- `synthesize_all(requests, cache, base_dir, jobs=None, progress=None, voices=None)`,
  `SynthesisResult`, `SpokenClip`, `SynthesisFailure`, `SynthesisStats`
- `check_profile(engine, params)`, `voice_status(profile, base_dir)`, `doctor(...)`, `Check`,
  `VoiceLike`, `VoiceSpec`, `missing_recordings(profile, sentences, base_dir)`
"""

from broadcast.pcm import Clip

from .base import Availability, Engine, EngineUnavailable, MissingRecording, TTSError
from .cache import ClipCache, clip_key
from .registry import ENGINES, engine_class, make_engine
from .synthesize import SpokenClip, SynthesisFailure, SynthesisResult, SynthesisStats, synthesize_all
from .voices import Check, VoiceLike, VoiceSpec, check_profile, doctor, missing_recordings, voice_status

__all__ = [
    "Availability", "Check", "Clip", "ClipCache", "ENGINES", "Engine", "EngineUnavailable",
    "MissingRecording", "SpokenClip", "SynthesisFailure", "SynthesisResult", "SynthesisStats",
    "TTSError", "VoiceLike", "VoiceSpec", "check_profile", "clip_key", "doctor", "engine_class",
    "make_engine", "missing_recordings", "synthesize_all", "voice_status",
]
