"""`espeak` — the offline default: espeak-ng's Vietnamese voices, in-process through ctypes.

The library and its data come from the `espeakng-loader` wheel (no apt step). We call
libespeak-ng directly with ``AUDIO_OUTPUT_SYNCHRONOUS`` and a synth callback that
collects the 16-bit samples, which avoids espeak's stdout WAV (whose header carries
bogus lengths) and a process spawn per sentence (see espeak_helper.py for the binding).

libespeak-ng's state carries from one sentence to the next, so every sentence is spoken by a
forked child of a library that has never spoken, and the audio does not depend on `--jobs` or on
the order of work. The forking is done by a small helper process per speaking process, which
holds only the library (espeak_helper.py): a fork from it costs ~1 ms, where a fork of a build
worker holding numpy, SciPy and FFmpeg cost ~14 ms per sentence. Without `os.fork` (Windows)
the sentence is spoken in this process: the same audio, give or take a few samples.

Each call sets voice and parameters afresh, so several `EspeakEngine` objects with different
voices share the helpers. The build speaks in threads (``POOL = "thread"``), each with a helper
of its own: parallel without a pool of worker processes to start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from broadcast.pcm import Clip

from .base import (
    Availability,
    Engine,
    EngineUnavailable,
    Param,
    TTSError,
    bilingual,
    sentence_label,
)
from .espeak_helper import Library, SpeakError, read_message, write_message

# espeak_PARAMETER
espeakRATE, espeakVOLUME, espeakPITCH, espeakRANGE, espeakWORDGAP = 1, 2, 3, 4, 7

VIETNAMESE_VOICES = ("vi", "vi-vn-x-central", "vi-vn-x-south")

_LOCK = threading.Lock()  # guards the list of idle helpers and the making of the in-process library


def _library_paths() -> tuple[str, str]:
    """The wheel's shared library, and the folder that contains its espeak-ng-data."""
    import espeakng_loader

    return espeakng_loader.get_library_path(), str(Path(espeakng_loader.get_data_path()).parent)


