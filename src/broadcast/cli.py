"""Command line: parse, call the stages, print. No logic of its own.

Errors the user can fix are click exceptions carrying a Vietnamese message (exit 2 for
content errors), so no traceback ever reaches a culture-centre editor or a cron log.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime, timedelta
from importlib.metadata import version as package_version
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from . import lint as lint_stage
from .build import build as run_build
from .build import clip_keys_in_use, say
from .errors import BroadcastError, ContentError
from .lint import Lexicons
from .locales import all_provinces, find_province, import_locales
from .model import Week
from .plan import plan_week
from .project import cache_folder, find_root, load_project, segment_folder
from .render import RenderError, render
from .report import show_plan
from .select import estimated_durations, select_locales
from .speech import normalize
from .starter import create_project
from .tts import ClipCache, voice_status
from .tts import doctor as tts_doctor
from .workers import interrupted, stop_on_sigterm

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _next_week() -> Week:
    return Week.containing((datetime.now(TZ) + timedelta(days=7)).date())


def _week_option(value: str | None) -> Week:
    return Week.parse(value) if value else _next_week()


project_option = click.option(
    "--project", "project_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Thư mục dự án (mặc định: thư mục hiện tại). Project folder (default: current directory).",
)
week_option = click.option("--week", "week", metavar="YYYY-Www", default=None,
                           help="Tuần ISO, ví dụ 2026-W49 (mặc định: tuần tới). ISO week, default next week.")


def _root(project_dir: Path | None) -> Path:
    return find_root(project_dir or Path.cwd())


class _Commands(click.Group):
    """Converts every error a user can fix, once, into a message and an exit code (beets' ui.main)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except BroadcastError as exc:
            click.echo(exc.report(), err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM via stop_on_sigterm: a clean stop
            error = interrupted(stop)
            click.echo(error.report(), err=True)
            ctx.exit(error.exit_code)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_version("broadcast"), prog_name="broadcast")
def main() -> None:
    """broadcast: kịch bản cảnh báo lừa đảo -> âm thanh và lịch phát cho đài truyền thanh xã.

    Turns templated Vietnamese anti-scam warning scripts into broadcast-ready audio
    and weekly playlists for commune loudspeaker systems.
    """
    stop_on_sigterm()


@main.command()
@project_option
@week_option
@click.option("--strict", is_flag=True, help="Coi cảnh báo là lỗi (exit 1). Treat warnings as failure.")
def lint(project_dir: Path | None, week: str | None, strict: bool) -> None:
    """Kiểm tra toàn bộ dự án và dựng thử mọi kịch bản cho mọi xã.

    Validates every file and renders every script for every locale. Exit code:
    0 clean, 1 warnings with --strict, 2 errors.
    """
    result = lint_stage.lint(_root(project_dir), _week_option(week))
    for problem in result.problems:
        click.echo(str(problem), err=True)
    click.echo(result.summary())
    if result.errors:
        sys.exit(2)
    if strict and result.warnings:
        sys.exit(1)


@main.command("render")
@click.argument("script_id", metavar="SCRIPT")
@click.option("--locale", "locale_id", required=True, metavar="LOCALE",
              help="Xã, ví dụ lang-son/xa-chi-lang hoặc xa-chi-lang. Locale id.")
@click.option("--spoken", is_flag=True, help="In dạng đọc thành lời (sau chuẩn hóa). Print the spoken form.")
@project_option
@week_option
def render_command(script_id: str, locale_id: str, spoken: bool, project_dir: Path | None, week: str | None) -> None:
    """In nội dung kịch bản SCRIPT như sẽ được đọc cho một xã.

    Prints the text of SCRIPT for LOCALE; with --spoken, exactly as the voice will read
    it (numbers, dates, phone numbers and abbreviations written out).
    """
    project = load_project(_root(project_dir))
    script = project.script(script_id)
    if script is None:
        raise click.BadParameter(f"không có kịch bản '{script_id}'; có: {', '.join(s.id for s in project.scripts)}",
                                 param_hint="SCRIPT")
    locale = project.locale(locale_id)
    if locale is None:
        raise click.BadParameter(f"không có xã '{locale_id}'; có: {', '.join(loc.id for loc in project.locales)}",
                                 param_hint="--locale")
    try:
        text = render(script, locale, _week_option(week))
    except RenderError as exc:
        raise ContentError([exc.problem]) from None
    if spoken:
        lexicons = Lexicons(project)
        text = normalize(text, lexicons.of(locale))
        if lexicons.problems:
            raise ContentError(lexicons.problems)
    click.echo(text)


@main.command("normalize")
@click.argument("texts", nargs=-1, metavar="[TEXT]...")
@project_option
@click.option("--locale", "locale_id", default=None, metavar="LOCALE", help="Dùng từ điển của xã này.")
def normalize_command(texts: tuple[str, ...], project_dir: Path | None, locale_id: str | None) -> None:
    """In dạng đọc thành lời của mỗi TEXT (không có TEXT: đọc từng dòng từ đầu vào chuẩn).

    Prints the spoken form of each TEXT; with no TEXT, reads standard input and prints
    exactly one line per input line. Uses the project's lexicon when run in a project.
    """
    lexicon = None
    try:
        root = _root(project_dir)
    except click.ClickException:
        if project_dir is not None:
            raise
        root = None  # outside a project: the built-in readings only
    if root is not None:
        project = load_project(root)
        lexicons = Lexicons(project)
        locale = project.locale(locale_id) if locale_id else None
        if locale_id and locale is None:
            raise click.BadParameter(f"không có xã '{locale_id}'", param_hint="--locale")
        lexicon = lexicons.of(locale) if locale else lexicons.base
        if lexicons.problems:
            raise ContentError(lexicons.problems)
    lines = texts if texts else (line.rstrip("\n") for line in click.get_text_stream("stdin"))
    for line in lines:
        click.echo(" ".join(normalize(line, lexicon).split()))


@main.command("build")
@project_option
@week_option
@click.option("--locale", "locale_ids", multiple=True, metavar="LOCALE", help="Chỉ dựng xã này (lặp lại được).")
@click.option("--province", "provinces", multiple=True, metavar="PROVINCE", help="Chỉ dựng tỉnh này.")
@click.option("--jobs", type=click.IntRange(1, 256), default=None, help="Số tiến trình (mặc định: số lõi CPU).")
@click.option("--allow-placeholders", is_flag=True, help="Dựng thử dù còn chỗ <<CẦN ĐIỀN>>. Build despite placeholders.")
@click.option("--strict", is_flag=True, help="Cảnh báo (tin không vừa buổi phát) là lỗi: exit 1.")
@click.option("--json", "as_json", is_flag=True, help="In tóm tắt dạng JSON cho máy đọc. Machine-readable summary.")
def build_command(project_dir: Path | None, week: str | None, locale_ids: tuple[str, ...], provinces: tuple[str, ...],
                  jobs: int | None, allow_placeholders: bool, strict: bool, as_json: bool) -> None:
    """Dựng toàn bộ âm thanh và lịch phát của một tuần vào output/<tuần>/.

    The weekly job: every message file, a program file and playlist per slot, the
    printable schedule, calendar, CSV, Liquidsoap script and manifest, published in one
    atomic step. Exit 0 ok, 1 warnings under --strict or some communes failed, 2 content errors.
    """
    root = _root(project_dir)
    project = load_project(root)
    locales = select_locales(project, locale_ids, provinces)
    result = run_build(root, _week_option(week), locales, jobs=jobs, allow_placeholders=allow_placeholders,
                       strict=strict, project=project)
    if as_json:
        click.echo(json.dumps({"week": result.week.id, "output": str(result.output), "exit_code": result.exit_code,
                               "stats": result.stats, "warnings": result.warnings, "failures": result.failures,
                               "files": len(result.files)}, ensure_ascii=False, indent=2))
    else:
        click.echo(result.summary())
    sys.exit(result.exit_code)


@main.command("plan")
@project_option
@week_option
@click.option("--locale", "locale_ids", multiple=True, metavar="LOCALE", help="Chỉ xã này (lặp lại được). Only these locales.")
@click.option("--province", "provinces", multiple=True, metavar="PROVINCE", help="Chỉ tỉnh này. Only these provinces.")
@click.option("--strict", is_flag=True, help="Tin không đủ số lần phát là lỗi (exit 1). Shortfalls fail.")
def plan_command(project_dir: Path | None, week: str | None, locale_ids: tuple[str, ...],
                 provinces: tuple[str, ...], strict: bool) -> None:
    """In lịch phát của tuần dưới dạng bảng, không tổng hợp âm thanh.

    Prints the week's plan (which message airs in which slot) without synthesising
    anything; lengths are estimated from the text.
    """
    project = load_project(_root(project_dir))
    the_week = _week_option(week)
    locales = select_locales(project, locale_ids, provinces)
    result = plan_week(project, the_week, estimated_durations(project, the_week), locales)
    show_plan(result)
    if strict and result.shortfalls:
        sys.exit(1)


@main.command()
@project_option
@click.option("--offline", is_flag=True, help="Không thử kết nối mạng. Skip the online reachability probe.")
def voices(project_dir: Path | None, offline: bool) -> None:
    """Liệt kê các giọng đọc và cho biết giọng nào dùng được.

    Lists voice profiles with their availability (library importable, model present,
    online service reachable within 3 s).
    """
    root = _root(project_dir)
    project = load_project(root)
    probe = (lambda url, timeout: (False, "bỏ qua kiểm tra mạng (--offline)")) if offline else None
    for voice in project.voices:
        status = voice_status(voice, root, probe=probe)
        mark = "OK " if status.ok else "LỖI"
        fallback = f", dự phòng: {voice.fallback}" if voice.fallback else ""
        click.echo(f"[{mark}] {voice.id} ({voice.engine}{fallback}): {voice.description or status.detail}")
        if not status.ok:
            click.echo(f"       {status.detail}. Cách sửa: {status.fix}")


@main.command()
@project_option
@click.option("--offline", is_flag=True, help="Không thử kết nối mạng. Skip the online reachability probe.")
def doctor(project_dir: Path | None, offline: bool) -> None:
    """Kiểm tra môi trường: ffmpeg, espeak-ng, các giọng đọc, thư mục cache.

    Checks the whole environment and says how to fix each problem. Exit 1 if any fails.
    """
    root = _root(project_dir)
    project = load_project(root)
    probe = (lambda url, timeout: (False, "bỏ qua kiểm tra mạng (--offline)")) if offline else None
    checks = tts_doctor(root, cache_folder(root), project.voices, probe=probe)
    for check in checks:
        click.echo(f"[{'OK ' if check.ok else 'LỖI'}] {check.name}: {check.detail}")
        if not check.ok:
            click.echo(f"       Cách sửa: {check.fix}")
    failed = sum(not c.ok for c in checks)
    click.echo(f"{len(checks) - failed}/{len(checks)} mục đạt (checks passed)")
    if failed:
        sys.exit(1)


@main.group()
def cache() -> None:
    """Bộ nhớ đệm các câu đã tổng hợp (clip cache)."""


@cache.command("stats")
@project_option
def cache_stats(project_dir: Path | None) -> None:
    """Số câu và dung lượng trong cache. Number and size of cached clips."""
    folder = cache_folder(_root(project_dir))
    count, size = ClipCache(folder).stats()
    click.echo(f"{count} câu, {size / 1e6:.1f} MB trong {folder}")


@cache.command("prune")
@project_option
def cache_prune(project_dir: Path | None) -> None:
    """Xóa các câu trong cache mà không kịch bản hiện tại nào dùng.

    Drops cached clips that no current script uses, for any commune.
    """
    root = _root(project_dir)
    project = load_project(root)
    keep = clip_keys_in_use(project, _next_week())
    removed, size = ClipCache(cache_folder(root)).prune(keep)
    click.echo(f"đã xóa {removed} câu ({size / 1e6:.1f} MB), giữ {len(keep)} câu đang dùng (pruned {removed})")
    segments = segment_folder(root)
    if segments.is_dir():  # mastered pieces are remade on demand: dropping them all is always safe
        count = sum(1 for p in segments.rglob("*") if p.is_file() and p.suffix != ".json")
        shutil.rmtree(segments)
        click.echo(f"đã xóa {count} đoạn âm thanh đã xử lý (mastered segments), sẽ làm lại khi cần")


@main.command("say")
@click.argument("texts", nargs=-1, metavar="[TEXT]...")
@click.option("--voice", "voice_id", default=None, metavar="VOICE", help="Giọng đọc (mặc định: giọng của dự án).")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Tệp kết quả .mp3 hoặc .wav. Output file.")
@click.option("--script", "script_id", default=None, metavar="SCRIPT", help="Đọc cả kịch bản này (cần --locale).")
@click.option("--locale", "locale_id", default=None, metavar="LOCALE", help="Xã (cho --script và từ điển).")
@project_option
@week_option
def say_command(texts: tuple[str, ...], voice_id: str | None, out: Path, script_id: str | None,
                locale_id: str | None, project_dir: Path | None, week: str | None) -> None:
    """Đọc thử một câu (hoặc cả kịch bản) ra tệp âm thanh để nghe.

    Normalises and synthesises TEXT (or a whole rendered script with --script and
    --locale) into FILE.mp3 or FILE.wav, mastered as a message would be.
    """
    if out.suffix.lower() not in (".mp3", ".wav"):
        raise click.BadParameter("tệp kết quả phải là .mp3 hoặc .wav", param_hint="-o")
    project = load_project(_root(project_dir))
    locale = project.locale(locale_id) if locale_id else None
    if locale_id and locale is None:
        raise click.BadParameter(f"không có xã '{locale_id}'", param_hint="--locale")
    if script_id:
        script = project.script(script_id)
        if script is None or locale is None:
            raise click.BadParameter("--script cần một kịch bản có thật và --locale", param_hint="--script")
        try:
            text = render(script, locale, _week_option(week))
        except RenderError as exc:
            raise ContentError([exc.problem]) from None
        voice_id = voice_id or project.voice_for(script, locale)
    elif texts:
        text = " ".join(texts)
    else:
        raise click.UsageError("cho một câu TEXT hoặc --script S --locale L")
    voice_id = voice_id or project.settings.default_voice
    if voice_id not in {v.id for v in project.voices}:
        raise click.BadParameter(f"không có giọng '{voice_id}'; có: {', '.join(v.id for v in project.voices)}",
                                 param_hint="--voice")
    rendered = say(project, text, voice_id, out, locale)
    click.echo(f"đã ghi {out} ({rendered.duration:.1f} giây)")


@main.group()
def locales() -> None:
    """Quản lý danh sách xã, phường (locales)."""


@locales.command("import")
@project_option
@click.option("--province", "province_names", multiple=True, metavar="TÊN",
              help='Tỉnh cần nhập, ví dụ "Lạng Sơn" (lặp lại được). Province to import.')
@click.option("--all", "import_all", is_flag=True, help="Nhập cả 34 tỉnh, 3.321 xã. Import every province.")
@click.option("--schedule", default=None, metavar="ID", help="Lịch phát cho tỉnh mới (mặc định: lịch đầu tiên).")
def locales_import(project_dir: Path | None, province_names: tuple[str, ...], import_all: bool,
                   schedule: str | None) -> None:
    """Tạo tệp cho mọi xã của tỉnh từ danh mục hành chính (gói vietnam-provinces).

    Writes locales/<province>/<commune>.yaml for every commune, from the official
    post-July-2025 list. Existing files are never overwritten: only missing fields are
    added. Values each commune must fill in are marked <<CẦN ĐIỀN: ...>>.
    """
    if not province_names and not import_all:
        raise click.UsageError("chọn --province TÊN hoặc --all")
    root = _root(project_dir)
    schedule = schedule or next((p.stem for p in sorted((root / "schedules").glob("*.yaml"))), "sang-chieu")
    provinces = all_provinces() if import_all else [find_province(name) for name in province_names]
    report = import_locales(root, provinces, schedule)
    for rel, fields in sorted(report.completed.items()):
        click.echo(f"{rel}: bổ sung {', '.join(fields)}")
    click.echo(report.summary())


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Tạo dự án mới với một ví dụ nhỏ chạy được trong DIRECTORY.

    Creates a new project with a minimal working example. Values each commune must
    fill in are marked <<CẦN ĐIỀN: ...>>; lint lists them.
    """
    created = create_project(directory)
    click.echo(f"Đã tạo dự án mới tại {directory} ({len(created)} tệp). Created a new project.")
    click.echo("Bước tiếp theo: điền các chỗ <<CẦN ĐIỀN>>, rồi chạy 'broadcast lint'.")


if __name__ == "__main__":  # pragma: no cover
    main()
