"""The studio's data when things go wrong: files written whole and as they were laid out, the audit log in
step with the files, two studios on one project, and a database that is busy, damaged, deleted, made by a
newer version or held by another program, each said in Vietnamese (never a traceback page) and none
silently replaced."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import stat
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from broadcast import records, textfiles
from broadcast.errors import EnvironmentProblem
from broadcast.studio import auth, create_app, edit
from broadcast.studio.auth import add_user
from conftest import run as run_cli
from test_studio import (
    SCRIPT,
    _answer,
    _client,
    _database,
    _editor_form,
    _login,
    _project,
    _stylesheet_seconds_while,
    _token,
    _wav,
)

UMASK = os.umask(0o022)
os.umask(UMASK)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return _project(tmp_path)


@pytest.fixture
def client(root: Path):
    return _client(root)


def _save(client, script_id: str = "canh-bao", **changes: str):
    form = {**_editor_form(client, script_id), **changes}
    return client.post(f"/kich-ban/{script_id}", data={**form, "csrftoken": _token(client)})


def _saves(root: Path) -> list[records.AuditEntry]:
    with records.connect(root) as conn:
        return [e for e in records.audit(conn) if e.action == "save"]


# --- files as they were laid out -------------------------------------------------------------------


@pytest.mark.parametrize("bom, crlf, start", [(False, True, ""), (True, False, ""), (True, True, ""),
                                              (False, False, "---\n")])
def test_a_save_keeps_the_files_line_endings_byte_order_mark_and_document_start(tmp_path, bom, crlf, start):
    """A file checked out on Windows (CRLF) came back with LF lines and a few CRLF ones (mixed, every line a
    change in git and in the log's diff); Notepad's byte-order mark and a '---' first line were dropped."""
    like = textfiles.Layout(bom=bom, crlf=crlf)
    root = _project(tmp_path, {"scripts/canh-bao.yaml": textfiles.bytes_of(start + SCRIPT, like)})
    client = _client(root)
    assert _save(client, title="Tiêu đề mới").status_code == 303
    expected = start + SCRIPT.replace("title: Cảnh báo thử", "title: Tiêu đề mới")
    assert (root / "scripts" / "canh-bao.yaml").read_bytes() == textfiles.bytes_of(expected, like)
    [entry] = _saves(root)  # the log's diff is the line changed, not the whole file
    assert [line for line in entry.detail.splitlines() if line[:1] in "+-" and line[:3] not in ("---", "+++")] == \
        ["-title: Cảnh báo thử", "+title: Tiêu đề mới"]
    assert _save(client, title="Tiêu đề mới").status_code == 303  # the same again: no conflict, nothing logged
    assert len(_saves(root)) == 1


def test_a_commune_and_the_lexicon_keep_their_line_endings_and_permissions(tmp_path):
    commune = "name: Xã Chi Lăng\r\ncode: '06463'\r\ncontacts:\r\n  police: {name: Công an xã}\r\n"
    root = _project(tmp_path, {"locales/lang-son/xa-chi-lang.yaml": commune.encode(),
                               "lexicon.yaml": b"\xef\xbb\xbf# t\xe1\xbb\xab \xc4\x91i\xe1\xbb\x83n\r\nwords:\r\n"
                                               b"  Zalo: da l\xc3\xb4\r\n"})
    path = root / "locales" / "lang-son" / "xa-chi-lang.yaml"
    os.chmod(path, 0o664)
    client = _client(root)
    sha = re.search(r'name="sha" value="([^"]+)"', client.get("/xa/lang-son/xa-chi-lang").text).group(1)
    saved = client.post("/xa/lang-son/xa-chi-lang", data={
        "csrftoken": _token(client), "sha": sha, "name": "Xã Chi Lăng", "station": "Đài xã Chi Lăng",
        "police_name": "Công an xã", "police_phone": ""})
    assert saved.status_code == 303, saved.text[-800:]
    data = path.read_bytes()
    assert b"station: \xc4\x90\xc3\xa0i x\xc3\xa3 Chi L\xc4\x83ng\r\n" in data and data.count(b"\n") == data.count(b"\r\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o664
    sha = re.search(r'name="sha" value="([^"]+)"', client.get("/tu-dien").text).group(1)
    assert client.post("/tu-dien", data={"csrftoken": _token(client), "sha": sha, "section": "words", "key": "Viber",
                                         "reading": "vai bơ"}).status_code == 303
    lexicon = (root / "lexicon.yaml").read_bytes()
    assert lexicon.startswith(b"\xef\xbb\xbf# t") and lexicon.count(b"\n") == lexicon.count(b"\r\n") == 4


def test_a_save_keeps_the_files_permissions_and_writes_where_a_link_points(tmp_path):
    """Every save made the file 0644 (a file a group shared stayed writable only by whoever saved last); a
    script that is a symbolic link became a copy, the shared file left behind."""
    root = _project(tmp_path, {"scripts/canh-bao.yaml": None, "chung/canh-bao.yaml": SCRIPT})
    shared = root / "chung" / "canh-bao.yaml"
    os.chmod(shared, 0o660)
    (root / "scripts").mkdir()
    (root / "scripts" / "canh-bao.yaml").symlink_to(shared)
    client = _client(root)
    assert _save(client, title="Tiêu đề mới").status_code == 303
    assert (root / "scripts" / "canh-bao.yaml").is_symlink() and "title: Tiêu đề mới" in shared.read_text("utf-8")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o660
    made = client.post("/kich-ban/moi", data={"csrftoken": _token(client), "id": "moi", "title": "Mới"})
    assert made.status_code == 303  # a new file: what any new file gets
    assert stat.S_IMODE((root / "scripts" / "moi.yaml").stat().st_mode) == 0o666 & ~UMASK
    assert not [p.name for p in (root / "scripts").iterdir() if p.name.startswith(".")]


def test_an_uploaded_recording_is_readable_by_the_build_as_any_new_file(tmp_path):
    """Uploads were written through a private temporary file (0600): a build run by another account
    (cron, a service) could not read them."""
    root = _project(tmp_path, {"voices/ghi-am.yaml": "id: ghi-am\nengine: recorded\nparams: {folder: ghi-am}\n",
                               "scripts/tay.yaml": "id: tay\ntitle: Tày\nsource: Công an tỉnh\nvalid: {from: "
                                                   "2024-12-04}\nvoice: ghi-am\nbody: |\n  Bà con chú ý.\n"})
    (root / "ghi-am").mkdir()
    client = _client(root)
    sent = client.post("/ghi-am", data={"voice": "ghi-am", "sentence": "Bà con chú ý."},
                       headers={"x-csrftoken": _token(client)},
                       files={"file": ("cau.wav", _wav(1.5), "application/octet-stream")})
    assert sent.status_code == 303
    [stored] = (root / "ghi-am").iterdir()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o666 & ~UMASK


def test_a_script_deleted_twice_in_one_second_keeps_both_versions_in_the_trash(root, monkeypatch):
    """The trash name has the time to the second: the second deletion was renamed over the first."""
    monkeypatch.setattr(edit.time, "strftime", lambda *_: "20261201-080000")
    path = root / "scripts" / "moi.yaml"
    names = []
    for text in ("id: moi\ntitle: Bản một\n", "id: moi\ntitle: Bản hai\n"):
        path.write_text(text, encoding="utf-8")
        names.append(edit.to_trash(root, path))
    assert len(set(names)) == 2
    assert [rel for _, rel in edit.trashed(root)] == ["scripts/moi.yaml"] * 2
    kept = {(edit.trash_folder(root) / n).read_text(encoding="utf-8") for n in names}
    assert kept == {"id: moi\ntitle: Bản một\n", "id: moi\ntitle: Bản hai\n"}
    assert edit.restore(root, edit.trashed(root)[0][0]) == "scripts/moi.yaml"
    assert "Bản hai" in path.read_text(encoding="utf-8")  # the newest first


# --- the file and its log entry together -----------------------------------------------------------


def test_a_save_while_another_program_holds_the_database_writes_nothing_and_says_busy(client, root, monkeypatch):
    """The file was written, then its log entry waited for the lock and failed: a traceback page for a save
    that had happened, and saving again (nothing left to change) logged nothing, ever."""
    monkeypatch.setattr(records, "BUSY_SECONDS", 0.3)
    path = root / "scripts" / "canh-bao.yaml"
    before = path.read_bytes()
    form = {**_editor_form(client), "title": "Tiêu đề mới", "csrftoken": _token(client)}
    other = sqlite3.connect(records.path(root))
    other.execute("BEGIN IMMEDIATE")
    try:
        busy = client.post("/kich-ban/canh-bao", data=form)
        gone = client.post("/kich-ban/canh-bao/xoa", data={"csrftoken": form["csrftoken"]})
    finally:
        other.rollback()
        other.close()
    assert busy.status_code == 503 and "đang bận" in busy.text and gone.status_code == 503
    assert path.read_bytes() == before and edit.trashed(root) == [] and _saves(root) == []
    assert client.post("/kich-ban/canh-bao", data=form).status_code == 303
    [entry] = _saves(root)
    assert "+title: Tiêu đề mới" in entry.detail


def test_a_save_whose_log_entry_cannot_be_committed_puts_the_file_back(client, root, monkeypatch):
    """A program reading the database (a backup, a report) kept the commit waiting: the file stays as it
    was rather than changed with no entry in the log."""
    monkeypatch.setattr(records, "BUSY_SECONDS", 0.3)
    path = root / "scripts" / "canh-bao.yaml"
    before = path.read_bytes()
    form = {**_editor_form(client), "title": "Tiêu đề mới", "csrftoken": _token(client)}
    reader = sqlite3.connect(records.path(root), isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM audit").fetchone()  # a read in progress: the commit must wait for it
    try:
        refused = client.post("/kich-ban/canh-bao", data=form)
        made = client.post("/kich-ban/moi", data={"csrftoken": form["csrftoken"], "id": "moi", "title": "Mới"})
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert refused.status_code == 503 and "đang bận" in refused.text and made.status_code == 503
    assert path.read_bytes() == before and not (root / "scripts" / "moi.yaml").exists() and _saves(root) == []
    assert not [p.name for p in path.parent.iterdir() if p.name.startswith(".")]


def test_two_studios_saving_one_script_from_the_same_version_save_it_once(root):
    """Two studio processes on one project (one on the network, one on a PC): both saves checked the file
    unchanged since it was opened, then both wrote; one was lost without a word (24 of 150 rounds of two
    saves at once). The check and the write now come under the database's write lock."""
    path = root / "scripts" / "canh-bao.yaml"
    client = _client(root)
    form = {**_editor_form(client), "title": "Bản của studio này", "csrftoken": _token(client)}
    other = sqlite3.connect(records.path(root))
    other.execute("BEGIN IMMEDIATE")  # the other studio is saving this very file
    answers: list[int] = []
    thread = threading.Thread(target=lambda: answers.append(client.post("/kich-ban/canh-bao", data=form).status_code))
    thread.start()
    time.sleep(0.5)
    path.write_text(SCRIPT.replace("Cảnh báo thử", "Bản của studio kia"), encoding="utf-8")
    other.execute("INSERT INTO audit (at, user, action, target) VALUES (0, 'kia', 'save', 'scripts/canh-bao.yaml')")
    other.commit()
    other.close()
    thread.join(30)
    assert answers == [409]
    assert "Bản của studio kia" in path.read_text(encoding="utf-8")


def test_a_decision_must_name_the_version_read(root):
    """Without the version read (an old page, a script posting), whatever was on disk was approved unread."""
    add_user(root, "duyet", "approver", "mat-khau-duyet")
    client = _client(root, local=False)
    _login(client, "duyet")
    unread = _answer(client, client.post("/kich-ban/canh-bao/duyet", data={"csrftoken": _token(client),
                                                                          "decision": "approved"}))
    assert unread.status_code == 409 and "chưa được ghi" in unread.text
    with records.connect(root) as conn:
        assert records.history(conn, "canh-bao") == []


# --- the database ---------------------------------------------------------------------------------


def _damage(root: Path, how: str) -> sqlite3.Connection | None:
    db = records.path(root)
    if how == "corrupt":
        db.write_bytes(b"not a database, a copy gone wrong " * 200)
    elif how == "truncated":
        data = db.read_bytes()
        db.write_bytes(data[: len(data) // 2])
    elif how == "newer":
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA user_version = 99")
    elif how == "folder":
        db.unlink()
        db.mkdir()
    elif how == "deleted":
        shutil.rmtree(db.parent)
    elif how == "locked":
        conn = sqlite3.connect(db)
        conn.execute("BEGIN EXCLUSIVE")
        return conn
    return None


@pytest.mark.parametrize("how, said", [
    ("corrupt", "không mở được .studio/studio.db"), ("truncated", "không mở được .studio/studio.db"),
    ("newer", "phiên bản broadcast mới hơn"), ("folder", "không mở được .studio/studio.db"),
    ("deleted", "đã bị xóa hoặc di chuyển trong lúc studio đang chạy"), ("locked", "đang bận")])
def test_a_database_that_cannot_be_used_is_a_page_saying_so(root, monkeypatch, how, said):
    """Damaged, truncated, replaced by a folder, made by a newer version, deleted or held locked while the
    network studio runs: every page was 'Internal Server Error'. A deleted one was silently made again,
    empty: every account, approval and log entry gone and nobody able to log in ('wrong password')."""
    monkeypatch.setattr(records, "BUSY_SECONDS", 0.3)
    add_user(root, "bien-tap", "editor", "mat-khau-bien-tap")
    client = _client(root, local=False)
    _login(client, "bien-tap")
    held = _damage(root, how)
    try:
        page = client.get("/kich-ban")
        api = client.post("/api/lint", data={"csrftoken": _token(client, "/dang-nhap"), "script_id": "canh-bao"})
    finally:
        if held is not None:
            held.rollback()
            held.close()
    assert page.status_code == 503 and said in page.text and "Cách sửa" in page.text, page.text[-1500:]
    assert api.status_code == 503 and said in api.json()["error"]
    if how == "deleted":
        assert not records.path(root).exists()  # not made again, empty, behind everyone's back


def test_a_database_from_a_newer_version_is_refused_by_the_commands_too(root):
    add_user(root, "bien-tap", "editor", "mat-khau-bien-tap")
    with sqlite3.connect(records.path(root)) as conn:
        conn.execute("PRAGMA user_version = 99")
    listed = run_cli("studio", "user", "list", "--project", str(root))
    assert listed.exit_code == 3 and "phiên bản broadcast mới hơn" in listed.output and "Traceback" not in listed.output


def test_pages_are_read_while_another_program_writes_the_database(root, monkeypatch):
    """Every page wrote the session's last use, so a page waited for any writer's lock (and failed after
    ten seconds); it is written once a minute."""
    monkeypatch.setattr(records, "BUSY_SECONDS", 0.3)
    add_user(root, "bien-tap", "editor", "mat-khau-bien-tap")
    client = _client(root, local=False)
    _login(client, "bien-tap")
    other = sqlite3.connect(records.path(root))
    other.execute("BEGIN IMMEDIATE")
    try:
        assert client.get("/kich-ban").status_code == 200
        assert client.get("/kich-ban/canh-bao").status_code == 200
    finally:
        other.rollback()
        other.close()


def _serve(root: Path) -> tuple[str, object, threading.Thread]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(root, local=False), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    return f"http://127.0.0.1:{port}", server, thread


def test_a_database_held_locked_does_not_freeze_the_studio_for_everyone(root, monkeypatch):
    """Who is asking was looked up on the event loop: while another program held the database, every
    request, the style sheet too, waited its ten seconds one after another."""
    monkeypatch.setattr(records, "BUSY_SECONDS", 3)
    add_user(root, "bien-tap", "editor", "mat-khau-bien-tap")
    base, server, thread = _serve(root)
    try:
        held = sqlite3.connect(records.path(root))
        held.execute("BEGIN EXCLUSIVE")
        answers: list[int] = []

        def page() -> None:
            request = urllib.request.Request(f"{base}/kich-ban", headers={"Cookie": f"{auth.COOKIE}=x"})
            try:
                urllib.request.urlopen(request, timeout=30)
            except urllib.error.HTTPError as error:
                answers.append(error.code)

        took = _stylesheet_seconds_while(base, page, settle=0.3)
        held.rollback()
        held.close()
    finally:
        server.should_exit = True
        thread.join(10)
    assert took < 1.0, took
    assert answers == [503]


# --- accounts and sessions --------------------------------------------------------------------------


def test_the_session_cookie_lasts_as_long_as_the_session_may(root):
    """The cookie expired 12 hours after the login, however busy: whoever was still at work was logged out
    in mid-sentence, although the session itself ends only after 12 idle hours or a week."""
    add_user(root, "bien-tap", "editor", "mat-khau-bien-tap")
    client = _client(root, local=False)
    response = client.post("/dang-nhap", data={"csrftoken": _token(client, "/dang-nhap"), "name": "bien-tap",
                                               "password": "mat-khau-bien-tap"})
    assert f"Max-Age={auth.SESSION_LIFE}" in response.headers["set-cookie"]


def test_removing_the_last_account_or_approver_warns(root):
    add_user(root, "duyet", "approver", "mat-khau-duyet")
    add_user(root, "lan", "editor", "mat-khau-lan-12")
    removed = run_cli("studio", "user", "remove", "duyet", "--project", str(root))
    assert removed.exit_code == 0 and "không còn người duyệt nào" in removed.output
    removed = run_cli("studio", "user", "remove", "lan", "--project", str(root))
    assert removed.exit_code == 0 and "không còn tài khoản nào" in removed.output


def test_a_database_of_the_first_schema_is_brought_up_to_date_with_all_it_holds(root):
    """A .studio/studio.db written by the earlier code (schema 1: no record of its project) is migrated on
    the first opening: its accounts still log in, its approvals still hold, its log is still there."""
    from argon2 import PasswordHasher

    db = records.path(root)
    db.parent.mkdir()
    sha = records.file_sha256(root / "scripts" / "canh-bao.yaml")
    with sqlite3.connect(db) as conn:  # exactly as the first version made and filled it
        conn.executescript(records.MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
        conn.execute("INSERT INTO users VALUES ('duyet', 'approver', ?, 0)", (PasswordHasher().hash("mat-khau-duyet"),))
        conn.execute("INSERT INTO approvals (script, sha256, decision, user, at) VALUES ('canh-bao', ?, 'approved', "
                     "'duyet', 1)", (sha,))
        conn.execute("INSERT INTO audit (at, user, action, target) VALUES (1, 'duyet', 'approve', 'canh-bao')")
    client = _client(root, local=False)
    assert records.schema_version(root) == len(records.MIGRATIONS) == 2
    _login(client, "duyet")
    assert "đã duyệt" in client.get("/kich-ban/canh-bao").text
    with records.connect(root) as conn:
        assert [e.action for e in records.audit(conn)] == ["login", "approve"]
        assert dict(conn.execute("SELECT key, value FROM project").fetchall()) == {
            "folder": str(root.resolve()), "name": "Dự án thử"}


def test_a_database_copied_from_another_project_is_refused(tmp_path):
    """Copied with a project's files (a template folder, a backup restored in the wrong place): its accounts
    logged in, its approvals of the same text counted, its log read as this project's."""
    first = _project(tmp_path / "a")
    add_user(first, "duyet", "approver", "mat-khau-duyet")
    second = _project(tmp_path / "b", {"broadcast.yaml": "name: Đài xã khác\ndefault_voice: espeak-vi\n"})
    (second / ".studio").mkdir()
    shutil.copy2(records.path(first), records.path(second))
    with pytest.raises(EnvironmentProblem) as refused:
        create_app(second, local=False)
    assert "dự án khác ('Dự án thử' ở" in refused.value.message and "đổi tên tệp đó" in refused.value.fix
    with pytest.raises(EnvironmentProblem):
        add_user(second, "lan", "editor", "mat-khau-lan-12")
    # the same project moved to another folder, or renamed where it is, is still its own
    moved = tmp_path / "moved"
    shutil.move(first, moved)
    create_app(moved, local=False)
    (moved / "broadcast.yaml").write_text("name: Tên mới\ndefault_voice: espeak-vi\n", encoding="utf-8")
    create_app(moved, local=False)
    listed = run_cli("studio", "user", "list", "--project", str(moved))
    assert listed.exit_code == 0 and "duyet" in listed.output



def test_a_build_does_not_air_the_approvals_of_a_database_copied_from_another_project(tmp_path):
    """Under approval: required the build read a copied database's approvals as this project's (only the studio
    refused it): a script approved in another project aired here, approved by nobody of this one."""
    first = _project(tmp_path / "a", {"broadcast.yaml": "name: Dự án thử\ndefault_voice: espeak-vi\napproval: required\n"})
    add_user(first, "duyet", "approver", "mat-khau-duyet")
    with records.connect(first) as conn:
        records.decide(conn, "canh-bao", records.file_sha256(first / "scripts" / "canh-bao.yaml"), "approved", "duyet", "")
    second = _project(tmp_path / "b", {"broadcast.yaml": "name: Đài xã khác\ndefault_voice: espeak-vi\n"
                                                         "approval: required\n"})
    (second / ".studio").mkdir()
    shutil.copy2(records.path(first), records.path(second))
    built = run_cli("build", "--week", "2026-W49", "--jobs", "1", "--project", str(second))
    assert built.exit_code == 3, built.output
    assert ".studio/studio.db" in built.output and "dự án khác ('Dự án thử' ở" in built.output
    assert not (second / "output" / "2026-W49").exists()
    # in its own project, the same database's approval airs the script
    own = run_cli("build", "--week", "2026-W49", "--jobs", "1", "--project", str(first))
    assert own.exit_code == 0, own.output
    assert list((first / "output" / "2026-W49").glob("*/*/messages/canh-bao.mp3"))


def test_a_build_reads_the_approvals_of_a_first_schema_database_it_may_not_write(tmp_path, monkeypatch):
    """After an update, a build under approval: required migrated the studio's schema-1 database before
    reading its approvals: where the build's account may not write it (the studio's own account owns
    .studio/, a read-only share), the weekly build stopped there, exit 3 'read-only studio database', and
    nothing was published. A build only reads it, as it is; the studio brings it up to date."""
    root = _project(tmp_path, {"broadcast.yaml": "name: Dự án thử\ndefault_voice: espeak-vi\napproval: required\n",
                               "scripts/thu-hai.yaml": SCRIPT.replace("id: canh-bao", "id: thu-hai")})
    db = records.path(root)
    db.parent.mkdir()
    with sqlite3.connect(db) as conn:  # as the first version made and filled it
        conn.executescript(records.MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
        conn.execute("INSERT INTO approvals (script, sha256, decision, user, at) VALUES ('canh-bao', ?, 'approved', "
                     "'duyet', 1)", (records.file_sha256(root / "scripts" / "canh-bao.yaml"),))
    _database(monkeypatch, "PRAGMA query_only = ON")  # SQLite refuses every write, as on a file it may not write
    built = run_cli("build", "--week", "2026-W49", "--jobs", "1", "--project", str(root))
    assert built.exit_code == 0, built.output
    week = root / "output" / "2026-W49"
    assert list(week.glob("*/*/messages/canh-bao.mp3")) and not list(week.glob("*/*/messages/thu-hai.mp3"))
    monkeypatch.undo()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1  # left as it was



def test_a_build_reads_an_empty_studio_database_as_no_approval(tmp_path):
    """A first studio start stopped at once leaves .studio/studio.db empty. A build, which reads the database
    as it is, found no table of approvals in it and stopped, exit 3, advising to rename the file: the week
    is built, nothing approved airing, as with no database at all."""
    root = _project(tmp_path, {"broadcast.yaml": "name: Dự án thử\ndefault_voice: espeak-vi\napproval: required\n"})
    records.path(root).parent.mkdir()
    records.path(root).write_bytes(b"")
    built = run_cli("build", "--week", "2026-W49", "--jobs", "1", "--project", str(root))
    assert built.exit_code != 3 and "Traceback" not in built.output, built.output
    assert (root / "output" / "2026-W49" / "manifest.json").is_file()
    assert "canh-bao" in json.loads((root / "output" / "2026-W49" / "manifest.json").read_text(encoding="utf-8")
                                    )["not_approved"]
    assert records.path(root).read_bytes() == b""  # left as it was

def test_logging_in_or_out_while_the_database_is_held_says_so(root, monkeypatch):
    """The login and the logout pages were 'Internal Server Error' while another program held the database."""
    monkeypatch.setattr(records, "BUSY_SECONDS", 0.3)
    add_user(root, "bien-tap", "editor", "mat-khau-bien-tap")
    client = _client(root, local=False)
    _login(client, "bien-tap")
    token = _token(client)
    other = _client(root, local=False)
    form = {"csrftoken": _token(other, "/dang-nhap"), "name": "bien-tap", "password": "mat-khau-bien-tap"}
    held = sqlite3.connect(records.path(root))
    held.execute("BEGIN EXCLUSIVE")
    try:
        login = other.post("/dang-nhap", data=form)
        logout = client.post("/dang-xuat", data={"csrftoken": token})
    finally:
        held.rollback()
        held.close()
    assert login.status_code == 503 and "đang bận" in login.text and 'name="password"' in login.text
    assert logout.status_code == 503 and "đang bận" in logout.text
    assert other.post("/dang-nhap", data=form).status_code == 303



def test_an_upload_while_the_database_is_held_says_so(root, monkeypatch):
    """On the network an upload's sender is looked up before its body is read: on the event loop, and a held
    database was a 500 ('Internal Server Error') after freezing every page of the studio for the wait."""
    from starlette.testclient import TestClient

    monkeypatch.setattr(records, "BUSY_SECONDS", 0.3)
    add_user(root, "bien-tap", "editor", "mat-khau-bien-tap")
    client = TestClient(create_app(root, local=False), base_url="http://127.0.0.1:8765", follow_redirects=False,
                        raise_server_exceptions=False)
    _login(client, "bien-tap")
    token = _token(client)
    held = sqlite3.connect(records.path(root))
    held.execute("BEGIN EXCLUSIVE")
    try:
        upload = client.post("/ghi-am", data={"voice": "ghi-am", "sentence": "Bà con chú ý."},
                             headers={"x-csrftoken": token}, files={"file": ("cau-1.wav", _wav(1.0), "audio/wav")})
    finally:
        held.rollback()
        held.close()
    assert upload.status_code == 503 and "đang bận" in upload.text and ".studio/studio.db" in upload.text

def test_a_save_never_writes_through_a_link_that_leads_out_of_the_project(tmp_path):
    """Following links (the shared script above) must not let a link planted in the project (a git checkout
    may hold one) lead a save onto a file outside it, which the studio's account may write."""
    root = _project(tmp_path)
    saved = root / "scripts" / "canh-bao.yaml"
    client = _client(root)
    form = {**_editor_form(client, "canh-bao"), "title": "Tiêu đề mới", "csrftoken": _token(client)}
    outside = tmp_path / "ngoai-du-an.yaml"  # the page's version, now reached through a link out of the project
    before = saved.read_bytes()
    outside.write_bytes(before)
    os.chmod(outside, 0o600)  # nothing of it is taken either: the saved file is a new file of the project
    saved.unlink()
    saved.symlink_to(outside)
    assert client.post("/kich-ban/canh-bao", data=form).status_code == 303
    assert outside.read_bytes() == before
    assert not saved.is_symlink() and "title: Tiêu đề mới" in saved.read_text(encoding="utf-8")
    assert stat.S_IMODE(saved.stat().st_mode) == 0o666 & ~UMASK
