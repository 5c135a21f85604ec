"""`espeak` — the offline default: espeak-ng's Vietnamese voices, in-process through ctypes.

The library and its data come from the `espeakng-loader` wheel (no apt step). We call
libespeak-ng directly with ``AUDIO_OUTPUT_SYNCHRONOUS`` and a synth callback that
collects the 16-bit samples, which avoids espeak's stdout WAV (whose header carries
bogus lengths) and a process spawn per sentence.

libespeak-ng keeps global state and is not thread-safe, so everything it does in
this process goes through one lock, and each call sets voice and parameters afresh
(several `EspeakEngine` objects with different voices can then share the process).
Parallelism comes from worker processes (``POOL = "process"``), one library each.

That state also carries from one sentence to the next (the pitch flutter and the glottal
pulse's phase run on): the same sentence comes out a few samples different depending on what
the process said before, so a build would depend on `--jobs` and on the order of work. Each
sentence is therefore spoken in a forked child of a process whose library has never spoken:
every sentence starts from the same state. The fork costs 5-10 ms in a worker that has the
audio libraries loaded (Lạng Sơn: synthesis 3.4 s -> 7.8 s), the price of a build that does
not depend on how the work was split.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from broadcast.pcm import Clip

from ..workers import kill_with_parent
from .base import (
    Availability,
    Engine,
    EngineUnavailable,
    Param,
    TTSError,
    bilingual,
    sentence_label,
)

# espeak_AUDIO_OUTPUT
AUDIO_OUTPUT_SYNCHRONOUS = 2
# espeak_PARAMETER
espeakRATE, espeakVOLUME, espeakPITCH, espeakRANGE, espeakWORDGAP = 1, 2, 3, 4, 7
# flags
espeakCHARS_UTF8 = 1
espeakINITIALIZE_DONT_EXIT = 0x8000
POS_CHARACTER = 1
EE_OK = 0

VIETNAMESE_VOICES = ("vi", "vi-vn-x-central", "vi-vn-x-south")

_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

_LOCK = threading.Lock()  # guards the library: global C state, not thread-safe


class _Library:
    """The loaded libespeak-ng of this process (created once, under _LOCK)."""

    def __init__(self) -> None:
        import espeakng_loader

        data = Path(espeakng_loader.get_data_path())
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]

        # path = the folder that *contains* espeak-ng-data
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data.parent).encode(), espeakINITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise EngineUnavailable(
                bilingual(
                    f"không khởi động được espeak-ng với dữ liệu tại {data}",
                    f"espeak-ng failed to initialise with data at {data}; "
                    "reinstall: pip install --force-reinstall espeakng-loader",
                )
            )
        self.lib = lib
        self.rate = rate
        self.version = (lib.espeak_Info(None) or b"?").decode()
        self._chunks: list[bytes] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # keep a reference: C holds the pointer
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, numsamples, events) -> int:
        if numsamples > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        return 0  # 0 = continue

    def synthesize_pcm(self, voice: str, settings: Mapping[int, int], text: str) -> bytes:
        """Caller holds _LOCK. Speaks in a forked child, so this process's library stays unspoken."""
        if not hasattr(os, "fork"):  # not on Linux/macOS: same audio, give or take a few samples
            return self._speak_here(voice, settings, text)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: speak, hand the samples (or the error) over, and leave at once
            status, data = 0, b""
            try:
                kill_with_parent()  # a killed build leaves no child behind
                os.close(read_end)
                data = self._speak_here(voice, settings, text)
            except TTSError as e:
                status, data = 1, e.message.encode("utf-8")
            except BaseException as e:
                status, data = 2, repr(e).encode("utf-8")
            finally:
                try:
                    with os.fdopen(write_end, "wb") as pipe:
                        pipe.write(bytes([status]) + data)
                finally:  # even on a broken pipe (the parent died): never run on as a copy of it
                    os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            blob = pipe.read()
        os.waitpid(pid, 0)
        if not blob or blob[0] != 0:
            detail = blob[1:].decode("utf-8", "replace") if blob else "tiến trình con dừng đột ngột"
            raise TTSError(bilingual(f"espeak-ng không đọc được câu: {detail}", "espeak-ng failed on the sentence"))
        return blob[1:]

    def _speak_here(self, voice: str, settings: Mapping[int, int], text: str) -> bytes:
        lib = self.lib
        if lib.espeak_SetVoiceByName(voice.encode()) != EE_OK:
            raise TTSError(
                bilingual(f"espeak-ng không có giọng '{voice}'", f"espeak-ng has no voice '{voice}'")
            )
        for param, value in settings.items():
            lib.espeak_SetParameter(param, int(value), 0)
        data = text.encode("utf-8") + b"\0"
        self._chunks = []
        err = lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, espeakCHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        if err != EE_OK:
            raise TTSError(bilingual(f"espeak-ng báo lỗi {err}", f"espeak-ng returned error {err}"))
        out, self._chunks = b"".join(self._chunks), []
        return out


_library: _Library | None = None


def _get_library() -> _Library:
    """Caller holds _LOCK. One library per process, loaded on first use."""
    global _library
    if _library is None:
        _library = _Library()
    return _library


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
    POOL = "process"
    # ~300 sentences/s per core in-process; a worker pool only pays off for bigger batches
    # (measured with benchmarks/bench_tts.py on 2 cores: break-even near 50 sentences)
    POOL_MIN_TASKS = 64
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
            with _LOCK:
                lib = _get_library()
                pcm = lib.synthesize_pcm(self._voice_name(), settings, sentence)
                rate = lib.rate
        except OSError as e:  # the shared library would not load
            raise EngineUnavailable(_unavailable_message(str(e))) from e
        except TTSError as e:
            raise TTSError(f"{e.message}: {sentence_label(sentence)}") from e
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


def espeak_version() -> str:
    try:
        loader = metadata.version("espeakng-loader")
    except metadata.PackageNotFoundError:
        loader = "?"
    try:
        with _LOCK:
            lib = _get_library().version
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
        with _LOCK:
            lib = _get_library()
    except (OSError, TTSError) as e:
        return Availability(False, _unavailable_message(str(e)), fix)
    return Availability(True, f"espeak-ng {lib.version}, giọng {voice}, {lib.rate} Hz")
