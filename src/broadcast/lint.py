"""`broadcast lint`: read the whole project, render every script for every locale, and check
what later stages will need (recordings, readings). Lexicons and voice parameters are checked
while the project is read (`project.read_project`), each problem at its own line.

Everything is collected, nothing stops early: the editor gets one list of all problems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import phones
from .errors import TTSError
from .messages import reminder_speech, said, silent_problems, unclosed_markup_problems
from .model import HasProblems, Locale, Problem, Project, Script, Week
from .plan import NotAiring, estimate_seconds, plan_week
from .project import read_project
from .render import RenderError, render
from .speech import Finding, speak
from .tts.registry import engine_class
from .tts.voices import missing_recordings, unusable_recordings
from .yamlio import source_lines


@dataclass(frozen=True)
class LintResult(HasProblems):
    problems: tuple[Problem, ...]
    scripts: int
    locales: int
    renders: int
    not_airing: tuple[NotAiring, ...] = ()  # scripts that will not air in the linted week (also warnings)




def lint(root: Path, week: Week) -> LintResult:
    project, loaded = read_project(root)
    problems = list(loaded.problems)
    renders = 0
    silent: list[NotAiring] = []
    if project is not None:
        checked = check_scripts(project, list(project.scripts), list(project.locales), week)
        problems += checked.problems
        renders = checked.renders
        problems += phones.contact_problems(project.root, project.locales)
        silent = _not_airing(project, week, checked.words)
        problems += _not_airing_problems(project, silent)
    scripts = len(project.scripts) if project else 0
    locales = len(project.locales) if project else 0
    return LintResult(tuple(problems), scripts, locales, renders, tuple(silent))


@dataclass(frozen=True)
class ScriptChecks:
    """What rendering `scripts` for `locales` found: problems, and each text's length in words."""

    problems: list[Problem]
    renders: int
    words: dict[tuple[str, str], int]


def check_scripts(project: Project, scripts: list[Script], locales: list[Locale], week: Week) -> ScriptChecks:
    """Render each script for each commune and check what later stages need: template errors,
    readings, phone numbers, unclosed markup, recordings. Each mistake once, not once per commune.
    `lint` runs it on the whole project; the studio on the script being edited, before it is saved."""
    problems: list[Problem] = []
    renders = 0
    words: dict[tuple[str, str], int] = {}
    unlisted: list[phones.Unlisted] = []
    seen: set[tuple[str, int, str]] = set()
    voices = {v.id: v for v in project.voices}
    spoken: dict[str, set[str]] = {}
    unread: dict[tuple[str, str], _Unread] = {}
    numbers: dict[str, phones.Dialable] = {}
    used: set[str] = set()  # voices that read something
    reminder = reminder_speech(project)
    for script in scripts:
        for locale in locales:
            if locale.id not in numbers:
                numbers[locale.id] = phones.dialable(locale, project.official_numbers)
            try:
                text = render(script, locale, week)
                renders += 1
                words[(script.id, locale.id)] = len(text.split())
                speech = speak(text, project.readings(locale.lexicon, project.voice_for(script, locale)))
                unlisted += phones.check_message(script, locale, text, numbers[locale.id], speech)
            except RenderError as exc:
                key = (exc.problem.file, exc.problem.line, exc.problem.field)
                if key not in seen:  # the same mistake once, not once per commune
                    seen.add(key)
                    problems.append(exc.problem)
                continue
            for finding in speech.unknown:
                if finding.kind == "ambiguous":
                    line = _source_line(script, finding)
                    if (script.file, line, finding.token) not in seen:
                        seen.add((script.file, line, finding.token))
                        problems.append(_ambiguous_problem(script, line, finding))
                else:
                    unread.setdefault((finding.kind, finding.token), _Unread(finding)).add(script, locale)
            for problem in silent_problems(script, locale, speech):  # the same mistake once, not once per commune
                if (problem.file, problem.line, problem.field) not in seen:
                    seen.add((problem.file, problem.line, problem.field))
                    problems.append(problem)
            for problem in unclosed_markup_problems(script, text):  # it would be read aloud as written
                if (script.file, problem.line, problem.message) not in seen:
                    seen.add((script.file, problem.line, problem.message))
                    problems.append(problem)
            voice = project.voice_for(script, locale)
            used.add(voice)
            if voice in voices and voices[voice].engine == "recorded":  # as the commune's lexicon has it read
                spoken.setdefault(voice, set()).update(said(speech, script, reminder))
    problems += [item.problem(project.root) for item in unread.values()]
    problems += _missing_voice_files(project, [voices[v] for v in sorted(used) if v in voices])
    for voice_id, parts in sorted(spoken.items()):
        problems += _missing_recordings(project, voices[voice_id], sorted(parts))
    problems += phones.problems(unlisted)
    return ScriptChecks(problems, renders, words)


