"""Render a script's Jinja2 body for one locale, in a sandbox.

Scripts are written by staff, not programmers, and may come from anywhere: templates run
in Jinja2's ImmutableSandboxedEnvironment (no dunder access, no mutation of the data), with
StrictUndefined (a misspelt variable is an error, never a silent gap in a warning), and
with a loader that refuses every include/import/extends.

The work a template may do is bounded too: text and lists at most MAX_SIZE long, integers
at most MAX_INT_BITS, format widths at most MAX_WIDTH, LOOP_ITERATIONS loop turns and
CALL_DEPTH nested calls per render, MAX_SIZE characters of output, and RENDER_SECONDS of
time, checked cooperatively at every call, operator, loop turn and output. A template over
a bound is a RenderError at its line, never a hang, a traceback or the machine's memory.
"""

from __future__ import annotations

import difflib
import re
import string
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, update_wrapper
from typing import Any, cast

from jinja2 import (
    BaseLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateRuntimeError,
    TemplateSyntaxError,
    UndefinedError,
    nodes,
    pass_context,
)
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context, LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter, SecurityError
from jinja2.utils import generate_lorem_ipsum, missing
from markupsafe import EscapeFormatter, Markup

from .errors import Problem, RenderError

__all__ = ["CALL_DEPTH", "LOOP_ITERATIONS", "MAX_INT_BITS", "MAX_SIZE", "MAX_WIDTH", "RENDER_SECONDS",
           "RenderError", "context", "render", "tidy"]
from .model import Locale, Script, Week

MAX_SIZE = 100_000  # characters of text (or items of a list) a template may build; also the output
MAX_INT_BITS = 4_096  # about 1,200 decimal digits
MAX_WIDTH = 1_000  # widths and precisions in format strings, center(), indent()...
LOOP_ITERATIONS = 10_000  # loop turns per render, all loops together
CALL_DEPTH = 50  # nested macro and function calls
RENDER_SECONDS = 2.0  # a script renders in about a millisecond


class _Limit(TemplateRuntimeError):
    """A template went over a bound; `vi` and `en` say which."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi, self.en = vi, en


class _Missing(UndefinedError):
    """StrictUndefined's error, keeping the object that lacked the name."""

    def __init__(self, message: str, obj: Any, name: Any) -> None:
        super().__init__(message)
        self.obj, self.name = obj, name


class _Undefined(StrictUndefined):
    __slots__ = ()

    def __init__(self, hint: str | None = None, obj: Any = missing, name: str | None = None,
                 exc: type[TemplateRuntimeError] = UndefinedError) -> None:
        def raise_missing(message: str | None = None) -> _Missing:
            return _Missing(message or "", obj, name)
        super().__init__(hint, obj, name, cast(type[TemplateRuntimeError], raise_missing))


@dataclass
class _Budget:
    deadline: float
    loops: int = 0
    depth: int = 0
    output: int = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise _Limit(f"mẫu chạy quá {RENDER_SECONDS:g} giây", f"render took over {RENDER_SECONDS:g} s")


_BUDGET: ContextVar[_Budget | None] = ContextVar("render_budget", default=None)


def _tick() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.tick()


