"""Every online voice through one test body (as beets tests every backend), against a fake server on
127.0.0.1 that imitates each service's requests and answers: FPT.AI's "the file will be at this URL",
Viettel AI's audio in the answer, Zalo AI's JSON with a URL. Nothing is ever sent to the real services."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lameenc
import numpy as np
import pytest

from broadcast.errors import TTSError
from broadcast.tts import make_engine
from broadcast.tts.online import find_key

KEY = "khoa-bi-mat-0123456789"
SENTENCE = "Bà con tuyệt đối không chuyển tiền cho người lạ."
KEYED = ("fpt", "viettel", "zalo")
ENGINES = ("edge", *KEYED)


def _mp3(seconds: float = 2.0, rate: int = 24000, amplitude: float = 0.3) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    pcm = (amplitude * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes()
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(48)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(5)
    return bytes(encoder.encode(pcm) + encoder.flush())


AUDIO = _mp3()
HISS = _mp3(amplitude=0.0003)  # -70 dBFS: of a sentence's length, and nothing to hear


class Fake:
    """The three services on one port. `plan` is what the next requests get, in order ("ok" after)."""

    def __init__(self) -> None:
        self.plan: list[str] = []
        self.pending = 0  # how many times a file URL answers 404 before the audio is there
        self.requests: list[dict[str, object]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with fake.lock:
                    waiting = fake.pending
                    fake.pending = max(0, fake.pending - 1)
                if waiting:
                    self._send(404, b"not yet", "text/plain")
                else:
                    self._answer(fake._next(), audio=True)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with fake.lock:
                    fake.in_flight += 1
                    fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                time.sleep(0.05)  # the service at work: requests that overlap here were in flight together
                with fake.lock:
                    fake.in_flight -= 1  # before answering: a request can only follow an answer
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                behaviour = fake._next()
                if not fake._authorised(self.path, self.headers, body):
                    behaviour = "401"
                if self.path.startswith("/viettel"):
                    self._answer(behaviour, audio=True)
                elif behaviour != "ok":
                    self._answer(behaviour, audio=False)
                elif self.path.startswith("/fpt"):
                    self._send(200, json.dumps({"async": f"{fake.base}/files/a.mp3", "error": 0,
                                                "request_id": "r1"}).encode(), "application/json")
                else:
                    self._send(200, json.dumps({"data": {"url": f"{fake.base}/files/a.mp3"}, "error_code": 0,
                                                "error_message": "Successful."}).encode(), "application/json")

            def _answer(self, behaviour: str, audio: bool) -> None:
                if behaviour == "ok":
                    self._send(200, AUDIO, "audio/mpeg")
                elif behaviour == "401":
                    self._send(401, b'{"message": "invalid key"}', "application/json")
                elif behaviour == "429":
                    self.send_response(429)
                    self.send_header("Retry-After", "1")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif behaviour in ("500", "503"):
                    self._send(int(behaviour), b"busy", "text/plain")
                elif behaviour == "truncated":
                    self._send(200, AUDIO[: len(AUDIO) // 2 + 7], "audio/mpeg")
                elif behaviour == "notaudio":
                    self._send(200, b"<html>maintenance</html>" * 50, "text/html")
                elif behaviour == "short":
                    self._send(200, _mp3(0.1), "audio/mpeg")  # too short for ten words: cut off
                elif behaviour == "stall":  # headers, half the body, then nothing
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(AUDIO)))
                    self.end_headers()
                    self.wfile.write(AUDIO[:500])
                    self.wfile.flush()
                    time.sleep(3)
                elif behaviour == "slow":
                    time.sleep(3)
                    self._send(200, AUDIO, "audio/mpeg")
                elif behaviour in ("trickle", "endless"):  # a body that comes a byte at a time, or never ends
                    self.send_response(200)
                    self.send_header("Content-Type", "audio/mpeg")
                    self.send_header("Content-Length", str(10**10))
                    self.end_headers()
                    try:
                        for _ in range(20_000):
                            self.wfile.write(b"\0" if behaviour == "trickle" else b"\0" * 65536)
                            self.wfile.flush()
                            time.sleep(0.2 if behaviour == "trickle" else 0)
                    except OSError:
                        pass  # the client gave up: what it should do
                elif behaviour == "hiss":
                    self._send(200, HISS, "audio/mpeg")
                elif behaviour == "redirect":  # to another host: a captive portal, a moved API
                    self.send_response(302)
                    self.send_header("Location", "http://dang-nhap.example/wifi")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif behaviour == "oddjson":  # JSON, but not of the shape the service documents
                    self._send(200, json.dumps({"error": 0, "error_code": 0, "async": "", "data": ["x"]}).encode(),
                               "application/json")

            def _send(self, status: int, data: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _next(self) -> str:
        with self.lock:
            return self.plan.pop(0) if self.plan else "ok"

    @staticmethod
    def _authorised(path: str, headers: object, body: bytes) -> bool:
        if path.startswith("/fpt"):
            return headers.get("api-key") == KEY  # type: ignore[attr-defined]
        if path.startswith("/zalo"):
            return headers.get("apikey") == KEY  # type: ignore[attr-defined]
        return json.loads(body).get("token") == KEY


class EdgeFake:
    """Microsoft's Edge read-aloud websocket as edge-tts speaks to it: the client sends speech.config
    and an SSML message; the service answers turn.start, audio in binary messages (a 2-byte header
    length, the header with Path:audio, the MP3 bytes), then turn.end. A refusal is an HTTP status
    at the handshake."""

    def __init__(self) -> None:
        import asyncio

        from aiohttp import web

        self.plan: list[str] = []
        self.pending = 0
        self.requests: list[dict[str, object]] = []
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()
        fake = self

        async def handler(request: web.Request) -> web.StreamResponse:
            behaviour = fake._next()
            if behaviour in ("403", "500", "503", "429"):
                return web.Response(status=int(behaviour), text="refused")
            if behaviour == "slow":
                await asyncio.sleep(3)
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            ssml = ""
            async for message in ws:
                if message.type == web.WSMsgType.TEXT and "Path:ssml" in message.data:
                    ssml = message.data
                    break
            with fake.lock:
                fake.in_flight += 1
                fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
            await asyncio.sleep(0.05)
            with fake.lock:
                fake.in_flight -= 1
            fake.requests.append({"path": "/edge", "ssml": ssml, "body": ssml.encode()})
            await ws.send_str("X-RequestId:1\r\nContent-Type:application/json; charset=utf-8\r\nPath:turn.start"
                              "\r\n\r\n{}")
            audio = {"ok": AUDIO, "truncated": AUDIO[: len(AUDIO) // 2 + 7], "notaudio": b"<html>" * 200,
                     "short": _mp3(0.1), "stall": AUDIO[:500], "noaudio": b"", "hiss": HISS}[behaviour]
            header = b"X-RequestId:1\r\nContent-Type:audio/mpeg\r\nPath:audio\r\n"
            for at in range(0, len(audio), 4096):
                await ws.send_bytes(len(header).to_bytes(2, "big") + header + audio[at:at + 4096])
            if behaviour == "stall":
                await asyncio.sleep(5)
            await ws.send_str("X-RequestId:1\r\nContent-Type:application/json; charset=utf-8\r\nPath:turn.end"
                              "\r\n\r\n{}")
            await ws.close()
            return ws

        self.loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_get("/edge", handler)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"ws://127.0.0.1:{port}"
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def _next(self) -> str:
        with self.lock:
            return self.plan.pop(0) if self.plan else "ok"

    def close(self) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def fake(request, monkeypatch) -> Iterator[Fake | EdgeFake]:
    if request.node.callspec.params.get("name") == "edge":
        import edge_tts.communicate

        server = EdgeFake()
        monkeypatch.setattr(edge_tts.communicate, "WSS_URL", f"{server.base}/edge?TrustedClientToken=test")
        yield server
        server.close()
        return
    http = Fake()
    yield http
    http.server.shutdown()


def _engine(name: str, fake: Fake, tmp_path: Path, **params: object):
    base = {"timeout": 1.0} if name == "edge" else {"url": f"{fake.base}/{name}", "timeout": 1.0}
    engine = make_engine(name, {**base, **params}, tmp_path)
    engine.slept = []
    engine.sleep = engine.slept.append
    return engine


@pytest.fixture(autouse=True)
def keys(monkeypatch, tmp_path):
    for name in KEYED:
        monkeypatch.setenv(f"BROADCAST_{name.upper()}_KEY", KEY)
    monkeypatch.setenv("BROADCAST_SECRETS", str(tmp_path / "no-secrets.yaml"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize("name", ENGINES)
def test_reads_a_sentence_and_sends_voice_speed_text_and_key_where_the_service_wants_them(name, fake, tmp_path):
    if name != "viettel":
        fake.pending = 2  # the file appears at its URL after two 404s
    clip = _engine(name, fake, tmp_path).synthesize(SENTENCE)
    assert abs(clip.duration - 2.0) < 0.1
    [request] = fake.requests
    headers, body = request.get("headers", {}), request["body"]
    if name == "edge":
        assert SENTENCE in request["ssml"] and "(vi-VN, HoaiMyNeural)" in request["ssml"]
        assert "rate='+0%'" in request["ssml"] and "pitch='+0Hz'" in request["ssml"]
        return
    if name == "fpt":
        assert headers["api-key"] == KEY and headers["voice"] == "banmai" and headers["speed"] == "0"
        assert body.decode("utf-8") == SENTENCE
    elif name == "viettel":
        sent = json.loads(body)
        assert sent["token"] == KEY and sent["voice"] == "hn-quynhanh" and sent["text"] == SENTENCE
        assert sent["speed"] == 1.0 and sent["tts_return_option"] == 3
    else:
        form = urllib.parse.parse_qs(body.decode())
        assert headers["apikey"] == KEY and form["input"] == [SENTENCE] and form["speaker_id"] == ["2"]


@pytest.mark.parametrize("name", KEYED)
def test_a_refused_key_fails_at_once_and_never_shows_the_key(name, fake, tmp_path, monkeypatch):
    monkeypatch.setenv(f"BROADCAST_{name.upper()}_KEY", "khoa-sai-987654321")
    engine = _engine(name, fake, tmp_path)
    with pytest.raises(TTSError) as caught:
        engine.synthesize(SENTENCE)
    assert "401" in caught.value.message and "khóa" in caught.value.message
    assert "khoa-sai-987654321" not in caught.value.message and KEY not in caught.value.message
    assert f"BROADCAST_{name.upper()}_KEY" in caught.value.message  # where a new key goes
    assert len(fake.requests) == 1 and engine.retries == 0


@pytest.mark.parametrize("name", KEYED)
def test_429_waits_as_long_as_retry_after_says(name, fake, tmp_path):
    fake.plan = ["429"]
    engine = _engine(name, fake, tmp_path, backoff=0.01)
    assert abs(engine.synthesize(SENTENCE).duration - 2.0) < 0.1
    assert engine.retries == 1 and engine.slept and engine.slept[0] >= 1.0


@pytest.mark.parametrize("name", ENGINES)
def test_5xx_is_retried_with_backoff_then_succeeds(name, fake, tmp_path):
    fake.plan = ["500", "503"]
    engine = _engine(name, fake, tmp_path, backoff=0.5, backoff_max=4.0)
    assert engine.synthesize(SENTENCE).duration > 1.5
    assert engine.retries == 2 and len(engine.slept) == 2
    assert 0 <= engine.slept[0] <= 0.5 and 0 <= engine.slept[1] <= 1.0  # full jitter under a doubling cap


@pytest.mark.parametrize("name", KEYED)
def test_a_redirect_is_not_followed_and_is_said_with_where_it_led(name, fake, tmp_path):
    """It was taken for the answer: 'not JSON' or 'not an MP3', retried, with no word of a redirect."""
    fake.plan = ["redirect"] * 10
    engine = _engine(name, fake, tmp_path)
    with pytest.raises(TTSError) as caught:
        engine.synthesize(SENTENCE)
    assert "HTTP 302" in caught.value.message and "dang-nhap.example" in caught.value.message
    assert "'url'" in caught.value.message and KEY not in caught.value.message
    assert len(fake.requests) == 1 and engine.retries == 0


@pytest.mark.parametrize("name", KEYED)
@pytest.mark.parametrize("copied", ["\u200b", " ", "\n", "á"])
def test_a_key_copied_with_a_character_keys_never_have_fails_at_once_with_where_it_is(name, copied, fake, tmp_path,
                                                                                        monkeypatch):
    """A zero-width space copied with the key ended in a UnicodeEncodeError, in English; a line
    break was retried as a connection error; neither said the key was at fault."""
    monkeypatch.setenv(f"BROADCAST_{name.upper()}_KEY", f"khoa{copied}bi-mat")
    engine = _engine(name, fake, tmp_path)
    with pytest.raises(TTSError) as caught:
        engine.synthesize(SENTENCE)
    assert f"BROADCAST_{name.upper()}_KEY" in caught.value.message and "vị trí 5" in caught.value.message
    assert "bi-mat" not in caught.value.message
    assert fake.requests == [] and engine.retries == 0


@pytest.mark.parametrize("name", ("fpt", "zalo"))
def test_an_answer_of_another_shape_fails_the_sentence_with_the_service_named(name, fake, tmp_path):
    """Zalo AI's 'data' as a list ended the sentence with an AttributeError, in English."""
    fake.plan = ["oddjson"] * 10
    engine = _engine(name, fake, tmp_path)
    with pytest.raises(TTSError) as caught:
        engine.synthesize(SENTENCE)
    assert ("FPT.AI" if name == "fpt" else "Zalo AI") in caught.value.message
    assert "báo lỗi: (" not in caught.value.message and "None" not in caught.value.message  # what came back


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("bad", ["truncated", "notaudio", "short"])
def test_a_bad_answer_is_retried_then_the_sentence_fails(name, bad, fake, tmp_path):
    fake.plan = [bad] * 10
    engine = _engine(name, fake, tmp_path, retries=2)
    with pytest.raises(TTSError) as caught:
        engine.synthesize(SENTENCE)
    assert "sau 3 lần thử" in caught.value.message and engine.retries == 2
    assert "dựng lại sau" in caught.value.message and "fallback:" in caught.value.message  # what to do


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("hang", ["stall", "slow"])
def test_a_stalled_or_slow_answer_times_out_and_is_retried(name, hang, fake, tmp_path):
    fake.plan = [hang]
    engine = _engine(name, fake, tmp_path, timeout=0.5)
    started = time.monotonic()
    assert engine.synthesize(SENTENCE).duration > 1.5
    assert engine.retries == 1 and time.monotonic() - started < 3.0


