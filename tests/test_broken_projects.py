"""Every way staff can break a project gives file:line, a fix, exit code 2 and no traceback."""

from __future__ import annotations

import os

import pytest

from conftest import run

SCRIPT = "scripts/canh-bao.yaml"


def script(body: str = "Kính thưa bà con {{ locale.name }}!", **fields: str) -> str:
    head = {"id": "canh-bao", "title": "Cảnh báo thử", "source": "Công an tỉnh Lạng Sơn",
            "level": "normal", "valid": "{from: 2024-12-04}", "repeat": "1", **fields}
    lines = [f"{k}: {v}" for k, v in head.items() if v is not None]
    return "\n".join(lines) + "\nbody: |\n" + "".join(f"  {line}\n" for line in body.splitlines())


# (name, files, expected "file:line", a word the message must contain)
BROKEN = [
    ("yaml-syntax", {SCRIPT: "id: canh-bao\ntitle: [chưa đóng ngoặc\nbody: x\n"}, f"{SCRIPT}:3", "YAML"),
    ("tab-indent", {SCRIPT: "id: canh-bao\nvalid:\n\tfrom: 2024-12-04\n"}, f"{SCRIPT}:3", "YAML"),
    ("unknown-field", {SCRIPT: script(titel="x")}, f"{SCRIPT}:7", "unknown field"),
    ("wrong-type", {SCRIPT: script(repeat="hai")}, f"{SCRIPT}:6", "số nguyên"),
    ("missing-title", {SCRIPT: script(title=None)}, f"{SCRIPT}:1", "thiếu trường bắt buộc 'title'"),
    ("bad-level", {SCRIPT: script(level="urgent")}, f"{SCRIPT}:4", "emergency"),
    ("id-not-slug", {SCRIPT: script(id="'Canh Bao'")}, f"{SCRIPT}:1", "not a slug"),
    ("id-traversal", {SCRIPT: script(id="../../etc/passwd")}, f"{SCRIPT}:1", "not a slug"),
    ("id-not-file-name", {SCRIPT: script(id="canh-bao-khac")}, f"{SCRIPT}:1", "file name"),
    ("undefined-variable", {SCRIPT: script("Dòng một.\n\nGọi {{ locale.contacts.fire.phone }}.")}, f"{SCRIPT}:10",
     "fire"),
    ("sandbox-mro", {SCRIPT: script("Xin chào {{ ''.__class__.__mro__ }}")}, f"{SCRIPT}:8", "sandbox"),
    ("sandbox-globals", {SCRIPT: script("A\n{{ locale.name.upper.__globals__ }}")}, f"{SCRIPT}:9", "sandbox"),
    ("include-file", {SCRIPT: script("{% include '/etc/passwd' %}")}, f"{SCRIPT}:8", "include"),
    ("import-file", {SCRIPT: script("a\n{% import 'os' as os %}")}, f"{SCRIPT}:9", "include"),
    ("template-syntax", {SCRIPT: script("Dòng một.\n{{ locale.name }")}, f"{SCRIPT}:9", "cú pháp mẫu"),
    ("until-before-from", {SCRIPT: script(valid="{from: 2025-01-01, until: 2024-01-01}")}, f"{SCRIPT}:5",
     "until"),
    ("bad-date", {SCRIPT: script(valid="{from: 31/12/2024}")}, f"{SCRIPT}:5", "YYYY-MM-DD"),
    ("unknown-voice", {SCRIPT: script(voice="giong-la")}, f"{SCRIPT}:7", "espeak-vi"),
    ("bad-start-time", {"schedules/sang-chieu.yaml": "id: sang-chieu\nslots:\n  - name: sang\n    start: '25:00'\n"
                        "    minutes: 15\n"}, "schedules/sang-chieu.yaml:4", "06:00"),
    ("bad-days", {"schedules/sang-chieu.yaml": "id: sang-chieu\nslots:\n  - name: sang\n    days: [thu-hai]\n"
                  "    start: '06:00'\n    minutes: 15\n"}, "schedules/sang-chieu.yaml:4", "t2"),
    ("bad-commune-code", {"locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: sáu\n"},
     "locales/lang-son/xa-chi-lang.yaml:2", "administrative code"),
    ("bad-phone", {"locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\ncontacts:\n"
                   "  police:\n    phone: gọi cho tôi\n"}, "locales/lang-son/xa-chi-lang.yaml:5", "phone"),
    ("unknown-schedule", {"locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\nschedule: ca-ngay\n"},
     "locales/lang-son/xa-chi-lang.yaml:3", "sang-chieu"),
    ("duplicate-key", {"locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\nname: Xã Khác\n"},
     "locales/lang-son/xa-chi-lang.yaml:3", "dòng 1"),
    ("missing-province-file", {"locales/lang-son/_province.yaml": None}, "locales/lang-son/_province.yaml",
     "_province.yaml"),
    ("not-a-mapping", {"voices/espeak-vi.yaml": "- espeak\n- vi\n"}, "voices/espeak-vi.yaml:1", "mapping"),
    ("not-utf8", {"voices/espeak-vi.yaml": "id: espeak-vi\nengine: espeak\ndescription: Gi\xf4ng\n".encode("latin-1")},
     "voices/espeak-vi.yaml:3", "UTF-8"),
    ("unknown-fallback", {"voices/espeak-vi.yaml": "id: espeak-vi\nengine: espeak\nfallback: khong-co\n"},
     "voices/espeak-vi.yaml:3", "fallback"),
    ("settings-bad-preset", {"broadcast.yaml": "name: Thử\npreset: radio\n"}, "broadcast.yaml:2", "phat-thanh"),
    ("duplicate-slot", {"schedules/sang-chieu.yaml": "id: sang-chieu\nslots:\n  - {name: sang, start: '06:00', minutes: 5}\n"
                        "  - {name: sang, start: '07:00', minutes: 5}\n"}, "schedules/sang-chieu.yaml:2", "sang"),
]


@pytest.mark.parametrize("files, where, word", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_project_is_reported_with_file_and_line(project, files, where, word):
    root = project(files)
    result = run("lint", "--project", str(root))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.startswith(where + ":") or line.startswith(where)]
    assert lines, f"no problem at {where}:\n{result.output}"
    assert any(word in line for line in lines), result.output
    assert all("Cách sửa:" in line for line in lines)


def test_undefined_variable_names_script_locale_line_and_name(project):
    root = project({SCRIPT: script("Dòng một.\n\nGọi {{ locale.contacts.fire.phone }}.")})
    result = run("render", "canh-bao", "--locale", "xa-chi-lang", "--project", str(root))
    assert result.exit_code == 2
    assert f"{SCRIPT}:10" in result.output and "lang-son/xa-chi-lang" in result.output and "'fire'" in result.output


def test_symlink_escaping_the_project_is_rejected(project, tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("id: ngoai\n", encoding="utf-8")
    root = project()
    os.symlink(outside, root / "scripts" / "ngoai.yaml")
    result = run("lint", "--project", str(root))
    assert result.exit_code == 2 and "scripts/ngoai.yaml" in result.output and "ngoài thư mục dự án" in result.output


def test_not_a_project_is_a_clear_error(tmp_path):
    result = run("lint", "--project", str(tmp_path))
    assert result.exit_code == 2 and "broadcast.yaml" in result.output and "Traceback" not in result.output
