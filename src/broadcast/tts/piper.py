"""`piper` — a local Piper neural voice (``.onnx`` + ``.onnx.json``) that the user puts under voices/.

Optional extra: ``pip install broadcast[piper]`` (the ``piper-tts`` package). We use
piper-tts's own API (`PiperVoice.load`, `PiperVoice.synthesize`) rather than calling
onnxruntime ourselves, because piper-tts >= 1.3 ships its own espeak-ng phonemizer
(``piper.espeakbridge`` and ``piper/espeak-ng-data``) and works fully offline, so the
phonemes match what the voice was trained on. The code never downloads anything:
the model path comes from the profile, and a missing file is an error with a fix.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from broadcast.pcm import Clip, to_pcm16

from . import piper_voices
from .base import (
    Availability,
    Engine,
    EngineUnavailable,
    Param,
    TTSError,
    bilingual,
    sentence_label,
)

INSTALL_FIX = bilingual(
    "cài phần mở rộng piper: pip install 'broadcast[piper]' (hoặc pip install piper-tts)",
    "install the piper extra: pip install 'broadcast[piper]'",
)


NEEDS_MODEL = bilingual(
    "cần tham số 'model' (tệp .onnx của giọng Piper, ví dụ voices/vi_VN-vais1000-medium.onnx) hoặc 'voice' "
    "(một giọng đã cài bằng 'broadcast voices install TÊN')",
    "set 'model' (the Piper .onnx file) or 'voice' (an installed voice)",
)


def _check_model(value: str) -> str | None:
    if value and not value.endswith(".onnx"):
        return bilingual(f"'model' phải là tệp .onnx, nhận được '{value}'", "'model' must be an .onnx file")
    return None


_OPT_FLOAT = (float, type(None))


class PiperEngine(Engine):
    NAME = "piper"
    POOL = "process"
    PARAMS = (
        Param("model", str, "", "tệp .onnx của giọng, tương đối với thư mục dự án", check=_check_model),
        Param("voice", str, "", "hoặc: tên giọng đã cài bằng 'broadcast voices install' (ví dụ vi_VN-vais1000-medium)"),
        Param("config", str, "", "tệp .onnx.json; mặc định: <model>.json"),
        Param("speaker", (int, type(None)), None, "số thứ tự người đọc (giọng nhiều người đọc)"),
        Param("length_scale", _OPT_FLOAT, None, "độ dài âm vị (>1 chậm hơn); mặc định theo giọng", low=0.1, high=5),
        Param("noise_scale", _OPT_FLOAT, None, "độ biến thiên giọng; mặc định theo giọng", low=0, high=2),
        Param("noise_w", _OPT_FLOAT, None, "độ biến thiên nhịp; mặc định theo giọng", low=0, high=2),
        Param("volume", float, 1.0, "hệ số âm lượng", low=0, high=4),
    )

    def __init__(self, params, base_dir):
        super().__init__(params, base_dir)
        self.model_path, self.config_path = _paths(self.params, self.base_dir)
        status = _files_status(self.model_path, self.config_path)
        if not status.ok:
            raise EngineUnavailable(f"{status.detail}; {status.fix}")
        self._voice = None

    def _load(self):
        if self._voice is None:
            try:
                from piper import PiperVoice
            except ImportError as e:
                raise EngineUnavailable(
                    bilingual("chưa cài piper-tts", "piper-tts is not installed") + "; " + INSTALL_FIX) from e
            try:
                self._voice = PiperVoice.load(self.model_path, config_path=self.config_path)
            except Exception as e:
                raise EngineUnavailable(
                    bilingual(f"không nạp được giọng Piper {self.model_path}: {e}", "cannot load the Piper voice")
                ) from e
        return self._voice

    def synthesize(self, sentence: str) -> Clip:
        import numpy as np
        from piper import SynthesisConfig

        voice = self._load()
        cfg = SynthesisConfig(
            speaker_id=self.params["speaker"],
            length_scale=self.params["length_scale"],
            noise_scale=self.params["noise_scale"],
            noise_w_scale=self.params["noise_w"],
            volume=self.params["volume"],
        )
        try:
            chunks = [c.audio_float_array for c in voice.synthesize(sentence, syn_config=cfg)]
        except Exception as e:
            raise TTSError(
                bilingual(f"Piper không đọc được câu {sentence_label(sentence)}: {e}", "Piper failed on this sentence")
            ) from e
        if not chunks:
            raise TTSError(bilingual(f"Piper không tạo ra âm thanh cho câu {sentence_label(sentence)}", "no audio"))
        return Clip(to_pcm16(np.concatenate(chunks)), voice.config.sample_rate)

    def version(self) -> str:
        try:
            pv = metadata.version("piper-tts")
        except metadata.PackageNotFoundError:
            pv = "?"
        return f"piper-tts {pv} pcm32768 model {_file_digest(self.model_path)} config {_file_digest(self.config_path)}"

    def describe(self) -> str:
        return f"piper ({self.model_path.name})"

    @classmethod
    def files(cls, params: Mapping[str, Any] | None, base_dir: Path) -> list[Path]:
        try:
            return list(_paths(cls.normalize_params(params), base_dir))
        except (TTSError, EngineUnavailable):
            return []

    @classmethod
    def availability(cls, params=None, base_dir=None, probe=None, probe_timeout=3.0) -> Availability:
        problems = cls.param_problems(params)
        if problems:
            return Availability(False, "; ".join(problems), bilingual("sửa hồ sơ giọng", "fix the voice profile"))
        try:
            import onnxruntime  # noqa: F401
            import piper  # noqa: F401
        except ImportError:
            return Availability(False, bilingual("chưa cài piper-tts", "piper-tts is not installed"), INSTALL_FIX)
        try:
            model, config = _paths(cls.normalize_params(params), Path(base_dir or "."))
        except TTSError as e:
            return Availability(False, e.message, bilingual("sửa hồ sơ giọng", "fix the voice profile"))
        status = _files_status(model, config)
        if not status.ok:
            return status
        try:
            json.loads(config.read_text(encoding="utf-8"))["audio"]["sample_rate"]
        except Exception as e:
            return Availability(
                False,
                bilingual(f"tệp cấu hình giọng {config} hỏng: {e}", f"voice config {config} is invalid"),
                bilingual("lấy lại tệp .onnx.json đi kèm giọng", "restore the .onnx.json that came with the voice"),
            )
        return Availability(True, f"piper {model.name}")


def _paths(params: dict, base_dir: Path) -> tuple[Path, Path]:
    if params["voice"]:
        model = piper_voices.model_path(params["voice"])
    elif params["model"]:
        model = (base_dir / params["model"]).resolve()
    else:
        raise EngineUnavailable(NEEDS_MODEL)
    config = (base_dir / params["config"]).resolve() if params["config"] else Path(f"{model}.json")
    return model, config


def _files_status(model: Path, config: Path) -> Availability:
    fix = bilingual(
        f"đặt tệp giọng Piper (.onnx và .onnx.json) vào {model.parent} — chương trình không tự tải về",
        "put the Piper voice files there; nothing is downloaded",
    )
    for path in (model, config):
        if not path.is_file():
            return Availability(False, bilingual(f"không có tệp {path}", f"{path} not found"), fix)
    return Availability(True, str(model))


@lru_cache(maxsize=64)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _file_digest(path: Path) -> str:
    st = path.stat()
    return _digest(str(path), st.st_size, st.st_mtime_ns)
