"""Whatever an editor writes, lint and render answer with a message, never a traceback, in
seconds and in bounded memory (issue 12). Random YAML values and structures in every kind of
project file, and random template fragments (including the resource bombs a sandbox must cap)
in a script body, go through the application layer as the studio and the CLI call it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadcast import app
from broadcast.errors import BroadcastError
from broadcast.model import Week
from conftest import MINIMAL, make_project

WEEK = Week(2026, 49)
SECONDS = 5.0

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True),
    st.text(max_size=40), st.dates().map(str), st.sampled_from(["2026-13-01", "2024-02-30", "0000-01-01",
                                                                 "2025-01-01 10:00", "1e20", "t2", "06:00", "25:99",
                                                                 "<<CẦN ĐIỀN: số>>", "xã", "xa\u0300", "\u202e"]),
)
structures = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["id", "name", "code", "phone", "slots", "start", "minutes", "days", "valid", "from", "until", "body",
         "level", "repeat", "voice", "preset", "contacts", "police", "station", "lexicon", "words", "params"]),
        inner, max_size=5)), max_leaves=12)

FRAGMENTS = [
    "Kính thưa bà con ", "{{ locale.name }}", "{{ locale.contacts.police.phone }}", "{{ locale.nope }}",
    "{% if locale.name %}", "{% endif %}", "{% for i in range(3) %}", "{% endfor %}", "{{ 9 ** 9 ** 9 }}",
    "{% for i in range(10**6) %}{% for j in range(10**6) %}x{% endfor %}{% endfor %}", "{{ lipsum(200000) }}",
    "{{ 'a' * 10**9 }}", "{{ [1] * 10**9 }}", "{{ '%0999999999d' | format(1) }}", "{{ 'x'.center(10**9) }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{{ ''.__class__ }}", "[đọc: Zalo | da lô", "]",
    "[từng số: 113]", "0912.345.678", "113", ".", "!", "\n\n", "{{", "}}", "{%", "%}", "Xin cảm ơn.",
]
bodies = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6).map("".join)


def _check(root: Path) -> None:
    """lint and render through the application layer: a BroadcastError or a result, quickly."""
    started = time.monotonic()
    try:
        workspace = app.open_workspace(root)
        workspace.lint(WEEK)
        project = workspace.project
        for script in project.scripts:
            for locale in project.locales:
                workspace.render(script.id, locale.id, WEEK, spoken=True)
    except BroadcastError as exc:
        assert str(exc)  # a message a person can read
    assert time.monotonic() - started < SECONDS


FILES = ["broadcast.yaml", "voices/espeak-vi.yaml", "schedules/sang-chieu.yaml", "locales/lang-son/_province.yaml",
         "locales/lang-son/xa-chi-lang.yaml", "scripts/canh-bao.yaml", "lexicon.yaml"]


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(target=st.sampled_from(FILES), value=structures)
def test_random_yaml_in_any_file(tmp_path_factory, target, value):
    root = make_project(tmp_path_factory.mktemp("y") / "p", {target: yaml.safe_dump(value, allow_unicode=True)})
    _check(root)


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(body=bodies)
def test_random_template_fragments(tmp_path_factory, body):
    script = textwrap.dedent(MINIMAL["scripts/canh-bao.yaml"]).split("body: |")[0] + "body: |\n" + "".join(
        f"  {line}\n" for line in body.splitlines() or [""])
    root = make_project(tmp_path_factory.mktemp("t") / "p", {"scripts/canh-bao.yaml": script})
    _check(root)


ALIAS_BOMB = "vars:\n  a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  {chr(98 + n)}: &{chr(98 + n)} [*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, "
    f"*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}]\n" for n in range(8))


def test_lint_and_render_fit_in_1_gib_whatever_the_content(tmp_path):
    """Under an address-space limit of 1 GiB: an alias bomb in one commune's file, and every
    template bomb in a script rendered for the other; the answer is a message, not a MemoryError."""
    body = "".join(f"  {fragment}\n" for fragment in FRAGMENTS)
    script = textwrap.dedent(MINIMAL["scripts/canh-bao.yaml"]).split("body: |")[0] + "body: |\n" + body
    root = make_project(tmp_path / "p", {"scripts/canh-bao.yaml": script,
                                         "locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\n"
                                         + ALIAS_BOMB})
    child = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from broadcast.cli import main
        main(args=["lint", "--week", "2026-W49", "--project", {str(root)!r}], prog_name="broadcast")
    """)
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    assert "scripts/canh-bao.yaml:" in done.stderr and "locales/lang-son/xa-huu-lung.yaml:" in done.stderr


def test_a_build_fits_in_1_gib(tmp_path):
    """A build with its worker processes (each under the same 1 GiB address-space limit)."""
    from test_kill import big_project

    root = big_project(tmp_path / "p")
    child = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from broadcast.cli import main
        main(args=["build", "--week", "2026-W49", "--jobs", "2", "--project", {str(root)!r}], prog_name="broadcast")
    """)
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "6 xã, 24 tệp tin" in done.stdout
