"""recorded engine: human recordings found by index or slug; missing ones are errors, never silence."""

from __future__ import annotations

import math
import struct
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

from broadcast.tts import (
    Clip,
    ClipCache,
    MissingRecording,
    TTSError,
    VoiceSpec,
    make_engine,
    synthesize_all,
)
from broadcast.tts.recorded import slugify
from broadcast.tts.voices import missing_recordings, voice_status
from broadcast.wav import read_wav, write_wav

GREETING = "Kính thưa bà con nhân dân xã Đắk Lắk!"
WARNING = "Bà con tuyệt đối không chuyển tiền cho người lạ."


def tone(seconds: float, rate: int = 44100) -> Clip:
    n = int(seconds * rate)
    return Clip(struct.pack(f"<{n}h", *(int(6000 * math.sin(2 * math.pi * 330 * i / rate)) for i in range(n))), rate)


@pytest.fixture
def project(tmp_path):
    rec = tmp_path / "assets" / "ede"
    rec.mkdir(parents=True)
    write_wav(tone(0.5), rec / f"{slugify(GREETING)}.wav")
    write_wav(tone(0.8), rec / "canh-bao-1.wav")
    (rec / "recordings.yaml").write_text(f'"{WARNING}": canh-bao-1.wav\n', encoding="utf-8")
    write_wav(tone(1.2), rec / "tong-tien-anh-cat-ghep.wav")  # a whole script, by script id
    return tmp_path


def test_slug():
    assert slugify("Bà con chú ý!") == "ba-con-chu-y"
    assert slugify(GREETING) == "kinh-thua-ba-con-nhan-dan-xa-dak-lak"
    assert slugify("tong-tien-anh-cat-ghep") == "tong-tien-anh-cat-ghep"
    # names Windows keeps for devices: con.wav cannot be made on a station PC
    assert [slugify(s) for s in ("Con.", "Nul!", "COM1", "aux")] == ["con-ghi-am", "nul-ghi-am", "com1-ghi-am",
                                                                     "aux-ghi-am"]
    assert slugify("Con cháu.") == "con-chau"


def test_lookup_by_slug_index_and_script_id(project):
    eng = make_engine("recorded", {"folder": "assets/ede"}, project)
    assert abs(eng.synthesize(GREETING).duration - 0.5) < 0.01
    assert abs(eng.synthesize("  Bà con tuyệt đối không\nchuyển tiền cho người lạ. ").duration - 0.8) < 0.01
    assert abs(eng.synthesize("tong-tien-anh-cat-ghep").duration - 1.2) < 0.01


def test_missing_recording_is_an_error_and_listed(project):
    eng = make_engine("recorded", {"folder": "assets/ede"}, project)
    with pytest.raises(MissingRecording) as e:
        eng.synthesize("Câu chưa thu âm.")
    assert "cau-chua-thu-am.wav" in e.value.message and e.value.sentence == "Câu chưa thu âm."
    assert eng.missing([GREETING, "Câu chưa thu âm.", WARNING, "Câu chưa thu âm.", "Khác."]) == [
        "Câu chưa thu âm.", "Khác.",
    ]
    voice = VoiceSpec("ede", "recorded", {"folder": "assets/ede"})
    assert missing_recordings(voice, [GREETING, "Khác."], project) == ["Khác."]
    assert missing_recordings(VoiceSpec("bac", "espeak", {}), ["Khác."], project) == []
    r = synthesize_all([(voice, "Khác."), (voice, GREETING)], ClipCache(project / "c"), project)
    assert [f.sentence for f in r.failures] == ["Khác."] and r.failures[0].missing_recording
    assert r[("ede", GREETING)].duration == pytest.approx(0.5, abs=0.01)


def test_mp3_and_resampling(project):
    rec = project / "assets" / "ede"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
           "sine=frequency=300:duration=0.7", "-ac", "2", "-ar", "44100", str(rec / "xin-chao.mp3")]
    subprocess.run(cmd, check=True)
    clip = make_engine("recorded", {"folder": "assets/ede", "rate": 22050}, project).synthesize("Xin chào")
    assert clip.rate == 22050 and 0.6 < clip.duration < 0.85 and clip.rms() > 1000
    assert make_engine("recorded", {"folder": "assets/ede", "rate": 16000}, project).synthesize(GREETING).rate == 16000


