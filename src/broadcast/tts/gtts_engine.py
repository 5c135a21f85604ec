"""`gtts` — Google Translate's Vietnamese voice through gTTS (online only).

Each sentence is one gTTS call (gTTS itself splits at 100 characters), made through the
online engines' shared loop (`online.OnlineEngine`): connection errors, timeouts, HTTP 429
and 5xx are retried with backoff and jitter, other errors (403, 404, a 200 without audio)
fail at once, every answer is checked (whole MP3 frames, decodes, a plausible length) and the
requests in flight are capped. No key is needed.

Tests never reach Google: they patch ``gtts.tts._translate_url`` to a fake server on
127.0.0.1 (the same function is used for the reachability probe).
"""

from __future__ import annotations

import base64
import binascii
import re
from importlib import metadata

from .base import Availability, Param, TTSError, bilingual
from .online import OnlineEngine, http_probe, mp3_frames_whole, retry_params

__all__ = ["GttsEngine", "http_probe", "mp3_frames_whole"]


def _check_tld(value: str) -> str | None:
    if not value or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789.-" for c in value.lower()):
        return bilingual(f"tld '{value}' không hợp lệ (ví dụ: com.vn, com)", f"invalid tld '{value}' (e.g. com.vn)")
    return None


# The audio in a batchexecute answer: a line holding jQ1olc","[\"<base64>\"] (as gTTS 2.5 reads it).
_AUDIO = re.compile(r'jQ1olc","\[\\"([A-Za-z0-9+/=]*)\\"]')


def _audio_of(answer: str) -> bytes:
    """The MP3 in one answer; a TTSError (not retried) when it holds none, as gTTS's own reading
    does: Google answering without audio is a refusal, not a hiccup."""
    found = [_AUDIO.search(line) for line in answer.splitlines() if "jQ1olc" in line]
    if not found or not all(found):
        raise TTSError(bilingual("Google trả lời nhưng không có âm thanh", "no audio in Google's answer"))
    try:
        return b"".join(base64.b64decode(m.group(1), validate=True) for m in found if m)
    except (binascii.Error, ValueError):
        raise TTSError(bilingual("âm thanh Google trả về bị hỏng (base64)",
                                 "damaged audio in Google's answer")) from None


class GttsEngine(OnlineEngine):
    NAME = "gtts"
    SOUND_PARAMS = ("lang", "tld", "slow")
    SERVICE = "gTTS"
    NEEDS_KEY = False
    VOICES = (("vi", "Google Dịch, giọng nữ tiếng Việt"),)
    PARAMS = (
        Param("lang", str, "vi", "mã ngôn ngữ Google (vi)"),
        Param("tld", str, "com.vn", "tên miền Google Translate: translate.google.<tld>", check=_check_tld),
        Param("slow", bool, False, "đọc chậm"),
        *retry_params(retries=4, timeout=15.0, concurrency=4),
    )

    def _fetch_mp3(self, sentence: str) -> bytes:
        """gTTS makes the requests (splitting the text, packaging Google's RPC); they are sent here,
        through `OnlineEngine.http`, and their answers read by `_audio_of`. gTTS's own sending turns
        off TLS certificate checks (`verify=False`), so anyone on the path could put their own audio
        on the loudspeakers, and reads an answer without a deadline or a size limit."""
        import gtts.tts

        tts = gtts.tts.gTTS(sentence, tld=self.params["tld"], lang=self.params["lang"], slow=self.params["slow"],
                            lang_check=False)  # the check can hit the network; profiles are checked by lint
        url = gtts.tts._translate_url(tld=self.params["tld"], path="_/TranslateWebserverUi/data/batchexecute")
        return b"".join(_audio_of(self.http("POST", url, data=body, headers=tts.GOOGLE_TTS_HEADERS).text)
                        for body in tts.get_bodies())

    def fetch(self, sentence: str) -> bytes:
        try:
            mp3 = self._fetch_mp3(sentence)
        except AssertionError as e:  # gTTS: nothing left to speak after cleaning
            raise TTSError(str(e) or "câu rỗng (empty)") from None
        if not mp3:
            raise TTSError("không có âm thanh trong phản hồi (no audio in response)")
        return mp3

    def version(self) -> str:
        try:
            return f"gTTS {metadata.version('gTTS')}"
        except metadata.PackageNotFoundError:
            return "gTTS ?"

    @classmethod
    def availability(cls, params=None, base_dir=None, probe=None, probe_timeout=3.0) -> Availability:
        try:
            import gtts.tts
        except ImportError:
            return Availability(
                False,
                bilingual("chưa cài gói gTTS", "the gTTS package is not installed"),
                bilingual("cài: pip install gTTS", "install it: pip install gTTS"),
            )
        p = cls.normalize_params(params)
        url = gtts.tts._translate_url(tld=p["tld"], path="")
        ok, detail = (probe or http_probe)(url, probe_timeout)
        if not ok:
            return Availability(
                False,
                bilingual(f"không kết nối được {url}: {detail}", f"cannot reach {url}"),
                bilingual(
                    "máy cần Internet để dùng gTTS; hoặc chọn giọng ngoại tuyến (espeak/piper), "
                    "hoặc đặt `fallback:` trong hồ sơ giọng",
                    "gTTS needs the Internet; use an offline voice or set `fallback:` in the profile",
                ),
            )
        return Availability(True, f"gTTS {url} ({detail})")
