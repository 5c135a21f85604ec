"""The application layer: every operation the CLI and the studio offer, as plain calls that
return plain data. Nothing here prints, draws a bar or knows about click or a web request
(Datasette's application object is the model: the command line and the web call the same
object the same way).

    workspace = open_workspace(Path("."))
    problems = workspace.lint(week).problems
    text = workspace.render("khi-bi-de-doa", "xa-chi-lang", week, spoken=True)
    workspace.preview("khi-bi-de-doa", "xa-chi-lang", week, Path("nghe-thu.mp3"))
    result = workspace.build(week, listener=print)

Errors are `errors.BroadcastError`s carrying the Vietnamese message, file, line, fix and exit
code; each front end converts them once.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from . import asrun, textfiles
from . import lint as lint_stage
from . import locales as locale_catalogue
from .audio import AudioFile, MessageAudio, Tags, master_message
from .build import BuildResult, build, clip_folder
from .bundle import Bundle, Verification, remove_earlier, verify_folder, write_bundles
from .emergency import EmergencyResult, later_weeks_lacking, publish_emergency
from .errors import (
    WRITE_REFUSALS,
    BroadcastError,
    BuildLocked,
    ContentError,
    EngineUnavailable,
    EnvironmentProblem,
    Problem,
    UsageError,
    machine_refusal,
)
from .events import Event, Listener, ignore
from .formats.liquidsoap import upgrade_aired_notes
from .lint import LintResult, check_scripts
from .locales import ImportReport
from .manifest import published as published_entries
from .master import (
    SegmentStore,
    join_message,
    make_segments,
    plan_message,
    segment_folder,
)
from .messages import (
    clip_requests,
    held_for_approval,
    reminder_speech,
    said,
    scripts_airing,
    speak_messages,
    spoken_clips,
)
from .model import Locale, Project, Script, Week
from .plan import Durations, WeekPlan, estimate_seconds, plan_week
from .project import (
    SLUG,
    LoadProblems,
    find_root,
    input_snapshot,
    load_project,
    read_project,
    read_script_text,
    read_settings,
)
from .publish import STAGING, STAMPS, WEEK_FOLDER_RE, Lock, published_weeks, remove_spares, remove_weeks
from .render import render
from .speech import Lexicon, normalize, speak
from .starter import create_project
from .tts import (
    Check,
    ClipCache,
    SynthesisResult,
    clip_key,
    doctor,
    make_engine,
    synthesize_all,
    voice_status,
)
from .tts.base import Availability
from .tts.recorded import EXTENSIONS as RECORDING_EXTENSIONS
from .tts.recorded import INDEX_FILE as RECORDING_INDEX
from .tts.recorded import index_without as recording_index_without
from .tts.recorded import read_recording, recording_name
from .tts.voices import EngineReport, engine_reports, missing_recordings
from .workers import interrupted, stop_on_sigterm

__all__ = [
    "BroadcastError", "BuildResult", "CacheStats", "CleanResult", "Event", "ImportReport", "LintResult", "Listener",
    "Problem",
    "PruneResult", "AudioFile", "VoiceReport", "Week", "WeekPlan", "Workspace", "init_project", "normalize_text",
    "interrupted", "open_workspace", "stop_on_sigterm", "serve_studio", "add_studio_user", "studio_users",
    "Bundle", "Verification", "verify_bundle", "prune_station_folder",
]

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
UPLOAD_MAX_BYTES = 50_000_000  # one recording sent through the studio
T = TypeVar("T")


def configure_logging(verbose: bool = False) -> None:
    """Log lines on stderr for a cron run (each stage's start and end, its counts and seconds);
    on a terminal only warnings, unless `verbose` (the terminal has progress bars)."""
    level = logging.INFO if verbose or not sys.stderr.isatty() else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")


def today_in(timezone: str = DEFAULT_TIMEZONE) -> date:
    """Today where the stations are (the project's time zone), whatever the machine's clock zone:
    the one clock every command and the studio read."""
    return datetime.now(ZoneInfo(timezone)).date()


def week_of(text: str | None, timezone: str = DEFAULT_TIMEZONE, weeks_ahead: int = 1) -> Week:
    """The ISO week `text` (2026-W49), or when not given the week `weeks_ahead` of the one on air in
    `timezone` (1: next week, what a build makes; -1: last week, what has aired)."""
    if text:
        return Week.parse(text)
    return Week.containing(today_in(timezone) + timedelta(days=7 * weeks_ahead))


def normalize_text(texts: Iterable[str], lexicon: Lexicon | None = None) -> list[str]:
    """The spoken form of each text, one line each (outside a project: the built-in readings)."""
    return [" ".join(normalize(text, lexicon).split()) for text in texts]


def serve_studio(path: Path | None, host: str, port: int, open_browser: bool,
                 announce: Callable[[str], None] | None = None) -> None:
    """The web studio over the project at `path` until Ctrl-C (imported here: the web framework
    costs nothing to commands that do not use it); `announce` is told its address once it starts."""
    from .studio import serve

    serve(find_root(path or Path.cwd()), host, port, open_browser, announce)


def add_studio_user(path: Path | None, name: str, role: str, password: str) -> None:
    """An account for the studio (needed before it may serve on the network)."""
    from .studio.auth import add_user

    add_user(find_root(path or Path.cwd()), name, role, password)


def remove_studio_user(path: Path | None, name: str) -> list[str]:
    """Remove an account; whoever is logged in with it is logged out. Returns warnings: what the studio
    is left without (any account, any approver)."""
    from .studio.auth import remove_user

    return remove_user(find_root(path or Path.cwd()), name)


def studio_users(path: Path | None) -> list[tuple[str, str]]:
    from . import records

    with records.connect(find_root(path or Path.cwd())) as conn:
        return [(u.name, u.role) for u in records.users(conn)]


def installed_piper_voices() -> list[str]:
    from .tts import piper_voices

    return piper_voices.installed()


def install_piper_voice(name: str, base_url: str | None = None,
                        progress: Callable[[str, int, int], None] | None = None) -> Path:
    """Download a Piper voice into the user's data folder (verified, resumable)."""
    from .tts import piper_voices

    try:
        return piper_voices.install(name, base_url or piper_voices.DEFAULT_BASE_URL, progress)
    except OSError as exc:  # the data folder not writable, a file in its place, the disk full: was a traceback
        raise machine_problem(exc, piper_voices.data_folder(),
                              "không có giọng nào được cài dở (a voice is installed whole or not at all)") from exc


def verify_bundle(folder: Path) -> Verification:
    """A station's copy of a commune's week checked against its SHA256SUMS (no project needed), or a
    published week against its manifest: under the build lock, whose taking first finishes a publish a
    killed command left half done (verify said 'do not air' of a week the next command would have
    completed). Without the lock (a build holds it, a read-only copy), what is there is checked."""
    output = folder.parent
    if WEEK_FOLDER_RE.fullmatch(folder.name) and (output / STAGING).is_dir():
        try:
            with Lock(output):
                return verify_folder(folder)
        except (BuildLocked, OSError):
            pass
    return verify_folder(folder)


def prune_station_folder(verification: Verification) -> tuple[list[str], int]:
    """In a station's folder, delete what earlier bundles left that can no longer air (`bundle.remove_earlier`,
    on Vietnam's today: the station's); (what was removed, bytes freed). Each bundle is unzipped over the
    last, and the folder grew by a week of programs every week."""
    return remove_earlier(verification, today_in(DEFAULT_TIMEZONE))


@dataclass(frozen=True)
class CacheStats:
    clips: int
    clip_bytes: int
    segments: int
    segment_bytes: int
    folder: Path


@dataclass(frozen=True)
class CleanResult:
    removed: list[str]  # weeks removed (or that would be, with dry_run)
    kept: list[str]
    freed_bytes: int  # by the weeks removed
    dry_run: bool
    spare_bytes: int = 0  # the program files the last rebuild kept to write over (publish.SPARE), freed too


@dataclass(frozen=True)
class PruneResult:
    removed: int
    removed_bytes: int
    kept: int
    segments_removed: int


@dataclass(frozen=True)
class VoiceReport:
    id: str
    engine: str
    fallback: str | None
    description: str
    status: Availability


def offline_probe(url: str, timeout: float) -> tuple[bool, str]:
    """The reachability probe under --offline: no traffic, a plain answer."""
    return False, "bỏ qua kiểm tra mạng (--offline)"


def _machine_errors(operation: Callable[..., T]) -> Callable[..., T]:
    """An operation that writes files: what the machine refuses (disk full, a folder not
    writable, a read-only share) becomes an `EnvironmentProblem` (exit 3) naming the path (a write
    error has none: the folder the operation writes in, then)."""
    @functools.wraps(operation)
    def run(*args: Any, **kwargs: Any) -> T:
        try:
            return operation(*args, **kwargs)
        except OSError as exc:
            first = args[0] if args else None
            folder = first.root / "output" if isinstance(first, Workspace) else first if isinstance(first, Path) else ""
            kept = ("không có tệp nào được tạo" if operation.__name__ == "init_project"
                    else "bản đã phát hành trước đó vẫn nguyên vẹn")
            raise machine_problem(exc, folder, kept) from exc
    return run


def machine_problem(exc: OSError, folder: Path | str, kept: str) -> EnvironmentProblem:
    """What the machine refused, in Vietnamese, naming the file (or the `folder` written, when the
    error names none) and what to do; `kept`: what is still as it was."""
    # a copy, link or rename refused by the disk it writes to names its source first: the target is the file
    target = exc.filename2 if exc.errno in WRITE_REFUSALS else None
    where = str(target or exc.filename or folder)
    why, fix = machine_refusal(exc)
    return EnvironmentProblem(f"không ghi được {where or 'tệp'}: {why}", file=where,
                              fix=f"{fix.format(where=where)} rồi chạy lại; {kept}")




@_machine_errors
def init_project(directory: Path) -> list[Path]:
    """A new project with a small working example in `directory` (empty or absent)."""
    return create_project(directory)


def _replace(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: a new file renamed over it, with the old one's permissions, or
    those of any new file (a recording was readable by the studio's account only, and a build run by
    another could not read it; a failed write left its temporary file behind)."""
    textfiles.replace(path, data)


def open_workspace(path: Path | None = None, set_aside: bool = False) -> Workspace:
    """The project at `path` or the nearest folder above it holding broadcast.yaml (`set_aside`: see Workspace)."""
    return Workspace(find_root(path or Path.cwd()), set_aside)


# the files a project can be read without, each mended on its own (the studio's repair page): a script, a
# commune, a province (its communes go with it)
SET_ASIDE = re.compile(r"(?:scripts|locales/[^/\\]+)/[^/\\]+\.ya?ml")


class Workspace:
    """One project folder and every operation on it. The project is read when first needed
    and read again by `reload()` (the studio after an edit).

    `set_aside` (the studio): a script, commune or province file with errors is left out of `project`
    and listed in `broken` with its problems, instead of the whole project being an error: one file a
    hand edit or a merge broke made every page an error, for everyone, until someone with a text editor
    mended it. Errors in any other file (broadcast.yaml, a voice, a schedule) still are."""

    def __init__(self, root: Path, set_aside: bool = False):
        self.root = root
        self.set_aside = set_aside
        self._project: Project | None = None
        self._broken: dict[str, tuple[Problem, ...]] = {}
        self._signature: tuple[tuple[str, int, int], ...] = ()

    @property
    def project(self) -> Project:
        """The loaded project; ContentError (every problem) when it has errors (with `set_aside`: errors
        outside the files it may leave out)."""
        if self._project is None:
            if self.set_aside:
                self._project, self._broken = _without_broken_files(*read_project(self.root))
            else:
                self._project = load_project(self.root)
        return self._project

    @property
    def broken(self) -> dict[str, tuple[Problem, ...]]:
        """With `set_aside`: the files left out of `project` because they have errors (project path: every
        problem of the file, as lint says them)."""
        self.project  # noqa: B018
        return self._broken

    def reload(self) -> None:
        self._project = None

    def refresh(self) -> None:
        """Read the project again if any of its files changed since it was read (the studio calls this
        per request: the CLI, a text editor or git may have changed them). A stat of every file, so
        3,321 commune files cost milliseconds, not a new parse."""
        signature = _files_signature(self.root)
        if signature != self._signature:
            self._project, self._signature = None, signature

    def week(self, text: str | None = None, weeks_ahead: int = 1) -> Week:
        """The week `text` names, or the week `weeks_ahead` of the one on air in the project's time
        zone (next week by default; read even when some other file of the project has errors: they
        are reported by the operation itself)."""
        return week_of(text, self.timezone(), weeks_ahead)

    def week_to_bundle(self, text: str | None = None) -> Week:
        """The week `text` names; when none, next week if it is published (Friday's build), else the
        week on air if it is (a Monday before next week is built: the station still needs this one)."""
        if text:
            return Week.parse(text)
        published = set(published_weeks(self.root / "output"))
        on_air = self.week(None, 0)
        coming = self.week(None)
        return on_air if coming.id not in published and on_air.id in published else coming

    def timezone(self) -> str:
        """The project's time zone, from broadcast.yaml alone (not every commune), even when another file
        has errors (the studio asked for the whole project at every time it showed: 200 log rows of a
        project with one error read it 200 times)."""
        settings = self._project.settings if self._project else read_settings(self.root)
        return settings.timezone if settings else DEFAULT_TIMEZONE

    # --- choosing ---------------------------------------------------------------------------

    def script(self, script_id: str) -> Script:
        return _known(self.project.script(script_id), "kịch bản", script_id, "SCRIPT",
                      (s.id for s in self.project.scripts))

    def locale(self, locale_id: str) -> Locale:
        return _known(self.project.locale(locale_id), "xã", locale_id, "--locale",
                      (loc.id for loc in self.project.locales))

    def locales(self, locale_ids: Iterable[str] = (), provinces: Iterable[str] = ()) -> list[Locale]:
        """The communes named (by id or by province); all of them when none is named."""
        locale_ids, provinces = list(locale_ids), list(provinces)
        if not locale_ids and not provinces:
            return list(self.project.locales)
        chosen = {loc.id: loc for loc in map(self.locale, locale_ids)}
        known = {loc.province.id for loc in self.project.locales}
        for province in provinces:
            if province not in known:
                # a province whose file has errors is not a province of the project read: say why
                cause = [p for p in read_project(self.root)[1].errors if p.file.startswith(f"locales/{province}/")]
                if cause:
                    raise ContentError(cause)
                raise UsageError(f"không có tỉnh '{province}' (unknown province)", field="--province",
                                 fix=f"dùng một trong: {', '.join(sorted(known))}")
            chosen.update({loc.id: loc for loc in self.project.locales if loc.province.id == province})
        return sorted(chosen.values(), key=lambda loc: loc.id)

    def voice(self, voice_id: str) -> str:
        voices = [v.id for v in self.project.voices]
        return _known(voice_id if voice_id in voices else None, "giọng", voice_id, "--voice", voices)

    # --- checking and reading ---------------------------------------------------------------

    def lint(self, week: Week) -> LintResult:
        """Every problem of every file, and of every script rendered for every commune."""
        return lint_stage.lint(self.root, week)

    def render(self, script_id: str, locale_id: str, week: Week, spoken: bool = False,
               voice_id: str | None = None) -> str:
        """The text of a script for one commune; with `spoken`, exactly as the voice will read it (the
        voice that reads it there, or `voice_id`: each voice is given its own readings)."""
        script, locale = self.script(script_id), self.locale(locale_id)
        text = render(script, locale, week)  # a RenderError is a ContentError: file, line, fix
        if not spoken:
            return text
        voice = self.voice(voice_id) if voice_id else self.project.voice_for(script, locale)
        return normalize(text, self.project.readings(locale.lexicon, voice))

    def lexicon(self, locale: Locale | None = None) -> Lexicon:
        return locale.lexicon if locale else self.project.lexicon

    def normalize(self, texts: Iterable[str], locale_id: str | None = None, voice_id: str | None = None) -> list[str]:
        """Each text as read; with `voice_id`, as that voice reads it (with the readings given for it)."""
        lexicon = self.lexicon(self.locale(locale_id) if locale_id else None)
        return normalize_text(texts, self.project.readings(lexicon, self.voice(voice_id)) if voice_id else lexicon)

    # --- hearing ----------------------------------------------------------------------------

    @_machine_errors
    def preview(self, script_id: str, locale_id: str, week: Week, out: Path, voice_id: str | None = None) -> AudioFile:
        """One message exactly as it airs in the commune (chime, repeats with "Xin nhắc lại",
        the commune's mastering preset), made by the same stages as the build: the same
        content gives the same bytes as the published message file."""
        return self._preview(self.script(script_id), locale_id, week, out, voice_id)

    def draft(self, file: str, text: str) -> Script:
        """The script a file would hold with `text` (the studio's unsaved editor): ContentError
        with every problem at its line when it is not a valid script."""
        script, loading = read_script_text(self.root, self.root / file, text)
        if script is None or loading.errors:
            raise ContentError(loading.problems)
        return script

    def inputs(self) -> str:
        """A name for every input file as it is now (scripts, communes, lexicon, voices, recordings): what
        a preview was made from, so that one made before any of them changed is not played again."""
        return input_snapshot(self.root) or os.urandom(16).hex()  # unreadable now: never the same

    def draft_errors(self, file: str, text: str) -> list[Problem]:
        """The errors that would stop the project loading if the script `file` held `text`."""
        return read_script_text(self.root, self.root / file, text)[1].errors

    def lint_draft(self, file: str, text: str, week: Week, provinces: Iterable[str] = ()) -> list[Problem]:
        """Lint as you type: the problems of the script `file` would hold with `text`, rendered for
        every commune (of `provinces` when given), without saving it."""
        script, loading = read_script_text(self.root, self.root / file, text)
        if script is None or loading.errors:
            return list(loading.problems)
        project = self.project
        return list(loading.problems) + check_scripts(project, [script], self.locales((), provinces), week).problems

    def spoken_draft(self, file: str, text: str, locale_id: str, week: Week) -> str:
        """Exactly what the voice will read in one commune, for an unsaved script text."""
        locale, script = self.locale(locale_id), self.draft(file, text)
        voice = self.project.voice_for(script, locale)
        return normalize(render(script, locale, week), self.project.readings(locale.lexicon, voice))

    @_machine_errors
    def preview_draft(self, file: str, text: str, locale_id: str, week: Week, out: Path) -> AudioFile:
        """Nghe thử on an unsaved script: the message as it would air with this text."""
        return self._preview(self.draft(file, text), locale_id, week, out, None)

    def _preview(self, script: Script, locale_id: str, week: Week, out: Path, voice_id: str | None) -> AudioFile:
        project, locale = self.project, self.locale(locale_id)
        preset = locale.preset
        _check_suffix(out, preset.container, f"xã này phát dạng .{preset.container} (preset {preset.name})")
        messages, announcements = speak_messages(project, week, [locale], [script])
        message = replace(messages[0], voice=self.voice(voice_id)) if voice_id else messages[0]
        synthesis = self._synthesise(clip_requests(project, [message], announcements))
        plan = plan_message(message, week, synthesis, announcements)
        store = SegmentStore(segment_folder(project.root))
        make_segments(store, [plan], synthesis.cache.folder, jobs=1)
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".nghe-thu-") as work:
            audio, _ = join_message(store, plan, Path(work) / out.name)
            Path(audio.path).replace(out)
        return replace(audio, path=out)

    @_machine_errors
    def say(self, text: str, out: Path, voice_id: str | None = None, locale_id: str | None = None) -> AudioFile:
        """Speak a sentence or two (already written out) as a message would sound: with the
        commune's lexicon and preset when `locale_id` is given, else the project's."""
        project = self.project
        locale = self.locale(locale_id) if locale_id else None
        preset = locale.preset if locale else project.settings.preset
        _check_suffix(out, preset.container, f"nơi phát dạng .{preset.container} (preset {preset.name})")
        voice = self.voice(voice_id or project.settings.default_voice)
        speech = speak(text, project.readings(self.lexicon(locale), voice))
        if not speech.parts:
            raise UsageError("không có chữ nào để đọc (nothing to say)", fix="viết câu cần đọc, có ít nhất một chữ")
        synthesis = self._synthesise([(v, p) for v in project.voices if v.id == voice for p in speech.parts])
        body = spoken_clips(speech, lambda part: synthesis.clip(voice, part))
        return master_message(MessageAudio(body=body), preset, out,
                              Tags(title=text[:60], artist=project.settings.name))

    def _synthesise(self, requests: list) -> SynthesisResult:
        synthesis = synthesize_all(requests, ClipCache(clip_folder(self.root)), self.root, jobs=1,
                                   voices={v.id: v for v in self.project.voices})
        if synthesis.failures:
            raise ContentError([Problem("", 0, "", str(f), "kiểm tra giọng đọc bằng 'broadcast doctor'")
                                for f in synthesis.failures])
        return synthesis

    # --- recordings (the `recorded` voice) --------------------------------------------------

    def recordings_needed(self, voice_id: str, week: Week) -> list[str]:
        """The sentences a `recorded` voice must still be given to read every script it reads."""
        project, voice = self.project, self._recorded(voice_id)
        parts: set[str] = set()
        reminder = reminder_speech(project)
        for script in project.scripts:
            for locale in project.locales:
                if project.voice_for(script, locale) != voice.id:
                    continue
                try:
                    text = render(script, locale, week)
                except BroadcastError:
                    continue  # lint reports it
                parts.update(said(speak(text, project.readings(locale.lexicon, voice.id)), script, reminder))
        try:
            return missing_recordings(voice, sorted(parts), self.root)
        except EngineUnavailable:  # a new voice whose folder is not made yet (the first upload makes it)
            return sorted(parts)

    @_machine_errors
    def save_recording(self, voice_id: str, sentence: str, filename: str, data: bytes) -> Path:
        """Store an uploaded recording of `sentence` for a `recorded` voice: decoded and checked as audio
        (bounded in size and length), saved under the name the voice looks for, atomically."""
        voice = self._recorded(voice_id)
        suffix = Path(filename).suffix.lower()
        if suffix not in RECORDING_EXTENSIONS:
            raise UsageError(f"tệp '{filename}' không phải loại âm thanh được nhận (unsupported file type)",
                             fix="gửi tệp " + ", ".join(RECORDING_EXTENSIONS))
        if len(data) > UPLOAD_MAX_BYTES:
            raise UsageError(f"tệp ghi âm quá lớn: {len(data) // 1_000_000} MB, tối đa "
                             f"{UPLOAD_MAX_BYTES // 1_000_000} MB (file too large)", fix="cắt bớt hoặc nén lại")
        read_recording(data, name=filename, error=UsageError)
        folder = (self.root / str(dict(voice.params or {}).get("folder") or "assets/recordings")).resolve()
        if not folder.is_relative_to(self.root.resolve()):
            raise UsageError("thư mục bản ghi nằm ngoài dự án (recordings folder outside the project)")
        folder.mkdir(parents=True, exist_ok=True)
        name = recording_name(sentence)
        if name.startswith("-"):  # not a letter or a digit in it
            raise UsageError("câu cần ghi âm trống (empty sentence)")
        target = folder / f"{name}{suffix}"
        _replace(target, data)
        for other in folder.iterdir():  # one recording per sentence: the new one (x.WAV was read before x.mp3)
            if other.stem.lower() == name and other.suffix.lower() in RECORDING_EXTENSIONS and other != target:
                other.unlink()
        index = recording_index_without(folder, sentence)
        if index is not None:  # its entry named another file, which was read instead
            index_file = folder / RECORDING_INDEX  # laid out as it was: CRLF stays CRLF
            _replace(index_file, textfiles.bytes_of(index, textfiles.layout(index_file.read_bytes())))
        return target

    def _recorded(self, voice_id: str) -> Any:
        voice = next(v for v in self.project.voices if v.id == self.voice(voice_id))
        if voice.engine != "recorded":
            raise UsageError(f"giọng '{voice_id}' không phải giọng ghi âm (not a recorded voice)",
                             fix="chọn một giọng có engine: recorded")
        return voice

    # --- the week ---------------------------------------------------------------------------

    def plan(self, week: Week, locale_ids: Iterable[str] = (), provinces: Iterable[str] = ()) -> WeekPlan:
        """Which message airs in which slot, with lengths estimated from the text (nothing synthesised)."""
        project = self.project
        held = held_for_approval(project, scripts_airing(project, week))
        return plan_week(project, week, self._estimated(week), self.locales(locale_ids, provinces), held=held)

    def _estimated(self, week: Week) -> Durations:
        def seconds(script: Script, locale: Locale) -> float:
            return estimate_seconds(script, len(render(script, locale, week).split()))
        return seconds

    @_machine_errors
    def build(self, week: Week, locale_ids: Iterable[str] = (), provinces: Iterable[str] = (), jobs: int | None = None,
              allow_placeholders: bool = False, strict: bool = False, listener: Listener = ignore) -> BuildResult:
        """The weekly job: everything for `week`, published in one atomic step.

        A commune whose own file (or its province's) has errors fails alone: it is listed and
        keeps its published files while the others are built; under `strict`, or when any other
        file has errors, nothing is built."""
        snapshot = input_snapshot(self.root)  # before reading: an edit made meanwhile is never taken for built
        project, broken = self._buildable(strict)
        ids, provinces = list(locale_ids), list(provinces)

        def asked(commune: str) -> bool:
            return (not ids and not provinces) or commune in ids or commune.split("/")[-1] in ids \
                or commune.split("/")[0] in provinces

        good_ids = [i for i in ids if not any(i in (b, b.split("/")[-1]) for b in broken)]
        chosen = [] if ids and not good_ids and not provinces else self.locales(good_ids, provinces)
        chosen = [loc for loc in chosen if loc.id not in broken]
        if broken and not chosen:  # nothing left to build: a content error, and nothing is published
            raise ContentError(read_project(self.root)[1].problems)
        result = build(project, week, chosen, jobs=jobs,
                       allow_placeholders=allow_placeholders, strict=strict, listener=listener,
                       broken={k: v for k, v in broken.items() if asked(k)}, snapshot=snapshot)
        # the stations' scripts this build wrote read what aired in the week on air in their own way
        upgrade_aired_notes(self.root / "output", self.week(weeks_ahead=0).id)
        return result

    def _buildable(self, strict: bool) -> tuple[Project, dict[str, str]]:
        """The project, and the communes left out because their own files have errors."""
        project, loading = read_project(self.root)
        if project is None:
            raise ContentError(loading.problems)
        self._project = project
        if not loading.errors:
            return project, {}
        by_folder: dict[str, list[Locale]] = {}
        for loc in project.locales:
            by_folder.setdefault(loc.file.rsplit("/", 1)[0], []).append(loc)
        broken: dict[str, str] = {}
        for problem in loading.errors:
            parts = problem.file.split("/")
            if strict or len(parts) != 3 or parts[0] != "locales":
                raise ContentError(loading.problems)
            hit = (by_folder.get(f"locales/{parts[1]}", []) if parts[2] == "_province.yaml"
                   else [loc for loc in project.locales if loc.file == problem.file])
            for loc in hit:
                broken.setdefault(loc.id, str(problem))
            if not hit:  # a commune file too broken to be a commune: its id from the file name
                broken.setdefault(f"{parts[1]}/{parts[2].rsplit('.', 1)[0]}", str(problem))
        return project, broken

    # --- emergencies ----------------------------------------------------------------------------

    @_machine_errors
    def emergency(self, script_id: str, locale_ids: Iterable[str] = (), provinces: Iterable[str] = (),
                  week: Week | None = None, jobs: int | None = None, listener: Listener = ignore,
                  today: date | None = None, version: str = "") -> EmergencyResult:
        """An emergency bulletin into the week on air now (this week, in the project's time zone): only its
        message, its KHAN-CAP program and playlist, the page, feeds and wall sheet's box, and the manifest;
        a commune whose week already has it in every slot (a correction issued again) is built again.
        `today`: the date it airs (default: now, in the project's time zone); `version`: the sha256 of the
        script file as the person issuing it read it, when known (the studio): any other text is refused."""
        project = self.project
        today = today or today_in(project.settings.timezone)
        week = week or Week.containing(today)
        script = self.script(script_id)
        if version and script.sha256 != version:  # saved again between the page's check and this reading
            raise UsageError(f"kịch bản '{script.id}' vừa được sửa sau khi bạn mở trang: bản sẽ phát không phải bản "
                             "bạn đã đọc; không có gì được phát hành (script changed since it was read)",
                             file=script.file, fix=f"mở lại kịch bản {script.id}, đọc bản mới rồi phát lại")
        if held_for_approval(project, [script]):  # a bulletin airs at once: only what an approver approved
            raise UsageError(f"kịch bản '{script.id}' chưa được duyệt (approval: required): tin khẩn cấp phát ngay nên "
                             "chỉ phát nội dung đã duyệt; không có gì được phát hành, tin đã duyệt trước đó (nếu có) "
                             "vẫn phát như cũ (not approved)", file=script.file,
                             fix=f"người duyệt mở kịch bản {script.id} trong studio, bấm Duyệt, rồi chạy lại lệnh này")
        result = publish_emergency(project, week, script, self.locales(locale_ids, provinces),
                                   clip_folder(self.root), today=today, jobs=jobs, listener=listener)
        if result.rebuild:  # the bulletin is in every slot of these communes' week: all of it made again
            before = published_entries(self.root / "output" / week.id)
            built = self.build(week, result.rebuild, jobs=jobs, listener=listener)
            result.published += result.rebuild
            result.files += [e.path for e in built.files if e.locale in result.rebuild
                             and (e.path not in before or before[e.path].sha256 != e.sha256)]
            result.failures += built.failures
            result.bundles_dropped += built.bundles_dropped
        result.failures += later_weeks_lacking(self.root / "output", week, script, result.published, self.root)
        return result

    # --- station bundles ----------------------------------------------------------------------

    @_machine_errors
    def bundle(self, week: Week, locale_ids: Iterable[str] = (), provinces: Iterable[str] = ()) -> list[Bundle]:
        """A zip per commune of the published `week` (all of its communes when none is named), in
        output/bundles/<week>/, each with a README for the operator and a SHA256SUMS list."""
        locale_ids, provinces = list(locale_ids), list(provinces)
        chosen = [loc.id for loc in self.locales(locale_ids, provinces)] if locale_ids or provinces else []
        project = self._project or read_project(self.root)[0]
        return write_bundles(self.root / "output", week, chosen, project.settings.name if project else "")

    # --- as-run -------------------------------------------------------------------------------

    @_machine_errors
    def asrun_import(self, locale_id: str, logs: Iterable[Path]) -> tuple[int, int]:
        """Read playback logs (Liquidsoap AS-RUN lines or an IP console's CSV) of one commune into
        `asrun/<province>/<commune>.csv`; (new plays, plays already imported). The commune may be one a
        published week still holds that the project no longer has (renamed or removed since)."""
        commune = self._aired_commune(locale_id)
        plays = []
        for path in logs:
            try:
                if path.stat().st_size > asrun.MAX_LOG_BYTES:
                    raise UsageError(f"{path}: nhật ký quá lớn (log too large)", fix="chia nhỏ tệp theo tuần")
                text = asrun.decode_log(path.read_bytes())
            except OSError as exc:
                raise UsageError(f"không đọc được {path}: {exc.strerror} (cannot read the log)",
                                 fix="kiểm tra đường dẫn tệp nhật ký") from exc
            plays += asrun.parse_log(text, str(path))
        return asrun.store(self.root, commune, plays)

    def _aired_commune(self, locale_id: str) -> str:
        """The id of the commune `locale_id` names: one of the project's, else one of a published week. A
        commune renamed or removed after its last week aired still has that week's logs to import, and the
        report of that week lists it: refused as unknown, its week was reported as not aired at all."""
        found = self.project.locale(locale_id)
        if found is not None:
            return found.id
        output = self.root / "output"
        for week_id in reversed(published_weeks(output)):
            try:
                communes = {e.locale for e in published_entries(output / week_id).values()
                            if e.locale.count("/") == 1 and all(SLUG.match(part) for part in e.locale.split("/"))}
            except BroadcastError:  # a damaged manifest names nothing
                continue
            hits = [c for c in communes if c == locale_id] or [c for c in communes if c.split("/")[1] == locale_id]
            if len(hits) == 1:
                return hits[0]
        return self.locale(locale_id).id  # unknown: the error names the project's communes

    @_machine_errors
    def asrun_report(self, week: Week, out: Path | None = None,
                     late_after: float = asrun.LATE_SECONDS) -> tuple[list[Path], list[asrun.CommuneReport]]:
        """Planned against aired for every commune of a published week: printable HTML and CSV."""
        if not 0 <= late_after <= MAX_LATE_SECONDS:  # also nan; inf ended in a traceback writing the report
            raise UsageError(f"độ trễ cho phép '{late_after:g}' giây không dùng được (invalid tolerance)",
                             field="--tolerance",
                             fix=f"cho một số giây từ 0 đến {MAX_LATE_SECONDS}, ví dụ --tolerance 60 (mặc định)")
        folder = self.root / "output" / week.id
        entries = published_entries(folder)
        if not entries:
            raise UsageError(f"tuần {week.id} chưa được phát hành (no published week)",
                             fix=f"dựng tuần đó trước: broadcast build --week {week.id}")
        communes = sorted({e.locale for e in entries.values() if e.locale})
        reports = [asrun.compare(loc, asrun.planned(folder, loc), asrun.stored(self.root, loc), late_after,
                                 week.days) for loc in communes]
        paths = asrun.write_report(week.id, reports, out or self.root / asrun.FOLDER / "bao-cao", late_after)
        return paths, reports

    # --- housekeeping -------------------------------------------------------------------------

    @_machine_errors
    def clean(self, keep: int, dry_run: bool = False) -> CleanResult:
        """Remove published weeks older than the last `keep` with their station bundles, never this week
        or next week (in the project's time zone), under the build lock; a leftover staging folder, the
        files kept for the next build to write over (`publish.SPARE`), and the bundles and stamps of weeks
        no longer in output/ go too."""
        if keep < 1:
            raise UsageError("--keep phải từ 1 trở lên (keep at least one week)", field="--keep")
        output = self.root / "output"
        project = self._project or read_project(self.root)[0]
        today = today_in(project.settings.timezone if project else DEFAULT_TIMEZONE)
        protected = {Week.containing(today).id, Week.containing(today + timedelta(days=7)).id}
        with Lock(output):  # taking it removes what stopped builds left in output/.staging
            weeks = published_weeks(output)
            kept = set(weeks[-keep:]) | (protected & set(weeks))
            old = [w for w in weeks if w not in kept]
            # the bundles and stamps of a week no longer in output/ (deleted or moved away by hand): no clean
            # ever reached them, and a week's zips are twice the week
            gone = sorted(w for w in _weeks_named(output / "bundles", self.root / STAMPS)
                          if w not in protected and not (output / w).exists())
            # each week's station bundles (output/bundles/<week>/) go with it: they are as big as the week
            freed = 0 if dry_run else remove_weeks(output, old) + remove_weeks(output / "bundles", old + gone)
            if not dry_run:
                for week in gone:
                    (self.root / STAMPS / f"{week}.json").unlink(missing_ok=True)
            old = sorted(old + gone)
            spares = remove_spares(output, dry_run)  # what the last rebuild kept for the next to write over
        return CleanResult(removed=old, kept=sorted(kept), freed_bytes=freed, dry_run=dry_run, spare_bytes=spares)

    # --- caches -----------------------------------------------------------------------------

    def cache_stats(self) -> CacheStats:
        folder = clip_folder(self.root)
        clips, clip_bytes = ClipCache(folder).stats()
        segments, segment_bytes = SegmentStore(segment_folder(self.root)).stats()
        return CacheStats(clips, clip_bytes, segments, segment_bytes, folder)

    @_machine_errors
    def cache_prune(self, week: Week | None = None) -> PruneResult:
        """Drop cached clips that no current script uses for any commune in a week still to be built
        (`weeks_still_built`, and `week`), and every mastered segment (they are remade on demand). Under
        the build lock, so it never pulls clips or segments from under a running build: while one runs,
        BuildLocked (exit 1)."""
        keep: set[str] = set()
        for built in {*self.weeks_still_built(), *([week] if week else [])}:
            keep |= self.clip_keys_in_use(built)
        with Lock(self.root / "output"):
            removed, size = ClipCache(clip_folder(self.root)).prune(keep)
            segments = SegmentStore(segment_folder(self.root)).clear()
        return PruneResult(removed, size, len(keep), segments)

    def weeks_still_built(self) -> list[Week]:
        """The weeks a build may still make: next week (the cron's), the week on air (a correction, or a
        bulletin issued again, rebuilds it mid-week) and any later week already published. Pruned to next
        week's, a sentence naming the week on air's dates was spoken again at its rebuild: by an online voice,
        only with the network, and maybe as other audio than its stations already air."""
        on_air = self.week(weeks_ahead=0)
        later = [Week.parse(w) for w in published_weeks(self.root / "output") if w > on_air.id]
        return sorted({on_air, self.week(), *later}, key=lambda w: w.id)

    def clip_keys_in_use(self, week: Week) -> set[str]:
        """Cache keys of every clip the current scripts need, for every commune (and fallback voices)."""
        project = self.project
        messages, announcements = speak_messages(project, week, list(project.locales), list(project.scripts))
        voices = {v.id: v for v in project.voices}
        keys = set()
        engines = {}
        for voice, text in clip_requests(project, messages, announcements):
            for v in [voice] + ([voices[voice.fallback]] if voice.fallback in voices else []):
                if v.id not in engines:
                    engines[v.id] = make_engine(v.engine, v.params, project.root)
                engine = engines[v.id]
                keys.add(clip_key(engine.NAME, engine.version(), engine.sound_params(), text))
        return keys

    # --- voices and the machine -------------------------------------------------------------

    def voices(self, offline: bool = False, used: set[str] | None = None) -> list[VoiceReport]:
        """The project's voice profiles and whether each can speak here; online ones are probed (briefly)
        only when the project uses them (`used`; all when None)."""
        probe = offline_probe if offline else None
        out = []
        for v in self.project.voices:
            if used is not None and v.id not in used:
                status = Availability(True, "dự án không dùng giọng này; không kiểm tra (not used: not checked)")
            else:
                status = voice_status(v, self.root, probe=probe)
            out.append(VoiceReport(v.id, v.engine, v.fallback, v.description, status))
        return out

    def engines(self) -> list[EngineReport]:
        """Every TTS engine there is, and whether it could run here (no network traffic)."""
        return engine_reports(self.root)

    def doctor(self, offline: bool = False) -> list[Check]:
        return doctor(self.root, clip_folder(self.root), self.project.voices,
                      probe=offline_probe if offline else None, used=self.voices_in_use())

    def voices_in_use(self) -> set[str]:
        """The voices the project reads with: its default, the scripts' and communes' own, and their fallbacks."""
        project = self.project
        used = {project.settings.default_voice} | {s.voice for s in project.scripts if s.voice} \
            | {loc.voice for loc in project.locales if loc.voice}
        fallbacks = {v.id: v.fallback for v in project.voices}
        while True:
            more = {f for u in used if (f := fallbacks.get(u))} - used
            if not more:
                return used
            used |= more

    # --- communes ---------------------------------------------------------------------------

    @_machine_errors
    def import_locales(self, province_names: Iterable[str] = (), every_province: bool = False,
                       schedule: str | None = None) -> ImportReport:
        """Files for every commune of the provinces named, from the official catalogue."""
        province_names = list(province_names)
        if not province_names and not every_province:
            raise UsageError("chưa chọn tỉnh nào (no province chosen)", field="--province",
                             fix="chọn --province TÊN hoặc --all")
        schedules = sorted({p.stem for p in (self.root / "schedules").glob("*.y*ml") if p.suffix in (".yaml", ".yml")})
        if schedule is not None:  # a mistyped id wrote it into every new province file, exit 0
            schedule = _known(schedule if schedule in schedules else None, "lịch phát", schedule, "--schedule",
                              schedules)
        schedule = schedule or next(iter(schedules), "sang-chieu")
        provinces = (locale_catalogue.all_provinces() if every_province
                     else [locale_catalogue.find_province(name) for name in province_names])
        report = locale_catalogue.import_locales(self.root, provinces, schedule)
        self.reload()
        return report


MAX_LATE_SECONDS = 24 * 60 * 60  # an as-run tolerance past a day would call nothing late


def _without_broken_files(project: Project | None,
                          loading: LoadProblems) -> tuple[Project, dict[str, tuple[Problem, ...]]]:
    """`project` without its script, commune and province files that have errors (a province's communes go
    with its file), and those files with their problems; ContentError when any other file has an error."""
    errors = loading.errors
    if project is None or any(not SET_ASIDE.fullmatch(p.file) for p in errors):
        raise ContentError(loading.problems)
    files = {p.file for p in errors}
    if not files:
        return project, {}
    broken = {f: tuple(p for p in loading.problems if p.file == f) for f in sorted(files)}
    provinces = {f.rsplit("/", 1)[0] for f in files if f.startswith("locales/") and f.endswith("/_province.yaml")}
    return replace(project, scripts=tuple(s for s in project.scripts if s.file not in files),
                   locales=tuple(loc for loc in project.locales
                                 if loc.file not in files and loc.file.rsplit("/", 1)[0] not in provinces)), broken


def _weeks_named(bundles: Path, stamps: Path) -> set[str]:
    """The weeks that have station bundles (output/bundles/<week>/) or published files' stamps."""
    named = {p.name for p in bundles.iterdir() if p.is_dir()} if bundles.is_dir() else set()
    named |= {p.stem for p in stamps.glob("*.json")} if stamps.is_dir() else set()
    return {w for w in named if WEEK_FOLDER_RE.fullmatch(w)}


def _files_signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime in ns, size) of every file a project is read from."""
    found = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if folder == root and entry.name not in ("scripts", "locales", "voices", "schedules"):
                    continue
                stack.append(Path(entry.path))
            elif entry.name.endswith(".yaml"):
                info = entry.stat()
                found.append((entry.path, info.st_mtime_ns, info.st_size))
    return tuple(sorted(found))


def _known(found: T | None, what: str, name: str, option: str, ids: Iterable[str]) -> T:
    """`found`, or a UsageError naming what was asked for and what there is."""
    if found is None:
        raise UsageError(f"không có {what} '{name}' (unknown {option.strip('-').lower()})", field=option,
                         fix=f"các {what} có: " + _some(ids))
    return found


def _some(ids: Iterable[str], shown: int = 12) -> str:
    """A list of ids for a message, shortened when a project has thousands of communes."""
    ids = list(ids)
    return ", ".join(ids[:shown]) + (f" ... ({len(ids)} mục, xem thư mục tương ứng)" if len(ids) > shown else "")


def _check_suffix(out: Path, container: str, why: str) -> None:
    if out.suffix.lower() != f".{container}":
        raise UsageError(f"tệp kết quả phải là .{container}: {why}", field="-o",
                         fix=f"đặt tên tệp kết thúc bằng .{container}, ví dụ nghe-thu.{container}")

