"""`gtts` — Google Translate's Vietnamese voice through gTTS (online only).

Each sentence is one gTTS call (gTTS itself splits at 100 characters). Transient
failures — connection errors and timeouts, HTTP 429 and 5xx — are retried a bounded
number of times with exponential backoff and full jitter; other errors (403, 404, a
200 without audio) fail at once. An answer is checked before it is used: every MP3 frame whole
(a cut-off download is not), it decodes, and its length is plausible for the sentence
(`base.implausible_length`); a bad answer is retried like a transient error, then the
sentence fails (so its commune fails and is listed; nothing of it is cached or published).
A semaphore held by the engine instance caps the requests in flight, so the driver's thread
pool cannot hammer the service. The MP3 is decoded to PCM in-process by
`broadcast.ffmpeg.decode` (FFmpeg's libraries through PyAV).

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

from .base import Availability, Engine, Param, TTSError, bilingual, implausible_length, sentence_label

RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))


def _check_tld(value: str) -> str | None:
    if not value or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789.-" for c in value.lower()):
        return bilingual(f"tld '{value}' không hợp lệ (ví dụ: com.vn, com)", f"invalid tld '{value}' (e.g. com.vn)")
    return None


class GttsEngine(Engine):
    NAME = "gtts"
    POOL = "thread"
    ONLINE = True
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
                    if not mp3:
                        raise TTSError(self._failed(sentence, "không có âm thanh trong phản hồi (no audio in response)",
                                                    1))
                    clip, last = self._checked_answer(sentence, mp3)
                    if clip is not None:
                        return clip
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
        raise TTSError(self._failed(sentence, last, attempts))

    def _checked_answer(self, sentence: str, mp3: bytes) -> tuple[Clip | None, str]:
        """(the clip, "") when the answer is whole, decodes and is as long as the sentence can be;
        else (None, why)."""
        if not mp3_frames_whole(mp3):
            return None, bilingual("tệp MP3 nhận về bị cắt cụt", "truncated MP3 answer")
        try:
            clip = decode_clip(mp3, fmt="mp3", what=sentence_label(sentence), error=TTSError)
        except TTSError as e:
            return None, e.message
        why = implausible_length(sentence, clip.duration, slow=self.params["slow"])
        return (None, why) if why else (clip, "")

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


# MPEG audio Layer III: kbit/s by bitrate index, Hz by sample rate index, for MPEG-1 and MPEG-2/2.5
_BITRATES = {1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
             2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}  # by version bits


def mp3_frames_whole(data: bytes) -> bool:
    """True when `data` is whole MPEG Layer III frames (with ID3v2 tags before or between them)
    up to its last byte, then an optional ID3v1 tag. A download cut off mid-frame, or an answer that is not an
    MP3 at all, is False."""
    at, end = 0, len(data)
    if end - at >= 128 and data[end - 128:end - 125] == b"TAG":
        end -= 128
    frames = 0
    while at + 4 <= end:
        if data[at:at + 3] == b"ID3" and at + 10 <= end:  # gTTS joins the answers of a long sentence
            at += 10 + _id3_size(data, at)
            continue
        b1, b2 = data[at + 1], data[at + 2]
        version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
        if data[at] != 0xFF or (b1 & 0xE0) != 0xE0 or version == 1 or layer != 1:
            return False
        bitrate = _BITRATES[1 if version == 3 else 2][b2 >> 4] if b2 >> 4 != 15 else 0
        rate_index = (b2 >> 2) & 3
        if not bitrate or rate_index == 3:
            return False
        size = (144 if version == 3 else 72) * bitrate * 1000 // _RATES[version][rate_index] + ((b2 >> 1) & 1)
        at += size
        frames += 1
    return frames > 0 and at == end


def _id3_size(data: bytes, at: int) -> int:
    """The length after its 10-byte header of the ID3v2 tag at `at` (footer included)."""
    size = 0
    for byte in data[at + 6:at + 10]:  # synchsafe: 7 bits a byte
        size = size << 7 | (byte & 0x7F)
    return size + (10 if data[at + 5] & 0x10 else 0)
