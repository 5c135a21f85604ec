"""`viettel` — Viettel AI Text to Speech, Vietnamese neural voices, with an API token.

One POST of JSON (the text, the voice, the speed 0.7..1.3, MP3 wanted) answers with the audio
itself. Everything else (key, retries, checks) is `online.OnlineEngine`'s.
"""

from __future__ import annotations

from .base import Param
from .online import OnlineEngine, retry_params, url_param

VOICES = (
    ("hn-quynhanh", "Quỳnh Anh, nữ, Hà Nội"), ("hn-phuongtrang", "Phương Trang, nữ, Hà Nội"),
    ("hn-thanhtung", "Thanh Tùng, nam, Hà Nội"), ("hue-maingoc", "Mai Ngọc, nữ, Huế"),
    ("hcm-diemmy", "Diễm My, nữ, TP Hồ Chí Minh"), ("hcm-minhquan", "Minh Quân, nam, TP Hồ Chí Minh"),
)


class ViettelEngine(OnlineEngine):
    NAME = "viettel"
    SERVICE = "Viettel AI"
    VOICES = VOICES
    PARAMS = (
        Param("voice", str, "hn-quynhanh", "giọng Viettel AI", choices=tuple(v for v, _ in VOICES)),
        Param("speed", float, 1.0, "tốc độ: 0,7 chậm .. 1,3 nhanh", low=0.7, high=1.3),
        url_param("https://viettelai.vn/tts/speech_synthesis"),
        *retry_params(),
    )

    def fetch(self, sentence: str) -> bytes:
        answer = self.http("POST", self.params["url"], json={
            "text": sentence, "voice": self.params["voice"], "speed": self.params["speed"],
            "tts_return_option": 3, "token": self.key(), "without_filter": False})  # 3: MP3
        return bytes(answer.content)
