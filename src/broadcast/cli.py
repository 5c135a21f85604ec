"""Command line: parse, call the application layer (`broadcast.app`), print. No logic of its own.

Every error a user can fix is a `BroadcastError` carrying a Vietnamese message and an exit
code; it is converted once, here (beets' ``ui.main``), so no traceback ever reaches a
culture-centre editor or a cron log. Colours, tables and progress bars live only here.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from . import app

project_option = click.option(
    "--project", "project_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Thư mục dự án (mặc định: thư mục hiện tại). Project folder (default: current directory).",
)
week_option = click.option("--week", "week", metavar="YYYY-Www", default=None,
                           help="Tuần ISO, ví dụ 2026-W49 (mặc định: tuần tới). ISO week, default next week.")
locales_options = [
    click.option("--locale", "locale_ids", multiple=True, metavar="LOCALE",
                 help="Chỉ xã này, ví dụ lang-son/xa-chi-lang (lặp lại được). Only these locales."),
    click.option("--province", "provinces", multiple=True, metavar="PROVINCE",
                 help="Chỉ tỉnh này, ví dụ lang-son (lặp lại được). Only these provinces."),
]
offline_option = click.option("--offline", is_flag=True,
                              help="Không thử kết nối mạng. Skip the online reachability probe.")

WEEKDAYS = {1: "Thứ Hai", 2: "Thứ Ba", 3: "Thứ Tư", 4: "Thứ Năm", 5: "Thứ Sáu", 6: "Thứ Bảy", 7: "Chủ Nhật"}


def with_locales(command: Any) -> Any:
    for option in reversed(locales_options):
        command = option(command)
    return command


class _Commands(click.Group):
    """Converts every error a user can fix, once, into a message and an exit code."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:  # an option of `broadcast` itself
            _usage_error(exc, ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # how a command was typed
            _usage_error(exc, ctx)
        except app.BroadcastError as exc:
            click.echo(exc.report(), err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM via stop_on_sigterm: a clean stop
            error = app.interrupted(stop)
            click.echo(error.report(), err=True)
            ctx.exit(error.exit_code)


def _usage_error(exc: click.UsageError, ctx: click.Context) -> NoReturn:
    """How a command was typed wrong, in the words of our own errors; exit 2."""
    where = exc.ctx or ctx
    click.echo(where.get_usage(), err=True)
    click.echo(f"lỗi: {_usage_problem(exc)}. Cách sửa: xem '{where.command_path} --help'.", err=True)
    ctx.exit(2)


def _usage_problem(exc: click.UsageError) -> str:
    """A mistake in how a command was typed, in Vietnamese (Click words it in English only); its
    own detail (a type's complaint) stays in parentheses."""
    hint = exc.param.get_error_hint(exc.ctx) if isinstance(exc, click.BadParameter) and exc.param and exc.ctx \
        else getattr(exc, "param_hint", None) or ""
    detail = exc.message.rstrip(".")
    if isinstance(exc, click.MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param else "parameter")
        return f"thiếu {hint or 'một giá trị'} (missing {kind})"
    if isinstance(exc, click.NoSuchOption):
        maybe = f"; có phải ý bạn là {', '.join(sorted(exc.possibilities))}" if exc.possibilities else ""
        return f"không có tùy chọn {exc.option_name} (no such option){maybe}"
    if isinstance(exc, click.BadParameter):
        return f"giá trị của {hint} không dùng được ({detail})"
    if isinstance(exc, click.BadOptionUsage) and "requires an argument" in detail:
        return f"sau {exc.option_name} cần viết một giá trị ({detail})"
    if detail.startswith("No such command"):
        return f"không có lệnh này ({detail})"
    return f"cách gọi lệnh chưa đúng ({detail})"


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_version("broadcast"), prog_name="broadcast")
@click.option("-v", "--verbose", is_flag=True, help="In nhật ký từng bước (log each stage).")
def main(verbose: bool) -> None:
    """broadcast: kịch bản cảnh báo lừa đảo -> âm thanh và lịch phát cho đài truyền thanh xã.

    Turns templated Vietnamese anti-scam warning scripts into broadcast-ready audio
    and weekly playlists for commune loudspeaker systems.
    """
    app.configure_logging(verbose)
    app.stop_on_sigterm()


def _workspace(project_dir: Path | None) -> app.Workspace:
    return app.open_workspace(project_dir)


@main.command()
@project_option
@week_option
@click.option("--strict", is_flag=True, help="Coi cảnh báo là lỗi (exit 1). Treat warnings as failure.")
def lint(project_dir: Path | None, week: str | None, strict: bool) -> None:
    """Kiểm tra toàn bộ dự án và dựng thử mọi kịch bản cho mọi xã.

    Validates every file and renders every script for every locale. Exit code:
    0 clean, 1 warnings with --strict, 2 errors.
    """
    result = _workspace(project_dir).lint(app.week_of(week))
    for problem in result.problems:
        click.echo(str(problem), err=True)
    click.echo(f"{result.scripts} kịch bản (scripts), {result.locales} xã (locales), "
               f"{result.renders} bản đã dựng (renders), {len(result.warnings)} cảnh báo (warnings), "
               f"{len(result.errors)} lỗi (errors)")
    if result.errors:
        sys.exit(2)
    if strict and result.warnings:
        sys.exit(1)


@main.command("render")
@click.argument("script_id", metavar="SCRIPT")
@click.option("--locale", "locale_id", required=True, metavar="LOCALE",
              help="Xã, ví dụ lang-son/xa-chi-lang hoặc xa-chi-lang. Locale id.")
@click.option("--spoken", is_flag=True, help="In dạng đọc thành lời (sau chuẩn hóa). Print the spoken form.")
@click.option("--voice", "voice_id", metavar="GIỌNG",
              help="Với --spoken: dạng đọc giao cho giọng này (mỗi giọng có cách đọc riêng). The voice's form.")
@project_option
@week_option
def render_command(script_id: str, locale_id: str, spoken: bool, voice_id: str | None, project_dir: Path | None,
                   week: str | None) -> None:
    """In nội dung kịch bản SCRIPT như sẽ được đọc cho một xã.

    Prints the text of SCRIPT for LOCALE; with --spoken, exactly as the voice will read
    it (numbers, dates, phone numbers and abbreviations written out); --voice V shows what
    voice V is given (espeak's respellings are not given to a neural voice).
    """
    workspace = _workspace(project_dir)
    click.echo(workspace.render(script_id, locale_id, workspace.week(week), spoken=spoken, voice_id=voice_id))


@main.command("normalize")
@click.argument("texts", nargs=-1, metavar="[TEXT]...")
@project_option
@click.option("--locale", "locale_id", default=None, metavar="LOCALE", help="Dùng từ điển của xã này.")
def normalize_command(texts: tuple[str, ...], project_dir: Path | None, locale_id: str | None) -> None:
    """In dạng đọc thành lời của mỗi TEXT (không có TEXT: đọc từng dòng từ đầu vào chuẩn).

    Prints the spoken form of each TEXT; with no TEXT, reads standard input and prints
    exactly one line per input line. Uses the project's lexicon when run in a project.
    """
    try:
        lines = texts or tuple(line.rstrip("\n") for line in click.get_text_stream("stdin", encoding="utf-8"))
    except UnicodeDecodeError:
        raise app.UsageError("đầu vào không phải chữ UTF-8 (input is not UTF-8)",
                             fix="lưu tệp dạng UTF-8 (Notepad: Lưu thành > Mã hóa UTF-8) rồi chạy lại") from None
    try:
        workspace: app.Workspace | None = _workspace(project_dir)
    except app.BroadcastError:
        if project_dir is not None or locale_id is not None:
            raise
        workspace = None  # outside a project: the built-in readings only
    spoken = workspace.normalize(lines, locale_id) if workspace else app.normalize_text(lines)
    for line in spoken:
        click.echo(line)


@main.command("build")
@project_option
@week_option
@with_locales
@click.option("--jobs", type=click.IntRange(1, 256), default=None, help="Số tiến trình (mặc định: số lõi CPU).")
@click.option("--allow-placeholders", is_flag=True,
              help="Dựng thử dù còn chỗ <<CẦN ĐIỀN>>. Build despite placeholders.")
@click.option("--strict", is_flag=True, help="Cảnh báo (tin không vừa buổi phát) là lỗi: exit 1.")
@click.option("--json", "as_json", is_flag=True, help="In tóm tắt dạng JSON cho máy đọc. Machine-readable summary.")
def build_command(project_dir: Path | None, week: str | None, locale_ids: tuple[str, ...], provinces: tuple[str, ...],
                  jobs: int | None, allow_placeholders: bool, strict: bool, as_json: bool) -> None:
    """Dựng toàn bộ âm thanh và lịch phát của một tuần vào output/<tuần>/.

    The weekly job: every message file, a program file and playlist per slot, the
    printable schedule, calendar, CSV, Liquidsoap script and manifest, published in one
    atomic step. Exit 0 ok; 1 warnings under --strict, some communes failed, or another build holds
    the lock; 2 content errors, <<CẦN ĐIỀN>> placeholders left (without --allow-placeholders) or a wrong
    option, nothing built; 3 the machine (disk full, output/ not writable); 130 Ctrl-C; 143 SIGTERM.
    """
    workspace = _workspace(project_dir)
    with _Bars(enabled=not as_json) as bars:
        result = workspace.build(workspace.week(week), locale_ids, provinces, jobs=jobs,
                                 allow_placeholders=allow_placeholders, strict=strict, listener=bars.show)
    if as_json:
        click.echo(json.dumps({"week": result.week.id, "output": str(result.output), "exit_code": result.exit_code,
                               "stats": result.stats, "warnings": result.warnings, "failures": result.failures,
                               "files": len(result.files), "draft": result.draft,
                               "placeholders_left_out": result.left_out, "not_approved": result.not_approved,
                               "bundles_dropped": result.bundles_dropped},
                              ensure_ascii=False, indent=2))
    else:
        s = result.stats
        click.echo(f"Tuần {result.week.id}: {s.get('locales', 0)} xã, {result.count('message')} tệp tin, "
                   f"{result.count('program')} chương trình, {len(result.files)} tệp -> {result.output}")
        click.echo(f"Tổng hợp giọng: {s.get('sentences', 0)} câu duy nhất, {s.get('engine_calls', 0)} lần gọi, "
                   f"{s.get('cache_hits', 0)} có sẵn; làm lại {s.get('mastered', 0)} tệp, "
                   f"giữ nguyên {s.get('reused', 0)} tệp; {s.get('seconds', 0):.1f} s")
        if s.get("unchanged"):
            click.echo("Không có gì thay đổi kể từ lần dựng trước: tuần đã phát hành giữ nguyên, không ghi tệp nào "
                       "(nothing changed since the last build).")
        if result.draft:
            click.echo(f"BẢN NHÁP (draft): còn chỗ <<CẦN ĐIỀN>>, không dùng để phát; {result.left_out} câu có chỗ "
                       "cần điền đã bỏ khỏi âm thanh (sentences left out). Điền đủ rồi dựng lại để phát.")
        if result.not_approved:
            click.echo(f"Không phát vì chưa được duyệt (not approved, approval: required): "
                       f"{', '.join(result.not_approved)}")
        for warning in result.warnings:
            click.echo(f"cảnh báo: {warning}")
        _bundles_dropped(result.week, result.bundles_dropped)
        for failure in result.failures:
            click.echo(f"LỖI: {failure}")
    sys.exit(result.exit_code)


def _bundles_dropped(week: app.Week, communes: list[str]) -> None:
    if communes:
        click.echo(f"Gói mang tới đài của {len(communes)} xã đã cũ so với tuần vừa phát hành nên đã bị xoá "
                   f"(stale station bundles removed): {', '.join(communes)}. Đóng gói lại: "
                   f"broadcast bundle --week {week.id}")


class _Bars:
    """Progress bars for the build's stages on a terminal; nothing elsewhere (the log has the lines)."""

    def __init__(self, enabled: bool):
        self.progress: Progress | None = None
        if enabled and sys.stderr.isatty():
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _Bars:
        if self.progress:
            self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.progress:
            self.progress.stop()

    def show(self, event: app.Event) -> None:
        if self.progress is None or event.kind == "end" or not event.total:
            return
        if event.stage not in self.tasks:
            self.tasks[event.stage] = self.progress.add_task(event.label, total=event.total)
        self.progress.update(self.tasks[event.stage], completed=event.done, total=event.total)


DETAIL_LIMIT = 20  # more communes than this: a summary per province, unless --detail


@main.command("plan")
@project_option
@week_option
@with_locales
@click.option("--strict", is_flag=True, help="Tin không đủ số lần phát là lỗi (exit 1). Shortfalls fail.")
@click.option("--detail", is_flag=True, help="Bảng chi tiết cho mọi xã (mặc định khi chọn ít xã). Full tables.")
@click.option("--json", "as_json", is_flag=True, help="Kết quả dạng JSON cho máy. Machine-readable output.")
def plan_command(project_dir: Path | None, week: str | None, locale_ids: tuple[str, ...],
                 provinces: tuple[str, ...], strict: bool, detail: bool, as_json: bool) -> None:
    """In lịch phát của tuần, không tổng hợp âm thanh.

    Prints the week's plan (which message airs in which slot) without synthesising anything;
    lengths are estimated from the text. With many communes: one line per province (communes,
    programs, how full, what did not fit), full tables with --detail or for chosen communes.
    """
    workspace = _workspace(project_dir)
    plan = workspace.plan(workspace.week(week), locale_ids, provinces)
    if as_json:
        click.echo(json.dumps(_plan_json(plan), ensure_ascii=False))
    else:
        console = Console(highlight=False, soft_wrap=True)
        if detail or len(plan.locales) <= DETAIL_LIMIT:
            _plan_tables(console, plan)
        else:
            _plan_summary(console, plan)
    if strict and plan.shortfalls:
        sys.exit(1)


def _plan_tables(console: Console, plan: app.WeekPlan) -> None:
    for locale_plan in plan.locales:
        table = Table(title=f"{locale_plan.locale_id} — tuần {plan.week.id}", title_justify="left")
        for column in ("Ngày", "Giờ", "Buổi", "Tin phát (theo thứ tự)", "Thời lượng"):
            table.add_column(column)
        for program in locale_plan.programs:
            table.add_row(f"{WEEKDAYS[program.day.isoweekday()]} {program.day:%d/%m}",
                          f"{program.slot.start:%H:%M}", program.slot.label,
                          "\n".join(item.script_id + ("" if item.level == "normal" else f" [{item.level}]")
                                    for item in program.items) or "—",
                          f"{program.seconds / 60:.1f}/{program.capacity / 60:.0f} phút")
        console.print(table)
        for airing in locale_plan.emergencies:
            console.print(f"KHẨN CẤP: {airing.script_id} có chương trình riêng để phát ngay (emergency program)")
    for shortfall in plan.shortfalls:
        console.print(f"cảnh báo: {shortfall}", style="yellow")
    for silent in plan.not_airing:
        console.print(f"cảnh báo: {silent}. Cách sửa: {silent.fix}", style="yellow")
    _plan_total(console, plan)


def _plan_summary(console: Console, plan: app.WeekPlan) -> None:
    """One row per province; what will not air grouped by script and reason."""
    table = Table(title=f"Lịch tuần {plan.week.id} theo tỉnh (--detail hoặc --locale để xem từng xã)",
                  title_justify="left")
    for column in ("Tỉnh", "Số xã", "Buổi phát", "Độ đầy", "Tin không đủ chỗ", "Tin khẩn cấp"):
        table.add_column(column)
    by_province: dict[str, list] = {}
    for locale_plan in plan.locales:
        by_province.setdefault(locale_plan.locale_id.split("/")[0], []).append(locale_plan)
    for province, plans in sorted(by_province.items()):
        programs = [p for lp in plans for p in lp.programs]
        used, capacity = sum(p.seconds for p in programs), sum(p.capacity for p in programs)
        table.add_row(province, str(len(plans)), str(len(programs)),
                      f"{100 * used / capacity:.0f}%" if capacity else "—",
                      str(sum(len(lp.shortfalls) for lp in plans)), str(sum(len(lp.emergencies) for lp in plans)))
    console.print(table)
    grouped: dict[tuple[str, str], list] = {}
    for silent in plan.not_airing:
        grouped.setdefault((silent.script_id, silent.reason), []).append(silent)
    for (_, _), items in sorted(grouped.items()):
        where = f" ở {len(items)} xã" if items[0].locale_id else ""
        console.print(f"cảnh báo: {items[0].script_id}: {items[0].message}{where}. Cách sửa: {items[0].fix}",
                      style="yellow")
    _plan_total(console, plan)


def _plan_total(console: Console, plan: app.WeekPlan) -> None:
    total = sum(len(p.programs) for p in plan.locales)
    console.print(f"{len(plan.locales)} xã, {total} buổi phát, {len(plan.shortfalls)} tin không đủ chỗ (shortfalls), "
                  f"{len(plan.not_airing)} tin không phát (not airing)")


def _plan_json(plan: app.WeekPlan) -> dict[str, object]:
    return {
        "week": plan.week.id,
        "locales": [{"id": lp.locale_id,
                     "programs": [{"day": p.day.isoformat(), "start": f"{p.slot.start:%H:%M}", "slot": p.slot.name,
                                   "items": [i.script_id for i in p.items], "seconds": round(p.seconds, 1),
                                   "capacity": round(p.capacity, 1)} for p in lp.programs],
                     "emergencies": [a.script_id for a in lp.emergencies],
                     "shortfalls": [str(s) for s in lp.shortfalls]} for lp in plan.locales],
        "not_airing": [{"script": n.script_id, "reason": n.reason, "locale": n.locale_id, "message": n.message}
                       for n in plan.not_airing],
    }


@main.group(invoke_without_command=True)
@project_option
@offline_option
@click.pass_context
def voices(ctx: click.Context, project_dir: Path | None, offline: bool) -> None:
    """Liệt kê các giọng đọc và cho biết giọng nào dùng được.

    Lists every engine and the project's voice profiles with their availability (library importable,
    model present, online service reachable within 3 s: only for voices the project uses).
    """
    if ctx.invoked_subcommand is not None:
        return
    workspace = _workspace(project_dir)
    click.echo("Động cơ đọc (engines):")
    for engine in workspace.engines():
        shown = ", ".join(v for v, _ in engine.voices[:4]) + (" ..." if len(engine.voices) > 4 else "")
        click.echo(f"  [{'OK ' if engine.ready else '-- '}] {engine.name}: {engine.state}"
                   + (f"; giọng: {shown}" if shown else ""))
    click.echo("Hồ sơ giọng của dự án (voice profiles):")
    used = workspace.voices_in_use()
    for voice in workspace.voices(offline, used):
        mark = "OK " if voice.status.ok else "LỖI"
        fallback = f", dự phòng: {voice.fallback}" if voice.fallback else ""
        click.echo(f"[{mark}] {voice.id} ({voice.engine}{fallback}): {voice.description or voice.status.detail}")
        if not voice.status.ok:
            click.echo(f"       {voice.status.detail}. Cách sửa: {voice.status.fix}")
    piper = app.installed_piper_voices()
    click.echo("Giọng Piper đã cài (installed Piper voices): " + (", ".join(piper) or "chưa có"))


@voices.command("install")
@click.argument("name")
@click.option("--base-url", default=None, help="Nơi tải giọng (mặc định: kho giọng Piper công khai). Where from.")
def voices_install(name: str, base_url: str | None) -> None:
    """Tải một giọng Piper (tệp .onnx và .onnx.json) về thư mục dữ liệu của người dùng.

    Downloads a Piper voice, verifies it, resumes an interrupted download.
    """
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bars:
        tasks: dict[str, TaskID] = {}

        def show(file: str, done: int, total: int) -> None:
            if file not in tasks:
                tasks[file] = bars.add_task(file, total=total or None)
            bars.update(tasks[file], completed=done)

        path = app.install_piper_voice(name, base_url, show)
    click.echo(f"Đã cài giọng {name}: {path}")
    click.echo(f"Dùng trong hồ sơ giọng: engine: piper, params: {{voice: {name}}}")


@main.command()
@project_option
@offline_option
def doctor(project_dir: Path | None, offline: bool) -> None:
    """Kiểm tra môi trường: ffmpeg, espeak-ng, các giọng đọc, thư mục cache.

    Checks the whole environment and says how to fix each problem. Exit 1 if any fails.
    """
    checks = _workspace(project_dir).doctor(offline)
    for check in checks:
        mark = "OK " if check.ok else "CẢNH BÁO" if check.warning else "LỖI"
        click.echo(f"[{mark}] {check.name}: {check.detail}")
        if not check.ok:
            click.echo(f"       Cách sửa: {check.fix}")
    failed = sum(not c.ok and not c.warning for c in checks)
    warned = sum(c.warning for c in checks)
    click.echo(f"{len(checks) - failed - warned}/{len(checks)} mục đạt (checks passed)"
               + (f", {warned} cảnh báo (warnings)" if warned else ""))
    if failed:
        sys.exit(1)


@main.command()
@project_option
@click.option("--keep", type=int, required=True, metavar="N",
              help="Giữ N tuần đã phát hành gần nhất (không bao giờ xoá tuần này và tuần sau). Weeks to keep.")
@click.option("--dry-run", is_flag=True, help="Chỉ liệt kê, không xoá. List only.")
def clean(project_dir: Path | None, keep: int, dry_run: bool) -> None:
    """Xoá các tuần cũ trong output/. Remove published weeks older than the last N."""
    result = _workspace(project_dir).clean(keep, dry_run=dry_run)
    verb = "Sẽ xoá" if dry_run else "Đã xoá"
    click.echo(f"{verb} {len(result.removed)} tuần: {', '.join(result.removed) or 'không có'}"
               + ("" if dry_run else f" ({result.freed_bytes / 1e6:.1f} MB)"))
    click.echo(f"Giữ {len(result.kept)} tuần: {', '.join(result.kept) or 'không có'}")
    if result.spare_bytes:
        click.echo(f"{verb} tệp chương trình giữ lại để bản dựng sau ghi đè (.cache/spare): "
                   f"{result.spare_bytes / 1e6:.1f} MB (program files kept for reuse)")


@main.command()
@click.argument("script_id", metavar="SCRIPT")
@project_option
@click.option("--week", "week", metavar="YYYY-Www", default=None,
              help="Tuần ISO (mặc định: tuần đang phát). ISO week, default the week on air.")
@with_locales
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Số tiến trình. Worker processes.")
def emergency(script_id: str, project_dir: Path | None, week: str | None, locale_ids: tuple[str, ...],
              provinces: tuple[str, ...], jobs: int | None) -> None:
    """Phát ngay một tin khẩn cấp vào tuần đang phát, không chờ dựng cả tuần.

    Publishes one emergency script (level: emergency) into this week's published folders at once: its
    message, the KHAN-CAP program and playlist, the emergency box of the wall schedule, the bulletin on
    the commune's web page and feeds, and the manifest; the slot programs and other files are left as
    they are. Only the week on air is accepted; under approval: required, only approved content (exit 2,
    nothing published, otherwise). Exit 1 if a commune failed or next week is already built without it
    (the command to rebuild it is named).
    """
    workspace = _workspace(project_dir)
    with _Bars(enabled=True) as bars:
        result = workspace.emergency(script_id, locale_ids, provinces, app.Week.parse(week) if week else None,
                                     jobs=jobs, listener=bars.show)
    click.echo(f"Tin khẩn cấp '{result.script}' đã phát hành vào tuần {result.week.id} cho {len(result.published)} "
               f"xã ({len(result.files)} tệp mới).")
    _bundles_dropped(result.week, result.bundles_dropped)
    for failure in result.failures:
        click.echo(f"LỖI: {failure}")
    sys.exit(result.exit_code)


@main.command()
@project_option
@click.option("--week", "week", metavar="YYYY-Www", default=None,
              help="Tuần ISO, ví dụ 2026-W49 (mặc định: tuần tới nếu đã dựng, nếu chưa thì tuần đang phát). "
                   "ISO week, default next week once built, else the week on air.")
@with_locales
def bundle(project_dir: Path | None, week: str | None, locale_ids: tuple[str, ...], provinces: tuple[str, ...]) -> None:
    """Đóng gói tuần đã phát hành: mỗi xã một tệp .zip để chép về đài.

    Writes output/bundles/<week>/<province>_<commune>.zip for each commune (all when none is named): the
    commune's published files, HUONG-DAN.txt (the operator's instructions, in Vietnamese) and a
    SHA256SUMS list.
    """
    workspace = _workspace(project_dir)
    bundles = workspace.bundle(workspace.week_to_bundle(week), locale_ids, provinces)
    for made in bundles:
        click.echo(f"{made.path}: {made.files} tệp, {made.bytes / 1e6:.1f} MB")
    click.echo(f"Đã đóng gói {len(bundles)} xã. Ở đài, giải nén rồi kiểm tra: broadcast verify <thư mục xã>")


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--prune", is_flag=True, help="Xoá các tệp do gói các tuần trước để lại, không còn phát. "
                                            "Delete what earlier bundles left that can no longer air.")
