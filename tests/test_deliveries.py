"""Deliveries the equipment accepts: the IP-loudspeaker MP3s frame by frame, the provincial WAV's BWF chunk."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from broadcast.ffmpeg import measure_ebur128
from conftest import MINIMAL, make_project, run

WEEK = "2026-W49"

# MPEG audio frame header fields (ISO/IEC 11172-3, 13818-3), written out here so that the check
# shares no code with the build's own frame walker (audio/concat.py).
_BITRATES_V2_L3 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES_V2 = (22050, 24000, 16000)


def _frames(data: bytes) -> list[dict[str, int]]:
    """Every frame header of an MP3 file (after any ID3v2 tag); fails on anything between frames."""
    at = 0
    if data[:3] == b"ID3":
        size = data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]
        at = 10 + size
    frames = []
    while at < len(data):
        if data[at:at + 3] == b"TAG" and len(data) - at == 128:  # ID3v1 at the end
            break
        header = int.from_bytes(data[at:at + 4], "big")
        assert header >> 21 == 0x7FF, f"no frame sync at byte {at}"
        version, layer = (header >> 19) & 3, (header >> 17) & 3
        bitrate_index, rate_index = (header >> 12) & 15, (header >> 10) & 3
        padding, mode = (header >> 9) & 1, (header >> 6) & 3
        assert version == 2 and layer == 1, (version, layer)  # "10" MPEG-2, "01" Layer III
        bitrate, rate = _BITRATES_V2_L3[bitrate_index] * 1000, _RATES_V2[rate_index]
        length = 72 * bitrate // rate + padding  # 576 samples per frame in MPEG-2 Layer III
        frames.append({"bitrate": bitrate, "rate": rate, "mode": mode})
        at += length
    return frames


@pytest.fixture(scope="module")
def ip_week(tmp_path_factory) -> Path:
    root = make_project(tmp_path_factory.mktemp("ip") / "p", {
        "broadcast.yaml": MINIMAL["broadcast.yaml"] + "opening: Đài truyền thanh xã xin thông báo.\n",
        "locales/lang-son/_province.yaml": MINIMAL["locales/lang-son/_province.yaml"] + "preset: loa-ip\n",
    })
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert result.exit_code == 0, result.output
    return root / "output" / WEEK


def test_ip_loudspeaker_files_are_mpeg2_layer3_24khz_48kbps_cbr_mono_in_every_frame(ip_week):
    files = sorted(ip_week.rglob("*.mp3"))
    assert len(files) >= 5  # messages, the opening line, programs
    for path in files:
        frames = _frames(path.read_bytes())
        assert len(frames) > 20, path
        assert {(f["bitrate"], f["rate"], f["mode"]) for f in frames} == {(48000, 24000, 3)}, path  # 3: mono


def test_ip_loudspeaker_files_have_the_loa_loudness(ip_week):
    manifest = json.loads((ip_week / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if entry["kind"] in ("message", "program"):
            measured = measure_ebur128(ip_week / entry["path"])
            assert -17.0 <= measured.integrated_lufs <= -15.0, (entry["path"], measured)
            assert measured.true_peak_dbtp <= -1.0, (entry["path"], measured)


def _bext(path: Path) -> dict[str, object]:
    """The `bext` chunk of a WAV, read by this test's own RIFF walk and EBU Tech 3285 v2 layout."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    at, found = 12, None
    while at + 8 <= len(data):
        cid, size = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "little")
        if cid == b"bext":
            found = data[at + 8:at + 8 + size]
            break
        at += 8 + size + (size & 1)
    assert found is not None, f"no bext chunk in {path.name}"
    text = lambda a, b: found[a:b].rstrip(b"\0").decode("ascii")  # noqa: E731
    (version,) = struct.unpack_from("<H", found, 346)
    loudness = struct.unpack_from("<hhhhh", found, 412)
    return {"description": text(0, 256), "originator": text(256, 288), "reference": text(288, 320),
            "date": text(320, 330), "time": text(330, 338), "version": version,
            "loudness": loudness[0] / 100, "range": loudness[1] / 100, "true_peak": loudness[2] / 100,
            "history": found[602:].decode("ascii")}


def test_provincial_wav_has_a_bext_chunk_with_the_measured_loudness(tmp_path):
    root = make_project(tmp_path / "p", {
        "locales/lang-son/_province.yaml": MINIMAL["locales/lang-son/_province.yaml"] + "preset: phat-thanh\n",
    })
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert result.exit_code == 0, result.output
    commune = root / "output" / WEEK / "lang-son" / "xa-chi-lang"
    message = commune / "messages" / "canh-bao.wav"
    bext = _bext(message)
    assert bext["description"] == "Canh bao thu" and bext["version"] == 2
    assert bext["originator"].startswith("Dai truyen thanh") or bext["originator"].startswith("Xa Chi Lang")
    assert bext["date"] == "2026-11-30" and bext["time"] == "00:00:00"
    assert bext["history"].startswith("A=PCM,F=48000,W=16,M=mono")
    measured = measure_ebur128(message)  # ffmpeg's ebur128: independent of the build's meter
    assert abs(bext["loudness"] - measured.integrated_lufs) <= 0.3 and -23.5 <= bext["loudness"] <= -22.5
    assert abs(bext["true_peak"] - measured.true_peak_dbtp) <= 0.5
    assert abs(bext["range"] - measured.range_lu) <= 1.0
    programs = list(commune.glob("2026-*.wav"))
    assert programs
    for program in programs:  # one file may serve several slots of the week: dated by its week
        assert _bext(program)["date"] == "2026-11-30" and _bext(program)["loudness"] < -22.0
