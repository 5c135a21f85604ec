"""Message files: structure (chime, repeat), tags, determinism, durations, atomic writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import mutagen
import numpy as np
import pytest
from mutagen.wave import WAVE

from broadcast import pcm
from broadcast.audio import (
    AudioError,
    MessageAudio,
    Spoken,
    Tags,
    chime,
    dsp,
    get_preset,
    master_message,
)
from broadcast.audio.assemble import assemble_message, trim_silence
from broadcast.audio.concat import read_frames
from broadcast.audio.tags import read_wav_info
from broadcast.audio.testsignal import sample_message, speech_like
from broadcast.ffmpeg import decode, ffmpeg_exe, stretch

TAGS = Tags(
    title="Cảnh giác thủ đoạn cắt ghép ảnh nhạy cảm để tống tiền",
    artist="Xã Chi Lăng",
    album="Tuần 2026-W49",
    track=3,
    track_total=12,
    date="2026-12-01",
    script_id="tong-tien-anh-cat-ghep",
    source="Sở TT&TT Phú Thọ, công văn tháng 12/2024",
)


@pytest.fixture(scope="module")
def loa_files(tmp_path_factory):
    """The same 6 s body said once and twice, and as an emergency, through `loa`."""
    folder = tmp_path_factory.mktemp("loa")
    return {
        name: master_message(
            sample_message(6.0, repeat=repeat, level=level, seed=11), get_preset("loa"), folder / f"{name}.mp3", TAGS
        )
        for name, repeat, level in (("once", 1, "normal"), ("twice", 2, "normal"), ("emergency", 1, "emergency"))
    }


def _dominant(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1.0 / rate)[int(np.argmax(spectrum))])


def _ffmpeg_decoded_seconds(path: Path) -> float:
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "44100", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return len(raw) / 2 / 44100


def test_repeat_is_a_bit_more_than_twice(loa_files):
    preset = get_preset("loa")
    fixed = preset.lead_in + len(chime("normal", preset.rate)) / preset.rate + preset.after_chime + preset.tail
    once = loa_files["once"].duration - fixed
    twice = loa_files["twice"].duration - fixed
    assert 2 * once < twice < 2 * once + preset.pause_repeat + 2.0  # + "Xin nhắc lại" and its pauses


def test_chime_opens_the_message(loa_files):
    preset = get_preset("loa")
    rate = preset.rate
    decoded = decode(loa_files["once"].path, rate)[0]
    start = int(preset.lead_in * rate)
    # the first strike of the bell is G5
    assert abs(_dominant(decoded[start : start + int(0.35 * rate)], rate) - 784.0) < 15.0
    # and the opening matches the generated chime (correlation, after the `loa` linear filters)
    bell = dsp.band_limit(chime("normal", rate), rate, preset.highpass_hz, preset.lowpass_hz)
    bell = dsp.rotate_phase(bell, rate, preset.phase_rotation)
    window = decoded[: start + len(bell) + 4096]
    corr = np.correlate(window, bell, "valid")
    lag = int(np.argmax(corr))
    segment = window[lag : lag + len(bell)]
    score = corr[lag] / (np.linalg.norm(segment) * np.linalg.norm(bell))
    assert score > 0.9
    assert abs(lag - start) < 0.05 * rate


def test_emergency_chime_is_distinct(loa_files):
    rate = 44100
    normal, urgent = chime("normal", rate), chime("emergency", rate)
    assert not np.array_equal(normal[: len(urgent)], urgent[: len(normal)])
    assert abs(_dominant(urgent[: int(0.12 * rate)], rate) - 1046.5) < 15.0
    decoded = decode(loa_files["emergency"].path, rate)[0]
    start = int(get_preset("loa").lead_in * rate)
    # fast alternation: the high tone, then the low one 120 ms later
    assert abs(_dominant(decoded[start + 500 : start + 5000], rate) - 1046.5) < 20.0
    assert abs(_dominant(decoded[start + 5800 : start + 10300], rate) - 784.0) < 20.0


def test_chimes_are_deterministic():
    assert np.array_equal(chime("priority", 48000), chime("priority", 48000))
    assert len(chime("priority", 48000)) > len(chime("normal", 48000))


def test_mp3_decodes_cleanly_with_exact_duration(loa_files):
    for out in loa_files.values():
        err = subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", str(out.path), "-f", "null", "-"], capture_output=True
        ).stderr
        assert err == b""
        assert abs(out.duration - _ffmpeg_decoded_seconds(out.path)) <= 0.05
        assert abs(out.duration - read_frames(out.path).duration) <= 0.05


def test_mp3_tags_read_back(loa_files):
    tags = mutagen.File(loa_files["once"].path).tags
    assert tags.version[:2] == (2, 3)
    assert str(tags["TIT2"]) == TAGS.title
    assert str(tags["TPE1"]) == "Xã Chi Lăng"
    assert str(tags["TALB"]) == "Tuần 2026-W49"
    assert str(tags["TRCK"]) == "3/12"
    assert str(tags["TLAN"]) == "vie"
    assert "2026" in str(tags.get("TDRC") or tags.get("TYER"))
    comment = str(tags.getall("COMM")[0])
    assert "tong-tien-anh-cat-ghep" in comment and "công văn tháng 12/2024" in comment
    assert abs(int(str(tags["TLEN"])) / 1000 - loa_files["once"].duration) < 0.01


@pytest.mark.parametrize("preset_name", ["loa", "phat-thanh"])
def test_byte_identical_on_two_runs(tmp_path, preset_name):
    suffix = get_preset(preset_name).suffix
    a = master_message(sample_message(4.0, seed=21), get_preset(preset_name), tmp_path / f"a{suffix}", TAGS)
    b = master_message(sample_message(4.0, seed=21), get_preset(preset_name), tmp_path / f"b{suffix}", TAGS)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.sha256 == b.sha256


def test_wav_delivery_tags_and_format(tmp_path):
    out = master_message(sample_message(4.0, seed=22), get_preset("phat-thanh"), tmp_path / "m.wav", TAGS)
    info = read_wav_info(out.path)
    assert info["INAM"] == TAGS.title
    assert info["IART"] == "Xã Chi Lăng"
    assert info["IPRD"] == "Tuần 2026-W49"
    assert info["ITRK"] == "3/12"
    assert info["ILNG"] == "vie"
    assert "tong-tien-anh-cat-ghep" in info["ICMT"]
    wav = WAVE(out.path)  # the id3 chunk, for players that read ID3 in WAV
    assert wav.info.sample_rate == 48000 and wav.info.channels == 1 and wav.info.bits_per_sample == 16
    assert str(wav.tags["TIT2"]) == TAGS.title
    assert abs(wav.info.length - out.duration) < 0.001
    probe = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(out.path)], capture_output=True).stderr.decode()
    assert f"title           : {TAGS.title}" in probe


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "m.mp3"
    target.write_bytes(b"old")
    master_message(sample_message(3.0, seed=23), get_preset("fm"), target, TAGS)
    assert target.read_bytes()[:3] == b"ID3"
    assert [p.name for p in tmp_path.iterdir()] == ["m.mp3"]


def test_tempo_slows_speech_without_changing_pitch():
    rate = 44100
    tone = 0.3 * np.sin(2 * np.pi * 440.0 * np.arange(2 * rate) / rate)
    slow = stretch(tone, rate, 0.92)
    assert abs(len(slow) / rate - 2.0 / 0.92) < 0.03
    assert abs(_dominant(slow[rate // 4 : -rate // 4], rate) - 440.0) < 3.0


def test_stretch_matches_the_ffmpeg_program():
    """The in-process atempo is FFmpeg's own: the ffmpeg program gives the same samples."""
    rate = 44100
    x = pcm.from_pcm16(speech_like(3.0, seed=41).samples)
    x = dsp.resample(x, 22050, rate)
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0",
         "-af", "atempo=0.9200", "-f", "f32le", "pipe:1"],
        input=x.astype("<f4").tobytes(), capture_output=True, check=True,
    ).stdout
    expected = np.frombuffer(raw, dtype="<f4")
    got = stretch(x, rate, 0.92)
    assert abs(len(got) - len(expected)) <= 1024  # the program flushes its last frame differently
    n = min(len(got), len(expected)) - 2048
    assert np.abs(got[:n] - expected[:n]).max() < 1e-4