def verify(folder: Path, prune: bool) -> None:
    """Kiểm tra một thư mục xã đã chép về đài với danh sách SHA256SUMS của gói, hoặc một tuần đã
    phát hành (output/<tuần>) với manifest.json của nó.

    Every file listed must be there with the same bytes; files missing, changed or not listed are named.
    What earlier bundles left (each is unzipped over the last: programs and playlists of days before the
    bundle's week, bulletins and messages it no longer has) is counted apart; --prune deletes what can no
    longer air.
    Exit 0 when the copy is exact, 1 otherwise.
    """
    result = app.verify_bundle(folder)
    for label, names in (("THIẾU (missing)", result.missing), ("KHÁC (changed)", result.changed),
                         ("THỪA, không có trong danh sách (not listed)", result.extra)):
        for name in names:
            click.echo(f"{label}: {name}")
    if result.earlier and prune:
        removed, freed = app.prune_station_folder(result)
        click.echo(f"Đã xoá {len(removed)} tệp do các gói trước để lại, không còn phát, {freed / 1e6:.1f} MB "
                   f"(pruned); giữ {len(result.earlier) - len(removed)} tệp còn phát từ hôm nay.")
    elif result.earlier:
        click.echo(f"{len(result.earlier)} tệp do các gói trước để lại, không thuộc gói này (left by earlier "
                   f"bundles); xoá những tệp không còn phát: broadcast verify --prune {folder}")
    if result.exit_code:
        click.echo(f"Bản chép KHÔNG đúng: {len(result.missing)} thiếu, {len(result.changed)} khác, "
                   f"{len(result.extra)} thừa; {len(result.ok)} tệp đúng. Đừng phát các tệp trên; chép lại từ gói gốc.")
    else:
        click.echo(f"Bản chép đúng: {len(result.ok)} tệp khớp từng byte.")
    sys.exit(result.exit_code)