@pytest.mark.parametrize("name", KEYED)
@pytest.mark.parametrize("body", ["trickle", "endless"])
def test_an_answer_that_never_ends_is_cut_off_in_time_and_size(name, body, fake, tmp_path, monkeypatch):
    """requests' timeout is per read: a byte every 0.2 s held a build for ever, and an endless body
    was read into memory until the machine had none left."""
    from broadcast.tts import online

    monkeypatch.setattr(online, "MAX_ANSWER_BYTES", 2_000_000)
    fake.plan = [body] * 3
    engine = _engine(name, fake, tmp_path, timeout=1.0, retries=1)
    started = time.monotonic()
    with pytest.raises(TTSError) as caught:
        engine.synthesize(SENTENCE)
    assert "sau 2 lần thử" in caught.value.message
    assert ("chậm" if body == "trickle" else "lớn quá") in caught.value.message
    assert time.monotonic() - started < 10  # two answers of ~1 s each: bounded, not for ever


@pytest.mark.parametrize("name", ENGINES)
def test_a_near_silent_answer_is_refused_like_a_bad_one(name, fake, tmp_path):
    """Hiss at -70 dBFS of a believable length aired as the message, exit 0."""
    attempt = ["ok", "hiss"] if name in ("fpt", "zalo") else ["hiss"]  # these two send the audio from a file URL
    fake.plan = attempt * 2
    engine = _engine(name, fake, tmp_path, retries=2)
    assert engine.synthesize(SENTENCE).duration > 1.5  # the third answer is speech
    assert engine.retries == 2
    fake.plan = attempt * 3
    with pytest.raises(TTSError) as caught:
        _engine(name, fake, tmp_path, retries=1).synthesize(SENTENCE)
    assert "gần như im lặng" in caught.value.message