def test_decode_matches_the_ffmpeg_program(loa_files):
    """In-process decoding (used to verify every file) is sample for sample what ffmpeg plays."""
    path = loa_files["twice"].path
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "44100", "-"],
        capture_output=True, check=True,
    ).stdout
    expected = pcm.from_pcm16(raw)
    got = decode(path, 44100)[0]
    assert len(got) == len(expected)
    assert np.abs(got - expected).max() <= 1.0 / 32768
    assert len(decode(path, 22050)[0]) == pytest.approx(len(expected) / 2, abs=64)


def test_decode_of_a_broken_file_names_it(tmp_path):
    bad = tmp_path / "hong.mp3"
    bad.write_bytes(b"ID3 not audio at all" * 10)
    with pytest.raises(AudioError, match="hong.mp3"):
        decode(bad, 44100)[0]


def test_pauses_and_opening_closing_are_laid_out():
    preset = get_preset("phat-thanh")  # tempo 1: pauses come out exactly
    a, b = speech_like(1.0, seed=31), speech_like(1.0, seed=32)
    plain = MessageAudio(body=Spoken(paragraphs=(((a, b),),)))
    framed = MessageAudio(body=plain.body, opening=Spoken.of(a), closing=Spoken.of(b))
    parts = [trim_silence(dsp.resample(pcm.from_pcm16(c.samples), c.rate, preset.rate), preset.rate) for c in (a, b)]
    speech_len = sum(len(p) for p in parts) / preset.rate
    fixed = preset.lead_in + len(chime("normal", preset.rate)) / preset.rate + preset.after_chime + preset.tail
    assert assemble_message(plain, preset).duration == pytest.approx(fixed + speech_len + preset.pause_group, abs=0.01)
    extra = speech_len + 2 * preset.pause_paragraph
    assert assemble_message(framed, preset).duration == pytest.approx(
        fixed + speech_len + preset.pause_group + extra, abs=0.01
    )


