"""Templates cannot hang the build, eat the machine, air silence or talk Python to an editor.

Every resource bomb renders in a child process under a 1 GiB address-space limit and must
come back, within seconds, as a RenderError at the bomb's line in the script's YAML file,
having allocated no more than BOMB_MEMORY on the way (refused before it is built, not after).
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from functools import lru_cache
from typing import Any

import pytest

from broadcast.errors import RenderError
from broadcast.model import Project, Script, Week
from broadcast.project import load_project
from broadcast.render import RENDER_SECONDS, render
from conftest import REPO

WEEK = Week(2026, 49)
BASE, COMMUNE = "khi-bi-de-doa", "xa-cho-don"


@lru_cache(maxsize=1)
def _project() -> Project:
    return load_project(REPO)


def _script(body: str) -> Script:
    base = _project().script(BASE)
    return dataclasses.replace(base, id=f"thu-{abs(hash(body))}", body=body)


def _render(body: str) -> str:
    return render(_script(body), _project().locale(COMMUNE), WEEK)


def _problem(body: str) -> tuple[int, str, str]:
    """(line in the YAML file, message, fix) of the RenderError `body` raises."""
    with pytest.raises(RenderError) as caught:
        _render(body)
    problem = caught.value.problem
    assert problem.file == _project().script(BASE).file
    return problem.line, problem.message, problem.hint


def _line(template_line: int) -> int:
    return _project().script(BASE).body_line + template_line - 1


_PYTHON_WORDING = re.compile(
    r"dict object|str object|list object|int object|NoneType|has no attribute|is undefined|\bat \d+"
    r"|unsupported operand|can only concatenate|Traceback|object is not|MAX_RANGE|\bdef\b"
)


def _editor_text(message: str, fix: str) -> None:
    """Vietnamese first, English (if any) in parentheses, a fix, no Python wording."""
    assert re.search(r"[À-ỹ]", message.split("(")[0]), message
    assert fix
    assert not _PYTHON_WORDING.search(message), message
    assert not _PYTHON_WORDING.search(fix), fix


# -- 1. resource bombs -------------------------------------------------------------

BOMB_MEMORY = 64 * 1024 * 1024  # bytes a refused template may allocate (Python's own, traced)

_CHILD = r"""
import gc, json, resource, sys, time, traceback, tracemalloc
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
sys.path.insert(0, "tests")
import test_render_bounds as t
from broadcast.errors import RenderError
t._project()
tracemalloc.start()
for name, body in json.load(sys.stdin).items():
    gc.collect()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    start = time.monotonic()
    try:
        t._render(body)
        out = {"outcome": "rendered"}
    except RenderError as exc:
        p = exc.problem
        out = {"outcome": "RenderError", "file": p.file, "line": p.line, "message": p.message, "fix": p.hint}
    except BaseException:
        out = {"outcome": "crash", "traceback": traceback.format_exc()[-3000:]}
    out["seconds"] = time.monotonic() - start
    out["allocated"] = tracemalloc.get_traced_memory()[1] - before
    print(json.dumps({name: out}), flush=True)