@pytest.mark.parametrize("name", KEYED)
def test_without_a_key_no_request_is_ever_sent_not_even_the_second(name, fake, tmp_path, monkeypatch):
    """The first sentence failed for the missing key; every later one went out with an empty key."""
    monkeypatch.delenv(f"BROADCAST_{name.upper()}_KEY")
    engine = _engine(name, fake, tmp_path)
    for _ in range(3):
        with pytest.raises(TTSError):
            engine.synthesize(SENTENCE)
    assert fake.requests == []
    monkeypatch.setenv(f"BROADCAST_{name.upper()}_KEY", KEY)  # set meanwhile: found without a restart
    assert engine.synthesize(SENTENCE).duration > 1.5


@pytest.mark.parametrize("name", ENGINES)
def test_retries_timeouts_and_the_address_do_not_change_a_clip_s_key(name, fake, tmp_path):
    """Tuning a retry setting made every sentence new: paid for again, mastered again."""
    from broadcast.tts import clip_key

    def key(**params: object) -> str:
        engine = _engine(name, fake, tmp_path, **params)
        return clip_key(engine.NAME, engine.version(), engine.sound_params(), SENTENCE)
    assert key(timeout=1.0) == key(timeout=3.0, retries=1, max_concurrency=1, backoff=2.0)
    assert key() != key(syllables_per_second=3.0)  # the rate changes how it sounds