def test_version_changes_when_a_recording_changes(project):
    params = {"folder": "assets/ede"}
    before = make_engine("recorded", params, project).version()
    assert make_engine("recorded", params, project).version() == before
    write_wav(tone(0.6), project / "assets" / "ede" / f"{slugify(GREETING)}.wav")
    assert make_engine("recorded", params, project).version() != before


def test_missing_folder(tmp_path):
    with pytest.raises(TTSError, match="không có thư mục"):
        make_engine("recorded", {"folder": "nowhere"}, tmp_path)
    status = voice_status(VoiceSpec("x", "recorded", {"folder": "nowhere"}), tmp_path)
    assert not status.ok and "nowhere" in status.fix


@pytest.mark.parametrize("suffix", [".mp3", ".ogg", ".m4a", ".flac"])
def test_recordings_in_any_format_decode_like_the_ffmpeg_program(project, suffix):
    """Staff bring MP3/OGG/M4A/FLAC: the in-process decode gives the length and the very
    samples that the ffmpeg program decodes (16-bit mono at the file's own rate)."""
    rec = project / "assets" / "ede"
    path = rec / f"canh-bao-{suffix[1:]}{suffix}"
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run([exe, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=0.9",
                    "-ac", "2", "-ar", "32000", str(path)], check=True)
    clip = make_engine("recorded", {"folder": "assets/ede"}, project).synthesize(f"Cảnh báo {suffix[1:]}")
    program = subprocess.run([exe, "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-"],
                             capture_output=True, check=True).stdout
    assert clip.rate == 32000
    assert clip.duration == pytest.approx(0.9, abs=0.1)
    got, want = np.frombuffer(clip.samples, "<i2"), np.frombuffer(program, "<i2")
    # AAC ends on whole 1024-sample frames: the program cuts the padding by the MP4 edit list,
    # the libraries hand it over as silence (which assembly trims with the clip's own silence)
    assert len(want) <= len(got) <= len(want) + (1024 if suffix == ".m4a" else 0)
    assert np.abs(got[len(want):].astype(int)).max(initial=0) < 328  # under -40 dBFS: the codec's decay
    assert np.abs(got[: len(want)].astype(int) - want).max() <= 1  # same decoder; at most a rounding step apart


def test_undecodable_recording_is_a_tts_error(project):
    (project / "assets" / "ede" / "hong.mp3").write_bytes(b"this is not audio")
    with pytest.raises(TTSError, match="hong.mp3") as caught:
        make_engine("recorded", {"folder": "assets/ede"}, project).synthesize("Hỏng")
    # said for staff, with what to do (it was FFmpeg's '[Errno 1094995529] Invalid data found ...')
    assert "không phải âm thanh" in caught.value.message and "Audacity" in caught.value.message
    assert "Errno" not in caught.value.message


def test_a_long_recording_whose_header_says_nothing_is_refused_as_it_decodes(project, monkeypatch, tmp_path):
    """A length is checked from the header first; without one (or a lying one) the whole file was decoded
    before its length was: a 45-minute meeting took 3.5 GB. Decoding now stops past the limit."""
    import tracemalloc

    import broadcast.tts.recorded as recorded

    path = project / "assets" / "ede" / "hop-ca-buoi.mp3"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=300:duration=300:sample_rate=48000", "-ac", "1", "-b:a", "32k", "-write_xing", "0",
                    str(path)], check=True)
    monkeypatch.setattr(recorded, "MAX_SECONDS", 5.0)
    monkeypatch.setattr(recorded, "header_seconds", lambda source: (0.0, False))  # no length to read first
    eng = make_engine("recorded", {"folder": "assets/ede"}, project)
    tracemalloc.start()
    try:
        with pytest.raises(TTSError, match="quá") as caught:
            eng.synthesize("hop-ca-buoi")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "phút" in caught.value.message
    assert peak < 40_000_000, peak  # five minutes decoded whole: ~350 MB


