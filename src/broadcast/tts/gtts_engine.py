"""`gtts` — Google Translate's Vietnamese voice through gTTS (online only).

Each sentence is one gTTS call (gTTS itself splits at 100 characters). Transient
failures — connection errors and timeouts, HTTP 429 and 5xx — are retried a bounded
number of times with exponential backoff and full jitter; other errors (403, 404, a
200 without audio) fail at once. A semaphore held by the engine instance caps the
requests in flight, so the driver's thread pool cannot hammer the service. The MP3 is
decoded to PCM in-process by `broadcast.ffmpeg.decode` (FFmpeg's libraries through PyAV).

Tests never reach Google: they patch ``gtts.tts._translate_url`` to a fake server on
127.0.0.1 (the same function is used for the reachability probe).
"""

from __future__ import annotations

import io
import random
import threading
import time
import urllib.parse
from importlib import metadata

from broadcast.ffmpeg import decode_clip
from broadcast.pcm import Clip

from .base import Availability, Engine, Param, TTSError, bilingual, sentence_label

RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))


def _check_tld(value: str) -> str | None:
    if not value or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789.-" for c in value.lower()):
        return bilingual(f"tld '{value}' không hợp lệ (ví dụ: com.vn, com)", f"invalid tld '{value}' (e.g. com.vn)")
    return None


class GttsEngine(Engine):
    NAME = "gtts"
    POOL = "thread"
    PARAMS = (
        Param("lang", str, "vi", "mã ngôn ngữ Google (vi)"),
        Param("tld", str, "com.vn", "tên miền Google Translate: translate.google.<tld>", check=_check_tld),
        Param("slow", bool, False, "đọc chậm"),
        Param("retries", int, 4, "số lần thử lại khi lỗi mạng, 429 hoặc 5xx", low=0, high=20),
        Param("backoff", float, 1.0, "thời gian chờ gốc (giây) trước lần thử lại đầu, nhân đôi mỗi lần",
              low=0, high=60),
        Param("backoff_max", float, 30.0, "thời gian chờ tối đa giữa hai lần thử (giây)", low=0, high=600),
        Param("timeout", float, 15.0, "thời gian chờ mỗi yêu cầu (giây)", low=0.1, high=300),
        Param("max_concurrency", int, 4, "số yêu cầu đồng thời tối đa", low=1, high=32),
    )

    def __init__(self, params, base_dir):
        super().__init__(params, base_dir)
        self._slots = threading.BoundedSemaphore(self.params["max_concurrency"])
        self._count_lock = threading.Lock()
        self._random = random.Random()
        self.sleep = time.sleep  # tests may replace it

    @property
    def max_concurrency(self) -> int:
        return self.params["max_concurrency"]

    def _fetch_mp3(self, sentence: str) -> bytes:
        from gtts import gTTS

        tts = gTTS(
            sentence,
            tld=self.params["tld"],
            lang=self.params["lang"],
            slow=self.params["slow"],
            lang_check=False,  # the check can hit the network; profiles are checked by lint
            timeout=self.params["timeout"],
        )
        buf = io.BytesIO()
        tts.write_to_fp(buf)
        return buf.getvalue()

    def synthesize(self, sentence: str) -> Clip:
        from gtts import gTTSError

        attempts = self.params["retries"] + 1
        last = ""
        for attempt in range(attempts):
            with self._slots:
                try:
                    mp3 = self._fetch_mp3(sentence)
                    break
                except gTTSError as e:
                    status = e.rsp.status_code if getattr(e, "rsp", None) is not None else None
                    last = f"HTTP {status}" if status is not None else "không kết nối được (connection failed)"
                    if status is not None and status not in RETRY_STATUSES:
                        raise TTSError(self._failed(sentence, f"{last}: {e}", 1)) from e
                except AssertionError as e:  # gTTS: nothing left to speak after cleaning
                    raise TTSError(self._failed(sentence, str(e) or "câu rỗng (empty)", 1)) from e
            if attempt + 1 < attempts:
                with self._count_lock:
                    self.retries += 1
                cap = min(self.params["backoff_max"], self.params["backoff"] * (2**attempt))
                self.sleep(self._random.uniform(0, cap))
        else:
            raise TTSError(self._failed(sentence, last, attempts))
        if not mp3:
            raise TTSError(self._failed(sentence, "không có âm thanh trong phản hồi (no audio in response)", 1))
        return decode_clip(mp3, fmt="mp3", what=sentence_label(sentence), error=TTSError)

    def _failed(self, sentence: str, why: str, attempts: int) -> str:
        return bilingual(
            f"gTTS không đọc được câu {sentence_label(sentence)} sau {attempts} lần thử: {why}",
            f"gTTS failed on this sentence after {attempts} attempt(s)",
        )

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


def http_probe(url: str, timeout: float) -> tuple[bool, str]:
    """Is `url`'s host answering HTTP within `timeout` seconds? Any HTTP status counts."""
    import requests

    try:
        r = requests.get(url, timeout=timeout, allow_redirects=False)
        return True, f"HTTP {r.status_code}"
    except requests.RequestException as e:
        host = urllib.parse.urlsplit(url).netloc
        return False, f"{host}: {type(e).__name__}"
