"""Voice profiles as this stage sees them, and the checks lint and `broadcast doctor` run.

Profiles are loaded elsewhere (voices/*.yaml -> `broadcast.model.Voice`); here any object
with ``id``, ``engine``, ``params`` and ``fallback`` attributes will do (`VoiceLike`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from broadcast.ffmpeg import FFMPEG_FIX, ffmpeg_status

from .base import Availability, TTSError, bilingual
from .cache import ClipCache
from .registry import engine_class


@runtime_checkable
class VoiceLike(Protocol):
    """What synthesis needs of a voice profile (read-only: `model.Voice` is frozen)."""

    @property
    def id(self) -> str: ...
    @property
    def engine(self) -> str: ...
    @property
    def params(self) -> Mapping[str, Any]: ...
    @property
    def fallback(self) -> str | None: ...


@dataclass(frozen=True)
class VoiceSpec:
    """A minimal `VoiceLike` (for tests, `broadcast say --engine`, and callers without a model)."""

    id: str
    engine: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    fallback: str | None = None


@dataclass(frozen=True)
class Check:
    """One line of `broadcast doctor`."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # not ok, but not a failure of doctor: an optional online voice with a working fallback


def voice_files(voices: Iterable[VoiceLike], base_dir: Path) -> list[Path]:
    """Every file or folder outside the project's text that shapes how these voices sound."""
    found: list[Path] = []
    for voice in voices:
        try:
            found += engine_class(voice.engine).files(voice.params, base_dir)
        except (KeyError, TTSError):  # an unknown engine: the project's check names it
            continue
    return found


def check_profile(engine: str, params: Mapping[str, Any] | None) -> list[str]:
    """Problems with a profile's engine name and params (unknown names, wrong types, ranges).

    Messages are Vietnamese with English in parentheses; empty list = fine. Never touches
    the engine's library, model or network.
    """
    if not isinstance(params, Mapping) and params is not None:
        return [bilingual("'params' phải là một bảng tên: giá trị", "'params' must be a mapping")]
    try:
        cls = engine_class(engine)
    except TTSError as e:
        return [e.message]
    return cls.param_problems(params)


def voice_status(
    profile: VoiceLike,
    base_dir: Path,
    probe_timeout: float = 3.0,
    probe: Callable[[str, float], tuple[bool, str]] | None = None,
) -> Availability:
    """Can this voice speak here? Library importable, model present, online service
    reachable (a `probe_timeout`-second probe; pass `probe(url, timeout) -> (ok, detail)`
    to replace the HTTP probe)."""
    problems = check_profile(profile.engine, profile.params)
    if problems:
        return Availability(
            False, "; ".join(problems),
            bilingual(f"sửa hồ sơ giọng '{profile.id}'", f"fix voice profile '{profile.id}'"),
        )
    cls = engine_class(profile.engine)
    return cls.availability(dict(profile.params or {}), Path(base_dir), probe=probe, probe_timeout=probe_timeout)


