"""`edge` — Microsoft Edge's neural Vietnamese voices (vi-VN-HoaiMyNeural, vi-VN-NamMinhNeural) through
the `edge-tts` package; no key.

The service behind it has changed without notice several times (its token, 403 at the handshake,
503, "No audio was received"), so every answer is treated with suspicion: the request loop, retries
and answer checks are `online.OnlineEngine`'s, and a handshake refusal or an empty answer is retried
like a 5xx. Rate (percent) and pitch (Hz) come from the voice profile.
"""

from __future__ import annotations

import asyncio
from importlib import metadata

from .base import Availability, Param, TTSError, bilingual
from .online import OnlineEngine, Transient, http_probe, retry_params

VOICES = (("vi-VN-HoaiMyNeural", "Hoài My, nữ, giọng Bắc"), ("vi-VN-NamMinhNeural", "Nam Minh, nam, giọng Bắc"))
PROBE_URL = "https://speech.platform.bing.com"


class EdgeEngine(OnlineEngine):
    NAME = "edge"
    SERVICE = "Microsoft Edge TTS"
    NEEDS_KEY = False
    VOICES = VOICES
    SOUND_PARAMS = ("voice", "rate", "pitch")
    PARAMS = (
        Param("voice", str, "vi-VN-HoaiMyNeural", "giọng Edge", choices=tuple(v for v, _ in VOICES)),
        Param("rate", int, 0, "tốc độ, phần trăm so với bình thường (-50 chậm .. 100 nhanh)", low=-50, high=100),
        Param("pitch", int, 0, "cao độ, Hz so với bình thường", low=-50, high=50),
        *retry_params(retries=4, timeout=20.0, concurrency=3),
    )

    def fetch(self, sentence: str) -> bytes:
        import aiohttp
        import edge_tts
        from edge_tts import exceptions

        try:
            return asyncio.run(self._stream(sentence))
        except (exceptions.NoAudioReceived, exceptions.UnexpectedResponse, exceptions.UnknownResponse,
                exceptions.WebSocketError) as e:
            raise Transient(bilingual(f"Edge trả lời bất thường: {type(e).__name__}", "unexpected answer")) from None
        except aiohttp.WSServerHandshakeError as e:  # 403 when the token changed, 503 when busy: both retried
            raise Transient(f"HTTP {e.status}") from None
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            raise Transient(bilingual(f"không kết nối được ({type(e).__name__})", "connection failed")) from None
        except edge_tts.exceptions.EdgeTTSException as e:
            raise TTSError(bilingual(f"Edge từ chối: {type(e).__name__}", "refused")) from None

    async def _stream(self, sentence: str) -> bytes:
        import edge_tts

        p = self.params
        communicate = edge_tts.Communicate(sentence, p["voice"], rate=f"{p['rate']:+d}%", pitch=f"{p['pitch']:+d}Hz",
                                           connect_timeout=max(1, round(p["timeout"])),
                                           receive_timeout=max(1, round(p["timeout"])))
        chunks = []
        async with asyncio.timeout(p["timeout"] * 3):  # a stream that trickles forever is a stall
            async for chunk in communicate.stream():
                if chunk["type"] == "audio":
                    chunks.append(chunk["data"])
        return b"".join(chunks)

    def version(self) -> str:
        try:
            package = metadata.version("edge-tts")
        except metadata.PackageNotFoundError:
            package = "?"
        return f"edge-tts {package} {self.params['voice']} {self.params['rate']} {self.params['pitch']}"

    @classmethod
    def availability(cls, params=None, base_dir=None, probe=None, probe_timeout=3.0) -> Availability:
        try:
            import edge_tts  # noqa: F401
        except ImportError:
            return Availability(False, bilingual("chưa cài gói edge-tts", "edge-tts is not installed"),
                                bilingual("cài: pip install edge-tts", "pip install edge-tts"))
        cls.normalize_params(params)
        ok, detail = (probe or http_probe)(PROBE_URL, probe_timeout)
        if not ok:
            return Availability(False, bilingual(f"không kết nối được dịch vụ Edge: {detail}", "cannot reach it"),
                                bilingual("máy cần Internet; hoặc chọn giọng ngoại tuyến, hoặc đặt `fallback:`",
                                          "needs the Internet; use an offline voice or set `fallback:`"))
        return Availability(True, f"Edge TTS ({detail})")