@main.group()
def asrun() -> None:
    """Phát thực tế: nhập nhật ký phát và báo cáo so với lịch. As-run logs and reports."""


@asrun.command("import")
@click.argument("logs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--locale", "locale_id", required=True, metavar="XÃ", help="Xã của nhật ký. The commune the logs are of.")
@project_option
def asrun_import(logs: tuple[Path, ...], locale_id: str, project_dir: Path | None) -> None:
    """Nhập nhật ký phát (dòng AS-RUN của Liquidsoap, hoặc CSV của bàn điều khiển loa IP)."""
    new, known = _workspace(project_dir).asrun_import(locale_id, logs)
    click.echo(f"Đã nhập {new} lượt phát mới ({known} lượt đã có từ trước).")


@asrun.command("report")
@project_option
@click.option("--week", metavar="YYYY-Www", help="Tuần đã phát, ví dụ 2026-W49 (mặc định: tuần trước). "
                                                   "Default: last week, the one that has aired.")
@click.option("--tolerance", type=float, default=60.0, show_default=True, help="Muộn quá bao nhiêu giây. Late after.")
@click.option("-o", "out", type=click.Path(file_okay=False, path_type=Path),
              help="Thư mục ghi báo cáo (mặc định: asrun/bao-cao/ trong dự án). Report folder.")
