"""The application layer, called as the studio will call it: no CLI runner, plain data back."""

from __future__ import annotations

import errno
import json
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from broadcast import app
from broadcast.errors import EXIT_CONTENT, BroadcastError, ContentError, EnvironmentProblem, UsageError
from broadcast.manifest import SCHEMA, Entry, published
from broadcast.model import Week
from broadcast.publish import Staging
from conftest import make_project

WEEK = Week(2026, 49)
FILES = {
    "broadcast.yaml": "name: Thử\nmin_airings: 1\n",
    "scripts/canh-bao.yaml": """\
        id: canh-bao
        title: Cảnh báo thử
        source: Công an tỉnh Lạng Sơn, 04/12/2024
        level: priority
        valid: {from: 2024-12-04}
        repeat: 2
        body: |
          Kính thưa bà con {{ locale.name }}!

          Hãy gọi {{ locale.contacts.police.name }}, số {{ locale.contacts.police.phone }}.
        """,
}


@pytest.fixture
def workspace(tmp_path: Path) -> app.Workspace:
    return app.open_workspace(make_project(tmp_path / "p", FILES))


def test_open_finds_the_project_from_a_subfolder(workspace):
    inner = workspace.root / "scripts"
    assert app.open_workspace(inner).root == workspace.root.resolve()
    with pytest.raises(BroadcastError) as caught:
        app.open_workspace(workspace.root.parent)
    assert caught.value.exit_code == EXIT_CONTENT and "broadcast.yaml" in caught.value.message
    assert "broadcast init" in caught.value.fix


def test_lint_returns_structured_problems(workspace):
    (workspace.root / "scripts" / "canh-bao.yaml").write_text(
        (workspace.root / "scripts" / "canh-bao.yaml").read_text(encoding="utf-8").replace("level: priority", "level: urgent"),
        encoding="utf-8")
    result = workspace.lint(WEEK)
    [problem] = result.errors
    assert (problem.file, problem.line, problem.field) == ("scripts/canh-bao.yaml", 4, "level")
    assert "normal, priority, emergency" in problem.hint


def test_lint_and_plan_name_the_scripts_that_will_not_air(workspace):
    scripts = workspace.root / "scripts"
    text = (scripts / "canh-bao.yaml").read_text(encoding="utf-8")
    (scripts / "cu.yaml").write_text(text.replace("id: canh-bao", "id: cu").replace(
        "{from: 2024-12-04}", "{from: 2024-01-01, until: 2024-12-31}"), encoding="utf-8")
    (scripts / "sau.yaml").write_text(text.replace("id: canh-bao", "id: sau").replace("2024-12-04", "2027-01-04"),
                                      encoding="utf-8")
    result = workspace.lint(WEEK)
    assert {(n.script_id, n.reason) for n in result.not_airing} == {("cu", "expired"), ("sau", "not-yet-valid")}
    assert not result.errors
    warned = {(w.file, w.line, w.field) for w in result.warnings}
    assert warned == {("scripts/cu.yaml", 5, "valid"), ("scripts/sau.yaml", 5, "valid")}
    assert all("(expired" in w.message or "(not yet valid" in w.message for w in result.warnings)
    plan = workspace.plan(WEEK)
    assert {(n.script_id, n.reason) for n in plan.not_airing} == {("cu", "expired"), ("sau", "not-yet-valid")}


def test_render_and_spoken_form(workspace):
    text = workspace.render("canh-bao", "xa-chi-lang", WEEK)
    assert text.splitlines()[0] == "Kính thưa bà con Xã Chi Lăng!" and "số 113." in text
    spoken = workspace.render("canh-bao", "lang-son/xa-chi-lang", WEEK, spoken=True)
    assert "một một ba" in spoken and "113" not in spoken


def test_unknown_ids_are_usage_errors_naming_the_choices(workspace):
    with pytest.raises(UsageError) as caught:
        workspace.render("khong-co", "xa-chi-lang", WEEK)
    assert caught.value.field == "SCRIPT" and "canh-bao" in caught.value.fix
    with pytest.raises(UsageError) as caught:
        workspace.locales(provinces=["ha-noi"])
    assert "lang-son" in caught.value.fix
    with pytest.raises(UsageError):
        app.week_of("2026-W54")


