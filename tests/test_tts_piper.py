"""piper engine: loads and runs a tiny ONNX model built here with the same inputs and
outputs as a real Piper voice (input, input_lengths, scales -> output [1,1,1,T])."""

from __future__ import annotations

import json
import math

# installed by the test extra (pip install -e '.[test]'); never skipped
import onnx
import onnxruntime  # noqa: F401
import piper.phoneme_ids as piper_ids
import pytest

from broadcast.tts import ClipCache, EngineUnavailable, TTSError, VoiceSpec, make_engine, synthesize_all, voice_status

HOP = 256
RATE = 16000
SENTENCE = "Bà con tuyệt đối không chuyển tiền cho người lạ."


def build_voice(folder, name="vi_VN-tiny-x_low"):
    """A 'voice' whose audio is HOP samples of a sine per phoneme id, scaled by the id and by
    length_scale (scales[1]) — enough to see ids and scales arrive and shapes come out right."""
    from onnx import TensorProto, helper

    pattern = [math.sin(2 * math.pi * 440 * i / RATE) for i in range(HOP)]
    nodes = [
        helper.make_node("Cast", ["input"], ["ids_f"], to=TensorProto.FLOAT),
        helper.make_node("Constant", [], ["axes"], value=helper.make_tensor("axes", TensorProto.INT64, [1], [2])),
        helper.make_node("Unsqueeze", ["ids_f", "axes"], ["ids3"]),  # [1, N, 1]
        helper.make_node("Constant", [], ["pattern"], value=helper.make_tensor("p", TensorProto.FLOAT, [HOP], pattern)),
        helper.make_node("Mul", ["ids3", "pattern"], ["frames"]),  # [1, N, HOP]
        helper.make_node("Constant", [], ["one"], value=helper.make_tensor("one", TensorProto.INT64, [1], [1])),
        helper.make_node("Gather", ["scales", "one"], ["length_scale"], axis=0),  # [1]
        helper.make_node("Mul", ["frames", "length_scale"], ["scaled"]),
        helper.make_node("Constant", [], ["shape"], value=helper.make_tensor("s", TensorProto.INT64, [4], [1, 1, 1, -1])),
        helper.make_node("Reshape", ["scaled", "shape"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-piper",
        [
            helper.make_tensor_value_info("input", TensorProto.INT64, [1, "phonemes"]),
            helper.make_tensor_value_info("input_lengths", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, 1, "samples"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.onnx"
    onnx.save(model, str(path))
    id_map = piper_ids.DEFAULT_PHONEME_ID_MAP
    config = {
        "audio": {"sample_rate": RATE},
        "espeak": {"voice": "vi"},
        "phoneme_type": "espeak",
        "num_symbols": 1 + max(i for ids in id_map.values() for i in ids),
        "num_speakers": 1,
        "inference": {"noise_scale": 0.667, "length_scale": 1.0, "noise_w": 0.8},
        "phoneme_id_map": id_map,
    }
    (folder / f"{name}.onnx.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return path


def test_synthesises_with_the_onnx_model(tmp_path):
    build_voice(tmp_path / "voices")
    eng = make_engine("piper", {"model": "voices/vi_VN-tiny-x_low.onnx"}, tmp_path)
    clip = eng.synthesize(SENTENCE)
    assert clip.rate == RATE
    assert clip.frames % HOP == 0 and clip.frames >= 30 * HOP  # one hop per phoneme id (plus pads)
    assert clip.rms() > 1000
    quiet = make_engine("piper", {"model": "voices/vi_VN-tiny-x_low.onnx", "volume": 0.25}, tmp_path)
    assert quiet.synthesize(SENTENCE).rms() < clip.rms() / 2
    assert "piper-tts" in eng.version() and "vi_VN-tiny" in eng.describe()


def test_driver_caches_piper_clips_and_version_tracks_the_model(tmp_path):
    path = build_voice(tmp_path / "voices")
    voice = VoiceSpec("ai", "piper", {"model": "voices/vi_VN-tiny-x_low.onnx"})
    cache = ClipCache(tmp_path / "clips")
    r1 = synthesize_all([(voice, SENTENCE)], cache, tmp_path)
    assert r1.ok and r1.stats.engine_calls == 1
    r2 = synthesize_all([(voice, SENTENCE)], cache, tmp_path)
    assert r2.stats.engine_calls == 0
    path.write_bytes(path.read_bytes() + b"")  # same bytes: same version
    assert synthesize_all([(voice, SENTENCE)], cache, tmp_path).stats.engine_calls == 0
    build_voice(tmp_path / "other")
    (tmp_path / "other" / "vi_VN-tiny-x_low.onnx.json").write_text(
        (tmp_path / "other" / "vi_VN-tiny-x_low.onnx.json").read_text().replace("16000", "8000")
    )
    other = VoiceSpec("ai2", "piper", {"model": "other/vi_VN-tiny-x_low.onnx"})
    r3 = synthesize_all([(other, SENTENCE)], cache, tmp_path)
    assert r3.stats.engine_calls == 1 and r3.clip("ai2", SENTENCE).rate == 8000


def test_missing_model_is_reported_never_downloaded(tmp_path):
    with pytest.raises(EngineUnavailable) as e:
        make_engine("piper", {"model": "voices/none.onnx"}, tmp_path)
    assert "none.onnx" in e.value.message and "không tự tải" in e.value.message
    status = voice_status(VoiceSpec("ai", "piper", {"model": "voices/none.onnx"}), tmp_path)
    assert not status.ok and status.fix
    with pytest.raises(TTSError, match="model"):
        make_engine("piper", {}, tmp_path)
    build_voice(tmp_path / "voices")
    assert voice_status(VoiceSpec("ai", "piper", {"model": "voices/vi_VN-tiny-x_low.onnx"}), tmp_path).ok
