"""`broadcast lint`: read the whole project, render every script for every locale, and check
what later stages will need (lexicons, voice parameters, recordings, readings).

Everything is collected, nothing stops early: the editor gets one list of all problems.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import HasProblems, Locale, Problem, Project, Script
from .project import LEXICON_FILE, read_project
from .model import Week
from .render import RenderError, render
from .speech import Lexicon, check_readings, speak
from .speech.lexicon import SECTIONS
from .tts import check_profile, missing_recordings
from .yamlio import YMap, YamlError, load_yaml


@dataclass(frozen=True)
class LintResult(HasProblems):
    problems: tuple[Problem, ...]
    scripts: int
    locales: int
    renders: int


    def summary(self) -> str:
        return (f"{self.scripts} kịch bản (scripts), {self.locales} xã (locales), "
                f"{self.renders} bản đã dựng (renders), {len(self.warnings)} cảnh báo (warnings), "
                f"{len(self.errors)} lỗi (errors)")


class Lexicons:
    """The lexicon of each locale (project < province < commune), built once per distinct override."""

    def __init__(self, project: Project):
        self.project = project
        self.memo: dict[str, Lexicon] = {}
        self.problems: list[Problem] = []
        self.base = self._build(project.lexicon, LEXICON_FILE, None)

    def _build(self, data: Any, file: str, base: Lexicon | None) -> Lexicon:
        try:
            lexicon = Lexicon.from_mapping(data, file)
        except ValueError:
            lexicon = self._valid_entries(data, file)
        return base.merged(lexicon) if base is not None else lexicon

    def _valid_entries(self, data: Any, file: str) -> Lexicon:
        """Report each bad entry at its line and keep the good ones."""
        good: dict[str, dict[str, Any]] = {}
        if not isinstance(data, dict):
            self._problem(file, getattr(data, "line", 1), "lexicon", str(_error(data, file)))
            return Lexicon(source=file)
        for section, entries in data.items():
            line = data.line_of(section) if isinstance(data, YMap) else 1
            if section not in SECTIONS or not isinstance(entries, dict):
                self._problem(file, line, str(section), str(_error({section: entries}, file)))
                continue
            for key, value in entries.items():
                problem = _error({section: {key: value}}, file)
                if problem:
                    at = entries.line_of(key) if isinstance(entries, YMap) else line
                    self._problem(file, at, f"{section}.{key}", str(problem))
                else:
                    good.setdefault(section, {})[key] = value
        return Lexicon.from_mapping(good, file)

    def _problem(self, file: str, line: int, field: str, message: str) -> None:
        self.problems.append(Problem(file, line, field, message.rstrip("."),
                                     "sửa mục này theo docs/lexicon.md"))

    def of(self, locale: Locale) -> Lexicon:
        local = locale.data.get("lexicon") or {}
        if not local:
            return self.base
        key = json.dumps(local, sort_keys=True, ensure_ascii=False)
        if key not in self.memo:
            self.memo[key] = self._build(_with_lines(self.project.root, locale.file, local), locale.file, self.base)
        return self.memo[key]


def _error(data: Any, file: str) -> ValueError | None:
    try:
        Lexicon.from_mapping(data, file)
        return None
    except ValueError as exc:
        return exc


def _with_lines(root: Path, file: str, merged: Any) -> Any:
    """The locale's own `lexicon:` mapping with line numbers, when it is written in the commune file."""
    try:
        data = load_yaml(root / file)
    except (YamlError, OSError):
        return merged
    own = data.get("lexicon") if isinstance(data, YMap) else None
    return own if isinstance(own, YMap) and own == merged else merged


def content_problems(project: Project) -> list[Problem]:
    """What later stages need from the content, checked before any audio work."""
    problems = []
    for voice in project.voices:
        for message in check_profile(voice.engine, voice.params):
            problems.append(Problem(voice.file, voice.params_line, "params", message, "sửa hồ sơ giọng theo README (voices/)"))
    return problems


def lint(root: Path, week: Week) -> LintResult:
    project, loaded = read_project(root)
    problems = list(loaded.problems)
    renders = 0
    if project is not None:
        problems += content_problems(project)
        lexicons = Lexicons(project)
        seen: set[tuple[str, int, str]] = set()
        voices = {v.id: v for v in project.voices}
        spoken: dict[str, set[str]] = {}
        for script in project.scripts:
            for locale in project.locales:
                try:
                    text = render(script, locale, week)
                    renders += 1
                except RenderError as exc:
                    key = (exc.problem.file, exc.problem.line, exc.problem.field)
                    if key not in seen:  # the same mistake once, not once per commune
                        seen.add(key)
                        problems.append(exc.problem)
                    continue
                for finding in check_readings(text, lexicons.of(locale)):
                    key = (script.file, 0, finding.token)
                    if key not in seen:
                        seen.add(key)
                        problems.append(_reading_problem(script, text, finding))
                voice = project.voice_for(script, locale)
                if voice in voices and voices[voice].engine == "recorded":
                    spoken.setdefault(voice, set()).add(text)
        problems += lexicons.problems
        for voice_id, texts in sorted(spoken.items()):
            problems += _missing_recordings(project, voices[voice_id], texts, lexicons)
    scripts = len(project.scripts) if project else 0
    locales = len(project.locales) if project else 0
    return LintResult(tuple(problems), scripts, locales, renders)


def _reading_problem(script: Script, text: str, finding: Any) -> Problem:
    """A token the normaliser could only spell out or leave as is: point at it in the script."""
    line = script.body_line + finding.line - 1
    for offset, source_line in enumerate(script.body.splitlines()):
        if finding.token in source_line:
            line = script.body_line + offset
            break
    how = "được đánh vần từng chữ cái (spelled out)" if finding.kind == "spelled" else \
        "được giữ nguyên, có thể đọc sai (left unchanged)"
    reading = f": '{finding.reading}'" if finding.reading else ""
    return Problem(script.file, line, "đọc", f"'{finding.token}' {how}{reading}",
                   f"thêm '{finding.token}' vào lexicon.yaml (docs/lexicon.md) hoặc viết [đọc: {finding.token} | ...]",
                   "warning")


def _missing_recordings(project: Project, voice: Any, texts: set[str], lexicons: Lexicons) -> list[Problem]:
    parts = sorted({p for text in texts for p in speak(text, lexicons.base).parts})
    return [Problem(voice.file, 0, "recordings", f"thiếu bản ghi âm cho câu: '{sentence}' (missing recording)",
                    "ghi âm câu này và đặt vào thư mục của giọng (xem README)")
            for sentence in missing_recordings(voice, parts, project.root)]