def test_errors_survive_pickling_between_processes():
    error = ContentError([app.Problem("scripts/a.yaml", 3, "level", "sai", "sửa")])
    again = pickle.loads(pickle.dumps(error))
    assert again.problems == error.problems and again.exit_code == EXIT_CONTENT and str(again) == str(error)
    usage = pickle.loads(pickle.dumps(UsageError("x", field="--week", fix="y")))
    assert (usage.field, usage.fix, usage.message) == ("--week", "y", "x")


def test_plan_is_plain_data(workspace):
    plan = workspace.plan(WEEK)
    [commune] = plan.locales
    assert commune.locale_id == "lang-son/xa-chi-lang"
    assert len(commune.programs) == 7 + 3  # sáng every day, chiều Mon/Wed/Fri
    assert all(p.items[0].script_id == "canh-bao" for p in commune.programs if p.items)


def test_build_reports_every_stage_through_events(workspace, caplog):
    events: list[app.Event] = []
    caplog.set_level(logging.INFO, logger="broadcast")
    result = workspace.build(WEEK, jobs=1, listener=events.append)
    assert result.exit_code == 0 and result.count("message") == 1 and result.count("program") == 10
    ends = [e.stage for e in events if e.kind == "end"]
    assert ends == ["speak", "synthesise", "master", "plan", "programs", "publish"]
    for stage in ("synthesise", "master", "programs"):
        progress = [e for e in events if e.stage == stage and e.kind == "progress"]
        assert progress and progress[-1].done == progress[-1].total > 0, stage
    end = {e.stage: e for e in events if e.kind == "end"}
    assert end["speak"].counts == {"communes": 1, "messages": 1}
    assert end["master"].counts["mastered"] == 1 and end["master"].done == end["master"].total > 0
    # a cron log: every stage's start and end, with its counts and seconds
    log = [r.getMessage() for r in caplog.records]
    assert sum(line.startswith("bắt đầu:") for line in log) == 6
    assert any(line.startswith("xong: xử lý âm thanh") and "mastered=1" in line for line in log)
    entries = published(result.output)
    assert set(entries) == {e.path for e in result.files}
    assert all(isinstance(e, Entry) for e in entries.values())
    manifest = json.loads((result.output / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schema"] == SCHEMA and manifest["build"]["stages"].keys() >= {"speak", "master"}


def test_a_stage_that_fails_says_so(workspace, monkeypatch, caplog):
    events: list[app.Event] = []

    def broken(*args, **kwargs):
        raise BroadcastError("hỏng", fix="sửa")

    monkeypatch.setattr("broadcast.build.plan_week", broken)
    caplog.set_level(logging.INFO, logger="broadcast")
    with pytest.raises(BroadcastError):
        workspace.build(WEEK, jobs=1, listener=events.append)
    assert [e.stage for e in events if e.kind == "failed"] == ["plan"]
    assert any(r.getMessage().startswith("dừng: lập lịch phát") for r in caplog.records)
    assert not (workspace.root / "output" / WEEK.id).exists()


def test_preview_is_the_aired_message(workspace, tmp_path):
    result = workspace.build(WEEK, jobs=1)
    aired = result.output / "lang-son/xa-chi-lang/messages/canh-bao.mp3"
    preview = workspace.preview("canh-bao", "xa-chi-lang", WEEK, tmp_path / "nghe.mp3")
    assert preview.path.read_bytes() == aired.read_bytes()
    entry = published(result.output)["lang-son/xa-chi-lang/messages/canh-bao.mp3"]
    assert abs(preview.duration - (entry.seconds or 0)) < 0.001
    # repeat 2: the preview holds the message twice, so it is far longer than one reading
    once = workspace.say(workspace.render("canh-bao", "xa-chi-lang", WEEK), tmp_path / "mot-lan.mp3")
    assert preview.duration > 1.7 * once.duration - 3.0


def test_cache_stats_and_prune(workspace):
    workspace.build(WEEK, jobs=1)
    stats = workspace.cache_stats()
    assert stats.clips > 0 and stats.segments > 0 and stats.clip_bytes > 0
    (workspace.root / "scripts" / "canh-bao.yaml").write_text(
        (workspace.root / "scripts" / "canh-bao.yaml").read_text(encoding="utf-8").replace("Hãy gọi", "Xin hãy gọi"),
        encoding="utf-8")
    workspace.reload()
    pruned = workspace.cache_prune(WEEK)
    assert pruned.removed == 1 and pruned.segments_removed == stats.segments  # the old sentence, every segment
    assert workspace.cache_stats().clips == stats.clips - 1


def test_cache_prune_keeps_the_clips_of_every_week_a_build_may_still_make(tmp_path, monkeypatch):
    """Pruned to next week's clips, a sentence naming the week on air's dates was spoken again when that
    week was rebuilt mid-week (a correction, a bulletin issued again): with an online voice, only with the
    network, and maybe as other audio than the stations already air. Kept: the week on air's, next week's
    and those of a week published further ahead; gone: a past week's."""
    from datetime import date

    from broadcast.tts import ClipCache

    monkeypatch.setattr(app, "today_in", lambda timezone="": date(2026, 12, 2))  # Wednesday of 2026-W49
    dated = FILES["scripts/canh-bao.yaml"].replace(
        "Hãy gọi", "Tuần này, từ ngày {{ week.start | ngay }} đến ngày {{ week.end | ngay }}, hãy gọi")
    workspace = app.open_workspace(make_project(tmp_path / "p", {**FILES, "scripts/canh-bao.yaml": dated}))
    weeks = [Week(2026, n) for n in (48, 49, 50, 52)]
    for week in weeks:
        workspace.build(week, jobs=1)
    cache = ClipCache(workspace.root / ".cache" / "clips")
    needed = {week: workspace.clip_keys_in_use(week) for week in weeks}
    assert all(key in cache for keys in needed.values() for key in keys)
    assert [w.id for w in workspace.weeks_still_built()] == ["2026-W49", "2026-W50", "2026-W52"]
    pruned = workspace.cache_prune()
    assert pruned.removed == 1  # the sentence naming the dates of 2026-W48, aired and over
    for week in weeks[1:]:
        assert all(key in cache for key in needed[week]), week
    assert not all(key in cache for key in needed[weeks[0]])
    (workspace.root / "broadcast.yaml").write_text("name: Thử\nmin_airings: 2\n", encoding="utf-8")
    workspace.reload()
    rebuilt = workspace.build(Week(2026, 49), jobs=1)  # the week on air, rebuilt mid-week
    assert rebuilt.stats["engine_calls"] == 0 and rebuilt.stats["cache_hits"] > 0


def test_import_locales_then_the_project_knows_them(workspace):
    report = workspace.import_locales(["Lạng Sơn"])
    assert len(report.created) == 64 and len(workspace.project.locales) == 65
    with pytest.raises(UsageError):
        workspace.import_locales()


def test_cron_run_logs_each_stage(tmp_path):
    root = make_project(tmp_path / "p", FILES)
    run = subprocess.run([sys.executable, "-m", "broadcast.cli", "build", "--week", WEEK.id, "--jobs", "1",
                          "--project", str(root)], capture_output=True, text=True, env={**os.environ},
                         timeout=300)
    assert run.returncode == 0, run.stderr
    for label in ("tổng hợp giọng đọc", "xử lý âm thanh", "phát hành"):
        assert any(f"bắt đầu: {label}" in line for line in run.stderr.splitlines()), run.stderr
        assert any(f"xong: {label}" in line and line.rstrip().endswith(" s") for line in run.stderr.splitlines())
    assert "Traceback" not in run.stderr and "Tuần 2026-W49" in run.stdout


def test_a_full_disk_is_an_environment_error_and_the_week_stays(workspace, monkeypatch):
    first = workspace.build(WEEK, jobs=1)
    before = {p: p.read_bytes() for p in first.output.rglob("*") if p.is_file()}
    (workspace.root / "scripts" / "canh-bao.yaml").write_text(
        (workspace.root / "scripts" / "canh-bao.yaml").read_text(encoding="utf-8").replace("Hãy gọi", "Xin hãy gọi"),
        encoding="utf-8")
    workspace.reload()

    def full(self, rel, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path / rel))

    monkeypatch.setattr(Staging, "write_bytes", full)
    with pytest.raises(EnvironmentProblem) as caught:
        workspace.build(WEEK, jobs=1)
    assert caught.value.exit_code == 3 and "ổ đĩa đã đầy" in caught.value.message and ".staging" in caught.value.file
    assert {p: p.read_bytes() for p in first.output.rglob("*") if p.is_file()} == before
    assert not (workspace.root / "output" / ".staging").exists()  # discarded, and no empty folder left


def test_a_damaged_manifest_never_costs_other_communes_their_files(tmp_path):
    files = {**FILES, "locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\n"}
    workspace = app.open_workspace(make_project(tmp_path / "p", files))
    first = workspace.build(WEEK, jobs=1)
    other = first.output / "lang-son/xa-huu-lung/messages/canh-bao.mp3"
    (first.output / "manifest.json").write_text('{"schema": 99}', encoding="utf-8")
    with pytest.raises(BroadcastError) as caught:
        workspace.build(WEEK, ["xa-chi-lang"], jobs=1)
    assert "manifest.json" in caught.value.message and "--locale" in caught.value.fix
    assert other.is_file()
    again = workspace.build(WEEK, jobs=1)  # the whole week: made anew, both communes
    assert {e.locale for e in again.files if e.locale} == {"lang-son/xa-chi-lang", "lang-son/xa-huu-lung"}
    assert json.loads((again.output / "manifest.json").read_text(encoding="utf-8"))["schema"] == SCHEMA


def test_damaged_segments_are_made_again_never_aired(workspace, tmp_path):
    result = workspace.build(WEEK, jobs=1)
    aired = (result.output / "lang-son/xa-chi-lang/messages/canh-bao.mp3").read_bytes()
    segments = [p for p in (workspace.root / ".cache" / "segments").rglob("*.mp3")]
    assert segments
    for path in segments:  # a disk error, or a copy cut short: the sidecars still say all is well
        path.write_bytes(path.read_bytes()[:200])
    preview = workspace.preview("canh-bao", "xa-chi-lang", WEEK, tmp_path / "nghe.mp3")
    assert preview.path.read_bytes() == aired


def test_a_commune_with_its_own_preset_airs_and_previews_in_it(tmp_path):
    files = {**FILES, "locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\npreset: phat-thanh\n"}
    workspace = app.open_workspace(make_project(tmp_path / "p", files))
    assert workspace.locale("xa-huu-lung").preset.container == "wav"
    result = workspace.build(WEEK, jobs=1)
    kinds = {e.path.rsplit(".", 1)[-1] for e in result.files if e.kind == "message"}
    assert kinds == {"mp3", "wav"}
    wav = result.output / "lang-son/xa-huu-lung/messages/canh-bao.wav"
    assert wav.read_bytes()[:4] == b"RIFF"
    preview = workspace.preview("canh-bao", "xa-huu-lung", WEEK, tmp_path / "nghe.wav")
    assert preview.path.read_bytes() == wav.read_bytes()
    with pytest.raises(UsageError):
        workspace.preview("canh-bao", "xa-huu-lung", WEEK, tmp_path / "nghe.mp3")


def test_one_communes_bad_file_fails_that_commune_only(tmp_path):
    files = {**FILES, "locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\n"}
    root = make_project(tmp_path / "p", files)
    workspace = app.open_workspace(root)
    first = workspace.build(WEEK, jobs=1)
    kept = (first.output / "lang-son/xa-huu-lung/messages/canh-bao.mp3").read_bytes()
    (root / "locales/lang-son/xa-huu-lung.yaml").write_text("name: Xã Hữu Lũng\ncode: '06385'\nstation: \"Đài\\nxã\"\n",
                                                           encoding="utf-8")
    (root / "scripts/canh-bao.yaml").write_text(
        (root / "scripts/canh-bao.yaml").read_text(encoding="utf-8").replace("Hãy gọi", "Xin hãy gọi"), encoding="utf-8")
    workspace = app.open_workspace(root)
    result = workspace.build(WEEK, jobs=1)
    assert result.exit_code == 1
    [failure] = result.failures
    assert failure.startswith("lang-son/xa-huu-lung: locales/lang-son/xa-huu-lung.yaml:3")
    assert (first.output / "lang-son/xa-huu-lung/messages/canh-bao.mp3").read_bytes() == kept  # kept as it was
    assert any(e.locale == "lang-son/xa-chi-lang" and e.kind == "message" for e in result.files)
    from conftest import run

    cli = run("build", "--week", WEEK.id, "--jobs", "1", "--json", "--project", str(root))
    assert cli.exit_code == 1 and "xa-huu-lung.yaml:3" in cli.output  # the command says the same
    with pytest.raises(ContentError):  # only the broken commune asked for: nothing to build, nothing published
        workspace.build(WEEK, ["xa-huu-lung"], jobs=1)
    with pytest.raises(ContentError):  # --strict: any error is fatal before anything is published
        workspace.build(WEEK, jobs=1, strict=True)
    assert workspace.lint(WEEK).errors  # lint still says exit 2
    with pytest.raises(ContentError):  # an error outside a commune's own files stops everything
        (root / "broadcast.yaml").write_text("name: Thử\nmin_airings: 0\n", encoding="utf-8")
        app.open_workspace(root).build(WEEK, jobs=1)


def test_an_unwritable_output_is_an_environment_error(workspace, monkeypatch):
    """As root the tests cannot chmod their way out of writing; the OS's answer is simulated."""
    def refused(self):
        raise PermissionError(errno.EACCES, "Permission denied", str(self.output / ".staging"))

    monkeypatch.setattr(Staging, "__post_init__", refused)
    with pytest.raises(EnvironmentProblem) as caught:
        workspace.build(WEEK, jobs=1)
    assert caught.value.exit_code == 3 and "không có quyền ghi" in caught.value.message
    assert caught.value.file.endswith("output/.staging")


def test_a_command_that_masters_nothing_does_not_import_the_filters():
    """scipy.signal and scipy.ndimage take 1.2-1.5 s to import: only mastering needs them, so the
    command line (plan, lint, verify, a build with nothing to do) starts without them."""
    code = "import sys, broadcast.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_choosing_the_week_reads_the_settings_not_every_commune(tmp_path, monkeypatch):
    """`plan` and `build` choose next week in the project's time zone from broadcast.yaml alone,
    then read the communes once: the country's plan read its 3,321 commune files twice."""
    from broadcast import project as project_module
    from conftest import run

    root = make_project(tmp_path / "p")
    reads: list[int] = []
    real = project_module._read_locales
    monkeypatch.setattr(project_module, "_read_locales", lambda *a, **k: (reads.append(1), real(*a, **k))[1])
    result = run("plan", "--json", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert len(reads) == 1
    assert json.loads(result.output)["week"] == app.week_of(None, "Asia/Ho_Chi_Minh").id  # next week, Vietnam time
    reads.clear()
    result = run("build", "--jobs", "1", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert len(reads) == 1


@pytest.mark.parametrize("entry", ["from broadcast.console import main; main()", "-m", "-m broadcast"])
def test_output_in_a_windows_code_page_is_written_in_utf8(tmp_path, entry):
    """A Windows job with its output sent to a log file writes in cp1252, which has no Vietnamese
    letters: lint's summary (stdout) and a project's errors (stderr) come out in UTF-8, with the
    exit code of the result, not a UnicodeEncodeError traceback."""
    root = make_project(tmp_path / "p")
    args = ["lint", "--project", str(root)]
    # "python -m broadcast": the command where Scripts is not on PATH (py -m broadcast on Windows)
    module = {"-m": "broadcast.cli", "-m broadcast": "broadcast"}.get(entry)
    command = [sys.executable, "-m", module, *args] if module else [sys.executable, "-c", entry, *args]
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    done = subprocess.run(command, capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert "kịch bản (scripts)" in done.stdout.decode("utf-8")
    (root / "broadcast.yaml").write_text("name: [chưa đóng\n", encoding="utf-8")
    done = subprocess.run(command, capture_output=True, env=env, timeout=120)
    errors = done.stderr.decode("utf-8")
    assert done.returncode == 2 and "Traceback" not in errors and "broadcast.yaml" in errors and "dòng" in errors