def _not_airing(project: Project, week: Week, words: dict[tuple[str, str], int]) -> list[NotAiring]:
    """The week planned with lengths estimated from the rendered text: which scripts will not air."""
    if any(loc.schedule not in {s.id for s in project.schedules} for loc in project.locales):
        return []  # a commune without a known schedule is already an error

    def seconds(script: Script, locale: Locale) -> float:
        return estimate_seconds(script, words.get((script.id, locale.id), 0))
    return plan_week(project, week, seconds).not_airing


def _not_airing_problems(project: Project, silent: list[NotAiring]) -> list[Problem]:
    """One warning per script and reason, at the script's `valid:` line, naming a few communes."""
    grouped: dict[tuple[str, str], list[NotAiring]] = {}
    for item in silent:
        grouped.setdefault((item.script_id, item.reason), []).append(item)
    problems = []
    for items in grouped.values():
        first = items[0]
        communes = [i.locale_id for i in items if i.locale_id]
        where = ""
        if communes:
            where = f" ở {len(communes)} xã: " + ", ".join(communes[:5]) + (" ..." if len(communes) > 5 else "")
        problems.append(Problem(first.file, _key_line(project.root / first.file, "valid"), "valid",
                                f"kịch bản '{first.script_id}' {first.message}{where}", first.fix, "warning"))
    return problems


def _key_line(path: Path, key: str) -> int:
    """The line of a top-level `key:` in a YAML file (0 when not found)."""
    lines = source_lines(path)
    pattern = re.compile(rf"{re.escape(key)}\s*:")
    return next((n for n, line in enumerate(lines, 1) if pattern.match(line)), 0)


@dataclass
class _Unread:
    """A word the normaliser could only spell out or leave as is, and every commune and script it is in:
    reported once, where it is written (a commune's name is in its commune file, not in the script)."""

    finding: Finding
    locales: dict[str, Locale] = field(default_factory=dict)
    scripts: dict[str, Script] = field(default_factory=dict)

    def add(self, script: Script, locale: Locale) -> None:
        self.scripts.setdefault(script.id, script)
        self.locales.setdefault(locale.id, locale)

    def problem(self, root: Path) -> Problem:
        token, finding = self.finding.token, self.finding
        file, line = self._written_at(root)
        how = "được đánh vần từng chữ cái (spelled out)" if finding.kind == "spelled" else \
            "được giữ nguyên, có thể đọc sai (left unchanged)"
        reading = f": '{finding.reading}'" if finding.reading else ""
        ids = list(self.locales)
        communes = f"{len(ids)} xã: " + ", ".join(ids[:5]) + (f" và {len(ids) - 5} xã khác" if len(ids) > 5 else "")
        scripts = f"{len(self.scripts)} kịch bản" if len(self.scripts) > 1 else f"kịch bản '{next(iter(self.scripts))}'"
        fix = f"thêm '{token}' vào lexicon.yaml (docs/lexicon.md) hoặc viết [đọc: {token} | ...]"
        if file.startswith("locales/"):
            province = file.split("/")[1]
            fix = (f"thêm '{token}' vào 'lexicon:' của tỉnh (locales/{province}/_province.yaml) "
                   "hoặc vào lexicon.yaml (docs/lexicon.md)")
        return Problem(file, line, "đọc", f"'{token}' {how}{reading}, trong {scripts}, ở {communes}", fix, "warning")

    def _written_at(self, root: Path) -> tuple[str, int]:
        """The script line the word was read from, else the first script line that holds the word, else the
        first commune or province file line."""
        for script in self.scripts.values():
            line = _script_line_holding(script, self.finding)
            if line:
                return script.file, line
        for locale in self.locales.values():
            province_file = str(Path(locale.file).parent / "_province.yaml")
            for file in (locale.file, province_file):
                line = _line_holding(root / file, self.finding.token)
                if line:
                    return file, line
        script = next(iter(self.scripts.values()))
        return script.file, script.line_of(self.finding.line)


