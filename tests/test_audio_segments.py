"""Messages made of independently mastered segments: structure, repeat and loudness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from broadcast import pcm
from broadcast.audio import MessageAudio, Spoken, chime
from broadcast.audio.assemble import assemble_samples, fade_edges, trim_silence
from broadcast.audio.join import join_files
from broadcast.audio.model import Tags
from broadcast.audio.presets import get_preset
from broadcast.audio.segments import Pause, Segment, layout, master_segment
from broadcast.audio.testsignal import speech_like
from broadcast.ffmpeg import decode, measure_ebur128
from broadcast.tts import make_engine


def _message(tmp: Path, repeat: int, level: str = "normal") -> Path:
    engine = make_engine("espeak", {"voice": "vi"}, tmp)
    clips = {t: engine.synthesize(t) for t in ("Kính thưa bà con.", "Tuyệt đối không chuyển tiền.", "Gọi một một ba.",
                                              "Xin nhắc lại.")}
    paragraphs = [(("Kính thưa bà con.",),), (("Tuyệt đối không chuyển tiền.",), ("Gọi một một ba.",))]
    paths = []
    for i, part in enumerate(layout(paragraphs, "Xin nhắc lại.", repeat, level, get_preset("loa"))):
        path = tmp / f"{repeat}-{level}-{i}.mp3"
        if isinstance(part, Segment):
            part = Segment(part.level, tuple(clips[p] for p in part.parts))
        master_segment(part, get_preset("loa"), path)
        paths.append(path)
    out = tmp / f"message-{repeat}-{level}.mp3"
    join_files(paths, get_preset("loa"), out, Tags(title="Thử", artist="Xã Chi Lăng"))
    return out


def test_layout_says_the_body_repeat_times_with_the_reminder_between():
    # paragraph 1 is one sentence, paragraph 2 two sentences (the second in two word groups)
    parts = layout([(("a",),), (("b",), ("c", "d"))], "r", 2, "normal", get_preset("loa"))
    segs, pauses = parts[::2], parts[1::2]
    assert all(isinstance(s, Segment) for s in segs) and all(isinstance(p, Pause) for p in pauses)
    assert [s.level for s in segs] == ["normal"] + [None] * 7
    assert [s.parts for s in segs[1:]] == [("a",), ("b",), ("c", "d"), ("r",), ("a",), ("b",), ("c", "d")]
    preset = get_preset("loa")
    assert [p.seconds for p in pauses] == [preset.after_chime, preset.pause_paragraph, preset.pause_sentence,
                                           preset.pause_repeat, preset.pause_sentence, preset.pause_paragraph,
                                           preset.pause_sentence, preset.tail]
    # the last sentence is one segment whether the repeat or the tail follows it
    assert segs[3] == segs[7] and pauses[3] != pauses[7]


def test_layout_places_opening_and_closing_and_repeats_without_a_reminder():
    preset = get_preset("fm")
    parts = layout([(("b",),)], None, 2, "priority", preset, opening=[[("o",)]], closing=[[("c1",)], [("c2",)]])
    segs, pauses = parts[::2], parts[1::2]
    assert [s.parts for s in segs] == [(), ("o",), ("b",), ("b",), ("c1",), ("c2",)]
    assert [p.seconds for p in pauses] == [preset.after_chime, preset.pause_paragraph, preset.pause_repeat,
                                           preset.pause_paragraph, preset.pause_paragraph, preset.tail]


def test_the_whole_message_is_the_layout_rendered_in_one_piece():
    """At tempo 1 the assembled message is exactly lead-in, chime, and each layout part."""
    preset = get_preset("phat-thanh")
    assert preset.tempo == 1.0
    rate = preset.rate
    a, b, r = (speech_like(0.8 + i * 0.2, rate=rate, seed=60 + i) for i in range(3))
    message = MessageAudio(body=Spoken((((a, b),), ((b,),))), repeat=2, reminder=r, opening=Spoken.of(a))
    parts = layout(message.body.paragraphs, r, 2, "normal", preset, opening=message.opening.paragraphs)
    trimmed = {c: len(fade_edges(trim_silence(pcm.from_pcm16(c.samples), rate), rate)) for c in (a, b, r)}
    expected = round(preset.lead_in * rate) + len(chime("normal", rate))
    for part in parts[1:]:
        if isinstance(part, Pause):
            expected += round(part.seconds * rate)
        else:
            expected += sum(trimmed[c] for c in part.parts) + round(preset.pause_group * rate) * (len(part.parts) - 1)
    assert len(assemble_samples(message, preset)) == expected


def test_repeat_two_is_a_bit_more_than_twice_and_lands_on_target(tmp_path):
    once, twice = _message(tmp_path, 1), _message(tmp_path, 2)
    a, b = len(decode(once, 44100)[0]), len(decode(twice, 44100)[0])
    chime = len(decode(tmp_path / "1-normal-0.mp3", 44100)[0])
    assert 2 * (a - chime) < b - chime < 2 * (a - chime) + 4 * 44100  # plus the reminder and its pauses
    for path in (once, twice):
        level = measure_ebur128(path)
        assert -17 <= level.integrated_lufs <= -15 and level.true_peak_dbtp <= -1.0


def test_message_starts_with_the_chime_and_emergency_sounds_different(tmp_path):
    normal = decode(_message(tmp_path, 1, "normal"), 44100)[0][: 44100 * 2]
    urgent = decode(_message(tmp_path, 1, "emergency"), 44100)[0][: 44100 * 2]

    def dominant(x: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
        return float(np.fft.rfftfreq(len(x), 1 / 44100)[spectrum.argmax()])

    assert 400 < dominant(normal) < 1200  # the bell (G5 E5 C5), not speech
    assert dominant(urgent) != dominant(normal) and np.abs(normal - urgent).max() > 0.1


def test_a_pause_is_the_whole_number_of_frames_nearest_its_length(tmp_path):
    for seconds in (0.7, 1.4, 1.8):
        rendered = master_segment(Pause(seconds), get_preset("loa"), tmp_path / "pause.mp3")
        decoded = decode(tmp_path / "pause.mp3", 44100)[0]
        assert len(decoded) % 1152 == 0 and abs(len(decoded) / 44100 - seconds) <= 0.5 * 1152 / 44100
        assert rendered.duration == len(decoded) / 44100 and not np.any(decoded)


def _steepest_fall_db(decoded: np.ndarray, rate: int) -> float:
    """The largest drop, in dB, of the 1 ms peak envelope from one millisecond to the next where the
    sound ends (its last 30 ms above -60 dBFS, and after), from a millisecond above -40 dBFS: a
    waveform cut off at speech level falls 40 dB at once. (Before that, a quiet syllable's pitch
    pulses dip up to 23 dB from one millisecond to the next.)"""
    ms = rate // 1000
    n = len(decoded) // ms
    env = 20 * np.log10(np.abs(decoded[: n * ms]).reshape(n, ms).max(axis=1) + 1e-9)
    env = env[max(0, int(np.flatnonzero(env > -60)[-1]) - 30):]
    falls = env[:-1] - env[1:]
    return float(falls[env[:-1] > -40].max())


@pytest.mark.parametrize("name", ["loa", "loa-ip", "fm"])
def test_a_sentence_that_stops_at_full_level_dies_away_before_the_pause(tmp_path, name):
    """espeak stops a sentence mid-waveform; mastered on its own, the segment ended where that sound
    ended and cut off the band-pass and phase rotator's ringing at speech level: `loa` fell from
    -12 to -63 dBFS within a millisecond, a click before every pause of every message."""
    preset = get_preset(name)
    x = pcm.from_pcm16(speech_like(1.0, rate=22050, seed=5).samples)
    stop = int(np.argmax(np.abs(x[: len(x) * 3 // 4]))) + 1  # the loudest instant: nothing fades out here
    clip = pcm.Clip(pcm.to_pcm16(x[:stop]), 22050)
    master_segment(Segment(None, (clip,)), preset, tmp_path / "s.mp3")
    decoded = decode(tmp_path / "s.mp3", preset.rate)[0]
    assert _steepest_fall_db(decoded, preset.rate) < 20


@pytest.mark.parametrize("name", ["loa", "loa-ip", "fm", "phat-thanh"])
def test_speech_that_starts_and_stops_mid_waveform_meets_its_pauses_without_a_tick(tmp_path, name):
    """espeak starts speech at full level straight out of digital silence and stops it mid-waveform,
    at a comma's pause inside a clip and at its end: each edge, a step in the waveform, was a tick
    before and after every pause, loudest in `phat-thanh` (nothing above 60 Hz filtered). A vowel
    with nothing above 1 kHz, cut like that: what the file holds above 3 kHz is the ticks (they
    were 9 to 15 dB under the peak)."""
    preset, rate = get_preset(name), 22050
    t = np.arange(int(0.5 * rate)) / rate
    vowels = [sum(np.sin(2 * np.pi * 220 * k * t + phase * k) / k for k in (1, 2, 3, 4)) for phase in (0.3, 1.1)]
    x = np.concatenate([np.zeros(300), vowels[0], np.zeros(int(0.25 * rate)), vowels[1], np.zeros(220)])
    clip = pcm.Clip(pcm.to_pcm16(0.3 * x / np.abs(x).max()), rate)
    master_segment(Segment(None, (clip,)), preset, tmp_path / f"s{preset.suffix}")
    decoded = decode(tmp_path / f"s{preset.suffix}", preset.rate)[0]
    above = sosfiltfilt(butter(8, 3000, "highpass", fs=preset.rate, output="sos"), decoded)
    assert 20 * np.log10(np.abs(above).max() / np.abs(decoded).max()) < -40


@pytest.mark.parametrize("name", ["loa", "loa-ip", "fm", "phat-thanh"])
@pytest.mark.parametrize("level", ["normal", "priority"])
def test_the_bell_dies_away_instead_of_stopping(tmp_path, name, level):
    """The bell's last note rang 1.4 s and was then faded out in 50 ms, 20 dB under the chime's peak:
    heard as a hand stopping the bell before every message. Its 10 ms envelope in the file aired now
    falls no more than 10 dB at a step until it is 50 dB under the peak (it fell from -35 dB to
    nothing)."""
    preset = get_preset(name)
    master_segment(Segment(level, ()), preset, tmp_path / f"chime{preset.suffix}")
    decoded = decode(tmp_path / f"chime{preset.suffix}", preset.rate)[0]
    size = preset.rate // 100
    n = len(decoded) // size
    env = 20 * np.log10(np.abs(decoded[: n * size]).reshape(n, size).max(axis=1) / np.abs(decoded).max() + 1e-9)
    tail = env[int(np.argmax(env)):]
    falls = tail[:-1] - tail[1:]
    assert falls[tail[:-1] > -50].max() <= 10


@pytest.mark.parametrize("preset_name", ["loa", "fm", "phat-thanh"])
@pytest.mark.parametrize("level", ["normal", "emergency"])
def test_the_chime_sits_under_the_speech_by_the_presets_chime_lu(tmp_path, preset_name, level):
    """Each chime is mastered on its own, as the sentences are: at the preset's loudness moved by
    `chime_lu` (1 LU under the speech), measured by FFmpeg's EBU R128 meter on the files aired."""
    preset = get_preset(preset_name)
    chime_file, sentence_file = tmp_path / f"chime{preset.suffix}", tmp_path / f"sentence{preset.suffix}"
    master_segment(Segment(level, ()), preset, chime_file)
    master_segment(Segment(None, (speech_like(4.0, rate=preset.rate, seed=7),)), preset, sentence_file)
    chime_lufs = measure_ebur128(chime_file).integrated_lufs
    speech_lufs = measure_ebur128(sentence_file).integrated_lufs
    assert chime_lufs - speech_lufs == pytest.approx(preset.chime_lu, abs=0.4)
    assert preset.chime_lu <= 0  # never over the speech


@pytest.mark.parametrize("preset_name", ["loa", "phat-thanh"])
@pytest.mark.parametrize("level", ["normal", "priority", "emergency"])
def test_a_message_of_one_short_sentence_stays_on_target_under_its_chime(tmp_path, preset_name, level):
    """The chime under the speech lowers a message's loudness most where it is most of the sound: one
    second of speech after the longest chime is still within the preset's tolerance."""
    preset = get_preset(preset_name)
    paths = []
    for i, part in enumerate(layout([((speech_like(1.0, rate=preset.rate, seed=11),),)], None, 1, level, preset)):
        paths.append(tmp_path / f"{i}{preset.suffix}")
        master_segment(part, preset, paths[-1])
    out = tmp_path / f"message{preset.suffix}"
    join_files(paths, preset, out, Tags(title="Thử", artist="Xã Chi Lăng"))
    level_read = measure_ebur128(out)
    assert abs(level_read.integrated_lufs - preset.target_lufs) <= preset.tolerance_lu
    assert level_read.true_peak_dbtp <= preset.max_true_peak_dbtp
