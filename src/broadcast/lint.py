"""`broadcast lint`: read the whole project and render every script for every locale.

Everything is collected, nothing stops early: the editor gets one list of all problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .model import Problem
from .project import read_project
from .render import RenderError, Week, render


@dataclass(frozen=True)
class LintResult:
    problems: tuple[Problem, ...]
    scripts: int
    locales: int
    renders: int

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def summary(self) -> str:
        return (f"{self.scripts} kịch bản (scripts), {self.locales} xã (locales), "
                f"{self.renders} bản đã dựng (renders), {len(self.warnings)} cảnh báo (warnings), "
                f"{len(self.errors)} lỗi (errors)")


def lint(root: Path, week: Week) -> LintResult:
    project, report = read_project(root)
    problems = list(report.problems)
    renders = 0
    if project is not None:
        seen: set[Problem] = set()
        for script in project.scripts:
            for locale in project.locales:
                try:
                    render(script, locale, week)
                    renders += 1
                except RenderError as exc:
                    if exc.problem not in seen:  # the same mistake shows once, not once per commune
                        seen.add(exc.problem)
                        problems.append(exc.problem)
    scripts = len(project.scripts) if project else 0
    locales = len(project.locales) if project else 0
    return LintResult(tuple(problems), scripts, locales, renders)