def test_bad_input_is_reported():
    with pytest.raises(AudioError, match="loa, loa-ip, fm, phat-thanh"):
        get_preset("radio")
    with pytest.raises(AudioError, match="normal, priority, emergency"):
        MessageAudio(body=Spoken.of(speech_like(0.5)), level="urgent")
    with pytest.raises(AudioError):
        MessageAudio(body=Spoken.of(speech_like(0.5)), repeat=0)


def test_a_disk_refusing_the_tag_is_the_machine_s_problem_not_a_traceback(tmp_path):
    """mutagen wraps the disk's error (a full USB stick: EFBIG, ENOSPC) in its own type, which the
    commands did not recognise as the machine's (exit 3): the build ended with a traceback."""
    import errno
    import resource

    from broadcast.audio import Tags
    from broadcast.audio.tags import write_id3

    path = tmp_path / "tin.mp3"
    path.write_bytes(b"\xff\xfb\x90\x64" + bytes(4000))  # an MP3 frame's worth of bytes, untagged
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size + 16, hard))  # no room for the tag
    try:
        with pytest.raises(OSError) as caught:
            write_id3(path, Tags(title="Cảnh báo lừa đảo", artist="Đài xã"), 1.0)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert caught.type is not mutagen.MutagenError and caught.value.errno == errno.EFBIG
