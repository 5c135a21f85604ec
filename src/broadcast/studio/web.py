"""The studio's pages: thin Starlette views over the application layer (`app.Workspace`).

Every view calls the same operations as the command line (lint, render, preview, plan, build);
none has its own copy. Pages are server-rendered Jinja2 (autoescaped: nothing a script author
writes becomes markup) with one small script, `static/studio.js`, shipped in the package: no CDN,
no build step, the studio works offline. Every state-changing request carries the CSRF token
(asgi-csrf); every name in a URL is checked as an id and every path stays inside the project.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
import unicodedata
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from asgi_csrf import asgi_csrf
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import app as application
from .. import manifest, records, textfiles
from ..errors import BroadcastError, ContentError, EnvironmentProblem, Problem, UsageError, machine_refusal
from ..events import Event
from ..model import LEVELS, Project, Script, Week
from ..schema import MAX_SLUG, SLUG
from ..yamlio import YamlError, parse_yaml
from . import auth, edit

PAGE_SIZE = 50
_VAR_ROWS_MAX = 50
PREVIEWS = "nghe-thu"
PREVIEWS_KEPT = 200  # files heard most recently; older ones are made again if asked for
PREVIEWS_BYTES = 200_000_000  # and no more than this of them
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
LEVEL_NAMES = {"normal": "thường", "priority": "ưu tiên", "emergency": "khẩn cấp"}
STATE_NAMES = {"draft": "bản nháp", "approved": "đã duyệt", "rejected": "bị trả lại"}
MAX_FORM_BYTES = 2_000_000
SHOWN_SECONDS = 3600  # a refused form's page, shown again on a reload for this long
SHOWN_KEPT = 50  # and no more than this many of them


class _Everywhere:
    """asgi-csrf's `always_protect`: every path. Without it a request with no cookie at all skips the
    check, and a page on another site could post to a studio on 127.0.0.1 that has no login."""

    def __contains__(self, path: object) -> bool:
        return True


@dataclass
class BuildJob:
    """The one build the studio runs at a time, and what it has said so far."""

    week: str
    user: str
    events: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    result: dict[str, Any] | None = None
    error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item: dict[str, Any]) -> None:
        with self.lock:
            self.events.append(item)


@dataclass
class Shown:
    """A form's answer kept for the page its POST was redirected to (Post/Redirect/Get): what was
    refused and what was typed, for whom, until when."""

    user: str
    path: str
    until: float
    status: int
    context: dict[str, Any]


class Studio:
    """The studio for one project folder."""

    def __init__(self, root: Path, local: bool):
        # a script, commune or province file with errors is set aside, with its repair page: the rest works
        self.workspace = application.open_workspace(root, set_aside=True)
        self.root = self.workspace.root
        self.local = local
        self.env = Environment(loader=PackageLoader("broadcast.studio", "templates"),
                               autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
        # times as the stations read them (the project's time zone), whatever the server's clock zone
        self.env.filters["repair"] = repair_address
        self.env.filters["when"] = lambda t: datetime.fromtimestamp(t, ZoneInfo(self.timezone)).strftime(
            "%d/%m/%Y %H:%M") if t else ""
        self.env.filters["shown"] = edit.shown
        self.env.globals.update(LEVEL_NAMES=LEVEL_NAMES, STATE_NAMES=STATE_NAMES, ROLE_NAMES=records.ROLE_NAMES)
        self._zone: tuple[int, str] = (0, "")
        self.job: BuildJob | None = None
        self.job_lock = threading.Lock()
        # drafts read as they are typed, off the event loop (a long one froze every page for everyone),
        # two at a time: the others wait their turn, not the pages
        self.drafts = asyncio.Semaphore(2)
        # and audio made to be heard (Nghe thử, a word in Từ điển), which any account may ask for: two at a
        # time too, apart from the reading (one account pressing them over and over took every core)
        self.voices = asyncio.Semaphore(2)
        self.shown: dict[str, Shown] = {}  # answers to forms, by the key in their page's address
        with records.connect(self.root) as conn:  # `.studio/` and its database, migrated, before the first request
            auth.claim(self.root, conn)  # and this project's, not one copied from another

    @property
    def timezone(self) -> str:
        """The project's, read again only when broadcast.yaml changes: every time a page shows asks."""
        try:
            stamp = (self.root / "broadcast.yaml").stat().st_mtime_ns
        except OSError:
            stamp = 0
        if stamp != self._zone[0] or not self._zone[1]:
            self._zone = (stamp, self.workspace.timezone())
        return self._zone[1]

    # --- plumbing ----------------------------------------------------------------------------------

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        viewer: auth.Viewer = request.state.viewer
        loads = self._loads()
        html = self.env.get_template(template).render(
            request=request, viewer=viewer, csrftoken=request.scope["csrftoken"](), local=self.local,
            project=self.workspace.project.settings.name if loads else self.root.name,
            broken_files=sorted(self.workspace.broken) if loads else [], **context)
        return HTMLResponse(html, status_code=status)

    def broken(self, folder: str) -> list[dict[str, Any]]:
        """The files of `folder` set aside for their errors (`Workspace.broken`), for a page's box: each with
        its problems as lint says them and the address of its repair page."""
        return [{"file": file, "problems": problems, "href": repair_address(file)}
                for file, problems in self.workspace.broken.items() if file.startswith(folder)]

    def editor_of(self, rel: str) -> str:
        """The page that edits the project file `rel` (a script, a commune, a province) when it reads."""
        parts = rel.rsplit(".", 1)[0].split("/")
        if parts[0] == "scripts":
            return f"/kich-ban/{parts[1]}"
        return f"/xa?tinh={parts[1]}" if parts[2] == "_province" else f"/xa/{parts[1]}/{parts[2]}"

    def set_aside(self, *files: str) -> str | None:
        """The repair page of the first of `files` (project paths) set aside for its errors, if any is."""
        broken = self.workspace.broken
        return next((repair_address(file) for file in files if file in broken), None)

    def _loads(self) -> bool:
        try:
            self.workspace.project  # noqa: B018
            return True
        except BroadcastError:
            return False

    def see_other(self, request: Request, path: str, status: int, **context: Any) -> RedirectResponse:
        """A form's answer (what was refused, what was typed) as a redirect to its page, which shows it:
        the answer drawn as the POST's page made a reload (F5) send the form again, after the browser
        asked in English. Kept here, on the server, under a random key in the address (what was typed
        is never in it), for its user only, an hour at most, `status` kept for the page."""
        now = time.monotonic()
        for key in [key for key, shown in self.shown.items() if shown.until < now]:
            del self.shown[key]
        while len(self.shown) >= SHOWN_KEPT:
            del self.shown[next(iter(self.shown))]  # the oldest
        key = secrets.token_urlsafe(16)
        self.shown[key] = Shown(request.state.viewer.name, path, now + SHOWN_SECONDS, status, context)
        return RedirectResponse(f"{quote(path)}?loi={key}", status_code=303)  # a '#' in a file's name: not a fragment

    def kept(self, request: Request) -> Shown | None:
        """The form's answer this page was redirected to show (`see_other`), if it is still kept, for this
        user and this page; else None, and the page is as it is."""
        shown = self.shown.get(request.query_params.get("loi") or "")
        if shown is None or shown.until < time.monotonic() or shown.user != request.state.viewer.name \
                or shown.path != request.url.path:
            return None
        return shown

    def week(self, request: Request) -> Week:
        return self.workspace.week(request.query_params.get("week") or None)

    def airing_week(self, request: Request, text: str) -> Week:
        """The week a draft is read and heard for: the one asked for, else the one it would air in: an
        emergency bulletin airs at once, in the week on air; any other script from next week's build."""
        if request.query_params.get("week"):
            return self.week(request)
        data = edit.load(text)
        level = data.get("level") if isinstance(data, dict) else None
        return self.workspace.week(None, 0 if level == "emergency" else 1)

    def scripts(self) -> list[Script]:
        return sorted(self.workspace.project.scripts, key=lambda s: s.id)

    def script_path(self, script_id: str) -> Path:
        """scripts/<id>.yaml, or the <id>.yml the project reads when that is the file there (it was
        listed, but could not be opened nor approved, and a new script of its id made a second file)."""
        path = self.root / "scripts" / f"{edit.slug(script_id, 'mã kịch bản')}.yaml"
        other = path.with_suffix(".yml")
        return other if not path.exists() and other.exists() else path

    def audit(self, viewer: auth.Viewer, action: str, target: str, detail: str = "") -> None:
        """Log a change already made to the project's files (the log cannot undo it: it says so)."""
        try:
            with records.connect(self.root) as conn:
                records.add_audit(conn, viewer.name, action, target, detail)
        except EnvironmentProblem as error:  # the disk filled between the file and the log: was a 500
            raise EnvironmentProblem(f"đã ghi {target}, nhưng không ghi được vào nhật ký studio: {error.message}",
                                     file=error.file, fix=f"{error.fix}; thay đổi này không có trong trang Nhật ký"
                                     ) from None

    def write(self, viewer: auth.Viewer, path: Path, text: str, base_sha256: str | None, action: str = "save",
              detail: str | None = None) -> bool:
        """Write a project file (`edit.write`) and its audit entry as one change: whether it changed.

        The database's write lock is taken first (`records.reserve`), so a busy database is said
        before the file is touched; the entry is committed after the file is written, and if that
        commit fails the old file is put back. A save that the log missed (the file written, then the
        database busy: an error page for a save that had happened, and saving again logged nothing)
        or a log entry for a save that did not happen cannot be. `detail`: the entry's text, else
        the diff. Blocks while another program holds the database (up to its busy timeout): the pages
        call it, `moved` and `audit` in a thread, never on the event loop, which answers every request."""
        rel = path.relative_to(self.root).as_posix()
        with records.connect(self.root) as conn:
            records.reserve(conn)
            before = _bytes(path)
            written = edit.write(path, text, base_sha256)
            if before is not None and textfiles.text_of(before) == written.text:
                return False  # nothing changed: not a change in the log
            old = textfiles.text_of(before) if before is not None else ""
            entry = edit.diff(old, written.text, rel) if detail is None else detail
            _recorded_or(conn, lambda: records.add_audit(conn, viewer.name, action, rel, entry),
                         lambda: _put_back(path, before, written.sha256), f"đã lưu {rel}")
        return True

    def moved(self, viewer: auth.Viewer, action: str, target: str, move: Callable[[], _T],
              back: Callable[[_T], None], detail: Callable[[_T], str] = lambda _: "") -> _T:
        """A file moved (to the trash, back from it) and its audit entry, as one change: moved back
        if the entry cannot be committed."""
        with records.connect(self.root) as conn:
            records.reserve(conn)
            done = move()
            _recorded_or(conn, lambda: records.add_audit(conn, viewer.name, action, target, detail(done)),
                         lambda: back(done), f"đã chuyển {target}")
        return done

    # the database read, by the pages in a thread (`asyncio.to_thread`): held by another program, a read waits
    # up to the busy timeout, and on the event loop every request of the studio waited with it
    def decisions(self) -> dict[str, records.Approval]:
        with records.connect(self.root) as conn:
            return records.latest_decisions(conn)

    def history(self, script_id: str) -> list[records.Approval]:
        with records.connect(self.root) as conn:
            return records.history(conn, script_id)

    def audit_entries(self) -> list[records.AuditEntry]:
        with records.connect(self.root) as conn:
            return records.audit(conn, limit=200)

    def state(self, script: Script, decisions: dict[str, records.Approval]) -> str:
        return records.approval_state(decisions.get(script.id), records.file_sha256(self.root / script.file))