def doctor(
    base_dir: Path,
    cache_dir: Path,
    profiles: Iterable[VoiceLike],
    probe_timeout: float = 3.0,
    probe: Callable[[str, float], tuple[bool, str]] | None = None,
    used: set[str] | None = None,
) -> list[Check]:
    """Everything this stage needs, checked: ffmpeg, espeak-ng and its Vietnamese data,
    each voice profile the project uses (`used`; all when None), and a writable cache folder.
    Failing checks say how to fix them. Online voices are probed with a short timeout, and one
    that cannot be reached while its fallback works is a warning, not a failure."""
    from .espeak import VIETNAMESE_VOICES, library_status

    checks: list[Check] = []

    def add(name: str, status: Availability) -> None:
        checks.append(Check(name, status.ok, status.detail, "" if status.ok else status.fix))

    add("ffmpeg (imageio-ffmpeg)", Availability(*ffmpeg_status(), FFMPEG_FIX))
    add("espeak-ng", library_status("vi"))
    for v in VIETNAMESE_VOICES[1:]:
        add(f"espeak-ng giọng {v}", library_status(v))

    profiles = list(profiles)
    ids = {p.id for p in profiles}
    offline_ok: dict[str, bool] = {}
    for p in sorted(profiles, key=lambda p: _online(p.engine)):  # offline voices first: fallbacks are known
        online = _online(p.engine)
        label = f"giọng {p.id} ({p.engine}{', kiểm tra qua mạng' if online else ''})"
        if used is not None and p.id not in used:
            add(label, Availability(True, bilingual("dự án không dùng giọng này; không kiểm tra",
                                                    "not used by the project: not checked")))
            continue
        status = voice_status(p, base_dir, probe_timeout=probe_timeout, probe=probe)
        offline_ok[p.id] = status.ok
        detail = status.detail
        if online and not status.ok and p.fallback and offline_ok.get(p.fallback):
            checks.append(Check(label, False, detail + bilingual(f" — sẽ dùng giọng dự phòng '{p.fallback}'",
                                                                  f"fallback '{p.fallback}' will be used"),
                                status.fix, warning=True))
            continue
        if p.fallback:
            if p.fallback not in ids:
                status = Availability(
                    False,
                    bilingual(f"giọng dự phòng '{p.fallback}' không tồn tại",
                              f"fallback voice '{p.fallback}' not found"),
                    bilingual(f"sửa 'fallback' trong hồ sơ '{p.id}'", "fix 'fallback' in the profile"),
                )
                detail = status.detail
            elif not status.ok:
                detail += bilingual(
                    f" — sẽ dùng giọng dự phòng '{p.fallback}'", f"fallback '{p.fallback}' will be used"
                )
        add(label, Availability(status.ok, detail, status.fix))

    ok, detail = ClipCache(cache_dir).writable()
    checks.append(
        Check(
            "cache",
            ok,
            detail,
            "" if ok else bilingual(
                f"cấp quyền ghi cho thư mục {cache_dir} hoặc chọn thư mục cache khác",
                "make the cache folder writable or choose another one",
            ),
        )
    )
    return checks


def unusable_recordings(profile: VoiceLike, sentences: Iterable[str], base_dir: Path) -> list[str]:
    """For lint: why recordings a `recorded` voice has for these sentences cannot be aired."""
    if profile.engine != "recorded":
        return []
    from .recorded import RecordedEngine

    return RecordedEngine(dict(profile.params or {}), Path(base_dir)).unusable(sentences)


def missing_recordings(profile: VoiceLike, sentences: Iterable[str], base_dir: Path) -> list[str]:
    """For lint: the sentences a `recorded` voice has no recording for (empty for other
    engines, which can speak anything). Raises `TTSError` if the recordings folder is missing."""
    if profile.engine != "recorded":
        return []
    from .recorded import RecordedEngine

    return RecordedEngine(dict(profile.params or {}), Path(base_dir)).missing(sentences)


def _online(engine: str) -> bool:
    from .registry import ENGINES

    cls = ENGINES.get(engine)
    return bool(cls and cls.ONLINE)


@dataclass(frozen=True)
class EngineReport:
    """One line of `broadcast voices`' engine list: what an engine is and whether it could run here."""

    name: str
    online: bool
    ready: bool
    state: str
    voices: tuple[tuple[str, str], ...] = ()


def engine_reports(base_dir: Path) -> list[EngineReport]:
    """Every registered engine and its state, without any network traffic (keys and packages only)."""
    from .online import OnlineEngine, find_key
    from .registry import ENGINES

    out = []
    for name, cls in ENGINES.items():
        voices: tuple[tuple[str, str], ...] = getattr(cls, "VOICES", ())
        if issubclass(cls, OnlineEngine):
            if cls.NEEDS_KEY and not find_key(cls.NAME, cls.key_env(), base_dir):
                ready, state = False, bilingual(f"trực tuyến, chưa có khóa ({cls.key_env()})", "online, no key")
            else:
                ready, state = True, bilingual("trực tuyến, cần Internet", "online, needs the Internet")
        else:
            status = cls.availability(None, base_dir) if name in ("espeak",) else None
            ready = status.ok if status else True
            state = status.detail if status else bilingual("ngoại tuyến", "offline")
        out.append(EngineReport(name, bool(cls.ONLINE), ready, state, voices))
    return out
