"""`zalo` — Zalo AI Text to Speech, Vietnamese voices, with an API key.

A POST of the text (form fields) answers with JSON naming the MP3's URL, which is then fetched
(retried while it is not there yet). Speakers 1..4; speed 0.8..1.2. Everything else (key,
retries, checks) is `online.OnlineEngine`'s.
"""

from __future__ import annotations

from .base import Param, TTSError, bilingual
from .online import OnlineEngine, Transient, retry_params, url_param, wait_param

VOICES = (("1", "nữ, giọng Nam"), ("2", "nữ, giọng Bắc"), ("3", "nam, giọng Nam"), ("4", "nam, giọng Bắc"))


class ZaloEngine(OnlineEngine):
    NAME = "zalo"
    SERVICE = "Zalo AI"
    VOICES = VOICES
    PARAMS = (
        Param("voice", str, "2", "người đọc Zalo AI (1..4)", choices=tuple(v for v, _ in VOICES)),
        Param("speed", float, 1.0, "tốc độ: 0,8 chậm .. 1,2 nhanh", low=0.8, high=1.2),
        wait_param(),
        url_param("https://api.zalo.ai/v1/tts/synthesize"),
        *retry_params(),
    )

    def fetch(self, sentence: str) -> bytes:
        answer = self.http("POST", self.params["url"], headers={"apikey": self.key()},
                           data={"input": sentence, "speaker_id": self.params["voice"],
                                 "speed": str(self.params["speed"]), "encode_type": "1"})  # 1: MP3
        try:
            data = answer.json()
        except ValueError:
            raise Transient(bilingual("Zalo AI trả lời không phải JSON", "Zalo AI answered without JSON")) from None
        inner = data.get("data") if isinstance(data, dict) else None  # a list or a text here: no URL, not a crash
        url = inner.get("url") if isinstance(inner, dict) else None
        if not isinstance(data, dict) or data.get("error_code") not in (0, None) or not url:
            message = data.get("error_message") or f"mã lỗi {data.get('error_code')}" if isinstance(data, dict) else ""
            raise TTSError(bilingual(f"Zalo AI báo lỗi: {str(message)[:200]}", "Zalo AI refused the text"))
        return self.wait_for_file(str(url))
