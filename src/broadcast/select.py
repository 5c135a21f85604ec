"""Choosing what a command works on: a subset of locales, and message lengths before synthesis."""

from __future__ import annotations

from .errors import ContentError, UsageError
from .model import Locale, Project, Script, Week
from .plan import Durations, estimate_seconds
from .render import RenderError, render


def select_locales(project: Project, locale_ids: tuple[str, ...] = (), provinces: tuple[str, ...] = ()) -> list[Locale]:
    """The locales named by --locale / --province (all when neither is given)."""
    if not locale_ids and not provinces:
        return list(project.locales)
    chosen: dict[str, Locale] = {}
    for locale_id in locale_ids:
        locale = project.locale(locale_id)
        if locale is None:
            raise UsageError(f"không có xã '{locale_id}' (unknown locale)", field="--locale",
                             fix="xem tên các xã trong thư mục locales/, ví dụ lang-son/xa-chi-lang")
        chosen[locale.id] = locale
    known = {loc.province.id for loc in project.locales}
    for province in provinces:
        if province not in known:
            raise UsageError(f"không có tỉnh '{province}' (unknown province)", field="--province",
                             fix=f"dùng một trong: {', '.join(sorted(known))}")
        chosen.update({loc.id: loc for loc in project.locales if loc.province.id == province})
    return sorted(chosen.values(), key=lambda loc: loc.id)


def estimated_durations(project: Project, week: Week) -> Durations:
    """Lengths from the rendered text's word count; rendering errors are content errors."""
    def seconds(script: Script, locale: Locale) -> float:
        try:
            return estimate_seconds(script, len(render(script, locale, week).split()))
        except RenderError as exc:
            raise ContentError([exc.problem]) from None
    return seconds