def _weight(value: Any, limit: int = MAX_SIZE) -> int:
    """Characters and items in `value`, nested lists and mappings counted every time they are
    referenced (what str() would write), counting stopped just past `limit`."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, Mapping):
            total += 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 1
            stack.extend(item)
        else:
            total += 1
    return total


def _check_size(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INT_BITS:
            raise _Limit("số quá lớn", f"integer over {MAX_INT_BITS} bits")
    elif _weight(value) > MAX_SIZE:
        _check_count(MAX_SIZE + 1)
    return value


def _check_count(count: int) -> None:
    if count > MAX_SIZE:
        raise _Limit(f"đoạn chữ hoặc danh sách dài quá {MAX_SIZE:,} ký tự".replace(",", "."),
                     f"text or list over {MAX_SIZE} items")


def _check_width(value: Any) -> None:
    if isinstance(value, int) and abs(value) > MAX_WIDTH:
        raise _Limit(f"độ rộng {value} quá lớn (tối đa {MAX_WIDTH})", f"width over {MAX_WIDTH}")


_DIGITS = "0123456789"


def _percent_number(text: str, at: int) -> tuple[str, int]:
    """A width or precision at `at`: "*" or ASCII digits (what CPython reads), and where it ends."""
    if text[at:at + 1] == "*":
        return "*", at + 1
    start = at
    while at < len(text) and text[at] in _DIGITS:
        at += 1
    return text[start:at], at


def _percent_fields(text: str) -> Iterator[tuple[str | None, str, str, str]]:
    """Each %-conversion of `text` as CPython reads it: (key, width, precision, type); "%%" has
    type "%". By hand because a key may hold parentheses, counted: '%(a(b))s' is key 'a(b)'."""
    at, end = 0, len(text)
    while (at := text.find("%", at)) >= 0:
        at += 1
        key = None
        if at < end and text[at] == "(":
            depth, close = 1, at + 1
            while close < end and depth:
                depth += {"(": 1, ")": -1}.get(text[close], 0)
                close += 1
            key, at = text[at + 1:close - 1], close
        while at < end and text[at] in "-+ #0":
            at += 1
        width, at = _percent_number(text, at)
        precision = ""
        if at < end and text[at] == ".":
            precision, at = _percent_number(text, at + 1)
        if at < end and text[at] in "hlL":
            at += 1
        kind = text[at] if at < end else ""
        at += 1
        yield key, width, precision, kind
_NUMBER_RE = re.compile(r"\d+")


def _check_format(fmt: Any, percent: bool) -> None:
    """Widths and precisions in a %-style or {}-style format string stay under MAX_WIDTH."""
    if not isinstance(fmt, str):
        return
    specs: list[str] = []
    if percent:
        for _, width, precision, _ in _percent_fields(fmt):
            specs += [g for g in (width, precision) if g]
    else:
        try:
            specs = [spec for _, _, spec, _ in string.Formatter().parse(fmt) if spec]
        except ValueError:
            return  # str.format itself will refuse it
    for spec in specs:
        if "*" in spec or "{" in spec:
            raise _Limit("độ rộng trong chuỗi định dạng phải là số cố định", "computed format width")
        for number in _NUMBER_RE.findall(spec):
            _check_width(int(number))


def _printed(value: Any, conversion: str = "s") -> int:
    """At most how many characters `value` prints as under `conversion` ("s", "r", "a", or a
    number's "d", "f"...): repr escapes a character in up to 10 (\\U0001f600), an int has up to
    MAX_INT_BITS bits of digits. Counting stops just past MAX_SIZE."""
    if conversion not in "sra" and not isinstance(value, (str, bytes, list, tuple, dict)):
        return 1_400  # a number: a float's 309 digits and a precision up to MAX_WIDTH
    total, stack = 2, [value]
    while stack and total <= MAX_SIZE:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item) * (1 if conversion in "sb" and item is value else 10) + 3
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() * 3 // 10 + 2
        elif isinstance(item, float):
            total += 25
        elif isinstance(item, Mapping):
            total += 4 * len(item) + 2
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 * len(item) + 2
            stack.extend(item)
        else:  # the context's own objects (dates, the week): small, printed to be measured
            total += 10 * len(str(item)) + 2
    return total


def _check_percent(fmt: str | bytes, operand: Any) -> None:
    """What `fmt % operand` would print, counted before it is built: "%(a)s" * 20000 with a
    long "a" is gigabytes from a 120,000-character template (the result is checked after,
    too late for the memory)."""
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    total, position = len(text), 0
    items = operand if isinstance(operand, tuple) else (operand,)
    for key, width, precision, kind in _percent_fields(text):
        if kind == "%":
            continue
        if "*" in width + precision:
            raise _Limit("độ rộng trong chuỗi định dạng phải là số cố định", "computed format width")
        if key and isinstance(operand, Mapping):
            value = operand.get(key.encode("latin-1") if isinstance(fmt, bytes) else key, "")
        elif position < len(items):
            value, position = items[position], position + 1
        else:
            value = ""  # more conversions than values: Python refuses it
        total += _printed(value, kind) + int(width or 0) + int(precision or 0)
        _check_count(total)


class _BoundedFormatter(SandboxedFormatter):
    """str.format in the sandbox, counting what it writes field by field: "{0}" * 30000 with a
    long argument stops at MAX_SIZE instead of building gigabytes first."""

    written = 0

    def format_field(self, value: Any, format_spec: str) -> Any:
        text = super().format_field(value, format_spec)
        self.written += len(text)
        _check_count(self.written)
        return text


class _BoundedEscapeFormatter(_BoundedFormatter, EscapeFormatter):
    pass


def _len(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return 0


_SEQUENCES = (str, bytes, list, tuple)


def _binop_guard(operator: str, left: Any, right: Any) -> None:
    ints = [isinstance(x, int) and not isinstance(x, bool) for x in (left, right)]
    if operator == "**" and all(ints) and right > 0 and abs(left) > 1:
        if right * (abs(left).bit_length() - 1) > MAX_INT_BITS:
            raise _Limit("số quá lớn (lũy thừa)", f"power over {MAX_INT_BITS} bits")
    elif operator == "*":
        if all(ints):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
                raise _Limit("số quá lớn (phép nhân)", f"product over {MAX_INT_BITS} bits")
        elif ints[0] and isinstance(right, _SEQUENCES):
            _check_count(left * _weight(right))
        elif ints[1] and isinstance(left, _SEQUENCES):
            _check_count(right * _weight(left))
    elif operator == "+" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        _check_count(_weight(left) + _weight(right))
    elif operator == "%" and isinstance(left, (str, bytes)):
        _check_format(left, percent=True)
        _check_percent(left, right)


_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def _call_guard(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if isinstance(owner, (str, bytes)):
        if name in _WIDTH_METHODS:
            for value in (*args, *kwargs.values()):
                _check_width(value)
                if name == "expandtabs" and isinstance(value, int):
                    tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
                    _check_count(len(owner) + tabs * value)
        elif name == "join" and args:
            _check_count(sum(_len(x) for x in _as_list(args[0])) + len(owner) * _len(args[0]))
        elif name == "translate":  # one character may become a 100,000-character text, each time
            raise _Limit("không dùng .translate() trong mẫu; hãy dùng |replace",
                         "translate() is not allowed in templates")
        elif name == "replace" and len(args) >= 2:
            _check_count(len(owner) + owner.count(args[0]) * _len(args[1]) if args[0] else
                         len(owner) * (_len(args[1]) + 1))


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple, str, set, frozenset, dict, range)):
        return list(value)
    return []


class _Generator(CodeGenerator):
    """Jinja's code generator with `a ~ b` joined under the size bound."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_join((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _NoFiles(BaseLoader):
    def get_source(self, environment, template):
        raise TemplateNotFound(template)


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox with every operator, call, loop and output under the bounds above."""

    code_generator_class = _Generator
    intercepted_binops = frozenset({"**", "*", "+", "%", "//", "/", "-"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        _binop_guard(operator, left, right)
        return _check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _BUDGET.get()
        if budget is not None:
            budget.tick()
        args = tuple(_listed(a) for a in args)
        kwargs = {k: _listed(v) for k, v in kwargs.items()}
        for value in (*args, *kwargs.values()):
            _check_size(value)
        _call_guard(__obj, args, kwargs)
        if isinstance(__obj, LoopContext) and args:  # a recursive loop's next level
            args = (_bounded_loop(__context, args[0]), *args[1:])
        if budget is None:
            return _check_size(super().call(__context, __obj, *args, **kwargs))
        if budget.depth >= CALL_DEPTH:
            kind = "macro" if isinstance(__obj, Macro) else "lời gọi"
            raise _Limit(f"{kind} gọi lồng nhau quá {CALL_DEPTH} tầng (có thể là macro tự gọi chính nó)",
                         f"calls nested over {CALL_DEPTH} deep: a recursive macro?")
        budget.depth += 1
        try:
            return _check_size(super().call(__context, __obj, *args, **kwargs))
        finally:
            budget.depth -= 1

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Jinja's sandboxed str.format / format_map, with widths checked and what it writes
        counted (`_BoundedFormatter`)."""
        if super().wrap_str_format(value) is None:
            return None
        template: str = value.__self__
        is_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if is_map and (kwargs or len(args) != 1):
                raise TypeError("format_map() takes exactly one argument")
            positional, named = ((), args[0]) if is_map else (args, kwargs)
            _check_format(template, percent=False)
            formatter = (_BoundedEscapeFormatter(self, escape=template.escape) if isinstance(template, Markup)
                         else _BoundedFormatter(self))
            return type(template)(formatter.vformat(template, positional, named))
        return update_wrapper(bounded, value)

    def bounded_join(self, values: Iterable[Any]) -> str:
        pieces = [str(_check_size(v)) for v in values]
        _check_count(sum(map(len, pieces)))
        return "".join(pieces)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            # The literal text of the body is output on every turn: count it (with the inner
            # loops' text, which only over-counts).
            literal = sum(len(data.data) for data in loop.find_all(nodes.TemplateData))
            loop.iter = nodes.Filter(loop.iter, "_bounded_loop", [nodes.Const(literal)], [], None, None,
                                     lineno=loop.iter.lineno)
        return tree


def _finalize(value: Any) -> Any:
    """Every {{ }} output: counted against MAX_SIZE per render."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.tick()
        _count_output(budget, len(value if isinstance(value, str) else str(_check_size(value))))
    return value


def _count_output(budget: _Budget, size: int) -> None:
    budget.output += size
    if budget.output > MAX_SIZE:
        raise _Limit(f"nội dung dựng ra dài quá {MAX_SIZE:,} ký tự".replace(",", "."),
                     f"output over {MAX_SIZE} characters")


@pass_context
def _bounded_loop(context: Context, iterable: Any, literal: int = 0) -> Iterator[Any]:
    budget = _BUDGET.get()
    for item in iterable:
        if budget is not None:
            budget.loops += 1
            if budget.loops > LOOP_ITERATIONS:
                raise _Limit(f"vòng lặp chạy quá {LOOP_ITERATIONS:,} lượt".replace(",", "."),
                             f"over {LOOP_ITERATIONS} loop turns")
            budget.tick()
            _count_output(budget, literal)
        yield item


def _counted(items: Iterator[Any]) -> Iterator[Any]:
    """A lazy sequence (map, select, slice...) cut off after MAX_SIZE items."""
    for count, item in enumerate(items, 1):
        if count > MAX_SIZE:
            _check_count(count)
        if count % 256 == 0:
            _tick()
        yield item


def _lazy(value: Any) -> Any:
    return _counted(value) if isinstance(value, Iterator) else value


def _listed(value: Any) -> Any:
    """A lazy sequence passed to a call or filter, as a list under the size bound: a join or
    sum can then be checked before it runs (a generator would be counted only as it is used)."""
    if not isinstance(value, Iterator) or isinstance(value, LoopContext):  # `loop` is the loop itself
        return value
    items, total = [], 0
    for item in _counted(value):
        total += _weight(item, MAX_SIZE - total)
        _check_count(total)
        items.append(item)
    return items


def _bounded(check: Callable[..., None], func: Callable[..., Any]) -> Callable[..., Any]:
    skip = 1 if hasattr(func, "jinja_pass_arg") else 0  # the context or environment comes first

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _tick()
        args = tuple(_listed(a) for a in args)
        kwargs = {k: _listed(v) for k, v in kwargs.items()}
        for value in (*args[skip:], *kwargs.values()):
            _check_size(value)
        check(*args[skip:], **kwargs)
        return _lazy(_check_size(func(*args, **kwargs)))
    wrapper.__name__ = getattr(func, "__name__", "filter")
    return wrapper


def _vn_date(value: date) -> str:
    """03/07/2024: how an official letter writes a date; the speech stage reads it aloud."""
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


def _range(*args: int) -> range:
    numbers = range(*args)
    _check_count(len(numbers))
    return numbers


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    if not (0 <= n <= 10 and 0 <= min <= max <= 100):
        raise _Limit("lipsum() chỉ cho tối đa 10 đoạn, 100 từ mỗi đoạn", "lipsum() over 10 paragraphs")
    return generate_lorem_ipsum(n, html, min, max)


def _no_check(*args: Any, **kwargs: Any) -> None:
    return None


def _width_args(value: Any = "", width: Any = 80, *args: Any, **kwargs: Any) -> None:
    _check_width(width)
    if isinstance(width, str):  # indent("> "): the prefix is added to every line
        _check_count(len(str(value)) + (str(value).count("\n") + 1) * len(width))


def _format_args(value: Any = "", *args: Any, **kwargs: Any) -> None:
    _check_format(value, percent=True)
    if isinstance(value, str):
        _check_percent(value, kwargs or args)


def _join_args(value: Any = (), d: Any = "", *args: Any, **kwargs: Any) -> None:
    items = list(value) if isinstance(value, (list, tuple, str, range)) else []
    _check_count(sum(len(str(x)) for x in items[:MAX_SIZE + 1]) + _len(d) * len(items))


def _replace_args(value: Any = "", old: Any = "", new: Any = "", *args: Any, **kwargs: Any) -> None:
    text, old_text, new_text = str(value), str(old), str(new)
    _check_count(len(text) + (text.count(old_text) if old_text else len(text) + 1) * len(new_text))


def _sum_args(iterable: Any = (), *args: Any, **kwargs: Any) -> None:
    if isinstance(iterable, (list, tuple)):
        _check_count(sum(_len(x) for x in iterable))


def _sandbox() -> _Sandbox:
    env = _Sandbox(loader=_NoFiles(), undefined=_Undefined, autoescape=False, keep_trailing_newline=False,
                   finalize=_finalize)
    env.globals["range"] = _range
    env.globals["lipsum"] = _lipsum
    checks: dict[str, Callable[..., None]] = {
        "center": _width_args, "indent": _width_args,
        "format": _format_args, "join": _join_args, "replace": _replace_args, "sum": _sum_args,
    }
    for name, func in list(env.filters.items()):
        env.filters[name] = _bounded(checks.get(name, _no_check), func)
        if hasattr(func, "jinja_pass_arg"):  # pass_environment, pass_context: keep the marker
            env.filters[name].jinja_pass_arg = func.jinja_pass_arg
    env.filters["ngay"] = _vn_date
    env.filters["_bounded_loop"] = _bounded_loop
    return env


ENV = _sandbox()


def context(script: Script, locale: Locale, week: Week) -> dict[str, Any]:
    return {
        "locale": locale.data,
        "script": {"id": script.id, "title": script.title, "source": script.source,
                   "level": script.level, "repeat": script.repeat},
        "week": {"id": week.id, "start": week.days[0], "end": week.days[-1], "days": week.days},
    }


def render(script: Script, locale: Locale, week: Week) -> str:
    """The text of `script` as it will be read in `locale`; paragraphs separated by one blank line.

    Raises RenderError (Vietnamese, at the line in the script's file) for a template that is
    wrong, over a bound, or renders to no words at all (it would air a chime and silence).
    """
    data = context(script, locale, week)
    token = _BUDGET.set(_Budget(time.monotonic() + RENDER_SECONDS))
    try:
        text = _template(script).render(data)
    except TemplateSyntaxError as exc:
        raise _syntax_error(script, locale, exc) from None
    except _Limit as exc:
        raise _over_limit(script, locale, exc, exc.vi, exc.en) from None
    except UndefinedError as exc:
        raise _undefined(script, locale, exc, data) from None
    except SecurityError as exc:
        raise _sandboxed(script, locale, exc) from None
    except TemplateNotFound as exc:
        raise _error(script, locale, _template_line(exc, script),
                     "mẫu không được đọc tệp khác (include/import/extends are not allowed)",
                     "chép nội dung cần dùng thẳng vào kịch bản") from None
    except RecursionError as exc:
        raise _over_limit(script, locale, exc, "mẫu lồng nhau hoặc gọi nhau quá sâu",
                          "nesting or recursion too deep") from None
    except MemoryError as exc:
        raise _over_limit(script, locale, exc, "mẫu cần quá nhiều bộ nhớ", "out of memory") from None
    # AssertionError: a filter's own check (truncate(-5)); RuntimeError: an empty cycler()
    except (TemplateError, TypeError, ValueError, ArithmeticError, AttributeError, LookupError, AssertionError,
            RuntimeError) as exc:
        vi, en = _plain(exc)
        raise _error(script, locale, _template_line(exc, script), f"lỗi khi dựng nội dung: {vi} ({en})",
                     "kiểm tra lại biểu thức trong {{ }}; ghép chữ với số bằng dấu ~, "
                     "ví dụ {{ 'số ' ~ locale.contacts.police.phone }}") from None
    finally:
        _BUDGET.reset(token)
    text = tidy(text)
    if not any(c.isalnum() for c in text):
        raise _error(script, locale, 1,
                     f"nội dung dựng cho xã {locale.id} không có chữ nào: loa sẽ chỉ phát tiếng chuông "
                     "(the body renders to nothing or to punctuation only)",
                     "viết nội dung vào body, hoặc sửa các điều kiện {% if %} để xã nào cũng có lời") from None
    return text


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


# -- messages an editor can act on ------------------------------------------------

_BLOCK_TAGS = frozenset({"if", "for", "macro", "call", "filter", "with", "block", "autoescape", "set"})


def _unclosed_delimiter(source: str) -> tuple[str, int] | None:
    """The first '{{' or '{%' with no closing '}}' or '%}' after it, and its template line: Jinja
    reports the end of the template, where it gave up looking."""
    position = 0
    while True:
        found = [(i, opener) for opener in ("{{", "{%", "{#") if (i := source.find(opener, position)) >= 0]
        if not found:
            return None
        start, opener = min(found)
        end = source.find({"{{": "}}", "{%": "%}", "{#": "#}"}[opener], start + 2)
        if end < 0:
            return None if opener == "{#" else (opener, source.count("\n", 0, start) + 1)
        position = end + 2  # a comment's text is passed over whole: a '{{' in it opens nothing


def _open_tags(source: str, upto: int | None = None) -> list[tuple[str, int]]:
    """Block tags opened and not closed (innermost last), with their template lines."""
    stack: list[tuple[str, int]] = []
    try:
        tokens = [(t.lineno, t.type, t.value) for t in ENV.lexer.tokenize(source)]
    except TemplateSyntaxError:
        return stack
    i = 0
    while i < len(tokens):
        lineno, kind, value = tokens[i]
        if upto is not None and lineno > upto:
            break
        if kind == "block_begin" and i + 1 < len(tokens) and tokens[i + 1][1] == "name":
            tag = tokens[i + 1][2]
            j = i + 2
            assigns = False
            while j < len(tokens) and tokens[j][1] != "block_end":
                assigns = assigns or tokens[j][1] == "assign"
                j += 1
            if tag in _BLOCK_TAGS and not (tag == "set" and assigns):
                stack.append((tag, lineno))
            elif tag.startswith("end"):
                for k in range(len(stack) - 1, -1, -1):
                    if stack[k][0] == tag[3:]:
                        del stack[k:]
                        break
            i = j
        i += 1
    return stack


_AT_POSITION_RE = re.compile(r" at \d+")


def _syntax_error(script: Script, locale: Locale, exc: TemplateSyntaxError) -> RenderError:
    message = exc.message or ""
    english = _AT_POSITION_RE.sub("", message)
    line = exc.lineno or 1
    fix = "kiểm tra các cặp {{ }} và {% %}: mỗi {% if %} cần một {% endif %}, mỗi {% for %} một {% endfor %}"
    unclosed = _unclosed_delimiter(script.body)
    if unclosed and ("end of template" in message or "end of print statement" in message
                     or "end of statement block" in message):
        opener, opened_at = unclosed
        closer = "}}" if opener == "{{" else "%}"
        return _error(script, locale, opened_at, f"'{opener}' ở dòng này chưa được đóng bằng '{closer}' "
                      f"(unclosed '{opener}')", f"thêm '{closer}' ngay sau biểu thức, trên cùng dòng")
    if message.startswith("Unexpected end of template") or message.startswith("unexpected end of template"):
        opened = _open_tags(script.body)
        if opened:
            tag, line = opened[-1]
            return _error(script, locale, line,
                          f"thẻ {{% {tag} %}} ở dòng này chưa được đóng: thiếu {{% end{tag} %}} "
                          f"(unclosed '{tag}' tag)", f"thêm {{% end{tag} %}} vào đúng chỗ kết thúc khối")
        vi = "mẫu kết thúc khi một {{ }} hoặc {% %} chưa đóng"
    elif message.startswith("Encountered unknown tag"):
        tag = _quoted(message)
        opened = _open_tags(script.body, upto=line - 1)
        vi = f"thẻ {{% {tag} %}} không dùng được ở đây"
        if opened:
            open_tag, open_line = opened[-1]
            vi += (f"; thẻ {{% {open_tag} %}} ở dòng {script.line_of(open_line)} "
                   f"đang chờ {{% end{open_tag} %}}")
    elif message.startswith(("No filter named", "No test named")):
        name, kind = _quoted(message), "bộ lọc" if message.startswith("No filter") else "phép thử"
        known = sorted(n for n in (ENV.filters if kind == "bộ lọc" else ENV.tests) if not n.startswith("_"))
        close = difflib.get_close_matches(name, known, n=1)
        vi = f"không có {kind} '{name}' (sau dấu |)" if kind == "bộ lọc" else f"không có {kind} '{name}' (sau 'is')"
        fix = (f"có phải ý bạn là '{close[0]}'? " if close else "") + f"các {kind} dùng được: {', '.join(known)}"
    elif message.startswith("unexpected char"):
        vi = f"ký tự {_quoted(message)} không dùng được trong {{{{ }}}} hoặc {{% %}}"
    elif "expected token" in message or message.startswith("unexpected"):
        vi = "biểu thức trong {{ }} hoặc {% %} viết sai hoặc thiếu dấu đóng"
    else:
        vi = "mẫu viết sai cú pháp"
    return _error(script, locale, line, f"lỗi cú pháp mẫu: {vi} (template syntax error: {english})", fix)


def _quoted(message: str) -> str:
    match = re.search(r"'([^']*)'", message)
    return match[1] if match else "?"


_KINDS = ((bool, "giá trị đúng/sai"), (int, "một số"), (float, "một số"), (str, "một đoạn chữ"),
          (date, "một ngày"), (Mapping, "một nhóm giá trị"), (list, "một danh sách"), (tuple, "một danh sách"))


def _kind(value: Any) -> str:
    for cls, name in _KINDS:
        if isinstance(value, cls):
            return name
    return "một giá trị"


def _path_of(target: Any, data: Mapping[str, Any]) -> str:
    """Where `target` sits in the template's variables, e.g. "locale.contacts"."""
    queue: list[tuple[str, Any, int]] = [(str(k), v, 1) for k, v in data.items()]
    seen = 0
    while queue and seen < 10_000:
        path, value, depth = queue.pop(0)
        seen += 1
        if value is target:
            return path
        if isinstance(value, Mapping) and depth < 6:
            queue += [(f"{path}.{k}", v, depth + 1) for k, v in value.items()]
    return ""


def _undefined(script: Script, locale: Locale, exc: UndefinedError, data: Mapping[str, Any]) -> RenderError:
    obj = getattr(exc, "obj", missing)
    name = getattr(exc, "name", None)
    if name is None:
        name = _missing_name(exc.message or "")
    if isinstance(name, str) and name.startswith("_"):  # the sandbox hides every private attribute
        return _sandboxed(script, locale, exc)
    line = _template_line(exc, script)
    if name == "":
        return _error(script, locale, line, "biểu thức dùng một giá trị không có (undefined value)",
                      "kiểm tra lại biểu thức trong {{ }}: ví dụ loop.nextitem không có ở lần lặp cuối, "
                      "loop.previtem ở lần đầu")
    if obj is missing:
        owner, names = "", sorted(data)
        vi = f"không có biến '{name}'"
    elif isinstance(obj, Mapping):
        owner, names = _path_of(obj, data), sorted(str(k) for k in obj)
        vi = f"không có '{name}' trong {owner or 'giá trị này'} của xã {locale.id}"
    elif isinstance(name, int) or not isinstance(obj, (str, int, float, date)):
        owner, names = _path_of(obj, data), []
        vi = f"không có phần tử '{name}' trong {owner or 'giá trị này'}"
    else:
        owner, names = _path_of(obj, data), []
        vi = f"{owner or 'giá trị này'} là {_kind(obj)}, không có '{name}' bên trong"
    prefix = f"{owner}." if owner else ""
    guess = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
    if guess:
        vi += f"; có phải ý bạn là '{prefix}{guess[0]}'?"
    if names:
        shown = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
        vi += f" Các tên có: {shown}"
    message = f"{vi} (undefined: '{prefix}{name}')"
    if guess:
        fix = f"sửa '{prefix}{name}' thành '{prefix}{guess[0]}'"
    else:
        fix = f"thêm '{name}' vào {locale.file} hoặc _province.yaml của tỉnh, hoặc sửa tên biến"
    return _error(script, locale, line, message, fix)


def _missing_name(message: str) -> str:
    match = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", message)
    if match:
        return match[1] or match[2]
    return ""  # Jinja's own words about a value it does not have ("there is no next item"): no name


def _plain(exc: BaseException) -> tuple[str, str]:
    """Vietnamese and English for an error from an expression, with no Python wording."""
    if isinstance(exc, ZeroDivisionError):
        return "chia cho 0", "division by zero"
    if isinstance(exc, OverflowError):
        return "số quá lớn", "number too large"
    if isinstance(exc, TypeError):
        return ("phép tính hoặc bộ lọc dùng sai loại giá trị, ví dụ cộng chữ với số",
                "a value of the wrong kind, e.g. text added to a number")
    if isinstance(exc, ValueError | AssertionError):
        return "giá trị không hợp lệ cho phép tính hoặc bộ lọc này", "a value this operation cannot take"
    if isinstance(exc, LookupError):
        return "không có phần tử này", "no such item"
    return "biểu thức không tính được", "the expression failed"


def _over_limit(script: Script, locale: Locale, exc: BaseException, vi: str, en: str) -> RenderError:
    return _error(script, locale, _template_line(exc, script),
                  f"mẫu vượt giới hạn: {vi} (template over a limit: {en})",
                  "bỏ vòng lặp lớn, lũy thừa, macro tự gọi chính nó hoặc chuỗi rất dài; "
                  "một bản tin chỉ cần vài câu")


def _sandboxed(script: Script, locale: Locale, exc: Exception) -> RenderError:
    name = _quoted(str(exc)) if "'" in str(exc) else ""
    what = f" '{name}'" if name else ""
    return _error(script, locale, _template_line(exc, script),
                  f"mẫu dùng thao tác không được phép{what} (blocked by sandbox)",
                  "chỉ dùng biến locale, script, week và các bộ lọc có sẵn")


def _error(script: Script, locale: Locale, template_line: int, message: str, hint: str) -> RenderError:
    line = script.line_of(template_line)
    return RenderError(Problem(script.file, line, "body", message, hint))
