"""Registry, profile checks, voice status and doctor; one shared contract test over every engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadcast.tts import (
    ENGINES,
    Availability,
    Check,
    Clip,
    Engine,
    TTSError,
    VoiceSpec,
    check_profile,
    doctor,
    make_engine,
    voice_status,
)
from broadcast.tts.base import Param


def test_unknown_engine_lists_the_valid_ones(tmp_path):
    with pytest.raises(TTSError) as e:
        make_engine("festival", {}, tmp_path)
    msg = e.value.message
    assert "festival" in msg
    for name in ("espeak", "gtts", "piper", "recorded"):
        assert name in msg
    assert check_profile("festival", {}) == [msg]


def test_registry_holds_every_engine():
    assert sorted(ENGINES) == ["edge", "espeak", "fpt", "gtts", "piper", "recorded", "viettel", "zalo"]
    for name, cls in ENGINES.items():
        assert cls.NAME == name and issubclass(cls, Engine)
        assert cls.POOL in ("process", "thread", "inline")
        assert all(isinstance(p, Param) for p in cls.PARAMS)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_every_engine_rejects_unknown_and_mistyped_params(engine):
    problems = check_profile(engine, {"no_such_param": 1})
    assert len(problems) == 1 and "no_such_param" in problems[0] and "(" in problems[0]
    first = ENGINES[engine].PARAMS[0]
    wrong = 12345 if first.type is str else "text"
    assert any(first.name in p for p in check_profile(engine, {first.name: wrong}))


def test_check_profile_messages():
    assert check_profile("espeak", {"voice": "vi-vn-x-south", "rate": 170}) == []
    problems = check_profile("espeak", {"rate": True, "pitch": 300, "voice": "vi"})
    assert len(problems) == 2
    assert any("rate" in p and "số nguyên" in p for p in problems)
    assert any("pitch" in p and "0" in p and "100" in p for p in problems)
    assert check_profile("gtts", {"backoff": 1, "tld": "com.vn"}) == []  # an int is a fine float
    assert check_profile("espeak", ["voice"])  # params must be a mapping


def test_unknown_param_gets_did_you_mean_and_defaults_are_filled_in(tmp_path):
    assert check_profile("espeak", {"pich": 40}) == [
        "tham số không xác định 'pich' (unknown parameter). Cách sửa: có phải ý bạn là 'pitch'?"]
    assert ENGINES["gtts"].normalize_params({"slow": True}) == {
        "lang": "vi", "tld": "com.vn", "slow": True, "retries": 4, "backoff": 1.0, "backoff_max": 30.0,
        "timeout": 15.0, "max_concurrency": 4, "syllables_per_second": None}


def test_engine_params_error_is_pickleable():
    import pickle

    from broadcast.tts import MissingRecording

    e = pickle.loads(pickle.dumps(MissingRecording("thiếu (missing)", "câu", "/x")))
    assert e.message == "thiếu (missing)" and e.sentence == "câu"
    assert pickle.loads(pickle.dumps(TTSError("lỗi (error)"))).message == "lỗi (error)"


def test_doctor_reports_each_part_with_fixes(tmp_path):
    (tmp_path / "rec").mkdir()
    profiles = [
        VoiceSpec("bac", "espeak", {"voice": "vi"}),
        VoiceSpec("nam", "espeak", {"voice": "vi-vn-x-south"}),
        VoiceSpec("google", "gtts", {}, fallback="bac"),
        VoiceSpec("ai", "piper", {"model": "voices/missing.onnx"}),
        VoiceSpec("ede", "recorded", {"folder": "rec"}, fallback="ghost"),
    ]
    offline = lambda url, timeout: (False, "offline")  # noqa: E731 — never the real network
    checks = doctor(tmp_path, tmp_path / ".cache" / "clips", profiles, probe=offline)
    by_name = {c.name: c for c in checks}
    assert all(isinstance(c, Check) for c in checks)
    assert by_name["ffmpeg (imageio-ffmpeg)"].ok
    assert by_name["espeak-ng"].ok and by_name["espeak-ng giọng vi-vn-x-south"].ok
    assert by_name["giọng bac (espeak)"].ok and by_name["giọng nam (espeak)"].ok
    google = by_name["giọng google (gtts, kiểm tra qua mạng)"]
    # unreachable, but its fallback works: reported as a warning, not a failure of doctor
    assert not google.ok and google.warning and "bac" in google.detail and google.fix
    assert not by_name["giọng ai (piper)"].ok and "missing.onnx" in by_name["giọng ai (piper)"].detail
    assert not by_name["giọng ede (recorded)"].ok and "ghost" in by_name["giọng ede (recorded)"].detail
    assert by_name["cache"].ok
    for c in checks:
        assert c.ok or c.fix, c


def test_doctor_checks_only_the_voices_the_project_uses_and_offline_is_not_a_failure(tmp_path):
    """The example project's optional gTTS voice, offline: doctor exits 0 (it used to exit 1)."""
    from conftest import REPO, run

    result = run("doctor", "--offline", "--project", str(REPO))
    assert result.exit_code == 0, result.output
    assert "gtts-vi (gtts, kiểm tra qua mạng)" in result.output and "không dùng" in result.output
    profiles = [VoiceSpec("bac", "espeak", {"voice": "vi"}), VoiceSpec("google", "gtts", {}, fallback="bac"),
                VoiceSpec("google-only", "gtts", {})]
    probed: list[str] = []

    def offline(url: str, timeout: float) -> tuple[bool, str]:
        probed.append(url)
        assert timeout <= 3.0  # a short timeout
        return False, "offline"

    checks = {c.name: c for c in doctor(tmp_path, tmp_path / "c", profiles, probe=offline, used={"bac", "google-only"})}
    assert checks["giọng google (gtts, kiểm tra qua mạng)"].ok  # not used: not probed
    alone = checks["giọng google-only (gtts, kiểm tra qua mạng)"]
    assert not alone.ok and not alone.warning  # used, no fallback: a real failure
    assert len(probed) == 1


def test_doctor_unwritable_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    checks = doctor(tmp_path, blocker / "clips", [])
    cache = [c for c in checks if c.name == "cache"][0]
    assert not cache.ok and cache.fix


def test_voice_status_reports_param_problems(tmp_path):
    status = voice_status(VoiceSpec("x", "espeak", {"voice": 3}), tmp_path)
    assert isinstance(status, Availability) and not status.ok and "voice" in status.detail


class _Echo(Engine):
    """A one-file engine: what adding an engine takes."""

    NAME = "echo"
    PARAMS = (Param("rate", int, 8000),)

    def synthesize(self, sentence: str) -> Clip:
        return Clip(b"\0\1" * len(sentence), self.params["rate"])

    def version(self) -> str:
        return "1"


def test_adding_an_engine_is_one_line(tmp_path, monkeypatch):
    from broadcast.tts import ClipCache, synthesize_all

    monkeypatch.setitem(ENGINES, "echo", _Echo)
    voice = VoiceSpec("e", "echo", {"rate": 1000})
    r = synthesize_all([(voice, "abc")], ClipCache(tmp_path), Path(tmp_path))
    assert r.ok and r.clip("e", "abc").duration == pytest.approx(0.003)