@pytest.mark.parametrize("name", ENGINES)
def test_the_requests_in_flight_are_capped(name, fake, tmp_path):
    engine = _engine(name, fake, tmp_path, max_concurrency=2)
    threads = [threading.Thread(target=engine.synthesize, args=(SENTENCE,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(fake.requests) == 6 and fake.most_in_flight <= 2


@pytest.mark.parametrize("name", KEYED)
def test_without_a_key_nothing_is_sent_and_the_message_says_where_keys_go(name, fake, tmp_path, monkeypatch):
    monkeypatch.delenv(f"BROADCAST_{name.upper()}_KEY")
    with pytest.raises(TTSError) as caught:
        _engine(name, fake, tmp_path).synthesize(SENTENCE)
    assert f"BROADCAST_{name.upper()}_KEY" in caught.value.message and "ngoài dự án" in caught.value.message
    assert fake.requests == []


def test_keys_come_from_a_secrets_file_outside_the_project_never_inside(tmp_path, monkeypatch):
    monkeypatch.delenv("BROADCAST_FPT_KEY")
    outside = tmp_path / "home" / "secrets.yaml"
    outside.parent.mkdir()
    outside.write_text("fpt: 'khoa-tu-tep'\nzalo: khac\n", encoding="utf-8")
    monkeypatch.setenv("BROADCAST_SECRETS", str(outside))
    project = tmp_path / "project"
    project.mkdir()
    assert find_key("fpt", "BROADCAST_FPT_KEY", project) == "khoa-tu-tep"
    inside = project / "secrets.yaml"
    inside.write_text("fpt: lo-ra\n", encoding="utf-8")
    monkeypatch.setenv("BROADCAST_SECRETS", str(inside))
    with pytest.raises(TTSError, match="ngoài"):
        find_key("fpt", "BROADCAST_FPT_KEY", project)


@pytest.mark.parametrize("name", ENGINES)
def test_profiles_are_checked_with_the_voice_list(name, tmp_path):
    from broadcast.tts.voices import check_profile

    assert check_profile(name, {"voice": "khong-co"})  # not one of the service's voices
    assert check_profile(name, {"speed": 99})
    assert check_profile(name, {"url": "ftp://x"})
    assert check_profile(name, {}) == []


@pytest.mark.parametrize("name", ["edge"])
@pytest.mark.parametrize("refusal", ["403", "503", "noaudio"])
def test_edge_handshake_refusals_and_empty_answers_are_retried(name, refusal, fake, tmp_path):
    """The ways edge-tts has broken before: 403 when Microsoft changed the token, 503, "No audio was received"."""
    fake.plan = [refusal]
    engine = _engine(name, fake, tmp_path)
    assert abs(engine.synthesize(SENTENCE).duration - 2.0) < 0.1
    # edge-tts answers a 403 itself once (it corrects its clock for the token); the others are ours to retry
    assert engine.retries == (0 if refusal == "403" else 1)


@pytest.mark.parametrize("name", ENGINES)
def test_syllables_per_second_sets_the_rate_that_comes_out(name, fake, tmp_path):
    """The fake services answer 2 s for the ten syllables (5 per second); the profile asks for 4 per second."""
    engine = _engine(name, fake, tmp_path, syllables_per_second=4.0)
    clip = engine.speak(SENTENCE)
    assert abs(10 / clip.duration - 4.0) < 0.2, clip.duration
    assert abs(_engine(name, fake, tmp_path).speak(SENTENCE).duration - 2.0) < 0.1  # not asked: as it came
    from broadcast.tts.voices import check_profile

    assert check_profile(name, {"syllables_per_second": 99})


@pytest.mark.parametrize("status, reachable", [(200, True), (401, True), (404, True), (500, False), (503, False)])
def test_the_reachability_probe_counts_a_server_error_as_down(fake, status, reachable):
    """doctor said [OK] (HTTP 500) for a service that was down."""
    from broadcast.tts.online import http_probe

    fake.plan = [str(status)] if status >= 500 else ["401"] if status == 401 else []
    url = f"{fake.base}/viettel" if status != 404 else f"{fake.base}/files/a.mp3"
    if status == 404:
        fake.pending = 1
    ok, detail = http_probe(url, 2.0)
    assert ok is reachable and detail.startswith("HTTP ")


@pytest.mark.parametrize("name", KEYED)
def test_a_service_that_keeps_failing_is_not_tried_again_in_the_build(name, fake, tmp_path):
    """Every sentence waited its retries (~100 s with the defaults) before the fallback: a week of a
    dead service took hours."""
    fake.plan = ["503"] * 100
    engine = _engine(name, fake, tmp_path, retries=1)
    for _ in range(3):
        with pytest.raises(TTSError):
            engine.synthesize(SENTENCE)
    sent = len(fake.requests)
    with pytest.raises(TTSError) as caught:
        engine.synthesize(SENTENCE)
    assert "không thử lại trong lần dựng này" in caught.value.message and len(fake.requests) == sent
    fresh = _engine(name, fake, tmp_path, retries=1)  # the next build tries it again
    fake.plan = []
    assert fresh.synthesize(SENTENCE).duration > 1.5


@pytest.mark.parametrize("name", KEYED)
def test_a_stopped_build_does_not_wait_for_the_retries_under_way(name, fake, tmp_path):
    """Ctrl-C or SIGTERM during an online round: the sentences queued are dropped, and those under
    way give up at their next wait instead of sleeping through their backoffs and retrying (a
    `timeout 600 broadcast build` went on for minutes after its SIGTERM, until SIGKILL)."""
    import signal
    import subprocess
    import sys

    fake.plan = ["503"] * 1000
    # the round in a process of its own, stopped as Ctrl-C stops a command (SIGINT sent to the test runner
    # itself went unhandled in the first full runs of fresh clones: the round ran through its retries)
    child = (
        "from pathlib import Path\n"
        "from broadcast.tts import ClipCache, VoiceSpec, synthesize_all\n"
        f"voice = VoiceSpec('online', {name!r}, {{'url': {fake.base + '/' + name!r}, 'timeout': 1.0, 'retries': 4, "
        "'backoff': 4.0, 'backoff_max': 4.0, 'max_concurrency': 4})\n"
        "requests = [(voice, f'Câu số {i} gửi tới bà con.') for i in range(40)]\n"
        "print('start', flush=True)\n"
        f"synthesize_all(requests, ClipCache(Path({str(tmp_path / 'clips')!r})), Path({str(tmp_path)!r}), jobs=1)\n"
    )
    # SIGINT as a terminal leaves it: something in the test runner of a fresh venv sets it ignored below
    # Python (its own handler table still says default), and a child would inherit that (as test_kill.py's)
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stdout is not None and proc.stdout.readline().strip() == "start"
    time.sleep(0.5)  # the first tries under way
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    stopped = time.monotonic() - started
    assert proc.returncode != 0 and "KeyboardInterrupt" in err, err
    # each of the 4 sentences under way had 4 more backoffs of up to 4 s ahead of it
    assert stopped < 2.5, stopped
    assert len(fake.requests) <= 8  # the first tries, and at most the retries already started