def asrun_report(project_dir: Path | None, week: str | None, tolerance: float, out: Path | None) -> None:
    """Báo cáo phát thực tế so với lịch: không phát, muộn, bị cắt, ngoài lịch (HTML để in, CSV)."""
    workspace = _workspace(project_dir)
    chosen = workspace.week(week, weeks_ahead=-1)
    paths, reports = workspace.asrun_report(chosen, out, tolerance)
    for report in reports:
        click.echo(f"{report.locale_id}: {len(report.lines)} tệp theo lịch, {report.count('aired')} đã phát, "
                   f"{report.count('missed')} không phát, {report.count('late')} muộn, {report.count('cut')} bị cắt, "
                   f"{len(report.unplanned)} ngoài lịch")
    for path in paths:
        click.echo(f"-> {path}")


@main.group()
def cache() -> None:
    """Bộ nhớ đệm các câu đã tổng hợp (clip cache)."""


@cache.command("stats")
@project_option
def cache_stats(project_dir: Path | None) -> None:
    """Số câu và dung lượng trong cache. Number and size of cached clips."""
    stats = _workspace(project_dir).cache_stats()
    click.echo(f"{stats.clips} câu, {stats.clip_bytes / 1e6:.1f} MB trong {stats.folder}")
    click.echo(f"{stats.segments} đoạn âm thanh đã xử lý, {stats.segment_bytes / 1e6:.1f} MB (mastered segments)")


