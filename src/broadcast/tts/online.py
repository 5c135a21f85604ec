"""What every online voice shares: keys kept out of the project, bounded retries, and answers checked.

An online engine (FPT.AI, Viettel AI, Zalo AI, and gTTS's checks) subclasses `OnlineEngine` and
writes only `fetch`: one request for one sentence, returning the audio bytes. This class then

- reads the key from the environment (`BROADCAST_<NAME>_KEY`) or a secrets file outside the
  project (`BROADCAST_SECRETS`, default ~/.config/broadcast/secrets.yaml, `<name>: KEY` lines);
  a key never appears in an error, a log line, the manifest or the cache key;
- caps the requests in flight (`max_concurrency`), so the build's threads cannot flood a service;
- retries connection errors, timeouts, HTTP 429 (after its Retry-After, bounded) and 5xx with
  exponential backoff and full jitter, a bounded number of times; 401/403 and other 4xx fail at once;
- checks every answer before it is used: whole MP3 frames (or a whole WAV), it decodes, and its
  length is plausible for the sentence; a bad answer is retried, then the sentence fails, and
  nothing of it is cached (so its commune fails and is listed, or its fallback voice is used).

Tests run every online engine through one shared test body against fake servers on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import urllib.parse
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar

from broadcast.ffmpeg import decode_clip
from broadcast.pcm import Clip

from .base import (
    QUIET_DBFS,
    Availability,
    Engine,
    Param,
    TTSError,
    bilingual,
    implausible_length,
    level_dbfs,
    sentence_label,
)

RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))
SECRETS_ENV = "BROADCAST_SECRETS"
DEFAULT_SECRETS = Path("~/.config/broadcast/secrets.yaml")


# what to do when a service did not answer after every retry (busy, down, the network)
AGAIN_LATER = ("dựng lại sau: các câu đã đọc được vẫn giữ trong bộ nhớ đệm, không phải đọc lại; hoặc đặt "
               "'fallback: <giọng ngoại tuyến>' trong hồ sơ giọng ở voices/ để giọng đó đọc thay khi dịch vụ lỗi")


class Transient(Exception):
    """A failure worth trying again (after `retry_after` seconds when the service said so)."""

    def __init__(self, why: str, retry_after: float | None = None):
        super().__init__(why)
        self.why = why
        self.retry_after = retry_after


def retry_params(retries: int = 4, timeout: float = 20.0, concurrency: int = 4) -> tuple[Param, ...]:
    return (
        Param("retries", int, retries, "số lần thử lại khi lỗi mạng, 429 hoặc 5xx", low=0, high=20),
        Param("backoff", float, 1.0, "thời gian chờ gốc (giây) trước lần thử lại đầu, nhân đôi mỗi lần",
              low=0, high=60),
        Param("backoff_max", float, 30.0, "thời gian chờ tối đa giữa hai lần thử (giây)", low=0, high=600),
        Param("timeout", float, timeout, "thời gian chờ mỗi yêu cầu (giây)", low=0.1, high=300),
        Param("max_concurrency", int, concurrency, "số yêu cầu đồng thời tối đa", low=1, high=32),
    )


def _check_url(value: str) -> str | None:
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return bilingual(f"địa chỉ dịch vụ '{value}' không hợp lệ", f"invalid service URL '{value}'")
    return None


def wait_param() -> Param:
    return Param("wait", float, 30.0, "chờ tệp âm thanh được tạo tối đa (giây)", low=1, high=300)


def url_param(default: str) -> Param:
    return Param("url", str, default, "địa chỉ dịch vụ (chỉ đổi khi nhà cung cấp đổi)", check=_check_url)


class OnlineEngine(Engine):
    """A voice behind an HTTP API. Subclasses set NAME, SERVICE, VOICES, PARAMS and write `fetch`."""

    POOL = "thread"
    ONLINE = True
    SERVICE: ClassVar[str] = ""  # the provider's name, for messages
    VOICES: ClassVar[tuple[tuple[str, str], ...]] = ()  # (voice id, description)
    NEEDS_KEY: ClassVar[bool] = True
    CONTAINER: ClassVar[str] = "mp3"  # what an answer holds: "mp3" or "wav"

    def __init__(self, params: Any, base_dir: Path):
        super().__init__(params, base_dir)
        self._slots = threading.BoundedSemaphore(self.params["max_concurrency"])
        self._count_lock = threading.Lock()
        self._random = random.Random()
        self._stopping = threading.Event()
        self.sleep: Callable[[float], object] = self._stopping.wait  # a wait `stop` cuts short; tests replace it
        self._key: str | None = None
        self._given_up = 0  # sentences in a row the service failed after every retry (not a refusal)

    @property
    def max_concurrency(self) -> int:
        return int(self.params["max_concurrency"])

    # keys ------------------------------------------------------------------------------------------

    @classmethod
    def key_env(cls) -> str:
        return f"BROADCAST_{cls.NAME.upper()}_KEY"

    def key(self) -> str:
        if not self._key:  # looked for again until found: an empty key is never sent
            self._key = find_key(self.NAME, self.key_env(), self.base_dir)
            if not self._key:
                raise TTSError(bilingual(
                    f"chưa có khóa API {self.SERVICE}: đặt biến môi trường {self.key_env()} hoặc dòng "
                    f"'{self.NAME}: KHÓA' trong tệp bí mật ngoài dự án ({SECRETS_ENV}, mặc định {DEFAULT_SECRETS})",
                    f"no {self.SERVICE} API key"))
            wrong = next((i for i, c in enumerate(self._key) if not "!" <= c <= "~"), None)
            if wrong is not None:  # a space, a letter with a mark or a line break copied with it: no header
                self._key = None    # can carry it (a traceback in English), and no service would take it
                where = self.key_env() if os.environ.get(self.key_env()) else \
                    str(Path(os.environ.get(SECRETS_ENV) or DEFAULT_SECRETS).expanduser())
                raise TTSError(bilingual(
                    f"khóa API {self.SERVICE} ({where}) có ký tự không dùng được ở vị trí {wrong + 1} (dấu cách, "
                    "ký tự ẩn, chữ có dấu hay xuống dòng bị chép kèm): chép lại khóa từ trang của nhà cung cấp",
                    f"the {self.SERVICE} API key holds a character keys never have"))
        return self._key

    def _redact(self, text: str) -> str:
        """`text` with the key taken out, should a service echo it back."""
        return text.replace(self._key, "***") if self._key else text

    # the request loop --------------------------------------------------------------------------------

    @abstractmethod
    def fetch(self, sentence: str) -> bytes:
        """One request for one sentence: the audio bytes. Raise `Transient` to try again, `TTSError` to
        fail at once (a refused key, a request the service will never accept)."""

    def synthesize(self, sentence: str) -> Clip:
        if self.NEEDS_KEY:
            self.key()
        if self._given_up >= DOWN_AFTER:  # down: every sentence would wait its retries (~100 s) for nothing
            raise TTSError(bilingual(f"{self.SERVICE} đã không trả lời được {DOWN_AFTER} câu liền: không thử lại "
                                     "trong lần dựng này (giọng dự phòng đọc thay, nếu có)",
                                     f"{self.SERVICE} is down: not tried again in this build"))
        attempts = self.params["retries"] + 1
        last = ""
        for attempt in range(attempts):
            if self._stopping.is_set():  # the build is stopping: no new request, no retry
                raise TTSError(bilingual("đã dừng theo yêu cầu", "stopped"))
            wait: float | None = None
            with self._slots:
                try:
                    clip, last = self._answer(sentence, self.fetch(sentence))
                    if clip is not None:
                        self._given_up = 0
                        return clip
                except Transient as e:
                    last, wait = self._redact(e.why), e.retry_after
                except TTSError as e:
                    raise TTSError(self._failed(sentence, self._redact(e.message), attempt + 1)) from None
            if attempt + 1 < attempts:
                with self._count_lock:
                    self.retries += 1
                cap = min(self.params["backoff_max"], self.params["backoff"] * (2**attempt))
                delay = self._random.uniform(0, cap)
                if wait is not None:  # the service said how long: never less, never more than the cap allows
                    delay = min(max(wait, delay), max(self.params["backoff_max"], 0.0))
                self.sleep(delay)
        with self._count_lock:
            self._given_up += 1
        raise TTSError(self._failed(sentence, last, attempts, AGAIN_LATER))

    def stop(self) -> None:
        self._stopping.set()

    def _answer(self, sentence: str, audio: bytes) -> tuple[Clip | None, str]:
        """(the clip, "") when the answer is whole, decodes and is as long as the sentence can be."""
        if self.CONTAINER == "mp3" and not mp3_frames_whole(audio):
            return None, bilingual("âm thanh nhận về bị cắt cụt hoặc không phải MP3", "truncated or not an MP3")
        try:
            clip = decode_clip(audio, fmt=self.CONTAINER, what=sentence_label(sentence), error=TTSError)
        except TTSError as e:
            return None, e.message
        why = implausible_length(sentence, clip.duration, slow=bool(self.params.get("slow", False)))
        if not why and level_dbfs(clip) < QUIET_DBFS:  # a service can answer hiss or silence, of the right length
            why = bilingual(f"âm thanh nhận về gần như im lặng ({level_dbfs(clip):.0f} dBFS)", "near-silent answer")
        return (None, why) if why else (clip, "")

    def _failed(self, sentence: str, why: str, attempts: int, advice: str = "") -> str:
        return bilingual(f"{self.SERVICE} không đọc được câu {sentence_label(sentence)} sau {attempts} lần thử: {why}"
                         + (f"; {advice}" if advice else ""),
                         f"{self.SERVICE} failed on this sentence after {attempts} attempt(s)")

    # HTTP, as every subclass needs it ---------------------------------------------------------------

    def http(self, method: str, url: str, **kwargs: Any) -> Any:
        """A request with the profile's timeout; connection problems and 429/5xx become `Transient`,
        401/403 and other 4xx a `TTSError` (whose text never holds the key)."""
        import requests

        seconds = self.params["timeout"]
        try:
            streamed = requests.request(method, url, timeout=seconds, allow_redirects=False, stream=True, **kwargs)
            try:
                response = Answer(streamed.status_code, dict(streamed.headers),
                                  _whole_body(streamed.raw, time.monotonic() + seconds, MAX_ANSWER_BYTES))
            finally:
                streamed.close()
        except requests.Timeout:
            raise Transient(bilingual("hết thời gian chờ", "timed out")) from None
        except requests.RequestException as e:
            raise Transient(bilingual(f"không kết nối được ({type(e).__name__})", "connection failed")) from None
        status = response.status_code
        if status in RETRY_STATUSES:
            raise Transient(f"HTTP {status}", _retry_after(response.headers.get("Retry-After")))
        if 300 <= status < 400:  # never followed (a key or the text sent on to another host): said as such,
            target = urllib.parse.urlsplit(response.headers.get("Location") or "").netloc or "?"  # not "not audio"
            raise TTSError(bilingual(
                f"HTTP {status}: {self.SERVICE} chuyển yêu cầu sang địa chỉ khác ({target}), không đi theo: kiểm tra "
                "'url' trong hồ sơ giọng (hoặc bỏ dòng đó để dùng địa chỉ mặc định), hay mạng có chặn và chuyển hướng",
                f"HTTP {status}: redirected to {target}, not followed"))
        if status in (401, 403) and self.NEEDS_KEY:  # a keyless service (gTTS) refusing is not a key's fault
            raise TTSError(bilingual(
                f"HTTP {status}: khóa API {self.SERVICE} sai, hết hạn hoặc hết hạn mức: lấy khóa mới ở trang của "
                f"{self.SERVICE}, đặt vào biến môi trường {self.key_env()} hoặc dòng '{self.NAME}: KHÓA' trong tệp "
                f"bí mật ngoài dự án ({SECRETS_ENV}, mặc định {DEFAULT_SECRETS})",
                f"HTTP {status}: the {self.SERVICE} key was refused"))
        if status >= 400:
            raise TTSError(bilingual(f"HTTP {status}: {self.SERVICE} từ chối yêu cầu: "
                                     f"{self._redact(response.text[:200])}", f"HTTP {status}: request refused"))
        return response

    def wait_for_file(self, url: str) -> bytes:
        """The audio at `url`, which the service makes after it answered (FPT.AI, Zalo AI): fetched
        again while it answers 404, for at most the profile's `wait` seconds."""
        deadline = time.monotonic() + self.params["wait"]
        pause = 0.5
        while True:
            try:
                return bytes(self.http("GET", url).content)
            except TTSError as e:
                if "HTTP 404" not in e.message:
                    raise
            if time.monotonic() + pause > deadline:
                raise Transient(bilingual(f"tệp âm thanh chưa có sau {self.params['wait']:.0f} giây",
                                          "the audio file never appeared"))
            self.sleep(pause)
            pause = min(pause * 2, 4.0)

    def version(self) -> str:
        shown = {k: v for k, v in sorted(self.params.items()) if k in self.SOUND_PARAMS}
        return f"{self.NAME} {shown}"

    SOUND_PARAMS: ClassVar[tuple[str, ...]] = ("voice", "speed")  # what changes the sound (the cache key)

    def sound_params(self) -> dict[str, Any]:
        # tuning retries, a timeout or the address never pays for every sentence again
        return {k: v for k, v in self.params.items() if k in (*self.SOUND_PARAMS, "syllables_per_second")}

    @classmethod
    def availability(cls, params=None, base_dir=None, probe=None, probe_timeout=3.0) -> Availability:
        p = cls.normalize_params(params)
        if cls.NEEDS_KEY and not find_key(cls.NAME, cls.key_env(), Path(base_dir or ".")):
            return Availability(False, bilingual(f"chưa có khóa API {cls.SERVICE}", f"no {cls.SERVICE} API key"),
                                bilingual(f"đặt biến môi trường {cls.key_env()} hoặc dòng '{cls.NAME}: KHÓA' trong "
                                          f"tệp bí mật ngoài dự án ({SECRETS_ENV})", "set the key outside the project"))
        ok, detail = (probe or http_probe)(p["url"], probe_timeout)
        if not ok:
            return Availability(False, bilingual(f"không kết nối được {cls.SERVICE}: {detail}", "cannot reach it"),
                                bilingual("máy cần Internet; hoặc chọn giọng ngoại tuyến, hoặc đặt `fallback:`",
                                          "needs the Internet; use an offline voice or set `fallback:`"))
        return Availability(True, f"{cls.SERVICE} ({detail})")


