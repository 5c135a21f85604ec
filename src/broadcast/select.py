"""Choosing what a command works on: a subset of locales, and message lengths before synthesis."""

from __future__ import annotations

import click

from .model import Locale, Project, Script
from .plan import Durations, estimate_seconds
from .project import ContentError
from .render import RenderError, Week, render


def select_locales(project: Project, locale_ids: tuple[str, ...] = (), provinces: tuple[str, ...] = ()) -> list[Locale]:
    """The locales named by --locale / --province (all when neither is given)."""
    if not locale_ids and not provinces:
        return list(project.locales)
    chosen: dict[str, Locale] = {}
    for locale_id in locale_ids:
        locale = project.locale(locale_id)
        if locale is None:
            raise click.BadParameter(f"không có xã '{locale_id}' (unknown locale); xem thư mục locales/",
                                     param_hint="--locale")
        chosen[locale.id] = locale
    known = {loc.province for loc in project.locales}
    for province in provinces:
        if province not in known:
            raise click.BadParameter(f"không có tỉnh '{province}'; có: {', '.join(sorted(known))}",
                                     param_hint="--province")
        chosen.update({loc.id: loc for loc in project.locales if loc.province == province})
    return sorted(chosen.values(), key=lambda loc: loc.id)


def estimated_durations(project: Project, week: Week) -> Durations:
    """Lengths from the rendered text's word count; rendering errors are content errors."""
    def seconds(script: Script, locale: Locale) -> float:
        try:
            return estimate_seconds(script, len(render(script, locale, week).split()))
        except RenderError as exc:
            raise ContentError([exc.problem]) from None
    return seconds