@cache.command("prune")
@project_option
def cache_prune(project_dir: Path | None) -> None:
    """Xóa các câu trong cache mà không kịch bản hiện tại nào dùng, và mọi đoạn đã xử lý.

    Drops cached clips that no current script uses, for any commune, in the week on air, next week
    or a week published ahead, and every mastered segment (the next build masters again what it needs).
    """
    result = _workspace(project_dir).cache_prune()
    click.echo(f"đã xóa {result.removed} câu ({result.removed_bytes / 1e6:.1f} MB), giữ {result.kept} câu đang dùng "
               f"(pruned {result.removed})")
    if result.segments_removed:
        click.echo(f"đã xóa {result.segments_removed} đoạn âm thanh đã xử lý (mastered segments), sẽ làm lại khi cần")


@main.command("say")
@click.argument("texts", nargs=-1, metavar="[TEXT]...")
@click.option("--voice", "voice_id", default=None, metavar="VOICE", help="Giọng đọc (mặc định: giọng của dự án).")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Tệp kết quả (.mp3, hoặc .wav khi phát dạng WAV). Output file.")
@click.option("--script", "script_id", default=None, metavar="SCRIPT",
              help="Nghe thử cả tin như sẽ phát (cần --locale). The whole message as it airs.")
@click.option("--locale", "locale_id", default=None, metavar="LOCALE", help="Xã (cho --script và từ điển).")
@project_option
@week_option
def say_command(texts: tuple[str, ...], voice_id: str | None, out: Path, script_id: str | None,
                locale_id: str | None, project_dir: Path | None, week: str | None) -> None:
    """Đọc thử một câu, hoặc nghe thử cả tin đúng như sẽ phát, ra tệp âm thanh.

    Synthesises TEXT into FILE; with --script and --locale, the whole message exactly as
    it airs in that commune (chime, repeats with "Xin nhắc lại", the commune's preset).
    """
    workspace = _workspace(project_dir)
    if script_id:
        if not locale_id:
            raise click.UsageError("--script cần --locale (which commune's message)")
        audio = workspace.preview(script_id, locale_id, workspace.week(week), out, voice_id)
    elif texts:
        audio = workspace.say(" ".join(texts), out, voice_id, locale_id)
    else:
        raise click.UsageError("cho một câu TEXT hoặc --script S --locale L")
    click.echo(f"đã ghi {out} ({audio.duration:.1f} giây)")


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
    report = _workspace(project_dir).import_locales(province_names, import_all, schedule)
    for rel, fields in sorted(report.completed.items()):
        click.echo(f"{rel}: bổ sung {', '.join(fields)}")
    click.echo(report.summary())


