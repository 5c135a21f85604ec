"""Render a script's Jinja2 body for one locale, in a sandbox.

Scripts are written by staff, not programmers, and may come from anywhere: templates run
in Jinja2's ImmutableSandboxedEnvironment (no dunder access, no mutation of the data), with
StrictUndefined (a misspelt variable is an error, never a silent gap in a warning), and
with a loader that refuses every include/import/extends.
"""

from __future__ import annotations

import re
import traceback
from datetime import date
from functools import lru_cache
from typing import Any

from jinja2 import (
    BaseLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from .errors import Problem, RenderError

__all__ = ["RenderError", "context", "render", "tidy"]
from .model import Locale, Script, Week


class _NoFiles(BaseLoader):
    def get_source(self, environment, template):
        raise TemplateNotFound(template)


def _vn_date(value: date) -> str:
    """03/07/2024: how an official letter writes a date; the speech stage reads it aloud."""
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


ENV = ImmutableSandboxedEnvironment(
    loader=_NoFiles(), undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False,
)
ENV.filters["ngay"] = _vn_date


def context(script: Script, locale: Locale, week: Week) -> dict[str, Any]:
    return {
        "locale": locale.data,
        "script": {"id": script.id, "title": script.title, "source": script.source,
                   "level": script.level, "repeat": script.repeat},
        "week": {"id": week.id, "start": week.days[0], "end": week.days[-1], "days": week.days},
    }


def render(script: Script, locale: Locale, week: Week) -> str:
    """The text of `script` as it will be read in `locale`; paragraphs separated by one blank line."""
    try:
        text = _template(script).render(context(script, locale, week))
    except TemplateSyntaxError as exc:
        raise _error(script, locale, exc.lineno, f"lỗi cú pháp mẫu: {exc.message} (template syntax error)",
                     "kiểm tra các cặp {{ }} và {% %}") from None
    except UndefinedError as exc:
        name = _missing_name(exc.message or "")
        if name.startswith("_"):  # the sandbox hides every private attribute
            raise _sandboxed(script, locale, exc) from None
        raise _error(script, locale, _template_line(exc, script),
                     f"biến '{name}' không có cho xã {locale.id} (undefined variable: {exc.message})",
                     f"thêm '{name}' vào {locale.file} hoặc _province.yaml của tỉnh, hoặc sửa tên biến") from None
    except SecurityError as exc:
        raise _sandboxed(script, locale, exc) from None
    except TemplateNotFound as exc:
        raise _error(script, locale, _template_line(exc, script),
                     "mẫu không được đọc tệp khác (include/import/extends are not allowed)",
                     "chép nội dung cần dùng thẳng vào kịch bản") from None
    except (TemplateError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        raise _error(script, locale, _template_line(exc, script), f"lỗi khi dựng nội dung: {exc}",
                     "kiểm tra lại biểu thức trong {{ }}") from None
    return tidy(text)


@lru_cache(maxsize=512)
def _template(script: Script) -> Template:
    """Compile once per script, not once per commune (3,321 communes render in a second)."""
    code = ENV.compile(script.body, name=script.id, filename=script.file)
    return ENV.template_class.from_code(ENV, code, ENV.make_globals(None))


def tidy(text: str) -> str:
    """Keep sentence and paragraph structure; drop the whitespace noise templates leave."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _template_line(exc: BaseException | None, script: Script) -> int:
    """Line in the template where `exc` happened (Jinja puts template frames in the traceback)."""
    if exc is not None:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename == script.file and frame.lineno:
                return frame.lineno
    return 1


def _missing_name(message: str) -> str:
    match = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", message)
    if match:
        return match[1] or match[2]
    return message


def _sandboxed(script: Script, locale: Locale, exc: Exception) -> RenderError:
    return _error(script, locale, _template_line(exc, script),
                  f"mẫu dùng thao tác không được phép: {exc} (blocked by sandbox)",
                  "chỉ dùng biến locale, script, week và các bộ lọc có sẵn")


def _error(script: Script, locale: Locale, template_line: int, message: str, hint: str) -> RenderError:
    line = script.body_line + max(template_line, 1) - 1
    return RenderError(Problem(script.file, line, "body", message, hint))
