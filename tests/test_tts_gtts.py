"""gtts engine against a fake Google Translate batchexecute server on 127.0.0.1 (never Google)."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import imageio_ffmpeg
import pytest

from broadcast.tts import ClipCache, TTSError, VoiceSpec, make_engine, synthesize_all, voice_status
from broadcast.tts.gtts_engine import GttsEngine

SENTENCE = "Bà con tuyệt đối không chuyển tiền cho người lạ."
FAST = {"backoff": 0.001, "backoff_max": 0.01, "timeout": 5.0}


def sine_mp3(seconds: float) -> bytes:
    """`seconds` of 440 Hz, encoded by the wheel's ffmpeg like Google's 24 kHz mono MP3."""
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
        "-i", f"sine=frequency=440:duration={seconds}", "-ac", "1", "-ar", "24000", "-c:a", "libmp3lame",
        "-b:a", "32k", "-f", "mp3", "pipe:1",
    ]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def mp3() -> bytes:
    return sine_mp3(1)


class FakeGoogle:
    """Speaks gTTS 2.5's protocol: POST .../batchexecute with f.req=[[["jQ1olc", "[text, lang, ...]"...]]],
    answers with a line holding jQ1olc","[\\"<base64 mp3>\\"]. `script` is a list of HTTP
    statuses to answer in turn (then 200 for ever)."""

    def __init__(self, audio: bytes):
        self.audio = audio
        self.script: list[int] = []
        self.answers: list[bytes] = []  # audio to answer in turn (then `audio` for ever)
        self.texts: list[str] = []
        self.langs: list[str] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                with fake.lock:
                    status = fake.script.pop(0) if fake.script else 200
                    rpc = json.loads(urllib.parse.parse_qs(body)["f.req"][0])
                    text, lang = json.loads(rpc[0][0][1])[:2]
                    fake.texts.append(text)
                    fake.langs.append(lang)
                if status != 200:
                    self.send_response(status)
                    self.end_headers()
                    return
                with fake.lock:
                    audio = fake.answers.pop(0) if fake.answers else fake.audio
                b64 = base64.b64encode(audio).decode()
                payload = ")]}'\n\n123\n" + '[["wrb.fr","jQ1olc","[\\"' + b64 + '\\"]",null,null,null,"generic"]]\n'
                data = payload.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # the reachability probe
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, tld="com", path=""):
        return f"http://127.0.0.1:{self.port}/{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def google(mp3, monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    fake = FakeGoogle(mp3)
    import gtts.tts

    monkeypatch.setattr(gtts.tts, "_translate_url", fake.url)
    yield fake
    fake.close()


def test_success_decodes_the_mp3(google, tmp_path):
    eng = make_engine("gtts", FAST, tmp_path)
    clip = eng.synthesize(SENTENCE)
    assert clip.rate == 24000
    assert 0.9 < clip.duration < 1.2
    assert clip.rms() > 1000
    assert google.texts == [SENTENCE] and google.langs == ["vi"]  # the whole sentence, one request
    assert eng.retries == 0


def test_429_then_success_is_retried_and_counted(google, tmp_path):
    google.script = [429]
    voice = VoiceSpec("google", "gtts", dict(FAST, retries=3))
    r = synthesize_all([(voice, SENTENCE)], ClipCache(tmp_path), tmp_path)
    assert r.ok and r.stats.engine_calls == 1 and r.stats.retries == 1
    assert len(google.texts) == 2
    assert 0.9 < r.clip("google", SENTENCE).duration < 1.2


def test_persistent_503_fails_cleanly_and_caches_nothing(google, tmp_path):
    google.script = [503] * 10
    cache = ClipCache(tmp_path / "clips")
    voice = VoiceSpec("google", "gtts", dict(FAST, retries=2))
    r = synthesize_all([(voice, SENTENCE), (voice, "Câu thứ hai.")], cache, tmp_path)
    assert not r.ok and r.stats.failures >= 1
    failure = next(f for f in r.failures if f.sentence == SENTENCE)
    assert "503" in failure.message and "tuyệt đối không chuyển tiền" in failure.message
    assert "3" in failure.message  # attempts
    assert r.stats.failures == 2 and not r.clips and cache.stats() == (0, 0)  # nothing cached
    assert ("google", SENTENCE) not in r


def test_non_retryable_status_fails_at_once(google, tmp_path):
    google.script = [403]
    eng = make_engine("gtts", FAST, tmp_path)
    with pytest.raises(TTSError, match="403"):
        eng.synthesize(SENTENCE)
    assert len(google.texts) == 1 and eng.retries == 0


def test_connection_refused_is_a_clean_error(tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    import gtts.tts

    monkeypatch.setattr(gtts.tts, "_translate_url", lambda tld="com", path="": f"http://127.0.0.1:{port}/{path}")
    eng = make_engine("gtts", dict(FAST, retries=1), tmp_path)
    with pytest.raises(TTSError) as e:
        eng.synthesize(SENTENCE)
    assert "connection failed" in e.value.message and "người lạ" in e.value.message
    assert eng.retries == 1
    status = voice_status(VoiceSpec("g", "gtts", {}), tmp_path, probe_timeout=1.0)
    assert not status.ok and status.fix


def test_concurrency_is_bounded(google, tmp_path, monkeypatch):
    eng = make_engine("gtts", dict(FAST, max_concurrency=2), tmp_path)
    active, peak, lock = [0], [0], threading.Lock()
    real = GttsEngine._fetch_mp3

    def counting(self, sentence):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            return real(self, sentence)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(GttsEngine, "_fetch_mp3", counting)
    threads = [threading.Thread(target=eng.synthesize, args=(f"Câu số {i}.",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] <= 2 and len(google.texts) == 8


def test_probe_is_injectable_and_reaches_the_fake(google, tmp_path):
    voice = VoiceSpec("g", "gtts", {"tld": "com.vn"})
    assert voice_status(voice, tmp_path).ok  # the patched URL: the fake answers the GET
    calls = []
    down = voice_status(voice, tmp_path, probe=lambda url, t: (calls.append((url, t)) or (False, "offline")))
    assert not down.ok and "offline" in down.detail and calls[0][1] == 3.0


def test_params_are_checked(tmp_path):
    with pytest.raises(TTSError) as e:
        make_engine("gtts", {"tld": "com vn", "retries": -1, "max_concurrency": "4"}, tmp_path)
    for word in ("tld", "retries", "max_concurrency"):
        assert word in e.value.message


# --- answers are checked: whole, decodable, as long as the sentence can be ------------------


@pytest.fixture(scope="module")
def truncated() -> bytes:
    whole = sine_mp3(3)
    return whole[: len(whole) * 3 // 5 + 7]  # cut off mid-frame, as a dropped download is


@pytest.fixture(scope="module")
def ten_minutes() -> bytes:
    return sine_mp3(600)


def test_a_truncated_answer_is_retried(google, tmp_path, truncated):
    google.answers = [truncated]
    eng = make_engine("gtts", dict(FAST, retries=2), tmp_path)
    clip = eng.synthesize(SENTENCE)
    assert 0.9 < clip.duration < 1.2 and eng.retries == 1 and len(google.texts) == 2


@pytest.mark.parametrize("answer", ["truncated", "ten_minutes", "garbage"])
def test_a_bad_answer_fails_the_sentence_and_caches_nothing(google, tmp_path, answer, request):
    bad = b"<html>captcha</html>" * 50 if answer == "garbage" else request.getfixturevalue(answer)
    google.answers = [bad] * 10
    cache = ClipCache(tmp_path / "clips")
    voice = VoiceSpec("google", "gtts", dict(FAST, retries=2))
    r = synthesize_all([(voice, SENTENCE)], cache, tmp_path)
    assert not r.ok and ("google", SENTENCE) not in r and cache.stats() == (0, 0)
    assert len(google.texts) == 3 and r.stats.retries == 2
    message = r.failures[0].message
    assert "người lạ" in message and "3" in message
    expected = {"truncated": "cắt cụt", "ten_minutes": "quá dài", "garbage": "cắt cụt"}[answer]
    assert expected in message, message


def test_a_too_short_answer_is_refused(google, tmp_path, mp3):
    eng = make_engine("gtts", dict(FAST, retries=0), tmp_path)
    google.answers = [mp3]  # one second cannot be 30 words
    with pytest.raises(TTSError, match="quá ngắn"):
        eng.synthesize(" ".join(["ba"] * 30) + ".")


def test_plausible_length_bounds():
    from broadcast.tts.base import implausible_length

    assert implausible_length(SENTENCE, 2.5) is None
    assert implausible_length(SENTENCE, 0.3) and implausible_length(SENTENCE, 600)
    assert implausible_length(SENTENCE, 20, slow=True) is None
    assert implausible_length("Gọi 113.", 1.5) is None


def test_a_commune_whose_online_voice_answers_badly_fails_alone(google, project, truncated):
    import json

    from conftest import run

    google.audio = truncated  # every answer cut off
    root = project({"voices/google.yaml": "id: google\nengine: gtts\n"
                                          "params: {retries: 1, backoff: 0.001, backoff_max: 0.01}\n",
                    "locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\nvoice: google\n"})
    result = run("build", "--week", "2026-W49", "--jobs", "1", "--project", str(root))
    assert result.exit_code == 1, result.output
    assert "lang-son/xa-huu-lung" in result.output and "cắt cụt" in result.output
    week = root / "output" / "2026-W49"
    assert (week / "lang-son" / "xa-chi-lang" / "2026-11-30_0600_sang.mp3").is_file()
    assert not (week / "lang-son" / "xa-huu-lung").exists()
    manifest = json.loads((week / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["locales"] == ["lang-son/xa-chi-lang"] and manifest["failures"]


# --- the requests gTTS prepares are sent by us: certificates checked, answers bounded ------------


@pytest.fixture
def google_tls(mp3, monkeypatch, tmp_path):
    """The fake Google over HTTPS, with a certificate from a made-up authority (trustme) that the
    machine does not trust: as a machine in the middle of the connection would present."""
    import ssl

    import gtts.tts
    import trustme

    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    authority = trustme.CA()
    fake = FakeGoogle(mp3)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    fake.server.socket = context.wrap_socket(fake.server.socket, server_side=True)
    monkeypatch.setattr(gtts.tts, "_translate_url", lambda tld="com", path="": f"https://127.0.0.1:{fake.port}/{path}")
    bundle = tmp_path / "authority.pem"
    authority.cert_pem.write_to_path(str(bundle))
    yield fake, bundle
    fake.close()


def test_a_certificate_nobody_vouches_for_is_not_believed(google_tls, tmp_path, monkeypatch):
    """gTTS sends with `verify=False`: anyone between the commune and Google could have answered with
    their own audio, and it would have aired. Now no sentence is sent past a certificate the machine
    does not trust; once it does (the same server), the sentence is read."""
    fake, bundle = google_tls
    eng = make_engine("gtts", dict(FAST, retries=1), tmp_path)
    with pytest.raises(TTSError) as e:
        eng.synthesize(SENTENCE)
    assert "connection failed" in e.value.message and fake.texts == []  # nothing was ever sent
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    clip = make_engine("gtts", FAST, tmp_path).synthesize(SENTENCE)
    assert 0.9 < clip.duration < 1.2 and fake.texts == [SENTENCE]


class _Dribble(BaseHTTPRequestHandler):
    """An answer that never ends: a byte of a jQ1olc line every 20 ms (`endless`), or as fast as it
    can (`flood`)."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()
        try:
            self.wfile.write(b')]}\'\n\n[["wrb.fr","jQ1olc","[\\"')
            while True:
                if self.path.endswith("flood"):
                    self.wfile.write(b"A" * 65536)
                else:
                    self.wfile.write(b"A")
                    self.wfile.flush()
                    threading.Event().wait(0.02)
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("how", ["endless", "flood"])
def test_an_answer_that_never_ends_costs_one_timeout_and_bounded_memory(tmp_path, monkeypatch, how):
    """gTTS read an answer with a timeout per read only: a server sending a byte at a time held the
    build for ever, and one sending without end was read until memory ran out."""
    import time
    import tracemalloc

    import gtts.tts

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Dribble)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    monkeypatch.setattr(gtts.tts, "_translate_url",
                        lambda tld="com", path="": f"http://127.0.0.1:{server.server_address[1]}/{how}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    eng = make_engine("gtts", dict(FAST, retries=0, timeout=1.0), tmp_path)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(TTSError) as e:
            eng.synthesize(SENTENCE)
        took, (_, peak) = time.monotonic() - started, tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        server.shutdown()
        server.server_close()
    assert took < 10, took
    assert peak < 100_000_000, peak
    assert ("quá chậm" if how == "endless" else "lớn quá") in e.value.message
