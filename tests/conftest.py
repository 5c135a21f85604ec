"""Shared test helpers: small projects made from a dict of files (Pelican/MkDocs style)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from broadcast.cli import main

REPO = Path(__file__).resolve().parents[1]

MINIMAL = {
    "broadcast.yaml": """\
        name: Dự án thử
        default_voice: espeak-vi
        """,
    "voices/espeak-vi.yaml": """\
        id: espeak-vi
        engine: espeak
        params: {voice: vi}
        """,
    "schedules/sang-chieu.yaml": """\
        id: sang-chieu
        slots:
          - name: sang
            days: all
            start: "06:00"
            minutes: 15
          - name: chieu
            days: [t2, t4, t6]
            start: 17:00
            minutes: 20
        """,
    "locales/lang-son/_province.yaml": """\
        province:
          name: Lạng Sơn
          code: "20"
        schedule: sang-chieu
        contacts:
          police:
            name: Công an tỉnh
            phone: "113"
        """,
    "locales/lang-son/xa-chi-lang.yaml": """\
        name: Xã Chi Lăng
        code: "06463"
        division_type: xã
        contacts:
          police:
            name: Công an xã Chi Lăng
        """,
    "scripts/canh-bao.yaml": """\
        id: canh-bao
        title: Cảnh báo thử
        source: Công an tỉnh Lạng Sơn, 04/12/2024
        level: normal
        valid: {from: 2024-12-04, until: 2027-12-31}
        repeat: 1
        body: |
          Kính thưa bà con {{ locale.name }}!

          Hãy gọi {{ locale.contacts.police.name }}, số {{ locale.contacts.police.phone }}.
        """,
}


def make_project(root: Path, files: dict[str, str | bytes | None] | None = None) -> Path:
    """Write MINIMAL updated with `files` (None deletes a file) under `root`."""
    merged = {**MINIMAL, **(files or {})}
    for name, text in merged.items():
        if text is None:
            continue
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def run(*args: str) -> Result:
    """Invoke the CLI in-process; output holds stdout and stderr."""
    return CliRunner().invoke(main, list(args), catch_exceptions=True)


@pytest.fixture
def project(tmp_path: Path):
    def factory(files: dict[str, str | bytes | None] | None = None) -> Path:
        return make_project(tmp_path / "p", files)
    return factory


@pytest.fixture(scope="session")
def example_week(tmp_path_factory) -> Path:
    """The example project (this repository's own) copied and built for week 2026-W49, once per test
    run: its published week folder. For the browser tests, which look at what operators and
    listeners get."""
    import shutil
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("example") / "p"
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if rel.split("/")[0] not in ("tests", "benchmarks", "docs", "src"):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, root / rel)
    done = subprocess.run([sys.executable, "-m", "broadcast.cli", "build", "--week", "2026-W49", "--project",
                           str(root)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return root / "output" / "2026-W49"
