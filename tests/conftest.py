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