DOWN_AFTER = 3  # sentences in a row failed after every retry: the service is down for this build
MAX_ANSWER_BYTES = 20_000_000  # one sentence's audio is ~100 KB: an answer past this is not one


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read whole, within the time and size a sentence's audio can take."""

    status_code: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


def _whole_body(raw: Any, deadline: float, limit: int) -> bytes:
    """The body of a streamed answer, read as it comes (`read1`: whatever has arrived, at most one
    read timeout's wait each time) until the deadline: `requests`' timeout is per read, so a
    server trickling a byte at a time, or sending for ever, held a build without end."""
    from urllib3.exceptions import HTTPError

    body = bytearray()
    try:
        while chunk := raw.read1(64 * 1024, decode_content=True):
            body += chunk
            if len(body) > limit:
                raise Transient(bilingual(f"câu trả lời lớn quá {limit // 1_000_000} MB", "answer too large"))
            if time.monotonic() > deadline:
                raise Transient(bilingual("câu trả lời đến quá chậm", "answer too slow"))
    except (HTTPError, OSError) as e:
        raise Transient(bilingual(f"đứt kết nối khi nhận ({type(e).__name__})", "connection broken")) from None
    return bytes(body)


def find_key(name: str, env: str, project_root: Path) -> str:
    """The API key for service `name`: the environment first, then the secrets file. A secrets file
    inside the project is refused (keys must stay out of the project, git and the outputs)."""
    if os.environ.get(env):
        return os.environ[env].strip()
    path = Path(os.environ.get(SECRETS_ENV) or DEFAULT_SECRETS).expanduser()
    try:
        if path.is_file() and path.resolve().is_relative_to(project_root.resolve()):
            raise TTSError(bilingual(f"tệp bí mật {path} nằm trong thư mục dự án: chuyển nó ra ngoài",
                                     "the secrets file must be outside the project"))
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == name:
            return value.strip().strip("'\"")
    return ""


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def http_probe(url: str, timeout: float) -> tuple[bool, str]:
    """Is `url`'s service answering within `timeout` seconds? Any status but a server error counts (a
    refused probe without a key is still an answer; a 500 or 503 is a service that is down)."""
    import requests

    try:
        with requests.get(url, timeout=timeout, allow_redirects=False, stream=True) as r:  # the status, no body
            return r.status_code < 500, f"HTTP {r.status_code}"
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