_T = TypeVar("_T")


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _recorded_or(conn: sqlite3.Connection, record: Callable[[], None], undo: Callable[[], None], done: str) -> None:
    """Record a file change made and commit, or undo the change and raise: a log row the full disk
    refused left the file saved, the page saying nothing was (SQLITE_FULL at the INSERT, not the commit).
    `done`: the change, said if it cannot be undone either (its copy of the old file refused by that disk:
    the page said the file was as before)."""
    try:
        record()
        conn.commit()
    except sqlite3.Error as refused:
        try:
            undo()
        except OSError as error:
            why, fix = machine_refusal(error)
            raise EnvironmentProblem(f"{done}, nhưng không ghi được vào nhật ký studio ({refused}) và không đặt lại "
                                     f"được như cũ: {why} (changed, not logged)", file=error.filename,
                                     fix=f"{fix.format(where=error.filename)}; thay đổi này không có trong trang "
                                         "Nhật ký") from None
        finally:
            conn.rollback()
        raise


def _put_back(path: Path, before: bytes | None, written_sha256: str) -> None:
    """`path` as it was before a write whose record failed, unless it changed again since."""
    if records.file_sha256(path) != written_sha256:
        return
    if before is None:
        path.unlink(missing_ok=True)
    else:
        textfiles.replace(path, before)


# a script's fields (as the project's problems name them) -> the editor's inputs, and what the page calls them
_FORM_FIELDS = {"title": "title", "source": "source", "level": "level", "repeat": "repeat", "voice": "voice",
                "body": "body", "valid.from": "valid_from", "valid.until": "valid_until", "valid": "valid_from"}
_FIELD_LABELS = {"title": "Tiêu đề", "source": "Nguồn (công văn)", "level": "Mức", "repeat": "Số lần đọc",
                 "voice": "Giọng", "body": "Nội dung", "valid_from": "Hiệu lực từ", "valid_until": "Hiệu lực đến"}


def _problem(p: Problem, body_line: int) -> dict[str, Any]:
    """A problem for the page: the file line, and the line in the body text area when it is there."""
    in_body = p.line - body_line + 1 if body_line and p.line >= body_line else 0
    return {"file": p.file, "line": p.line, "body_line": in_body, "field": p.field, "message": p.message,
            "fix": p.hint, "severity": p.severity}


def _body_line(text: str) -> int:
    """The file line where the `body: |` block's text starts."""
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"body:\s*[|>]", line):
            return number + 1
    return 0


def repair_address(rel: str) -> str:
    """The address of the repair page of the project file `rel`, its name quoted: a file named in Explorer
    ('Tin #2.yaml') is one the page is for, and a browser took its '#' for the start of a fragment."""
    return f"/sua-tep/{quote(rel)}"


def _usable_id(name: str) -> bool:
    """Whether `name` may be a script's id (and so its file's name)."""
    return bool(SLUG.match(name)) and len(name) <= MAX_SLUG


def _validity(script: Script, week: Week) -> str:
    if script.valid.until and script.valid.until < week.days[0]:
        return "hết hạn"
    if script.valid.start > week.days[-1]:
        return "chưa đến hạn"
    return "đang hiệu lực"


async def _form(request: Request, limit: int = MAX_FORM_BYTES) -> FormData:
    try:
        length = int(request.headers.get("content-length") or 0)
    except ValueError:
        length = limit + 1
    if length > limit:
        raise UsageError(f"dữ liệu gửi lên quá lớn: {length // 1_000_000} MB, tối đa {limit // 1_000_000} MB "
                         "(request too large)", fix="gửi tệp nhỏ hơn")
    return await request.form(max_files=1, max_fields=200, max_part_size=MAX_FORM_BYTES)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _zip_folder(folder: Path, scratch: Path) -> Path:
    """`folder`'s files in a new zip file in `scratch` (stored: MP3s do not compress)."""
    scratch.mkdir(exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="tai-ve-", suffix=".zip", dir=scratch)
    try:
        with os.fdopen(fd, "wb") as out, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as bundle:
            for file in sorted(folder.rglob("*")):
                if file.is_file():
                    bundle.write(file, f"{folder.name}/{file.relative_to(folder).as_posix()}")
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def _parsed(text: str, rel: str) -> Any:
    """A project file's text read as the project reads it; an error at its line if it cannot be."""
    try:
        return parse_yaml(text)
    except YamlError as error:
        raise ContentError([Problem(rel, error.line, "", error.message, error.hint)]) from None


def _draft_text(studio: Studio, script_id: str, form: FormData) -> tuple[str, str]:
    """(the file the editor's form would save, its project path). The file on disk must read: a
    merge conflict or a bad hand edit is an error at its line, to fix in a text editor first."""
    path = studio.script_path(script_id)
    rel = path.relative_to(studio.root).as_posix()
    base = edit.read_text(path) if path.exists() else f"id: {script_id}\n"
    _parsed(base, rel)
    if _text(form, "saved") == "1":  # the file as saved: what someone who may not edit reads and approves
        return base, rel
    fields = edit.script_fields({k: _text(form, k) for k in form.keys()})
    return edit.with_fields(base, {"id": script_id, **fields}), rel


# --- pages -------------------------------------------------------------------------------------------


Handler = Callable[[Request], Awaitable[Response]]


