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
is the same segment wherever it stands. Where each part goes is `layout` (layout.py), the same
structure `assemble` assembles in one piece. A part is named by what it is made of (clip keys or
seconds, and preset), so the build makes each distinct one once for all communes, and an edit
to one sentence remakes one segment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import dsp
from .assemble import _Timeline
from .chimes import chime
from .encoding import encode_samples
from .layout import Pause, Segment, layout
from .mastering import master_samples
from .model import AudioFile, Tags
from .presets import Preset

__all__ = ["SOUND_VERSION", "Pause", "Segment", "layout", "master_segment"]  # build.py takes the layout from here

# Silence a sentence or the chime is mastered with after its end: the band-pass and phase rotator ring on
# for ~25 ms (`loa`: -80 dB at 26 ms, `fm` at 38 ms) after the sound stops, and a segment ending where its
# sound ends cut that ringing off at speech level, a click before every pause.
RING_OUT = 0.05  # s

# Raised with every change to how a segment sounds: segment and message keys name it, so a segment store
# or a published week made by an earlier version is made again, never joined from pieces with the old sound.
# 2: sentences and the chime ring out (RING_OUT). 3: the chime at `chime_lu` under the speech (it was mastered
# to the speech's loudness, 0.1-0.3 LU over it once limited, where the presets say 1 LU under). 4: every clip's
# sound fades in and out (assemble.fade_edges): espeak's clips start and stop mid-waveform, a tick at each pause;
# the bell's last note dies away over 0.4 s (chimes._RELEASE), where it was stopped in 50 ms 20 dB under its peak.
SOUND_VERSION = 4


def master_segment(segment: Segment | Pause, preset: Preset, path: Path) -> AudioFile:
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
    elif segment.level is not None:  # the chime, a little under the speech
        work = preset.work_rate
        x = master_samples(np.concatenate([dsp.silence(preset.lead_in, work), chime(segment.level, work),
                                           dsp.silence(RING_OUT, work)]), work, preset, preset.chime_lu)
        return encode_samples(x, preset, path, Tags(title="", artist=""), preset.chime_lu)
    else:
        line = _Timeline(preset)
        line.sentence(segment.parts)
        x = master_samples(np.concatenate([line.signal(), dsp.silence(RING_OUT, line.rate)]), line.rate, preset)
    return encode_samples(x, preset, path, Tags(title="", artist=""))