class _Helper:
    """The helper process (espeak_helper.py) of this process, started on first use."""

    def __init__(self) -> None:
        library, data = _library_paths()
        self.pid = os.getpid()
        # the helper dies with the thread that started it (Linux's parent-death signal is per thread)
        self.starter = threading.current_thread()
        # -S: no site packages, the standard library only; the binding file is run by its path
        self.process = subprocess.Popen([sys.executable, "-S", str(Path(__file__).with_name("espeak_helper.py")),
                                         library, data], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests, self.answers = self.process.stdin, self.process.stdout
        hello = read_message(self.answers)
        greeting: dict[str, Any] = json.loads(hello) if hello else {"error": ["crashed", "helper did not start"]}
        if "error" in greeting:
            self.close()
            raise SpeakError(*greeting["error"])
        self.rate: int = greeting["rate"]
        self.version: str = greeting["version"]

    def alive(self) -> bool:
        """Usable: of this process, running, and its starting thread not ended (its helper is being
        killed then, and poll() may not know yet: a build's next round took such a helper, then
        another, and a commune failed on 'the helper stopped abruptly')."""
        if self.pid != os.getpid() or self.process.poll() is not None:
            return False
        if not self.starter.is_alive():
            self.close()
            return False
        return True

    def speak(self, voice: str, settings: Mapping[int, int], text: str) -> bytes:
        try:
            write_message(self.requests, json.dumps({"voice": voice, "settings": dict(settings), "text": text},
                                                    ensure_ascii=False).encode("utf-8"))
            answer = read_message(self.answers)
        except OSError as e:  # the helper died (killed, or the thread that started it ended)
            raise SpeakError("crashed", str(e)) from e
        if answer is None:
            raise SpeakError("crashed", "")
        if answer[0] != 0:
            raise SpeakError(*json.loads(answer[1:]))
        return answer[1:]

    def close(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe:
                pipe.close()
        self.process.wait()


class _InProcess:
    """The library in this process: where there is no `os.fork` (each sentence runs on from the
    last one's state), or forking from here when the helper cannot be started. One per process,
    used under its lock (the library's state is global and not thread-safe)."""

    def __init__(self) -> None:
        self.library = Library(*_library_paths())
        self.rate, self.version = self.library.rate, self.library.version
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return True

    def speak(self, voice: str, settings: Mapping[int, int], text: str) -> bytes:
        with self.lock:
            if hasattr(os, "fork"):
                return self.library.speak_fresh(voice, settings, text)
            return self.library.speak(voice, settings, text)


_in_process: _InProcess | None = None
_idle: list[_Helper] = []  # helpers of this process not speaking now: one per thread that speaks at once


def _take() -> _Helper | _InProcess:
    """A speaker for one sentence: an idle helper, a new one, or (no `os.fork`) the library here."""
    global _in_process
    if hasattr(os, "fork"):
        with _LOCK:
            while _idle:
                helper = _idle.pop()
                if helper.alive():
                    return helper
        try:
            return _Helper()
        except OSError:  # no interpreter to start (an embedded Python): fork from here
            pass
    with _LOCK:
        if _in_process is None:
            _in_process = _InProcess()
        return _in_process


def _give_back(speaker: _Helper | _InProcess) -> None:
    if isinstance(speaker, _Helper) and speaker.alive():
        with _LOCK:
            _idle.append(speaker)


def _speak(voice: str, settings: Mapping[int, int], text: str) -> tuple[bytes, int]:
    """(16-bit mono PCM, rate) of `text`, from a library in its first state. Threads speak at
    once, each through a helper of its own; a helper that died is replaced once."""
    speaker = _take()
    try:
        try:
            return speaker.speak(voice, settings, text), speaker.rate
        except SpeakError as e:
            if e.code != "crashed" or speaker.alive():
                raise
        speaker = _take()  # the helper died under us: once more with another
        return speaker.speak(voice, settings, text), speaker.rate
    finally:
        _give_back(speaker)


def _version_and_rate() -> tuple[str, int]:
    speaker = _take()
    try:
        return speaker.version, speaker.rate
    finally:
        _give_back(speaker)


def _as_error(e: SpeakError | OSError) -> TTSError:
    """A speaker's failure, worded for people."""
    if isinstance(e, OSError) or e.code == "load":
        return EngineUnavailable(_unavailable_message(str(e) if isinstance(e, OSError) else e.detail))
    if e.code == "init":
        return EngineUnavailable(bilingual(
            f"không khởi động được espeak-ng với dữ liệu tại {e.detail}",
            f"espeak-ng failed to initialise with data at {e.detail}; "
            "reinstall: pip install --force-reinstall espeakng-loader"))
    if e.code == "voice":
        return TTSError(bilingual(f"espeak-ng không có giọng '{e.detail}'", f"espeak-ng has no voice '{e.detail}'"))
    if e.code == "synth":
        return TTSError(bilingual(f"espeak-ng báo lỗi {e.detail}", f"espeak-ng returned error {e.detail}"))
    detail = e.detail or "tiến trình con dừng đột ngột"
    return TTSError(bilingual(f"espeak-ng không đọc được câu: {detail}", "espeak-ng failed on the sentence"))


@lru_cache(maxsize=1)
def known_voices() -> frozenset[str]:
    """Lower-cased espeak voice names found in the wheel's data (empty if the wheel is missing)."""
    try:
        import espeakng_loader

        lang = Path(espeakng_loader.get_data_path()) / "lang"
    except Exception:
        return frozenset()
    return frozenset(p.name.lower() for p in lang.rglob("*") if p.is_file())


@lru_cache(maxsize=1)
def known_variants() -> frozenset[str]:
    try:
        import espeakng_loader

        folder = Path(espeakng_loader.get_data_path()) / "voices" / "!v"
    except Exception:
        return frozenset()
    return frozenset(p.name for p in folder.iterdir() if p.is_file())


def _check_voice(value: str) -> str | None:
    voices = known_voices()
    if voices and value.lower() not in voices:
        return bilingual(
            f"espeak-ng không có giọng '{value}'; giọng tiếng Việt: {', '.join(VIETNAMESE_VOICES)}",
            f"espeak-ng has no voice '{value}'; Vietnamese voices: {', '.join(VIETNAMESE_VOICES)}",
        )
    return None


def _check_variant(value: str) -> str | None:
    variants = known_variants()
    if value and variants and value not in variants:
        sample = ", ".join(v for v in sorted(variants) if v[:1] in "fm" and v[1:].isdigit())
        return bilingual(
            f"espeak-ng không có biến thể giọng '{value}' (ví dụ: {sample})",
            f"espeak-ng has no voice variant '{value}' (e.g. {sample})",
        )
    return None


# syllables per second = RATE_SLOPE x espeak rate + RATE_INTERCEPT, a least-squares line over five rates
# measured on three sentences of a warning (benchmarks/bench_voices.py)
RATE_SLOPE = 0.0259
RATE_INTERCEPT = -0.286


class EspeakEngine(Engine):
    NAME = "espeak"
    # threads, each driving a helper process of its own that forks the speaking children: the
    # work is in the helpers, so no worker pool (and its start-up) is needed
    POOL = "thread"
    PARAMS = (
        Param("voice", str, "vi", "giọng espeak-ng: vi (Bắc), vi-vn-x-central (Trung), vi-vn-x-south (Nam)",
              check=_check_voice),
        Param("variant", str, "", "biến thể giọng espeak-ng, ví dụ f3 (nữ), m3 (nam)", check=_check_variant),
        Param("rate", int, 150, "tốc độ espeak-ng (không phải từ/phút tiếng Việt: 140 ≈ 3,3 âm tiết/giây)",
              low=80, high=450),
        Param("syllables_per_second", (float, type(None)), None,
              "tốc độ đọc, âm tiết mỗi giây (thay cho rate; loa ngoài trời: 3,0-3,5 sau tempo của preset)",
              low=1.5, high=8.0),
        Param("pitch", int, 50, "độ cao giọng 0-100", low=0, high=100),
        Param("range", int, 50, "biên độ ngữ điệu 0-100", low=0, high=100),
        Param("volume", int, 100, "âm lượng 0-200", low=0, high=200),
        Param("word_gap", int, 0, "khoảng nghỉ thêm giữa các từ, đơn vị 10 ms", low=0, high=100),
    )

    @property
    def max_concurrency(self) -> int:
        """Sentences spoken at once: one per core (the build caps it at --jobs)."""
        return os.cpu_count() or 1

    def espeak_rate(self) -> int:
        """espeak-ng's rate for the profile: `syllables_per_second` mapped by the line measured on
        Vietnamese text (benchmarks/RESULTS-voices.md: rate 100 -> 2.32, 140 -> 3.34, 180 -> 4.40 syllables/s),
        else `rate` as given."""
        target = self.params["syllables_per_second"]
        if target is None:
            return int(self.params["rate"])
        return max(80, min(450, round((target - RATE_INTERCEPT) / RATE_SLOPE)))

    def _voice_name(self) -> str:
        v = self.params["voice"]
        return f"{v}+{self.params['variant']}" if self.params["variant"] else v

    def synthesize(self, sentence: str) -> Clip:
        settings = {
            espeakRATE: self.espeak_rate(),
            espeakVOLUME: self.params["volume"],
            espeakPITCH: self.params["pitch"],
            espeakRANGE: self.params["range"],
            espeakWORDGAP: self.params["word_gap"],
        }
        try:
            pcm, rate = _speak(self._voice_name(), settings, sentence)
        except (SpeakError, OSError) as e:
            error = _as_error(e)
            if isinstance(error, EngineUnavailable):
                raise error from e
            raise TTSError(f"{error.message}: {sentence_label(sentence)}") from e
        if not pcm:
            raise TTSError(
                bilingual(
                    f"espeak-ng không tạo ra âm thanh cho câu {sentence_label(sentence)}",
                    "espeak-ng produced no audio for this sentence",
                )
            )
        return Clip(pcm, rate)

    def version(self) -> str:
        return espeak_version()

    @classmethod
    def availability(cls, params=None, base_dir=None, probe=None, probe_timeout=3.0) -> Availability:
        return library_status(dict(params or {}).get("voice", "vi"))


@lru_cache(maxsize=1)
def espeak_version() -> str:
    try:
        loader = metadata.version("espeakng-loader")
    except metadata.PackageNotFoundError:
        loader = "?"
    try:
        lib = _version_and_rate()[0]
    except Exception:
        lib = "?"
    return f"espeak-ng {lib} (espeakng-loader {loader})"


def _unavailable_message(detail: str) -> str:
    return bilingual(
        f"không nạp được thư viện espeak-ng: {detail}",
        "cannot load libespeak-ng; install it with: pip install espeakng-loader",
    )


def library_status(voice: str = "vi") -> Availability:
    """Is libespeak-ng loadable and does its data have Vietnamese (and `voice`)?"""
    fix = bilingual(
        "cài lại gói espeakng-loader: pip install --force-reinstall espeakng-loader",
        "reinstall the espeakng-loader wheel",
    )
    try:
        import espeakng_loader

        data = Path(espeakng_loader.get_data_path())
    except Exception as e:
        return Availability(False, bilingual(f"thiếu espeakng-loader: {e}", "espeakng-loader missing"), fix)
    if not (data / "vi_dict").is_file():
        return Availability(
            False, bilingual(f"thiếu dữ liệu tiếng Việt {data / 'vi_dict'}", "Vietnamese data missing"), fix
        )
    problem = _check_voice(voice)
    if problem:
        return Availability(False, problem, bilingual("sửa tham số voice trong hồ sơ giọng", "fix the profile's voice"))
    try:
        version, rate = _version_and_rate()
    except (OSError, SpeakError) as e:
        return Availability(False, _as_error(e).message, fix)
    return Availability(True, f"espeak-ng {version}, giọng {voice}, {rate} Hz")