@main.group(invoke_without_command=True)
@project_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Địa chỉ nghe; khác 127.0.0.1 cần tài khoản. Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535), help="Cổng. Port.")
@click.option("--open", "open_browser", is_flag=True, help="Mở trình duyệt. Open the browser.")
@click.pass_context
def studio(ctx: click.Context, project_dir: Path | None, host: str, port: int, open_browser: bool) -> None:
    """Studio: trang web để viết, kiểm tra, nghe thử, duyệt và dựng tuần.

    The web studio for editors, on http://127.0.0.1:8765/ by default (no login there).
    """
    if ctx.invoked_subcommand is None:
        app.serve_studio(project_dir, host, port, open_browser,
                         announce=lambda url: click.echo(f"Studio: {url}  (Ctrl-C để dừng)"))


@studio.group("user")
def studio_user() -> None:
    """Tài khoản studio (studio accounts)."""


@studio_user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["editor", "approver", "operator"]), required=True,
              help="editor: sửa; approver: duyệt; operator: xem và tải về.")
@project_option
def studio_user_add(name: str, role: str, project_dir: Path | None) -> None:
    """Thêm (hoặc đặt lại mật khẩu) một tài khoản; đặt lại thì các phiên đang mở bị đóng.
    Add an account (or reset its password, closing its sessions); the password is asked for."""
    password = click.prompt("Mật khẩu (password)", hide_input=True, confirmation_prompt="Nhập lại (again)")
    app.add_studio_user(project_dir, name, role, password)
    click.echo(f"Đã tạo tài khoản {name} ({role}).")