def test_voice_messages_and_phone_recordings_are_accepted(project):
    """Zalo voice messages (.aac) and phone recordings were refused by their extension at upload, though
    they decode and air."""
    rec = project / "assets" / "ede"
    path = rec / "zalo.aac"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=300:duration=1.5", "-ac", "1", "-c:a", "aac", "-f", "adts", str(path)], check=True)
    clip = make_engine("recorded", {"folder": "assets/ede"}, project).synthesize("zalo")
    assert clip.duration == pytest.approx(1.5, abs=0.1)
    assert {".aac", ".amr", ".3gp", ".webm", ".mp4"} <= set(recorded_extensions())


def recorded_extensions() -> tuple[str, ...]:
    from broadcast.tts.recorded import EXTENSIONS

    return EXTENSIONS


def test_every_file_read_stays_inside_the_project(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    write_wav(tone(0.5), outside / "secret.wav")
    with pytest.raises(TTSError, match="ngoài thư mục dự án"):
        make_engine("recorded", {"folder": str(outside)}, project)
    rec = project / "assets" / "ede"
    (rec / "recordings.yaml").write_text(f'"{WARNING}": canh-bao-1.wav\n"Câu lạ.": ../../../outside/secret.wav\n',
                                         encoding="utf-8")
    eng = make_engine("recorded", {"folder": "assets/ede"}, project)
    with pytest.raises(TTSError, match=r"recordings.yaml:2: .*ngoài thư mục bản ghi"):
        eng.synthesize(WARNING)
    (rec / "recordings.yaml").unlink()
    (rec / f"{slugify('Câu lạ.')}.wav").symlink_to(outside / "secret.wav")
    eng = make_engine("recorded", {"folder": "assets/ede"}, project)
    with pytest.raises(TTSError, match="trỏ ra ngoài"):
        eng.synthesize("Câu lạ.")


def test_a_recording_too_long_is_refused(project, monkeypatch):
    import broadcast.tts.recorded as recorded

    monkeypatch.setattr(recorded, "MAX_SECONDS", 1.0)
    eng = make_engine("recorded", {"folder": "assets/ede"}, project)
    assert eng.synthesize(GREETING).duration < 1.0  # 0.5 s: fine
    with pytest.raises(TTSError, match="quá"):
        eng.synthesize("tong-tien-anh-cat-ghep")  # 1.2 s
    monkeypatch.setattr(recorded, "MAX_BYTES", 1000)
    with pytest.raises(TTSError, match="MB"):
        eng.synthesize(GREETING)


def test_lint_names_recordings_that_cannot_air(tmp_path, monkeypatch):
    import broadcast.tts.recorded as recorded
    from broadcast import app
    from broadcast.model import Week
    from conftest import make_project

    sentence = "Bà con chú ý."
    root = make_project(tmp_path / "p", {
        "voices/ede.yaml": "id: ede\nengine: recorded\nparams: {folder: assets/ede}\n",
        "scripts/canh-bao.yaml": "id: canh-bao\ntitle: Thử\nsource: Công an tỉnh\nlevel: normal\n"
                                 "valid: {from: 2024-12-04}\nvoice: ede\nbody: |\n  Bà con chú ý.\n"})
    (root / "assets" / "ede").mkdir(parents=True)
    write_wav(tone(1.2), root / "assets" / "ede" / f"{slugify(sentence)}.wav")
    week = Week(2026, 49)
    assert not [p for p in app.open_workspace(root).lint(week).errors if p.field == "recordings"]
    monkeypatch.setattr(recorded, "MAX_SECONDS", 1.0)
    [problem] = [p for p in app.open_workspace(root).lint(week).errors if p.field == "recordings"]
    assert problem.file == "voices/ede.yaml" and "quá" in problem.message
    (root / "voices" / "ede.yaml").write_text("id: ede\nengine: recorded\nparams: {folder: ../..}\n", encoding="utf-8")
    [problem] = [p for p in app.open_workspace(root).lint(week).errors if p.field == "params.folder"]
    assert "ngoài thư mục dự án" in problem.message


def noise(seconds: float, dbfs: float, rate: int = 16000) -> Clip:
    """Hiss at `dbfs` RMS (a muted or far microphone); -inf: digital silence."""
    n = int(seconds * rate)
    x = np.random.default_rng(7).normal(0, 32768 * 10 ** (dbfs / 20), n) if dbfs > -math.inf else np.zeros(n)
    return Clip(np.round(x).astype("<i2").tobytes(), rate)


@pytest.mark.parametrize("clip", [noise(2.0, -math.inf), noise(2.0, -75.0), tone(0.01)],
                         ids=["digital-silence", "muted-mic-hiss", "10-ms"])
def test_a_silent_or_too_short_recording_is_refused_with_its_sentence(project, clip):
    """A silent or 10 ms recording stopped the whole week's build in mastering ('không giải mã được
    ... .tmp'); hiss at -75 dBFS aired normalised up 55 dB. Now only that sentence fails (its
    commune, or its fallback voice reads), and lint names it."""
    rec = project / "assets" / "ede"
    write_wav(clip, rec / f"{slugify(GREETING)}.wav")
    voice = VoiceSpec("ede", "recorded", {"folder": "assets/ede"})
    with pytest.raises(TTSError) as caught:
        make_engine("recorded", voice.params, project).synthesize(GREETING)
    message = caught.value.message
    assert f"{slugify(GREETING)}.wav" in message and GREETING in message and "thu âm lại" in message
    assert ("im lặng" in message) if clip.duration > 1 else ("quá ngắn" in message)
    r = synthesize_all([(voice, GREETING), (voice, WARNING)], ClipCache(project / "c"), project)
    assert [f.sentence for f in r.failures] == [GREETING] and r[("ede", WARNING)].duration == pytest.approx(0.8, abs=0.01)
    assert [why for why in make_engine("recorded", voice.params, project).unusable([GREETING, WARNING])] == [message]


def test_a_quiet_but_audible_recording_airs(project):
    write_wav(noise(2.0, -45.0), project / "assets" / "ede" / f"{slugify(GREETING)}.wav")
    assert make_engine("recorded", {"folder": "assets/ede"}, project).synthesize(GREETING).duration == 2.0


def test_a_cut_off_recording_is_refused_not_aired_cut(project):
    """A WAV whose data chunk declares more than the file holds, and an MP3 cut at 40 KB (its header
    says 12 s, 4.9 s decode), aired with the sentence cut off."""
    from broadcast.wav import wav_bytes

    rec = project / "assets" / "ede"
    whole = wav_bytes(tone(4.0, 16000))
    (rec / f"{slugify(GREETING)}.wav").write_bytes(whole[: len(whole) // 2])
    mp3 = rec / "xin-chao.mp3"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=300:duration=12", "-ac", "2", "-ar", "44100", "-b:a", "64k", str(mp3)], check=True)
    eng = make_engine("recorded", {"folder": "assets/ede"}, project)
    assert eng.synthesize("Xin chào").duration == pytest.approx(12.0, abs=0.1)  # whole: it airs
    mp3.write_bytes(mp3.read_bytes()[:40_000])
    for sentence, name, decoded in ((GREETING, f"{slugify(GREETING)}.wav", "2.0"), ("Xin chào", "xin-chao.mp3", "5.0")):
        with pytest.raises(TTSError) as caught:
            eng.synthesize(sentence)
        message = caught.value.message
        assert name in message and sentence in message and "bị cắt cụt" in message and "gửi lại tệp gốc" in message
        assert f"giải mã được {decoded}" in message
    assert len(eng.unusable([GREETING, "Xin chào", WARNING])) == 2


@pytest.mark.parametrize("rate", [0, 16000])
def test_mp3s_joined_byte_by_byte_keep_each_part_at_its_own_rate(project, tmp_path, rate):
    """A 44.1 kHz MP3 followed by a 22.05 kHz one in the same file: the second half was appended as
    if at 44.1 kHz (aired at double speed, an octave up), or the resampler refused it."""
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    parts = []
    for k, (hz, layout) in enumerate([(44100, "1"), (22050, "1"), (44100, "2")]):
        parts.append(tmp_path / f"part{k}.mp3")
        subprocess.run([exe, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=2",
                        "-ar", str(hz), "-ac", layout, "-id3v2_version", "0", str(parts[-1])], check=True)
    joined = project / "assets" / "ede" / "noi-lai.mp3"
    joined.write_bytes(b"".join(p.read_bytes() for p in parts))
    clip = make_engine("recorded", {"folder": "assets/ede", "rate": rate}, project).synthesize("Nối lại")
    program = subprocess.run([exe, "-v", "error", "-i", str(joined), "-f", "s16le", "-ac", "1", "-ar", "16000", "-"],
                             capture_output=True, check=True).stdout
    assert clip.duration == pytest.approx(len(program) / 2 / 16000, abs=0.01) == pytest.approx(6.0, abs=0.25)
    x = np.frombuffer(clip.samples, "<i2").astype(float)
    for second in (0.5, 2.5, 4.5):  # 300 Hz all through: 600 zero crossings a second, not 1200
        window = x[int(second * clip.rate) : int((second + 1) * clip.rate)]
        assert np.count_nonzero(np.diff(np.signbit(window))) == pytest.approx(600, abs=10)


def test_lint_and_the_studio_ask_for_the_sentences_the_build_says(tmp_path):
    """lint read each sentence with the project's lexicon while the build and the studio's Ghi âm page
    use the commune's, so it asked for a recording nobody would use and not for the one needed; and
    the build asked for 'Xin nhắc lại.' even with `repeat: 1`, while neither listed it with `repeat: 2`."""
    from broadcast import app
    from broadcast.model import Week
    from conftest import make_project, run

    body = "id: canh-bao\ntitle: Thử\nsource: Công an tỉnh\nlevel: normal\nvalid: {from: 2024-12-04}\nvoice: ede\n"
    root = make_project(tmp_path / "p", {
        "voices/ede.yaml": "id: ede\nengine: recorded\nparams: {folder: assets/ede}\n",
        "locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\n"
                                             "lexicon: {abbreviations: {BQL: ban quản lý}}\n",
        "scripts/canh-bao.yaml": body + "repeat: 1\nbody: |\n  Hãy báo BQL thôn.\n"})
    (root / "assets" / "ede").mkdir(parents=True)
    week = Week(2026, 49)

    def asked() -> tuple[list[str], list[str]]:
        workspace = app.open_workspace(root)
        return (workspace.recordings_needed("ede", week),
                [p.message for p in workspace.lint(week).errors if p.field == "recordings"])

    needed, lint = asked()
    assert needed == ["Hãy báo ban quản lý thôn."]
    assert lint == ["thiếu bản ghi âm cho câu: 'Hãy báo ban quản lý thôn.' (missing recording)"]
    write_wav(tone(1.0), root / "assets" / "ede" / f"{slugify(needed[0])}.wav")
    assert asked() == ([], [])
    build = run("build", "--week", "2026-W49", "--jobs", "1", "--project", str(root))
    assert build.exit_code == 0, build.output  # no 'Xin nhắc lại.' needed: it is never said
    (root / "scripts" / "canh-bao.yaml").write_text(body + "repeat: 2\nbody: |\n  Hãy báo BQL thôn.\n", encoding="utf-8")
    assert asked() == (["Xin nhắc lại."], ["thiếu bản ghi âm cho câu: 'Xin nhắc lại.' (missing recording)"])


def test_two_files_for_one_sentence_are_named_not_one_picked(project):
    """'x.WAV' beside 'x.wav' (put there by hand): one was read, unsaid. The index's entry, written on
    purpose, wins over a file of the sentence's name beside it, as before (a project keeping better takes
    in a subfolder through the index must go on building)."""
    rec = project / "assets" / "ede"
    write_wav(tone(0.7), rec / f"{slugify(GREETING)}.WAV")
    write_wav(tone(0.6), rec / f"{slugify(WARNING)}.wav")  # beside the index's canh-bao-1.wav
    eng = make_engine("recorded", {"folder": "assets/ede"}, project)
    with pytest.raises(TTSError) as caught:
        eng.synthesize(GREETING)
    names = f"{slugify(GREETING)}.WAV, {slugify(GREETING)}.wav"
    assert f"có 2 tệp ghi âm ({names})" in caught.value.message and "xóa tệp cũ" in caught.value.message
    indexed = read_wav(rec / "canh-bao-1.wav")
    assert eng.synthesize(WARNING).duration == pytest.approx(len(indexed.samples) / 2 / indexed.rate, abs=0.05)
    assert len(eng.unusable([GREETING, WARNING, "tong-tien-anh-cat-ghep"])) == 1


def test_a_replaced_recording_in_a_subfolder_or_of_another_type_is_read_again(project):
    """version() covered only the folder's own files of a known type: a recording recordings.yaml names
    in a subfolder, or as 'x.wave', was replaced and the build aired the cached old one."""
    rec = project / "assets" / "ede"
    (rec / "xa").mkdir()
    (rec / f"{slugify(GREETING)}.wav").unlink()
    (rec / "recordings.yaml").write_text(f'"{WARNING}": xa/canh-bao.wav\n"{GREETING}": chao.wave\n', encoding="utf-8")
    voice = VoiceSpec("ede", "recorded", {"folder": "assets/ede"})
    for seconds in (0.8, 1.6):
        write_wav(tone(seconds), rec / "xa" / "canh-bao.wav")
        write_wav(tone(seconds), rec / "chao.wave")
        r = synthesize_all([(voice, WARNING), (voice, GREETING)], ClipCache(project / "c"), project)
        assert r[("ede", WARNING)].duration == r[("ede", GREETING)].duration == pytest.approx(seconds, abs=0.01)


def test_sentences_that_differ_only_by_diacritics_have_a_recording_each(project):
    """'... Xã Văn Lang!' and '... Xã Văn Lăng!' have one slug: both read the same file (8 such pairs of
    commune names in one province). A recording is now saved under its slug and a hash of the text; an
    old slug-only file is read only while no other sentence of the voice has that slug."""
    from broadcast.tts.recorded import recording_name

    lang, lang_accent = "Kính thưa bà con nhân dân Xã Văn Lang!", "Kính thưa bà con nhân dân Xã Văn Lăng!"
    rec = project / "assets" / "ede"
    assert slugify(lang) == slugify(lang_accent) and recording_name(lang) != recording_name(lang_accent)
    assert recording_name(lang) == recording_name(" Kính thưa bà con  nhân dân Xã Văn Lang!")
    write_wav(tone(0.5), rec / f"{slugify(lang)}.wav")
    eng = make_engine("recorded", {"folder": "assets/ede"}, project)
    assert eng.missing([lang, GREETING]) == [] and eng.synthesize(lang).duration == pytest.approx(0.5, abs=0.01)
    assert eng.missing([lang, GREETING, lang_accent]) == [lang, lang_accent]  # whose is it? both to record
    write_wav(tone(1.0), rec / f"{recording_name(lang)}.wav")
    write_wav(tone(2.0), rec / f"{recording_name(lang_accent)}.wav")
    eng = make_engine("recorded", {"folder": "assets/ede"}, project)
    assert eng.missing([lang, lang_accent]) == [] and not eng.unusable([lang, lang_accent])
    assert [eng.synthesize(s).duration for s in (lang, lang_accent)] == pytest.approx([1.0, 2.0], abs=0.01)


def test_a_short_recording_whose_stream_starts_late_is_not_too_long(project):
    """The limit counted the frames' times: a 5 s clip whose stream starts at 1,000 s (timestamps kept
    from a longer recording) was refused as 17 minutes long."""
    path = project / "assets" / "ede" / "cat-tu-ban-dai.ogg"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=300:duration=5", "-ac", "1", "-c:a", "libvorbis", "-output_ts_offset", "1000",
                    str(path)], check=True)
    clip = make_engine("recorded", {"folder": "assets/ede"}, project).synthesize("cat-tu-ban-dai")
    assert clip.duration == pytest.approx(5.0, abs=0.2)