"""

BOMBS = {
    "nested-range": "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "reused-range": "{% set r = range(100000) %}{% for a in r %}{% for b in r %}{% for c in r %}"
                    "{% endfor %}{% endfor %}{% endfor %}",
    "range-list": "{{ range(10 ** 9)|list|length }}",
    "power": "{{ 9 ** (9 ** 9) }}",
    "float-power": "{{ 9.5 ** 999999 }}",
    "big-product": "{% set n = 10 ** 1000 %}{{ n * n * n * n * n * n * n * n }}",
    "lipsum": "{{ lipsum(200000) }}",
    "string-times": '{{ "x" * 10 ** 9 }}',
    "string-times-literal": '{{ "x" * 1000000000 }}',
    "list-times": "{{ [1, 2] * 10 ** 9 }}",
    "percent-width": '{{ "%0999999999d"|format(1) }}',
    "percent-operator": '{{ "%0999999999d" % 1 }}',
    "percent-star": '{{ "%*d" % (999999999, 1) }}',
    "format-width": '{{ "{:>999999999}".format(1) }}',
    "format-nested-width": '{{ "{:{w}}".format(1, w=999999999) }}',
    "center-method": '{{ "x".center(10 ** 9) }}',
    "center-filter": '{{ "x"|center(1000000000) }}',
    "ljust": '{{ "x".ljust(999999999) }}',
    "indent": '{{ "x y"|indent(999999999) }}',
    "replace": '{{ ("x" * 100000)|replace("x", "x" * 100000) }}',
    "join": '{{ (["x" * 100000] * 100000)|join }}',
    "join-method": '{{ "".join(["x" * 100000] * 100000) }}',
    "sum": "{{ ([[1] * 100000] * 100000)|sum(start=[]) }}",
    "concat": '{% set a = "x" * 100000 %}{% set b = a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a %}'
              "{% set c = b ~ b ~ b ~ b ~ b ~ b ~ b ~ b ~ b ~ b %}{{ c ~ c ~ c }}",
    "recursive-macro": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "exponential-macro": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}x{% endmacro %}"
                         "{{ f(60) }}",
    "doubling-macro": "{% macro f(s, n) %}{{ f(s ~ s, n - 1) if n else s }}{% endmacro %}{{ f('x', 60) }}",
    "output": '{% set s = "x" * 90000 %}{% for i in range(1000) %}{{ s }}{% endfor %}',
    "literal-output": "{% for i in range(9000) %}{% for j in range(9000) %}" + "x" * 2000 + "{% endfor %}{% endfor %}",
    "lazy-slice": "{{ [1]|slice(10 ** 9)|list|length }}",
    "nested-list": "{{ ([[1] * 100000] * 100000)|string|length }}",
    "shared-doubling": "{% set ns = namespace(x=[1]) %}{% for i in range(60) %}{% set ns.x = [ns.x, ns.x] %}"
                       "{% endfor %}{{ ns.x }}",
    "expandtabs": '{{ ("\\t" * 100000).expandtabs(1000)|length }}',
    "indent-prefix": '{{ ("\\n" * 99999)|indent("x" * 99999)|length }}',
    "recursive-loop": "{% set t = [[[[1]]]] %}{% for x in t recursive %}{{ loop(t) }}{% endfor %}",
    # a short format string repeating one long argument: counted before (or while) it is built
    "format-repeat": "{{ (('{0}' * 30000).format('a' * 99000))|length }}",
    "format-map-repeat": "{{ ('{a}' * 30000).format_map({'a': 'a' * 99000})|length }}",
    "format-repr": "{{ ('{0!r}' * 10).format('\\x00' * 99999)|length }}",
    "percent-mapping": "{{ (('%(a)s' * 20000) % {'a': 'x' * 99000})|length }}",
    "percent-filter-mapping": "{{ ('%(a)s' * 20000)|format(a='x' * 99000)|length }}",
    "percent-bytes": "{{ (('%(a)s' * 20000).encode() % {'a'.encode(): ('x' * 99000).encode()})|length }}",
    "translate": "{{ ('a' * 60000).translate({97: 'b' * 20000})|length }}",
    # a key may hold parentheses, as CPython reads them: '%(a(b))s' is key 'a(b)'
    "percent-nested-key": "{{ (('%(a(b))s' * 7000) % {'a(b)': 'x' * 99000})|length }}",
    "percent-nested-key-width": "{{ ('%(a(b))999999999s' % {'a(b)': 'x'})|length }}",
    "percent-bytes-width": "{{ ('%999999999s'.encode() % 'x'.encode())|length }}",
    # a lazy sequence (map, select) is counted before join or sum uses it
    "join-method-generator": "{{ ('x' * 99000).join(range(30000)|map('string'))|length }}",
    "join-filter-generator": "{{ range(30000)|map('string')|join('x' * 99000)|length }}",
    "sum-generator": "{{ (range(30000)|map('string')|map('list')|sum(start=[]))|length }}",
}


@pytest.fixture(scope="module")
def bomb_outcomes() -> dict[str, dict[str, object]]:
    """All bombs rendered one after another in one child process limited to 1 GiB."""
    bombs = {name: "Kính thưa bà con.\n" + body for name, body in BOMBS.items()}
    try:
        result = subprocess.run([sys.executable, "-c", _CHILD], input=json.dumps(bombs), cwd=REPO,
                                capture_output=True, text=True, timeout=120)
        stdout, stderr = result.stdout, result.stderr
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        stderr = "timed out"
    outcomes: dict[str, dict[str, object]] = {}
    for line in stdout.splitlines():
        outcomes.update(json.loads(line))
    for name in bombs:
        outcomes.setdefault(name, {"outcome": "not finished", "stderr": stderr[-2000:]})
    return outcomes


@pytest.mark.parametrize("name", list(BOMBS))
def test_resource_bomb_is_a_render_error_at_its_line(bomb_outcomes: dict[str, dict[str, Any]], name: str) -> None:
    outcome = bomb_outcomes[name]
    assert outcome["outcome"] == "RenderError", outcome
    assert outcome["line"] == _line(2)
    _editor_text(outcome["message"], outcome["fix"])
    assert outcome["seconds"] < RENDER_SECONDS + 1.5
    assert outcome["allocated"] < BOMB_MEMORY, f"{outcome['allocated'] / 2**20:.0f} MiB"
    # refused by a bound, not saved by this child's 1 GiB limit: a build has no such limit
    assert "bộ nhớ" not in outcome["message"], outcome["message"]


def test_deep_nesting_is_a_render_error() -> None:
    line, message, fix = _problem("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}")
    assert line == _line(1)
    _editor_text(message, fix)


def test_ordinary_loops_macros_and_arithmetic_still_work() -> None:
    text = _render(
        "{% macro so(n) %}{{ n * 2 }}{% endmacro %}"
        "{% for d in week.days %}{{ loop.index }}{% endfor %} {{ so(21) }} {{ 2 ** 10 }} "
        "{{ '%02d'|format(7) }} {{ '{:>3}'.format(5) }} {{ 'ab' * 3 }} {{ ([1] * 3)|length }} "
        "{{ 'a' ~ 'b' }} {{ range(3)|list|join(',') }} {{ 'x'|center(5) }} "
        "{{ '%s-%s'|format('a', 'b') }} {{ '%(x)s' % {'x': 1} }} {{ '{0}{0}'.format('c') }} "
        "{{ '{a}'.format_map({'a': 'd'}) }} {{ range(3)|map('string')|join('+') }} "
        "{{ '|'.join(['e', 'f']|map('upper')) }} {{ [[1], [2]]|sum(start=[]) }}."
    )
    assert text == "1234567 42 1024 07 5 ababab 3 ab 0,1,2 x a-b 1 cc d 0+1+2 E|F [1, 2]."


def test_loop_passed_to_a_macro_is_the_loop_not_a_list():
    """A lazy sequence passed to a call is listed under the size bound; `loop` is one too, and listing
    it ended the outer loop after one turn and printed a Python repr into the text."""
    text = _render("{% macro so(l) %}[{{ l.index }}/{{ l.length }}]{% endmacro %}"
                   "{% for d in week.days %}{{ so(loop) }}{% endfor %}.")
    assert text == "[1/7][2/7][3/7][4/7][5/7][6/7][7/7]."


def test_a_comment_holding_braces_opens_nothing():
    line, message, _ = _problem("A.\n{# nhớ viết {{ #}\n{% if true %}\nB.")
    assert line == _line(3) and "if" in message


# -- 2. messages for editors ---------------------------------------------------------

def test_unclosed_if_points_at_the_if() -> None:
    line, message, fix = _problem("Kính thưa bà con.\n{% if locale.name %}\nNội dung.\n\nHết.\nCảm ơn.")
    assert line == _line(2)
    assert "{% if %}" in message and "{% endif %}" in fix
    _editor_text(message, fix)


def test_unclosed_for_inside_closed_if_points_at_the_for() -> None:
    body = "{% if true %}\nA.\n{% endif %}\n{% for d in week.days %}\n{{ d }}\nB.\nC."
    line, message, fix = _problem(body)
    assert line == _line(4)
    assert "{% for %}" in message and "{% endfor %}" in fix
    _editor_text(message, fix)


def test_wrong_end_tag_names_the_open_tag_and_its_line() -> None:
    line, message, fix = _problem("A.\n{% if true %}\nB.\n{% endfor %}\nC.")
    assert line == _line(4)
    assert f"dòng {_line(2)}" in message and "{% endif %}" in message
    _editor_text(message, fix)


def test_misspelt_variable_suggests_the_name_that_exists() -> None:
    line, message, fix = _problem("Gọi ngay.\n{{ locale.contact.police.phone }}")
    assert line == _line(2)
    assert "locale.contacts" in message and "locale.contacts" in fix
    assert "contacts" in message.split("Các tên có:")[1]
    _editor_text(message, fix)


def test_misspelt_top_level_variable_lists_locale_script_week() -> None:
    _, message, fix = _problem("{{ locl.name }}")
    assert "'locale'" in message and "locale, script, week" in message
    _editor_text(message, fix)


def test_misspelt_nested_key_suggests_sibling() -> None:
    _, message, fix = _problem("{{ locale.contacts.police.phnoe }}")
    assert "locale.contacts.police.phone" in message
    _editor_text(message, fix)


@pytest.mark.parametrize("body", [
    "{{ locale.name.foo }}",
    "{{ locale.name @ 1 }}",
    "{{ 1 + 'x' }}",
    "{{ 1 / 0 }}",
    "{{ locale.name|int + 'x' }}",
    "{{ ''.__class__ }}",
    "{{ locale.name(1) }}",
    "{{ week.days[99] }}",
    "{% for x in [1, 2] %}{{ loop.nextitem + 1 }}{% endfor %}",  # Jinja's own words: "there is no next item"
])
def test_no_python_wording(body: str) -> None:
    _, message, fix = _problem("A.\n" + body)
    _editor_text(message, fix)
    assert "there is no" not in message and "'there" not in fix


@pytest.mark.parametrize("body", [
    "{{ 'Cảnh báo lừa đảo'|truncate(-5) }}",  # the filter asserts its own arguments
    "{{ 'Cảnh báo lừa đảo'|truncate(9, leeway=-1) }}",
    "{{ cycler() }}",  # a RuntimeError: at least one item
])
def test_a_filter_refusing_its_arguments_is_a_render_error_at_its_line(body: str) -> None:
    line, message, fix = _problem("A.\nB.\n" + body)
    assert line == _line(3)
    _editor_text(message, fix)


# -- 3. a body that airs nothing -----------------------------------------------------

@pytest.mark.parametrize("body", [
    "{% if false %}Kính thưa bà con.{% endif %}",
    "   \n\n  ",
    "{{ '' }}\n. , ! ...\n--",
    "{% for c in [] %}Nội dung.{% endfor %}!",
])
def test_body_rendering_to_no_words_is_a_content_error_at_the_body(body: str) -> None:
    line, message, fix = _problem(body)
    assert line == _line(1)
    assert "chuông" in message
    _editor_text(message, fix)