def routes(studio: Studio) -> list[Route | Mount]:
    def view(right: str) -> Callable[[Handler], Handler]:
        def wrap(handler: Handler) -> Handler:
            async def run(request: Request) -> Response:
                viewer: auth.Viewer = request.state.viewer
                if viewer.user is None:
                    # after logging in, back to the page: a form's target answers only its POST
                    back = request.url.path if request.method == "GET" else \
                        urlsplit(request.headers.get("referer", "")).path or "/"
                    return RedirectResponse(f"/dang-nhap?next={back}", status_code=303)
                if not viewer.may(right):
                    return studio.page(request, "error.html", 403, title="Không có quyền",
                                       message=f"Vai trò của bạn không được phép làm việc này ({right}).")
                try:
                    return await handler(request)
                except edit.Conflict as conflict:
                    return studio.page(request, "conflict.html", 409, path=conflict.path.relative_to(studio.root),
                                       on_disk=conflict.on_disk, mine=conflict.mine)
                except (BroadcastError, OSError) as raised:
                    # the disk refusing a save (full, read-only): said as the commands say it, not a bare 500
                    error = raised if isinstance(raised, BroadcastError) else application.machine_problem(
                        raised, studio.root, "tệp trên đĩa vẫn như trước khi lưu")
                    problems = [_problem(p, 0) for p in getattr(error, "problems", [])]
                    if request.url.path.startswith("/api/"):  # studio.js reads JSON, errors too
                        fix = f" Cách sửa: {error.fix}." if error.fix else ""
                        return JSONResponse({"error": error.message + fix, "problems": problems}, status_code=400)
                    status = 507 if isinstance(raised, OSError) else 503 if isinstance(raised, EnvironmentProblem) \
                        else 404 if "không có" in error.message else 400
                    return studio.page(request, "error.html", status, title="Không làm được",
                                       message=_in_studio(error.message), fix=_in_studio(error.fix), problems=problems)
            return run
        return wrap

    @view("read")
    async def home(request: Request) -> Response:
        return RedirectResponse("/kich-ban", status_code=303)

    @view("read")
    async def script_list(request: Request) -> Response:
        kept = studio.kept(request)  # a new script or a copy refused: said in its form, what was typed kept
        decisions = await asyncio.to_thread(studio.decisions)
        return list_page(request, decisions, kept.status, **kept.context) if kept else list_page(request, decisions)

    def list_page(request: Request, decisions: dict[str, records.Approval], status: int = 200, error: str = "",
                  error_for: str = "", typed: dict[str, str] | None = None) -> Response:
        """The list of scripts; with `error`, what was refused, said inside the form it came from
        (`error_for`: 'moi', or the id of the script being copied) with what was typed kept."""
        week = studio.week(request)
        rows = [{"script": s, "validity": _validity(s, week), "state": studio.state(s, decisions),
                 "changed": (studio.root / s.file).stat().st_mtime} for s in studio.scripts()]
        return studio.page(request, "scripts.html", status, rows=rows, week=week, trash=edit.trashed(studio.root),
                           approval=studio.workspace.project.settings.approval, error=error, error_for=error_for,
                           typed=typed or {}, broken=studio.broken("scripts/"))

    def new_id(typed: str, what: str) -> tuple[str, str]:
        """(the id, '') for what was typed as an id or a title, or ('', why not) said for the page."""
        script_id = edit.id_from(typed)
        if not script_id:
            return "", f"Chưa tạo: hãy gõ {what} (chữ có dấu cũng được, ví dụ “Thư tống tiền qua bưu điện”)."
        if studio.script_path(script_id).exists():
            return "", (f"Chưa tạo: đã có kịch bản mã “{script_id}” (tệp scripts/{script_id}.yaml). "
                        "Cách sửa: đổi tiêu đề hoặc gõ một mã khác, ví dụ thêm số 2 vào cuối.")
        return script_id, ""

    @view("edit")
    async def script_new(request: Request) -> Response:
        form = await _form(request)
        title = " ".join(_text(form, "title").split())  # one line; written by the YAML library, which quotes it
        # the id, when none is typed, is made from the title: staff name a script, not a file
        script_id, refused = new_id(_text(form, "id").strip() or title, "tiêu đề")
        if refused:
            return studio.see_other(request, "/kich-ban", 400, error=refused, error_for="moi",
                                    typed={"id": _text(form, "id"), "title": title})
        text = edit.STARTER_SCRIPT.format(id=script_id, today=application.today_in(studio.timezone).isoformat())
        if title:
            text = edit.with_fields(text, {"title": title})
        path = studio.script_path(script_id)
        # a title pasted with a character no title may hold (a Word bullet, U+F0B7): written, the project stopped
        # loading and every page of the studio was an error until the file was mended by hand
        errors = studio.workspace.draft_errors(path.relative_to(studio.root).as_posix(), text)
        if errors:
            return studio.see_other(request, "/kich-ban", 400,
                                    error=f"Chưa tạo: {errors[0].message}. Cách sửa: {errors[0].hint}.",
                                    error_for="moi", typed={"id": _text(form, "id"), "title": title})
        await asyncio.to_thread(studio.write, request.state.viewer, path, text, None, "create", text)
        return RedirectResponse(f"/kich-ban/{script_id}", status_code=303)

    @view("edit")
    async def script_copy(request: Request) -> Response:
        source = studio.script_path(request.path_params["id"])
        form = await _form(request)
        if not source.is_file():
            raise UsageError(f"không có kịch bản '{request.path_params['id']}'")
        copy_id, refused = new_id(_text(form, "new_id").strip(), "tên cho bản sao")
        if refused:
            return studio.see_other(request, "/kich-ban", 400, error=refused, error_for=source.stem,
                                    typed={"new_id": _text(form, "new_id")})
        target = studio.script_path(copy_id)
        text = edit.with_fields(edit.read_text(source), {"id": copy_id})
        await asyncio.to_thread(studio.write, request.state.viewer, target, text, None, "create",
                                f"nhân bản từ {source.name}")
        return RedirectResponse(f"/kich-ban/{copy_id}", status_code=303)

    @view("edit")
    async def script_delete(request: Request) -> Response:
        path = studio.script_path(request.path_params["id"])
        if not path.is_file():
            raise UsageError(f"không có kịch bản '{request.path_params['id']}'")
        await asyncio.to_thread(studio.moved, request.state.viewer, "delete", f"scripts/{path.name}",
                                lambda: edit.to_trash(studio.root, path),
                                lambda name: os.replace(edit.trash_folder(studio.root) / name, path), lambda name: name)
        return RedirectResponse("/kich-ban", status_code=303)

    @view("edit")
    async def trash_restore(request: Request) -> Response:
        name = request.path_params["name"]
        target = name.partition("--")[2].replace("--", "/")
        await asyncio.to_thread(studio.moved, request.state.viewer, "restore", target,
                                lambda: edit.restore(studio.root, name),
                                lambda rel: os.replace(studio.root / rel, edit.trash_folder(studio.root) / name))
        return RedirectResponse("/kich-ban", status_code=303)

    @view("read")
    async def script_edit(request: Request) -> Response:
        script_id = request.path_params["id"]
        path = studio.script_path(script_id)
        if not path.is_file():
            raise UsageError(f"không có kịch bản '{script_id}' (unknown script)")
        repair = studio.set_aside(path.relative_to(studio.root).as_posix())
        if repair:  # a file with errors: the form cannot read it, its repair page shows it as it is
            return RedirectResponse(repair, status_code=303)
        current = edit.read(path)
        project = studio.workspace.project  # a file with errors: the error page lists each at its line
        data = edit.load(current.text) or {}
        valid = data.get("valid") or {}
        shown: dict[str, Any] = {"data": data, "valid_from": str(valid.get("from") or ""),
                                 "valid_until": str(valid.get("until") or ""), "sha": current.sha256}
        # a save, a decision or a bulletin answered: what it said, over the file (a refused save: what was typed)
        kept = studio.kept(request)
        if kept:
            shown.update(kept.context, status=kept.status)
        history = await asyncio.to_thread(studio.history, script_id)
        return editor_page(request, project, script_id, history, **shown)

    def editor_page(request: Request, project: Project, script_id: str, history: list[records.Approval],
                    data: dict[str, Any], valid_from: str,
                    valid_until: str, sha: str, status: int = 200, error: str = "",
                    error_field: str = "", refused: str = "", comment: str = "",
                    emergency: dict[str, Any] | None = None) -> Response:
        """The editor with these values: the file's, or (`error`: not saved) what the person typed;
        `error_field`: the form field the error is about, marked and focused; `refused`: why an
        approver's decision was not recorded, with the `comment` they wrote kept in its box;
        `emergency`: what 'Phát khẩn cấp ngay' did or why it did not, said in its box."""
        on_disk = edit.read(studio.script_path(script_id)).sha256
        state = records.approval_state(history[0] if history else None, on_disk)
        since = _changed_since(studio.root, history[0].at) if state == "approved" else []
        return studio.page(
            request, "editor.html", status, script_id=script_id, sha=sha, data=data, error=error,
            error_field=error_field, valid_from=valid_from, valid_until=valid_until,
            levels=LEVELS, voices=[v.id for v in project.voices],
            locales=[(loc.id, loc.name) for loc in project.locales],
            provinces=sorted({(loc.province.id, loc.province.name) for loc in project.locales}),
            variables=_variables(studio),
            history=history, state=state, week=studio.week(request), approval=project.settings.approval,
            file=studio.script_path(script_id).relative_to(studio.root).as_posix(),
            refused=refused, comment=comment, emergency=emergency or {}, changed_since=since,
            on_air=application.week_of(None, studio.timezone, 0).id)

    def decision_refused(request: Request, script_id: str, why: str, comment: str, status: int) -> Response:
        """The editor page on the file as it is now, saying why the decision was not recorded, the
        comment typed kept: a conflict page said only 'nothing was overwritten', and the reason an
        approver had written for sending the script back was lost."""
        return studio.see_other(request, f"/kich-ban/{script_id}", status, refused=why, comment=comment)

    @view("edit")
    async def script_save(request: Request) -> Response:
        script_id = edit.slug(request.path_params["id"], "mã kịch bản")
        form = await _form(request)
        path = studio.script_path(script_id)
        if not path.is_file():
            raise UsageError(f"không có kịch bản '{script_id}' (unknown script)")
        text, rel = _draft_text(studio, script_id, form)
        errors = studio.workspace.draft_errors(rel, text)
        if errors:  # saved, it would stop the project loading: every page would be an error
            typed = {k: _text(form, k) for k in ("title", "source", "level", "repeat", "voice", "body")}
            first = errors[0]
            # said at the form's field (the file's line numbers are not on the page), the field focused
            field = _FORM_FIELDS.get(first.field, "")
            # a line of the body only for the body's own problems: fields the form added to the file follow it
            starts = _body_line(text)
            body_line = first.line - starts + 1 if field in ("", "body") and first.line >= starts > 0 else 0
            where = (f"Nội dung, dòng {body_line}" if body_line else _FIELD_LABELS.get(field) or f"dòng {first.line}")
            return studio.see_other(request, f"/kich-ban/{script_id}", 400, data=typed,
                                    valid_from=_text(form, "valid_from"), valid_until=_text(form, "valid_until"),
                                    sha=_text(form, "sha"),
                                    error=f"Chưa lưu: {where}: {first.message}. Cách sửa: {first.hint}.",
                                    error_field="body" if body_line else field)
        await asyncio.to_thread(studio.write, request.state.viewer, path, text, _text(form, "sha") or None)
        studio.workspace.reload()
        return RedirectResponse(f"/kich-ban/{script_id}?saved=1", status_code=303)

    @view("read")  # an approver reads what lint says too (a 403 showed them 'no errors')
    async def api_lint(request: Request) -> Response:
        form = await _form(request)
        script_id = edit.slug(_text(form, "script_id"), "mã kịch bản")
        text, rel = _draft_text(studio, script_id, form)
        provinces = [p for p in [_text(form, "province")] if p]
        async with studio.drafts:
            problems = await asyncio.to_thread(studio.workspace.lint_draft, rel, text,
                                               studio.airing_week(request, text), provinces)
        return JSONResponse({"problems": [_problem(p, _body_line(text)) for p in problems if p.file in (rel, "")
                                          or p.field == "đọc"]})

    @view("read")
    async def api_spoken(request: Request) -> Response:
        form = await _form(request)
        script_id = edit.slug(_text(form, "script_id"), "mã kịch bản")
        text, rel = _draft_text(studio, script_id, form)
        try:
            async with studio.drafts:
                week = studio.airing_week(request, text)
                spoken = await asyncio.to_thread(studio.workspace.spoken_draft, rel, text, _text(form, "locale"), week)
        except ContentError as error:
            return JSONResponse({"error": error.message, "problems": [_problem(p, _body_line(text))
                                                                        for p in error.problems]}, 400)
        return JSONResponse({"spoken": spoken, "week": week.id})

    @view("read")
    async def api_preview(request: Request) -> Response:
        form = await _form(request)
        script_id = edit.slug(_text(form, "script_id"), "mã kịch bản")
        text, rel = _draft_text(studio, script_id, form)
        locale = studio.workspace.locale(_text(form, "locale"))
        week = studio.airing_week(request, text)
        inputs = await asyncio.to_thread(studio.workspace.inputs)  # the commune, lexicon, voices... as they are now
        key = edit.sha256_text(json.dumps([text, locale.id, week.id, locale.preset.name, inputs]))[:32]
        out = studio.root / records.FOLDER / PREVIEWS / f"{key}.{locale.preset.container}"
        started = time.monotonic()
        cached = out.is_file()
        if not cached:
            try:
                async with studio.voices:
                    await asyncio.to_thread(studio.workspace.preview_draft, rel, text, locale.id, week, out)
            except ContentError as error:
                return JSONResponse({"error": error.message, "problems": [_problem(p, _body_line(text))
                                                                            for p in error.problems]}, 400)
        _heard(out)
        return JSONResponse({"url": f"/nghe-thu/{out.name}", "cached": cached, "week": week.id,
                             "seconds": round(time.monotonic() - started, 3)})

    @view("read")
    async def preview_file(request: Request) -> Response:
        name = request.path_params["name"]
        if not re.fullmatch(r"[0-9a-f]{32}\.(mp3|wav)", name):
            return Response("không có", 404)
        path = studio.root / records.FOLDER / PREVIEWS / name
        if not path.is_file():
            return Response("không có", 404)
        return FileResponse(path, media_type="audio/mpeg" if name.endswith(".mp3") else "audio/wav")

    @view("approve")
    async def script_decide(request: Request) -> Response:
        script_id = edit.slug(request.path_params["id"], "mã kịch bản")
        form = await _form(request)
        decision = _text(form, "decision")
        if decision not in ("approved", "rejected"):
            raise UsageError("quyết định không hợp lệ (invalid decision)")
        comment = _text(form, "comment").strip()[:2000]
        if decision == "rejected" and not comment:
            raise UsageError("trả lại kịch bản cần ghi lý do (a rejection needs a comment)",
                             fix="ghi rõ cần sửa gì vào ô nhận xét")
        path = studio.script_path(script_id)
        sha = records.file_sha256(path)
        if not sha:
            raise UsageError(f"không có kịch bản '{script_id}'")
        not_recorded = "Quyết định của bạn chưa được ghi: "
        # the version read is required: without it (an old page, a script posting) whatever was on disk at
        # that moment was approved, unread
        if _text(form, "sha") != sha:
            return decision_refused(request, script_id, not_recorded + "kịch bản đã được sửa sau khi bạn mở trang, "
                                    "nên bản bạn đã đọc không còn là bản sẽ phát (changed meanwhile; ai sửa gì: xem "
                                    "Nhật ký). Trang này là bản mới; đọc lại rồi quyết định.", comment, 409)
        seen, user = _text(form, "seen"), request.state.viewer.name

        def decide() -> str:
            """Recorded (''), or why not. Read and decided in one write transaction: one approver at a time."""
            with records.connect(studio.root) as conn:
                records.reserve(conn)
                history = records.history(conn, script_id)
                # another approver decided since this page was shown: this one has not read that decision
                if seen.isdigit() and int(seen) < len(history):
                    last = history[0]
                    did = {"approved": "duyệt", "rejected": "trả lại"}.get(last.decision, last.decision)
                    return (f"{not_recorded}trong lúc bạn xem, {last.user} đã {did} kịch bản này"
                            + (f" với nhận xét “{last.comment}”" if last.comment else "")
                            + " (decided meanwhile). Đọc quyết định đó rồi quyết định lại.")
                records.decide(conn, script_id, sha, decision, user, comment)
            return ""

        # in a thread: the write lock waited for (another program holding the database) held every request
        refused = await asyncio.to_thread(decide)
        if refused:
            return decision_refused(request, script_id, refused, comment, 400)
        return RedirectResponse(f"/kich-ban/{script_id}", status_code=303)

    @view("build")
    async def script_emergency(request: Request) -> Response:
        """'Phát khẩn cấp ngay': the same as `broadcast emergency SCRIPT`, into the week on air, for every
        commune, a province or one commune. The bulletin is the file as saved (and, under approval, as
        approved): the one the page showed, or nothing is published."""
        script_id = edit.slug(request.path_params["id"], "mã kịch bản")
        form = await _form(request)
        where = _text(form, "where")
        provinces = [where.removeprefix("tinh:")] if where.startswith("tinh:") else []
        locale_ids = [where] if where and not provinces else []
        sha = records.file_sha256(studio.script_path(script_id))
        if not sha:
            raise UsageError(f"không có kịch bản '{script_id}'")

        def said(outcome: dict[str, Any], status: int) -> Response:
            # a reload of the page said published must not publish again
            return studio.see_other(request, f"/kich-ban/{script_id}", status, emergency={"where": where, **outcome})

        # the version read is required, as for a decision: without it (an old page, a script posting) whatever
        # was on disk at that moment aired, unread
        if _text(form, "sha") != sha:
            return said({"error": "Chưa phát: kịch bản đã được sửa sau khi bạn mở trang, nên bản bạn đã đọc không "
                                  "phải bản sẽ phát. Trang này là bản mới: đọc lại rồi bấm lại Phát khẩn cấp ngay."},
                        409)
        try:
            result = await asyncio.to_thread(application.open_workspace(studio.root).emergency, script_id,
                                             locale_ids, provinces, jobs=min(2, os.cpu_count() or 1), version=sha)
        except BroadcastError as error:
            fix = f" Cách sửa: {_in_studio(error.fix)}." if error.fix else ""
            problems = [{**_problem(p, 0), "message": _in_studio(p.message), "fix": _in_studio(p.hint)}
                        for p in getattr(error, "problems", []) if p.message != error.message]
            return said({"error": f"Chưa phát: {_in_studio(error.message)}.{fix}", "problems": problems}, 400)
        failures = [_in_studio(f) for f in result.failures]
        user = request.state.viewer.name

        def log() -> None:
            with records.connect(studio.root) as conn:
                records.add_audit(conn, user, "emergency", f"scripts/{script_id}.yaml",
                                  f"tuần {result.week.id}, {len(result.published)} xã, {len(result.files)} tệp mới, "
                                  f"mã nội dung {sha}" + "".join(f"; lỗi: {f}" for f in result.failures))
        try:
            await asyncio.to_thread(log)
        except BroadcastError as error:  # published all the same: the page must not say it failed (pressed again)
            failures.append(f"tin đã phát hành nhưng chưa ghi được vào Nhật ký: {error.message}. Cách sửa: "
                            f"{error.fix}")
        return said({"week": result.week.id, "communes": len(result.published), "files": len(result.files),
                     "first": result.published[0] if result.published else "", "failures": failures}, 200)

    @view("read")
    async def approval_sheet(request: Request) -> Response:
        script_id = edit.slug(request.path_params["id"], "mã kịch bản")
        path = studio.script_path(script_id)
        repair = studio.set_aside(path.relative_to(studio.root).as_posix()) if path.is_file() else None
        if repair:  # nothing to approve until it reads: its repair page says why ('không có kịch bản' did not)
            return RedirectResponse(repair, status_code=303)
        script = studio.workspace.script(script_id)
        week = studio.week(request)
        locale_id = request.query_params.get("locale") or first_commune()
        locale = studio.workspace.locale(locale_id)
        history = await asyncio.to_thread(studio.history, script_id)
        sha = records.file_sha256(studio.root / script.file)
        state = records.approval_state(history[0] if history else None, sha)
        return studio.page(request, "sheet.html", script=script, locale=locale, week=week, state=state,
                           decision=history[0] if history and state != "draft" else None, sha=sha,
                           locales=[(loc.id, loc.name) for loc in studio.workspace.project.locales],
                           text=studio.workspace.render(script_id, locale_id, week),
                           spoken=studio.workspace.render(script_id, locale_id, week, spoken=True))

    @view("read")
    async def communes(request: Request) -> Response:
        project = studio.workspace.project
        query = (request.query_params.get("q") or "").strip().lower()
        province = request.query_params.get("tinh") or ""
        found = [loc for loc in project.locales if (not province or loc.province.id == province)
                 and (not query or query in loc.name.lower() or query in loc.id)]
        try:
            page = max(1, int(request.query_params.get("trang") or 1))
        except ValueError:
            page = 1
        pages = max(1, (len(found) + PAGE_SIZE - 1) // PAGE_SIZE)
        page = min(page, pages)
        provinces = sorted({(loc.province.id, loc.province.name) for loc in project.locales})
        return studio.page(request, "communes.html", rows=found[(page - 1) * PAGE_SIZE:page * PAGE_SIZE],
                           total=len(found), page=page, pages=pages, q=query, province=province, provinces=provinces,
                           broken=studio.broken("locales/"))

    @view("read")
    async def commune_edit(request: Request) -> Response:
        folder = f"locales/{request.path_params['province']}"
        name = request.path_params["commune"]
        repair = studio.set_aside(f"{folder}/{name}.yaml", f"{folder}/{name}.yml", f"{folder}/_province.yaml")
        if repair:  # its file, or its province's, has errors: the repair page shows it as it is
            return RedirectResponse(repair, status_code=303)
        locale = studio.workspace.locale(f"{request.path_params['province']}/{request.path_params['commune']}")
        path = edit.inside(studio.root, locale.file)
        kept = studio.kept(request)
        if kept:  # refused: what was typed, and why
            return studio.page(request, "commune.html", kept.status, locale=locale, **kept.context)
        current = edit.read(path)
        data = edit.load(current.text) or {}
        return studio.page(request, "commune.html", locale=locale, data=data, sha=current.sha256, text=current.text)

    @view("edit")
    async def commune_save(request: Request) -> Response:
        locale = studio.workspace.locale(f"{request.path_params['province']}/{request.path_params['commune']}")
        path = edit.inside(studio.root, locale.file)
        form = await _form(request)
        before = edit.read(path).text
        # the two contacts the form shows, each set or removed on its own: others (fire, ...) stay
        contacts: dict[str, Any] = {}
        for key in ("police", "commune"):
            name, phone = _text(form, f"{key}_name").strip(), _text(form, f"{key}_phone").strip()
            contacts[key] = {"name": name or None, "phone": phone or None} if name or phone else None
        variables: dict[str, Any] = {}
        written = (_parsed(before, locale.file) or {}).get("vars") or {}
        renamed: dict[str, str] = {}
        for index in range(_VAR_ROWS_MAX):
            key, value = _text(form, f"var_key_{index}").strip(), _text(form, f"var_value_{index}").strip()
            if key:
                variables[key] = value or None
                # a list or a mapping is shown read-only by its size: renamed, it moves whole, as written (it
                # was saved under the new name as the text '(danh sách 2 mục: sửa trong tệp)', the list gone)
                old = _text(form, f"var_was_{index}")
                was = written.get(old) if isinstance(written, Mapping) and old != key else None
                if isinstance(was, Mapping | list | tuple) and value == edit.shown(was) and key not in written:
                    renamed[old] = key
        if renamed:
            before = edit.renamed(before, "vars", renamed)
        removed = {k: None for k in written if k not in variables and k not in renamed}
        text = edit.with_fields(before, {"name": _text(form, "name").strip(),
                                         "station": _text(form, "station").strip() or None,
                                         "contacts": contacts,
                                         "vars": {**removed, **variables} or None})
        names = [Problem(locale.file, 0, "vars", f"tên biến '{key}' không dùng được trong mẫu: chỉ chữ, số và "
                         "dấu gạch dưới, không bắt đầu bằng số (invalid variable name)", "ví dụ: truong_thon")
                 for key in variables if not key.isidentifier()]
        problems = [_problem(p, 0) for p in names] + _commune_problems(studio, locale.file, text)
        if problems:
            return studio.see_other(request, f"/xa/{locale.id}", 400, data=edit.load(text), sha=_text(form, "sha"),
                                    text=text, problems=problems)
        await asyncio.to_thread(studio.write, request.state.viewer, path, text, _text(form, "sha") or None)
        studio.workspace.reload()
        return RedirectResponse(f"/xa/{locale.id}?saved=1", status_code=303)

    def repair_target(request: Request) -> tuple[str, Path]:
        """The file a repair page is for (its project path, its path on disk): a script, commune or province
        file, inside the project."""
        rel = request.path_params["path"]
        if not application.SET_ASIDE.fullmatch(rel) or ".." in rel.split("/"):
            raise UsageError(f"không có tệp kịch bản, xã hay tỉnh '{rel}' để sửa ở đây (not a script, commune or "
                             "province file)")
        edit.inside(studio.root, rel)
        return rel, studio.root / rel

    @view("read")
    async def repair_page(request: Request) -> Response:
        """A file set aside for its errors, as it is on disk, in a plain text area with its problems: the
        editor's form cannot read it (a YAML error from a hand edit, a merge, an id too long)."""
        rel, path = repair_target(request)
        problems = studio.workspace.broken.get(rel)
        if problems is None:  # it reads (mended meanwhile, in a text editor or git): its own page
            if path.is_file():
                return RedirectResponse(studio.editor_of(rel), status_code=303)
            raise UsageError(f"không có tệp '{rel}' (no such file)")
        shown: dict[str, Any] = {"text": "", "sha": "", "problems": [_problem(p, 0) for p in problems],
                                 "new_id": edit.id_from(path.stem), "unreadable": ""}
        if path.is_symlink() or path.exists() and not path.is_file():
            shown["unreadable"] = "Tệp này không mở được trong studio: sửa theo cách ghi ở trên."
        elif path.exists():
            try:
                current = edit.read(path)
                shown.update(text=current.text, sha=current.sha256)
            except BroadcastError as error:  # Notepad's "Unicode" or ANSI: said, with how to save it again
                shown["unreadable"] = f"Tệp này không mở được trong studio: {error.message}. Cách sửa: {error.fix}."
            except OSError as error:  # not readable by the studio's account
                shown["unreadable"] = f"Tệp này không mở được trong studio: {machine_refusal(error)[0]}."
        kept = studio.kept(request)  # a refused save: what was typed, and its problems
        if kept:
            shown.update(kept.context)
        return studio.page(request, "repair.html", kept.status if kept else 200, file=rel,
                           rename=rel.startswith("scripts/") and not _usable_id(path.stem), **shown)

    @view("edit")
    async def repair_save(request: Request) -> Response:
        """Lưu on a repair page: the text saved only if the file then reads (checked as the editor's and the
        commune page's saves are), by `Studio.write` (the log, the version opened); then the file's own page.
        A script whose file name cannot be its id (too long, with diacritics) is saved under the new id the
        page asks for, the old file moved to the trash: never renamed unasked."""
        rel, path = repair_target(request)
        form = await _form(request)
        text = _text(form, "text").replace("\r\n", "\n").replace("\r", "\n")
        sha, typed_id = _text(form, "sha"), _text(form, "new_id").strip()
        if rel not in studio.workspace.broken:
            on_disk = edit.read_text(path) if path.is_file() else ""
            if on_disk == text:  # a double-click's second save: already so
                return RedirectResponse(studio.editor_of(rel), status_code=303)
            raise edit.Conflict(path, on_disk, text)  # mended elsewhere meanwhile: never saved over, both shown
        target, saved = rel, text
        problems: list[dict[str, Any]] = []
        if rel.startswith("scripts/") and not _usable_id(path.stem):
            if not _usable_id(typed_id):
                problems.append(_problem(Problem(
                    rel, 0, "id", f"mã mới '{typed_id}' không dùng được: tên tệp là mã của kịch bản",
                    f"chỉ dùng chữ thường không dấu, số và dấu '-', tối đa {MAX_SLUG} ký tự, ví dụ "
                    f"{edit.id_from(path.stem) or 'canh-bao-otp'}"), 0))
            elif any((studio.root / "scripts" / f"{typed_id}{suffix}").exists() for suffix in (".yaml", ".yml")):
                problems.append(_problem(Problem(
                    rel, 0, "id", f"đã có kịch bản mã '{typed_id}' (scripts/{typed_id}.yaml)",
                    "gõ một mã khác, ví dụ thêm số 2 vào cuối"), 0))
            else:
                target = f"scripts/{typed_id}.yaml"
                try:
                    readable = isinstance(parse_yaml(text), Mapping)
                except YamlError:
                    readable = False  # said at its line by the check below
                if readable:
                    saved = edit.with_fields(text, {"id": typed_id})
        if not problems:
            problems = ([_problem(p, 0) for p in studio.workspace.draft_errors(target, saved)]
                        if rel.startswith("scripts/") else _commune_problems(studio, rel, saved))
        if problems:
            return studio.see_other(request, request.url.path, 400, text=text, sha=sha, new_id=typed_id,
                                    problems=problems, error="Chưa lưu: tệp vẫn còn lỗi, xem từng dòng dưới đây.")
        viewer = request.state.viewer
        if target == rel:
            await asyncio.to_thread(studio.write, viewer, path, saved, sha or None)
        else:
            def renamed() -> None:
                if records.file_sha256(path) != sha:  # changed since the page showed it
                    raise edit.Conflict(path, edit.read_text(path), text)
                studio.write(viewer, studio.root / target, saved, None, "create")
                studio.moved(viewer, "delete", rel, lambda: edit.to_trash(studio.root, path),
                             lambda name: os.replace(edit.trash_folder(studio.root) / name, path), lambda name: name)
            await asyncio.to_thread(renamed)
        studio.workspace.reload()
        if target in studio.workspace.broken:  # it reads alone, not in the project (a duplicate name, code)
            return RedirectResponse(repair_address(target), status_code=303)
        page = studio.editor_of(target)
        return RedirectResponse(page + ("&" if "?" in page else "?") + "saved=1", status_code=303)

    @view("read")
    async def recordings(request: Request) -> Response:
        project = studio.workspace.project
        voices = [v.id for v in project.voices if v.engine == "recorded"]
        chosen = request.query_params.get("giong") or (voices[0] if voices else "")
        needed = studio.workspace.recordings_needed(chosen, studio.week(request)) if chosen else []
        return studio.page(request, "recordings.html", voices=voices, chosen=chosen, needed=needed,
                           limit=application.UPLOAD_MAX_BYTES // 1_000_000)

    @view("edit")
    async def recording_upload(request: Request) -> Response:
        form = await _form(request, application.UPLOAD_MAX_BYTES + 100_000)
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise UsageError("chưa chọn tệp ghi âm (no file)",
                             fix="chọn một tệp WAV, MP3, M4A, AAC, AMR, 3GP, OGG, Opus, WebM, FLAC hoặc MP4")
        data = await upload.read(application.UPLOAD_MAX_BYTES + 1)
        sentence = _text(form, "sentence")
        voice = _text(form, "voice")
        path = await asyncio.to_thread(studio.workspace.save_recording, voice, sentence, upload.filename, data)
        rel = path.relative_to(studio.root).as_posix()
        await asyncio.to_thread(studio.audit, request.state.viewer, "upload", rel, sentence)
        return RedirectResponse(f"/ghi-am?giong={voice}&saved=1", status_code=303)

    @view("edit")
    async def province_import(request: Request) -> Response:
        form = await _form(request)
        name = _text(form, "province").strip()
        report = await asyncio.to_thread(studio.workspace.import_locales, [name])
        await asyncio.to_thread(studio.audit, request.state.viewer, "import", name, str(report))
        studio.workspace.reload()
        return RedirectResponse("/xa?imported=1", status_code=303)

    @view("read")
    async def lexicon(request: Request) -> Response:
        kept = studio.kept(request)  # refused: what was typed, and why
        return lexicon_page(request, kept.status, **kept.context) if kept else lexicon_page(request)

    def lexicon_page(request: Request, status: int = 200, error: str = "", typed: dict[str, str] | None = None,
                     problems: tuple[Problem, ...] = ()) -> Response:
        """The dictionary page; with `error`, not saved: what was typed kept, the problems listed."""
        path = studio.root / "lexicon.yaml"
        current = edit.read(path) if path.is_file() else edit.FileText("", "", 0)
        data = _parsed(current.text, "lexicon.yaml") if current.text else {}
        return studio.page(request, "lexicon.html", status, data=data or {}, sha=current.sha256, error=error,
                           typed=typed or {}, problems=[_problem(p, 0) for p in problems])

    @view("edit")
    async def lexicon_save(request: Request) -> Response:
        form = await _form(request)
        section = _text(form, "section")
        if section not in ("abbreviations", "words", "domains"):
            raise UsageError("mục từ điển không hợp lệ (invalid section)")
        # as the project reads them: NFC (a key typed decomposed looked the same and was another key)
        key = unicodedata.normalize("NFC", _text(form, "key").strip())
        reading = unicodedata.normalize("NFC", " ".join(_text(form, "reading").split()))
        typed = {"section": section, "key": key, "reading": reading}
        path = studio.root / "lexicon.yaml"
        before = edit.read_text(path) if path.is_file() else ""
        entries = (_parsed(before, "lexicon.yaml") or {}).get(section) or {} if before.strip() else {}
        if section != "abbreviations":  # words and domains are found whatever their case: one entry each
            key = next((k for k in entries if str(k).lower() == key.lower()), key)
        if isinstance(entries.get(key), dict) and reading:
            return studio.see_other(request, "/tu-dien", 400, error=f"Chưa lưu: '{key}' có cách đọc riêng cho từng "
                                    f"giọng ({', '.join(map(str, entries[key]))}); sửa mục này trong lexicon.yaml",
                                    typed=typed)
        text = edit.with_fields(before, {section: {key: reading or None}})
        problems = _lexicon_problems(studio, text)
        if problems:
            return studio.see_other(request, "/tu-dien", 400, error="Chưa lưu: cách đọc này có lỗi", typed=typed,
                                    problems=tuple(problems))
        await asyncio.to_thread(studio.write, request.state.viewer, path, text,
                                _text(form, "sha") or (None if not path.is_file() else ""))
        studio.workspace.reload()
        return RedirectResponse("/tu-dien?saved=1", status_code=303)

    @view("read")
    async def api_say(request: Request) -> Response:
        """Hear a word or sentence as the project reads it now ("before") or with a reading ("after")."""
        form = await _form(request)
        text = _text(form, "text").strip()[:300]
        reading = " ".join(_text(form, "reading").split())[:300]
        if reading:
            text = f"[đọc: {reading}]"
        if not text:
            raise UsageError("chưa có chữ để đọc (nothing to say)")
        settings = studio.workspace.project.settings
        preset, project_voice = settings.preset, settings.default_voice
        inputs = await asyncio.to_thread(studio.workspace.inputs)  # the lexicon as it is now, among the rest
        key = edit.sha256_text(json.dumps(["say", text, preset.name, inputs]))[:32]
        out = studio.root / records.FOLDER / PREVIEWS / f"{key}.{preset.container}"
        if not out.is_file():
            async with studio.voices:
                await asyncio.to_thread(studio.workspace.say, text, out)
        _heard(out)
        return JSONResponse({"url": f"/nghe-thu/{out.name}",
                             "spoken": studio.workspace.normalize([text], voice_id=project_voice)[0]})

    def first_commune() -> str:
        """The commune a page shows first; none when every commune file is set aside (a province's file broken)."""
        locales = studio.workspace.project.locales
        if not locales:
            raise UsageError("chưa có xã nào đọc được (no commune)",
                             fix="sửa các tệp có lỗi ở trang Xã, phường, hoặc thêm xã ở đó")
        return locales[0].id

    @view("read")
    async def week_grid(request: Request) -> Response:
        week = studio.week(request)
        project = studio.workspace.project
        locale_id = request.query_params.get("xa") or first_commune()
        plan = studio.workspace.plan(week, [locale_id])
        titles = {s.id: s.title for s in project.scripts}
        locale_plan = plan.locales[0]
        slots: dict[str, dict[int, Any]] = {}
        for program in locale_plan.programs:
            used = sum(item.seconds for item in program.items)
            slot = program.slot
            slots.setdefault(f"{slot.start.strftime('%H:%M')} {slot.name}", {})[program.day.weekday()] = {
                "items": [{"id": i.script_id, "title": titles.get(i.script_id, i.script_id), "level": i.level,
                           "seconds": round(i.seconds)} for i in program.items],
                "used": round(used), "capacity": round(program.capacity),
                "full": round(100 * used / program.capacity) if program.capacity else 0}
        return studio.page(request, "week.html", week=week, weekdays=WEEKDAYS, slots=sorted(slots.items()),
                           locale_id=locale_id, locales=[(loc.id, loc.name) for loc in project.locales],
                           shortfalls=locale_plan.shortfalls, not_airing=plan.not_airing,
                           days=week.days)

    @view("read")
    async def build_page(request: Request) -> Response:
        week = studio.week(request)
        weeks = sorted((p.name for p in (studio.root / "output").glob("*-W*") if (p / manifest.FILE).is_file()),
                       reverse=True)
        return studio.page(request, "build.html", week=week, job=studio.job, weeks=weeks)

    @view("build")
    async def build_start(request: Request) -> Response:
        form = await _form(request)
        week = studio.workspace.week(_text(form, "week") or None)
        with studio.job_lock:
            if studio.job and not studio.job.done:
                raise UsageError("đang có một lần dựng chạy (a build is running)", fix="chờ lần dựng đó xong")
            job = studio.job = BuildJob(week.id, request.state.viewer.name)
        threading.Thread(target=_run_build, args=(studio, job, week), daemon=True).start()
        return RedirectResponse(f"/dung-tuan?week={week.id}", status_code=303)

    @view("read")
    async def build_events(request: Request) -> Response:
        job = studio.job

        async def stream() -> AsyncIterator[str]:
            sent = 0
            while job is not None:
                with job.lock:
                    fresh, done = job.events[sent:], job.done
                for item in fresh:
                    yield f"data: {json.dumps(item, ensure_ascii=False)}\n\n"
                sent += len(fresh)
                if done and sent >= len(job.events):
                    yield f"event: done\ndata: {json.dumps(job.result or {'error': job.error}, ensure_ascii=False)}\n\n"
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.2)
            yield "event: done\ndata: {}\n\n"
        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    @view("read")
    async def published_week(request: Request) -> Response:
        week_id = request.path_params["week"]
        folder = _week_folder(studio, week_id)
        # read as every command reads it: a damaged one (cut short, another schema) is said with its fix (a bare 500)
        entries = manifest.published(folder)
        data = json.loads((folder / manifest.FILE).read_text(encoding="utf-8"))
        locales = sorted({e.locale for e in entries.values() if e.locale})
        chosen = request.query_params.get("xa") or (locales[0] if locales else "")
        if chosen and chosen not in locales:
            raise UsageError(f"không có xã '{chosen}' trong tuần {week_id}")
        files = [e for e in entries.values() if e.locale == chosen]
        return studio.page(request, "published.html", week_id=week_id, data=data, locales=locales, chosen=chosen,
                           files=files)

    @view("download")
    async def published_file(request: Request) -> Response:
        folder = _week_folder(studio, request.path_params["week"])
        path = (folder / request.path_params["path"]).resolve()
        if not path.is_relative_to(folder.resolve()) or not path.is_file():
            return Response("không có tệp này", 404)
        return FileResponse(path)

    @view("download")
    async def published_zip(request: Request) -> Response:
        folder = _week_folder(studio, request.path_params["week"])
        commune = (folder / request.path_params["province"] / request.path_params["commune"]).resolve()
        # a commune's folder, two levels down: '/tuan/W/./..zip' (commune '.') zipped the whole week
        if commune.parent.parent != folder.resolve() or not commune.is_dir():
            return Response("không có xã này", 404)
        # a commune's week is ~150 MB: zipped to a file in a thread (not in memory, not holding the
        # event loop), sent from disk, deleted once sent
        path = await asyncio.to_thread(_zip_folder, commune, studio.root / records.FOLDER)
        name = f"{request.path_params['week']}-{commune.name}.zip"
        return FileResponse(path, media_type="application/zip", background=BackgroundTask(path.unlink, True),
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @view("read")
    async def audit_log(request: Request) -> Response:
        entries = await asyncio.to_thread(studio.audit_entries)
        return studio.page(request, "audit.html", entries=entries)

    async def login_page(request: Request) -> Response:
        if request.method == "GET":
            return studio.page(request, "login.html", next=_next(request.query_params.get("next")))
        form = await _form(request)
        name, password = _text(form, "name").strip(), _text(form, "password")
        address = request.client.host if request.client else ""
        try:
            # Argon2 takes ~0.1 s of CPU on purpose: in a thread, so other requests are answered meanwhile
            token = await asyncio.to_thread(auth.login, studio.root, name, password, address)
            many = token is None and await asyncio.to_thread(auth.too_many_attempts, studio.root, name, address)
        except BroadcastError as error:  # the database busy or unusable: said on the login page, not a traceback
            return studio.page(request, "login.html", 503, error=f"{error.message}. Cách sửa: {error.fix}.",
                               next=_next(_text(form, "next")))
        if token is None:
            why = "Đăng nhập sai quá nhiều lần; hãy đợi 15 phút." if many else "Sai tên hoặc mật khẩu."
            return studio.page(request, "login.html", 401, error=why, next=_next(_text(form, "next")))
        response = RedirectResponse(_next(_text(form, "next")), status_code=303)
        # kept by the browser as long as the session may last: the database ends it when idle (a cookie of
        # 12 hours from the login logged out whoever was still at work 12 hours later, in mid-sentence)
        response.set_cookie(auth.COOKIE, token, max_age=auth.SESSION_LIFE, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    async def logout(request: Request) -> Response:
        try:
            await asyncio.to_thread(auth.logout, studio.root, request.cookies.get(auth.COOKIE))
        except BroadcastError as error:  # the session stays open in the database: say so, keep the cookie
            return studio.page(request, "error.html", 503, title="Chưa đăng xuất được", message=error.message,
                               fix=error.fix)
        response = RedirectResponse("/dang-nhap", status_code=303)
        response.delete_cookie(auth.COOKIE)
        return response

    static = Path(__file__).parent / "static"
    return [
        Route("/", home),
        Route("/kich-ban", script_list),
        Route("/kich-ban/moi", script_new, methods=["POST"]),
        Route("/kich-ban/{id}", script_edit),
        Route("/kich-ban/{id}", script_save, methods=["POST"]),
        Route("/kich-ban/{id}/nhan-ban", script_copy, methods=["POST"]),
        Route("/kich-ban/{id}/xoa", script_delete, methods=["POST"]),
        Route("/kich-ban/{id}/duyet", script_decide, methods=["POST"]),
        Route("/kich-ban/{id}/phat-khan-cap", script_emergency, methods=["POST"]),
        Route("/kich-ban/{id}/phieu-duyet", approval_sheet),
        Route("/thung-rac/{name}/khoi-phuc", trash_restore, methods=["POST"]),
        Route("/api/lint", api_lint, methods=["POST"]),
        Route("/api/doc", api_spoken, methods=["POST"]),
        Route("/api/nghe-thu", api_preview, methods=["POST"]),
        Route("/api/noi", api_say, methods=["POST"]),
        Route("/nghe-thu/{name}", preview_file),
        Route("/xa", communes),
        Route("/xa/{province}/{commune}", commune_edit),
        Route("/xa/{province}/{commune}", commune_save, methods=["POST"]),
        Route("/sua-tep/{path:path}", repair_page),
        Route("/sua-tep/{path:path}", repair_save, methods=["POST"]),
        Route("/ghi-am", recordings),
        Route("/ghi-am", recording_upload, methods=["POST"]),
        Route("/xa/nhap-tinh", province_import, methods=["POST"]),
        Route("/tu-dien", lexicon),
        Route("/tu-dien", lexicon_save, methods=["POST"]),
        Route("/lich-tuan", week_grid),
        Route("/dung-tuan", build_page),
        Route("/dung-tuan", build_start, methods=["POST"]),
        Route("/dung-tuan/su-kien", build_events),
        Route("/tuan/{week}", published_week),
        Route("/tuan/{week}/tep/{path:path}", published_file),
        Route("/tuan/{week}/{province}/{commune}.zip", published_zip),
        Route("/nhat-ky", audit_log),
        Route("/dang-nhap", login_page, methods=["GET", "POST"]),
        Route("/dang-xuat", logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]


def _heard(path: Path) -> None:
    """`path` was just heard: it counts as new, and only the PREVIEWS_KEPT files heard last are kept, at
    most PREVIEWS_BYTES of them (every draft heard and every word tried was kept for ever: a busy editor's
    year is gigabytes, and anyone who may read could fill the disk by asking for new text). The count alone
    let 200 whole messages stay: 260 MB with `loa`, 2.6 GB with `phat-thanh`'s WAV (13 MB a message)."""
    try:
        os.utime(path)
        files = sorted(((f.stat().st_mtime_ns, f.stat().st_size, f) for f in path.parent.iterdir()
                        if f.is_file() and not f.name.startswith(".")), reverse=True)  # not one being written
    except OSError:
        return
    total = 0
    for number, (_, size, old) in enumerate(files):
        total += size
        if number == 0 or (number < PREVIEWS_KEPT and total <= PREVIEWS_BYTES):
            continue  # the one just heard always stays
        try:
            old.unlink(missing_ok=True)
        except OSError:  # on Windows, one being heard right now cannot be removed: the next time
            pass


def _next(target: str | None) -> str:
    """Only a path of this site: never a redirect elsewhere."""
    # a browser takes '/\\host' for '//host': no backslash either
    return target if target and target.startswith("/") and not target.startswith("//") and "\\" not in target \
        else "/kich-ban"


def _in_studio(text: str) -> str:
    """A message of the commands said for the studio: the page to use, not the command to type."""
    text = re.sub(r"broadcast build --week ([0-9]{4}-W[0-9]{2})", r"trang Dựng tuần, tuần \1", text)
    text = text.replace("chạy 'broadcast build' không kèm --locale hay --province", "dựng tuần đó ở trang Dựng tuần")
    return text.replace("rồi chạy lại lệnh này", "rồi bấm lại Phát khẩn cấp ngay")


# what a script's words are read with beside the script itself: the communes' and provinces' values, the
# readings, the project's settings. An approval is of the script's bytes; these may change what airs after it
_READ_WITH = ("broadcast.yaml", "lexicon.yaml", "locales/*.yaml", "locales/*/*.yaml")


def _changed_since(root: Path, at: float) -> list[str]:
    """The files of `_READ_WITH` saved after `at` (an approval), newest first: the approver is told that the
    text aired in those communes may differ from what they read (a police number, a reading changed)."""
    changed = []
    for pattern in _READ_WITH:
        for path in root.glob(pattern):
            try:
                stamp = path.stat().st_mtime
            except OSError:
                continue
            if stamp > at:
                changed.append((stamp, path.relative_to(root).as_posix()))
    return [name for _, name in sorted(changed, reverse=True)]


def _week_folder(studio: Studio, week_id: str) -> Path:
    if not re.fullmatch(r"[0-9]{4}-W[0-9]{2}", week_id):
        raise UsageError(f"không có tuần '{week_id}' (unknown week)")
    folder = studio.root / "output" / week_id
    if not (folder / manifest.FILE).is_file():
        raise UsageError(f"không có tuần '{week_id}' đã phát hành (no published week)",
                         fix="dựng tuần đó ở trang Dựng tuần")
    return folder


def _variables(studio: Studio) -> list[str]:
    """What a script body may use, for the editor's click-to-insert list."""
    names = ["locale.name", "locale.station", "locale.province.name", "locale.code", "week.id",
             "week.start | ngay", "week.end | ngay", "script.title"]
    project = studio.workspace.project
    for key in sorted({k for loc in project.locales for k in loc.contacts}):
        names += [f"locale.contacts.{key}.name", f"locale.contacts.{key}.phone"]
    names += [f"locale.vars.{k}" for k in sorted({k for loc in project.locales for k in loc.vars})]
    return names


def _commune_problems(studio: Studio, file: str, text: str) -> list[dict[str, Any]]:
    """The problems a commune file would have with `text`: the project read with it in place (in a
    copy of the locales folder, so nothing on disk changes until it is clean)."""
    from ..project import read_project

    scratch = studio.root / records.FOLDER / "kiem-tra"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        for name in ("broadcast.yaml", "lexicon.yaml", "official_numbers.yaml"):
            if (studio.root / name).is_file():
                (scratch).mkdir(parents=True, exist_ok=True)
                shutil.copy2(studio.root / name, scratch / name)
        for folder in ("voices", "schedules"):
            if (studio.root / folder).is_dir():
                shutil.copytree(studio.root / folder, scratch / folder)
        province = Path(file).parent
        shutil.copytree(studio.root / province, scratch / province)
        (scratch / file).write_text(text, encoding="utf-8")
        _, loading = read_project(scratch)
        problems = [p for p in loading.problems if p.file == file and p.severity == "error"]
        from .. import phones

        project, _ = read_project(scratch)
        if project is not None:
            problems += [p for p in phones.contact_problems(scratch, project.locales) if p.file == file]
        return [_problem(p, 0) for p in problems]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _lexicon_problems(studio: Studio, text: str) -> list[Problem]:
    from ..project import LoadProblems
    from ..schema import LEXICON

    loading = LoadProblems(studio.root)
    # readings given per voice name one of these (as reading the project knows them)
    loading.known.update(voices=frozenset(p.stem for p in (studio.root / "voices").glob("*.yaml")))
    try:
        data = parse_yaml(text)
    except YamlError as error:
        return [Problem("lexicon.yaml", error.line, "", error.message, error.hint)]
    LEXICON.validate(data, loading.place(studio.root / "lexicon.yaml", data))
    return [p for p in loading.problems if p.severity == "error"]


def _run_build(studio: Studio, job: BuildJob, week: Week) -> None:
    """The same build as `broadcast build`, in a thread, its events kept for the page."""
    def listen(event: Event) -> None:
        job.add({"stage": event.stage, "label": event.label, "kind": event.kind, "done": event.done,
                 "total": event.total, "seconds": round(event.seconds, 1)})
    try:
        result = application.open_workspace(studio.root).build(week, listener=listen, jobs=min(2, os.cpu_count() or 1))
        job.result = {"week": result.week.id, "files": len(result.files), "messages": result.count("message"),
                      "programs": result.count("program"), "failures": result.failures,
                      "warnings": result.warnings + [f"gói mang tới đài đã cũ nên đã xoá, cần đóng gói lại: {commune}"
                                                     for commune in result.bundles_dropped],
                      "not_approved": result.not_approved, "seconds": result.stats.get("seconds", 0)}
        try:
            with records.connect(studio.root) as conn:
                records.add_audit(conn, job.user, "build", week.id,
                                  f"{len(result.files)} tệp, {len(result.failures)} lỗi, "
                                  f"không phát vì chưa duyệt: {', '.join(result.not_approved) or 'không'}")
        except BroadcastError as error:  # the week is published all the same: the page must not say it failed
            job.result["warnings"].append(f"tuần đã dựng xong nhưng chưa ghi được vào Nhật ký: {error.message}")
    except BroadcastError as error:
        # the command line's way round is not the studio's: say what to do here instead
        job.error = error.report().replace("hoặc chạy 'broadcast build --allow-placeholders' để dựng thử",
                                           "trong các kịch bản hoặc trang Xã của studio, rồi dựng lại")
    except Exception as error:  # the page must say the build stopped, whatever stopped it
        job.error = f"lỗi không mong đợi: {type(error).__name__}: {error}"
    try:
        if job.error:  # a build that stopped is in the log too, as the ones that published
            with records.connect(studio.root) as conn:
                records.add_audit(conn, job.user, "build", week.id, f"không dựng được: {job.error[:2000]}")
    except BroadcastError as error:
        job.error += f" (chưa ghi được vào Nhật ký: {error.message})"
    finally:
        job.done = True  # last: the page, told it is done, finds it in the log (it was written after)


def create_app(root: Path, local: bool = True) -> Any:
    """The studio as an ASGI application. `local`: bound to 127.0.0.1 with no login."""
    studio = Studio(root, local)

    async def who(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.viewer = auth.Viewer(None)
        token = request.cookies.get(auth.COOKIE)
        try:
            # in a thread: a database another program held locked froze the studio for everyone, the
            # static files too, 10 seconds for each request waiting
            request.state.viewer = auth.viewer(studio.root, token, True) if studio.local else \
                await asyncio.to_thread(auth.viewer, studio.root, token, False)
        except BroadcastError as error:  # busy, damaged, deleted: said, not a traceback page
            if request.url.path.startswith("/api/"):
                return JSONResponse({"error": f"{error.message}. Cách sửa: {error.fix}.", "problems": []}, 503)
            return studio.page(request, "error.html", 503, title="Studio tạm chưa dùng được", message=error.message,
                               fix=error.fix)
        if not request.url.path.startswith(("/static/", "/nghe-thu/", "/tuan/")):
            studio.workspace.refresh()  # what the CLI, an editor or git changed on disk
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; media-src 'self' blob:; "
            "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.url.path.startswith(("/static/", "/tuan/")):
            # files replaced under the same address (studio.js by an update, a week's audio by a rebuild):
            # asked again each time (studio.js and studio.css: a 304 while unchanged). Without a rule the browser
            # kept its copy for a tenth of the file's age: after an update the pages ran with the old studio.js
            response.headers["Cache-Control"] = "no-cache"
        return response

    starlette = Starlette(routes=routes(studio), middleware=[Middleware(BaseHTTPMiddleware, dispatch=who)])
    secret = _secret(studio.root)
    protected = asgi_csrf(starlette, signing_secret=secret, always_protect=_Everywhere(), cookie_samesite="Strict")

    guarded = _guard(protected, studio)
    guarded.studio = studio
    return guarded


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _host_name(netloc: str) -> str:
    """The host of a Host header or an origin's netloc, without its port ("[::1]:8765" -> "::1")."""
    if netloc.startswith("["):
        return netloc[1:netloc.find("]")]
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


async def _upload_allowed(studio: Studio, scope: Any, headers: dict[bytes, str]) -> bool:
    """Whether a multipart upload may be read at all. asgi-csrf 0.11 fails on multipart bodies with
    current python-multipart (its FileClass argument is gone), so an upload carries the token in
    the x-csrftoken header (studio.js sends it), checked here before any body is read; on the
    network the sender must also be logged in, so that no stranger makes the studio hold an upload
    (asked in a thread, as for every request: a database held by another program froze the studio)."""
    cookies = Request(scope).cookies
    token = cookies.get("csrftoken", "")
    if not token or not secrets.compare_digest(headers.get(b"x-csrftoken", ""), token):
        return False
    if studio.local:
        return True
    viewer = await asyncio.to_thread(auth.viewer, studio.root, cookies.get(auth.COOKIE), False)
    return viewer.user is not None


def _guard(inner: Any, studio: Studio) -> Any:
    """The studio's outer layer, before anything reads a body. By hand: Starlette has no body limit
    and its TrustedHostMiddleware cuts "[::1]:8765" at the first colon.

    - The local studio (no login) answers only to a local host name: a page elsewhere cannot reach
      it by pointing its own name at 127.0.0.1 (DNS rebinding) and act as the person at this PC.
      A request a page of another origin sent to it (its Origin header) is refused outright.
      (On the network, logins and CSRF tokens do this: a proxy in front may rename the host.)
    - A body is read here, up to its limit (a recording upload's, else a form's), before the CSRF
      layer reads it whole into memory: a bigger one, even sent without a length, is a 413 at once;
      a form that is not UTF-8 is a 400 (the CSRF layer failed on it with a 500). An upload is
      read only once its token (and, on the network, its login) is checked: `_upload_allowed`."""

    async def refuse(scope: Any, receive: Any, send: Any, status: int, message: str) -> None:
        await HTMLResponse(message, status_code=status)(scope, receive, send)

    local = studio.local

    async def guard(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        host = headers.get(b"host", "").lower()
        if local and _host_name(host) not in LOCAL_HOSTS:
            await refuse(scope, receive, send, 403, "Studio trên máy này chỉ mở bằng địa chỉ 127.0.0.1 "
                         "(this studio answers to 127.0.0.1 only)")
            return
        origin = headers.get(b"origin")
        if local and origin is not None and _host_name(urlsplit(origin).netloc) not in LOCAL_HOSTS:
            await refuse(scope, receive, send, 403, "Yêu cầu gửi từ trang khác bị từ chối (cross-origin request)")
            return
        if scope["method"] not in _BODY_METHODS:
            await inner(scope, receive, send)
            return
        kind = headers.get(b"content-type", "")
        upload = kind.startswith("multipart/form-data")
        try:
            allowed = not upload or await _upload_allowed(studio, scope, headers)
        except BroadcastError as error:  # the database busy, damaged, deleted: said, not a 500
            await refuse(scope, receive, send, 503, html.escape(f"{error.message}. Cách sửa: {error.fix}."))
            return
        if not allowed:
            await refuse(scope, receive, send, 403, "Thiếu hoặc sai mã chống giả mạo (CSRF), hoặc chưa đăng nhập "
                         "(missing or wrong CSRF token, or not logged in)")
            return
        limit = application.UPLOAD_MAX_BYTES + 100_000 if upload else MAX_FORM_BYTES
        too_large = f"Dữ liệu gửi lên quá lớn, tối đa {limit // 1_000_000} MB (request too large)"
        try:
            declared = int(headers.get(b"content-length") or 0)
        except ValueError:
            declared = limit + 1
        if declared > limit:
            await refuse(scope, receive, send, 413, too_large)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await refuse(scope, receive, send, 413, too_large)
                return
            if not message.get("more_body"):
                break
        if kind.startswith("application/x-www-form-urlencoded"):
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                await refuse(scope, receive, send, 400, "Dữ liệu gửi lên không phải UTF-8 (form is not UTF-8)")
                return
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await inner(scope, replay, send)

    return guard


def _secret(root: Path) -> str:
    """The project's studio signing secret, made once and kept in `.studio/` (readable by its owner only)."""
    path = root / records.FOLDER / "secret"
    if not path.is_file():
        path.parent.mkdir(exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(os.urandom(32).hex())
    return path.read_text().strip()


def serve(root: Path, host: str, port: int, open_browser: bool, announce: Callable[[str], None] | None = None) -> None:
    """Run the studio until Ctrl-C. On the network it needs an account first. `announce` is told its
    address once it is sure to start (a refused start printed an address that never answered)."""
    import webbrowser

    import uvicorn

    local = host in ("127.0.0.1", "localhost", "::1")
    if not local and not auth.has_accounts(root):
        raise UsageError(f"không mở studio trên mạng ({host}) khi chưa có tài khoản nào (no accounts)",
                         field="--host", fix="tạo tài khoản trước: broadcast studio user add TÊN --role approver")
    application_ = create_app(root, local=local)
    if announce is not None:
        announce(f"http://{host}:{port}/")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(f"http://{'127.0.0.1' if local else host}:{port}/",)).start()
    uvicorn.run(application_, host=host, port=port, log_level="warning")