def _line_holding(path: Path, token: str) -> int:
    return next((n for n, text in enumerate(source_lines(path), 1) if token in text), 0)


def _source_line(script: Script, finding: Finding) -> int:
    """The script line that holds a finding's token (the rendered line when it is not in the source)."""
    return _script_line_holding(script, finding) or script.line_of(finding.line)


def _script_line_holding(script: Script, finding: Finding) -> int:
    """The script line a finding's token was read from: its own line when that holds the token as a whole
    word, else the first line that does (0 when none). A token inside a longer one is not it: '1/3' in
    '11/3', 'CH' in 'CHÚ Ý' pointed lint at an earlier line."""
    holds = re.compile(r"(?<![\w/])" + re.escape(finding.token) + r"(?![\w]|/[0-9])").search
    lines = script.body.splitlines()
    if 1 <= finding.line <= len(lines) and holds(lines[finding.line - 1]):
        return script.line_of(finding.line)
    return next((script.line_of(offset) for offset, text in enumerate(lines, 1) if holds(text)), 0)


def _ambiguous_problem(script: Script, line: int, finding: Finding) -> Problem:
    """A token no rule could decide: the editor says which reading is meant."""
    token = finding.token
    return Problem(script.file, line, "đọc",
                   f"'{token}' chưa rõ là ngày, phân số hay số hiệu, đang đọc là '{finding.reading}' "
                   "(ambiguous reading)",
                   f"nếu là ngày, viết 'ngày {token}'; nếu là phân số, viết [đọc: {token} | ...] "
                   f"(ví dụ 'một phần ba'); nếu đúng như đang đọc, viết [đọc: {token} | {finding.reading}]",
                   "warning")


def _missing_voice_files(project: Project, voices: list[Any]) -> list[Problem]:
    """A model file a voice needs (Piper's .onnx and .onnx.json) that is not there: every sentence
    of that voice would fail at build. An error, or a warning when a fallback voice would read
    instead. (The recordings of a `recorded` voice are checked sentence by sentence.)"""
    problems = []
    for voice in voices:
        try:
            needed = [] if voice.engine == "recorded" else engine_class(voice.engine).files(voice.params, project.root)
        except TTSError:  # an unknown engine: reading the project reported it
            continue
        missing = [path.relative_to(project.root).as_posix() if path.is_relative_to(project.root) else str(path)
                   for path in needed if not path.exists()]
        if not missing:
            continue
        fallback = f"; giọng dự phòng '{voice.fallback}' sẽ đọc thay" if voice.fallback else ""
        problems.append(Problem(voice.file, _key_line(project.root / voice.file, "params"), "params",
                                f"không có tệp {', '.join(missing)} mà giọng '{voice.id}' cần (voice file missing)"
                                f"{fallback}",
                                "đặt tệp giọng (.onnx và .onnx.json) vào đó, hoặc cài giọng bằng 'broadcast voices "
                                "install'; 'broadcast doctor' kiểm tra mọi giọng",
                                "warning" if voice.fallback else "error"))
    return problems


def _missing_recordings(project: Project, voice: Any, parts: list[str]) -> list[Problem]:
    try:
        missing = missing_recordings(voice, parts, project.root)
        unusable = unusable_recordings(voice, parts, project.root)
    except TTSError as exc:  # the folder itself: missing, or outside the project
        return [Problem(voice.file, 0, "params.folder", exc.message, "sửa 'folder' trong hồ sơ giọng (xem README)")]
    return [Problem(voice.file, 0, "recordings", f"thiếu bản ghi âm cho câu: '{sentence}' (missing recording)",
                    "ghi âm câu này và đặt vào thư mục của giọng (xem README)") for sentence in missing] + [
        Problem(voice.file, 0, "recordings", why, "thu lại hoặc cắt bản ghi, rồi đặt vào thư mục của giọng")
        for why in unusable]
