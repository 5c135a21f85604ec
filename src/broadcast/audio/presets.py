"""Mastering presets: one per delivery (`loa` is the default). Stages take a `Preset`; only the
code that reads the configuration turns a name into one, with `get_preset`.

Adding a delivery is one `Preset(...)` line in `_PRESETS`. Every number that shapes the sound
lives here, so assembly, mastering and encoding read the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from broadcast.errors import bilingual

from .model import AudioError

DEFAULT_PRESET = "loa"


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    # file
    container: str  # "mp3" | "wav"
    rate: int  # Hz, mono
    bitrate_kbps: int = 0  # MP3 CBR; 0 for WAV
    # loudness
    target_lufs: float = -16.0
    tolerance_lu: float = 1.0
    max_true_peak_dbtp: float = -1.0  # the delivery limit, verified on the finished file
    ceiling_dbtp: float = -1.5  # what the limiter aims at: margin for MP3 overshoot / meter differences
    codec_gain_db: float = 0.0  # level the encoder loses (LAME CBR ~0.4 dB), pre-compensated
    # tone: a band-pass matched to what the transducer can reproduce
    highpass_hz: float | None = None
    lowpass_hz: float | None = None
    phase_rotation: int = 0  # all-pass sections lowering speech's crest factor (0: off)
    # gentle RMS compression, threshold relative to the target loudness
    compress_threshold_lu: float = 0.0
    compress_ratio: float = 1.0  # 1: off
    # speech pacing (seconds), applied at assembly
    tempo: float = 1.0  # < 1 speaks slower without changing pitch
    pause_group: float = 0.3
    pause_sentence: float = 0.6
    pause_paragraph: float = 1.0
    pause_repeat: float = 1.5  # before "Xin nhắc lại"
    lead_in: float = 0.3  # silence before the chime
    after_chime: float = 0.6
    tail: float = 1.0
    # chime loudness relative to the speech: a little under it, and no more than 1 LU under, so that a
    # message of one short sentence (its chime then a third of its sound) stays within `tolerance_lu`
    chime_lu: float = -1.0

    @property
    def pcm_target_lufs(self) -> float:
        """Loudness of the mastered PCM: the target plus what the encoder will lose."""
        return self.target_lufs + self.codec_gain_db

    @property
    def work_rate(self) -> int:
        """The rate assembly and mastering run at: half the file's when the band the preset keeps
        ends well inside half its Nyquist frequency (`loa`: 7.5 kHz at 22.05 kHz), so every filter,
        the compressor, the limiter and the meter handle half the samples; else the file's."""
        half = self.rate // 2
        return half if self.rate % 2 == 0 and self.lowpass_hz and self.lowpass_hz <= 0.35 * half else self.rate

    @property
    def suffix(self) -> str:
        return "." + self.container


_LOA = Preset(
    name="loa",
    description="Cụm loa nén trên cột (horn loudspeaker clusters)",
    container="mp3",
    rate=44100,
    bitrate_kbps=96,
    codec_gain_db=0.42,
    target_lufs=-16.0,
    tolerance_lu=1.0,
    ceiling_dbtp=-2.5,  # LAME CBR overshoots the PCM's true peak by up to ~1.3 dB
    # horns reproduce nothing below ~250 Hz; energy there only heats the amplifier
    highpass_hz=250.0,
    lowpass_hz=7500.0,
    phase_rotation=8,
    # speech over wind and traffic: steadier level, quiet syllables lifted
    compress_threshold_lu=-2.0,
    compress_ratio=3.0,
    # several horns along a road echo each other: slower speech, longer pauses
    tempo=0.92,
    pause_group=0.4,
    pause_sentence=0.8,
    pause_paragraph=1.4,
    pause_repeat=1.8,
    lead_in=0.3,
    after_chime=0.7,
    tail=1.0,
)

_PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        _LOA,
        # What IP loudspeaker servers in Vietnam are seen to accept: MPEG-2 Layer III, 24 kHz, 48 kbps
        # CBR, mono; the horns are the same, so the `loa` sound (band, compression, pace, loudness).
        replace(
            _LOA,
            name="loa-ip",
            description="Loa truyền thanh IP (IP loudspeakers): MP3 MPEG-2 24 kHz 48 kbps mono",
            rate=24000,
            bitrate_kbps=48,
            codec_gain_db=0.45,
            lowpass_hz=7000.0,  # below the 12 kHz Nyquist with room for LAME's own low-pass at 48 kbps
        ),
        Preset(
            name="fm",
            description="Đài truyền thanh FM cấp xã (commune FM transmitter)",
            container="mp3",
            rate=44100,
            bitrate_kbps=128,
            codec_gain_db=0.43,
            target_lufs=-18.0,
            tolerance_lu=1.0,
            ceiling_dbtp=-3.0,  # content up to 15 kHz: LAME overshoots more than for `loa` (~1.7 dB)
            highpass_hz=80.0,  # rumble and DC only
            lowpass_hz=15000.0,  # FM baseband: keep clear of the 19 kHz pilot
            phase_rotation=8,
            compress_threshold_lu=0.0,
            compress_ratio=2.0,
            tempo=0.96,
        ),
        Preset(
            name="phat-thanh",
            description="Gửi đài PT-TH tỉnh, EBU R128 (provincial radio-television delivery)",
            container="wav",
            rate=48000,
            target_lufs=-23.0,
            tolerance_lu=0.5,
            ceiling_dbtp=-1.3,  # WAV adds no codec overshoot; margin covers meter differences
            highpass_hz=60.0,
            compress_threshold_lu=2.0,
            compress_ratio=1.5,  # the station processes its own air chain: keep dynamics
            tempo=1.0,
            chime_lu=0.0,  # the file as a whole within 0.5 LU of -23, however short: the station sets its air levels
        ),
    )
}


def preset_names() -> tuple[str, ...]:
    return tuple(_PRESETS)


def get_preset(name: str) -> Preset:
    """The preset called `name`; an unknown name is answered with the valid ones."""
    try:
        return _PRESETS[name]
    except KeyError:
        valid = ", ".join(_PRESETS)
        raise AudioError(
            bilingual(f"không có preset '{name}'; chọn một trong: {valid}", f"no preset '{name}'; valid: {valid}")
        ) from None
