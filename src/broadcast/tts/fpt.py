"""`fpt` — FPT.AI Text to Speech (v5), Vietnamese neural voices, with an API key.

The service answers a POST of the text with JSON naming a URL (`async`) where the MP3 will be;
the file appears there a few seconds later, so the URL is fetched until it holds audio (a 404
meanwhile), within `wait` seconds. Speed -3 (slow) .. +3 (fast). Everything else (key, retries,
checks) is `online.OnlineEngine`'s.
"""

from __future__ import annotations

from .base import Param, TTSError, bilingual
from .online import OnlineEngine, Transient, retry_params, url_param, wait_param

VOICES = (
    ("banmai", "Ban Mai, nữ, giọng Bắc"), ("thuminh", "Thu Minh, nữ, giọng Bắc"), ("leminh", "Lê Minh, nam, giọng Bắc"),
    ("giahuy", "Gia Huy, nam, giọng Trung"), ("myan", "Mỹ An, nữ, giọng Trung"), ("lannhi", "Lan Nhi, nữ, giọng Nam"),
    ("linhsan", "Linh San, nữ, giọng Nam"),
)


class FptEngine(OnlineEngine):
    NAME = "fpt"
    SERVICE = "FPT.AI"
    VOICES = VOICES
    PARAMS = (
        Param("voice", str, "banmai", "giọng FPT.AI", choices=tuple(v for v, _ in VOICES)),
        Param("speed", int, 0, "tốc độ: -3 chậm nhất .. 3 nhanh nhất", low=-3, high=3),
        wait_param(),
        url_param("https://api.fpt.ai/hmi/tts/v5"),
        *retry_params(),
    )

    def fetch(self, sentence: str) -> bytes:
        answer = self.http("POST", self.params["url"], data=sentence.encode("utf-8"),
                           headers={"api-key": self.key(), "voice": self.params["voice"],
                                    "speed": str(self.params["speed"]), "format": "mp3"})
        try:
            data = answer.json()
        except ValueError:
            raise Transient(bilingual("FPT.AI trả lời không phải JSON", "FPT.AI answered without JSON")) from None
        if not isinstance(data, dict) or data.get("error") not in (0, None) or not data.get("async"):
            message = data.get("message") if isinstance(data, dict) else None
            # an answer of another shape (a list, null) or without a message still says what came back
            said = str(message)[:200] if message else f"câu trả lời không như mong đợi: {str(data)[:120]}"
            raise TTSError(bilingual(f"FPT.AI báo lỗi: {said}", "FPT.AI refused the text"))
        return self.wait_for_file(str(data["async"]))