@studio_user.command("remove")
@click.argument("name")
@project_option
def studio_user_remove(name: str, project_dir: Path | None) -> None:
    """Xóa một tài khoản; ai đang đăng nhập bằng nó bị đăng xuất. Remove an account."""
    warnings = app.remove_studio_user(project_dir, name)
    click.echo(f"Đã xóa tài khoản {name}.")
    for warning in warnings:
        click.echo(f"cảnh báo: {warning}")


@studio_user.command("list")
@project_option
def studio_user_list(project_dir: Path | None) -> None:
    """Các tài khoản (accounts)."""
    for name, role in app.studio_users(project_dir):
        click.echo(f"{name}\t{role}")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Tạo dự án mới với một ví dụ nhỏ chạy được trong DIRECTORY.

    Creates a new project with a minimal working example. Values each commune must
    fill in are marked <<CẦN ĐIỀN: ...>>; lint lists them.
    """
    created = app.init_project(directory)
    click.echo(f"Đã tạo dự án mới tại {directory} ({len(created)} tệp). Created a new project.")
    click.echo("Bước tiếp theo: điền các chỗ <<CẦN ĐIỀN>>, rồi chạy 'broadcast lint'.")


if __name__ == "__main__":  # pragma: no cover
    from .console import speak_vietnamese

    speak_vietnamese(sys.stdout, sys.stderr)
    main()
