"""`.studio/studio.db`: what the project's files cannot hold. Accounts, sessions, approvals and the
audit log of the studio, in SQLite through the standard library.

The YAML files stay the source of truth for content; this database only says who may do what,
who approved which exact content (by its sha256) and who changed which file when. The build
reads approvals from here when the project says `approval: required`, so it needs nothing of
the web studio.

The schema is versioned (`PRAGMA user_version`); `MIGRATIONS[n]` takes a database from version n
to n + 1 and every connection brings the file up to date first. The audit log is append-only:
nothing in the program updates or deletes its rows (a trigger refuses it).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import math
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import EnvironmentProblem

FOLDER = ".studio"
FILE = "studio.db"
ROLES = ("editor", "approver", "operator")
ROLE_NAMES = {"editor": "biên tập viên", "approver": "người duyệt", "operator": "người vận hành"}

MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1
    """
    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('editor', 'approver', 'operator')),
        password_hash TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,  -- sha256 of the cookie's token: a stolen file opens no session
        user TEXT,                    -- NULL: the local user of a studio bound to 127.0.0.1
        created REAL NOT NULL,
        seen REAL NOT NULL
    );
    CREATE TABLE login_failures (
        key TEXT NOT NULL,            -- "user:NAME" or "ip:ADDRESS"
        at REAL NOT NULL
    );
    CREATE INDEX login_failures_key ON login_failures (key, at);
    CREATE TABLE approvals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        script TEXT NOT NULL,
        sha256 TEXT NOT NULL,         -- of the script file's bytes when approved or rejected
        decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
        user TEXT NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL
    );
    CREATE INDEX approvals_script ON approvals (script, id);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        user TEXT NOT NULL,
        action TEXT NOT NULL,         -- save, create, delete, restore, approve, reject, build, user
        target TEXT NOT NULL,         -- a project-relative path or a script id
        detail TEXT NOT NULL DEFAULT ''  -- the unified diff of a save, a comment, a summary
    );
    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 1 -> 2: which project the database belongs to (a database copied from another project brought its
    # accounts, its approvals and its log along, unseen)
    """
    CREATE TABLE project (
        key TEXT PRIMARY KEY,         -- "folder": the project's absolute path; "name": broadcast.yaml's name
        value TEXT NOT NULL
    );
    """,
)


@dataclass(frozen=True)
class User:
    name: str
    role: str


@dataclass(frozen=True)
class Approval:
    script: str
    sha256: str
    decision: str  # "approved" | "rejected"
    user: str
    comment: str
    at: float


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    user: str
    action: str
    target: str
    detail: str


def path(root: Path) -> Path:
    return root / FOLDER / FILE


def file_sha256(file: Path) -> str:
    """The hash an approval is bound to: the script file's bytes."""
    try:
        return hashlib.sha256(file.read_bytes()).hexdigest()
    except OSError:
        return ""


# the databases this process has opened, as found then: one gone since was deleted (or moved) under a
# running studio, which made a new empty one in its place without a word: every account, session,
# approval and the audit log gone, nobody able to log in ('wrong name or password')
_opened: set[str] = set()
BUSY_SECONDS = 10  # how long a write waits for another process's lock before it is 'busy'


@contextmanager
def connect(root: Path, create: bool = True, write: bool = True) -> Iterator[sqlite3.Connection]:
    """A connection to the project's database, migrated to the current schema, committed on
    success and rolled back on error. Without `create`, a project with no database yields an
    empty in-memory one (the build never creates `.studio/`). Without `write`, the database is
    only read, in the schema it has (a build reading approvals: one the build's account may not
    write, the studio's own, was refused at its migration after an update, and the week was not
    built; SQLite opens a file it may not write read-only). Whatever SQLite refuses, at any
    point (busy, read-only, disk full, damaged), is an EnvironmentProblem saying so in Vietnamese:
    it was a traceback page whenever it came after the opening."""
    db = path(root)
    key = str(db.absolute())
    if key in _opened and not db.exists():
        raise _vanished(root)
    try:
        if not db.exists() and not create:
            conn = sqlite3.connect(":memory:")
        else:
            db.parent.mkdir(exist_ok=True)
            conn = sqlite3.connect(db, timeout=BUSY_SECONDS)
    except (sqlite3.Error, OSError) as exc:
        raise _refused(root, exc) from None
    try:
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            _migrate(conn, db if db.exists() else None, upgrade=write or not db.exists())
        except Timeout:  # the migration lock: another process migrating for too long
            raise _busy(root) from None
        except (sqlite3.DatabaseError, OSError) as exc:  # busy, read-only, not a database, damaged, a folder
            raise _refused(root, exc) from None
        if db.exists():
            _opened.add(key)
        try:
            with conn:
                yield conn
        except sqlite3.DatabaseError as exc:
            if type(exc) not in (sqlite3.DatabaseError, sqlite3.OperationalError):
                raise  # a constraint, the audit log's trigger: the program's own doing
            raise _refused(root, exc) from None
    finally:
        conn.close()


def reserve(conn: sqlite3.Connection) -> None:
    """Take the database's write lock now (BEGIN IMMEDIATE), before a change to a file that the
    transaction records: busy is said before anything is written, the file and its audit entry are
    committed together, and two studio processes' saves of one file come one after the other (both
    passed the check for a change since it was opened, and one save was lost without a word)."""
    if conn.in_transaction:
        conn.commit()
    conn.execute("BEGIN IMMEDIATE")


def _busy(root: Path) -> EnvironmentProblem:
    rel = path(root).relative_to(root).as_posix()
    return EnvironmentProblem(f"{rel} đang bận: một tiến trình khác giữ nó quá lâu (studio database busy)",
                              file=rel, fix="chờ một lát rồi thử lại; nếu vẫn bận, đóng chương trình đang mở tệp "
                                            "đó (ví dụ DB Browser for SQLite)")


def _refused(root: Path, exc: Exception) -> EnvironmentProblem:
    """What SQLite (or the disk) refused, said so that the person at the studio can act on it."""
    rel = path(root).relative_to(root).as_posix()
    said = str(exc).lower()
    number = getattr(exc, "errno", None)
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary result code (the extended adds a reason)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or (isinstance(exc, sqlite3.OperationalError)
                                                 and ("locked" in said or "busy" in said)):
        return _busy(root)
    if code == sqlite3.SQLITE_FULL:
        return EnvironmentProblem(f"không ghi được {rel}: ổ đĩa đã đầy (disk full)", file=rel,
                                  fix="giải phóng dung lượng rồi thử lại")
    if code == sqlite3.SQLITE_IOERR:  # a full disk at fsync, a failing disk or share
        return EnvironmentProblem(f"không ghi được {rel}: lỗi đọc ghi ổ đĩa (disk I/O error)", file=rel,
                                  fix="giải phóng dung lượng, kiểm tra ổ đĩa rồi thử lại")
    if (code == sqlite3.SQLITE_READONLY or "readonly" in said or "read-only" in said
            or isinstance(exc, PermissionError) or number == errno.EROFS):
        return EnvironmentProblem(f"không ghi được {rel}: tệp hoặc thư mục {FOLDER}/ chỉ đọc với tài khoản chạy "
                                  "studio (read-only studio database)", file=rel,
                                  fix=f"cấp quyền ghi thư mục {FOLDER}/ và tệp {rel} cho tài khoản chạy studio, "
                                      "hoặc chạy studio bằng tài khoản sở hữu dự án")
    if "disk is full" in said or number in (errno.ENOSPC, errno.EDQUOT):
        return EnvironmentProblem(f"không ghi được {rel}: ổ đĩa đã đầy (disk full)", file=rel,
                                  fix="giải phóng dung lượng rồi thử lại")
    if path(root).is_dir():
        return EnvironmentProblem(f"không mở được {rel}: ở đó là một thư mục, không phải tệp (not a database file)",
                                  file=rel, fix=f"đổi tên thư mục đó (ví dụ {rel}.hong) để tạo tệp mới, hoặc đặt "
                                                "lại tệp cũ vào đúng chỗ")
    if "unable to open" in said or isinstance(exc, OSError):
        return EnvironmentProblem(f"không mở được {rel}: {exc} (cannot open the studio database)", file=rel,
                                  fix=f"kiểm tra {FOLDER} là một thư mục ghi được và {rel} là một tệp, không phải "
                                      "thư mục")
    return _unusable(root, exc)


def _vanished(root: Path) -> EnvironmentProblem:
    rel = path(root).relative_to(root).as_posix()
    return EnvironmentProblem(
        f"{rel} đã bị xóa hoặc di chuyển trong lúc studio đang chạy: tài khoản, phê duyệt và nhật ký studio "
        "không còn ở đó; studio không tự tạo một tệp trống thay vào (studio database deleted while in use)",
        file=rel, fix=f"đặt lại {FOLDER}/ như cũ (từ thùng rác hoặc bản sao lưu) rồi thử lại; hoặc khởi động lại "
                      "studio để bắt đầu một tệp mới, rồi tạo lại tài khoản bằng 'broadcast studio user add'")


def _unusable(root: Path, exc: Exception) -> EnvironmentProblem:
    rel = path(root).relative_to(root).as_posix()
    return EnvironmentProblem(f"không mở được {rel}, nơi giữ tài khoản, phê duyệt và nhật ký studio: {exc} "
                              "(unusable studio database)", file=rel,
                              fix=f"nếu tệp bị hỏng hoặc bị thay bằng thứ khác, dừng studio, đổi tên nó (ví dụ "
                                  f"{rel}.hong) rồi mở lại để tạo tệp mới và tạo lại tài khoản; các phê duyệt cũ chỉ "
                                  "còn trong tệp đã đổi tên")


def _migrate(conn: sqlite3.Connection, db: Path | None, upgrade: bool = True) -> None:
    """Bring the database to the current schema. One process at a time, the version read again
    under a lock beside it: two studios (or a studio and a build) opening a new database at once both
    ran the first migration ('table users already exists', and the advice to rename the database).
    A database of a later schema (made by a newer broadcast, then this older one run on it: a git
    checkout of an old version) is refused: this code would misread or break what it does not know.
    Without `upgrade`, an older one is left as it is (read-only readers)."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise EnvironmentProblem(
            f"{FOLDER}/{FILE} do một phiên bản broadcast mới hơn tạo (lược đồ {version}, bản này chỉ hiểu tới "
            f"{len(MIGRATIONS)}) (studio database from a newer version)", file=f"{FOLDER}/{FILE}",
            fix="cập nhật broadcast lên phiên bản mới (git pull rồi pip install -e .) rồi chạy lại")
    if version == len(MIGRATIONS) or not upgrade:
        return
    with FileLock(f"{db}.lock", timeout=60) if db else contextlib.nullcontext():
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number in range(version, len(MIGRATIONS)):
            with conn:
                conn.executescript(MIGRATIONS[number])
                conn.execute(f"PRAGMA user_version = {number + 1}")


def schema_version(root: Path) -> int:
    with connect(root) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def made_for(conn: sqlite3.Connection, folder: str, name: str) -> tuple[str, str] | None:
    """The project (folder, name) this database was made for when that is another one: neither this
    folder nor this name (a database copied from another project). Otherwise None, and this project
    is recorded as the database's own: a project moved to another folder keeps its name, and one
    renamed keeps its folder. `name` "": not known (broadcast.yaml does not read)."""
    other = _another_project(conn, folder, name)
    if other is not None:
        return other
    conn.executemany("INSERT OR REPLACE INTO project (key, value) VALUES (?, ?)",
                     [("folder", folder)] + ([("name", name)] if name else []))
    return None


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _another_project(conn: sqlite3.Connection, folder: str, name: str) -> tuple[str, str] | None:
    """`made_for`'s question alone, recording nothing (what a build may ask)."""
    if not _has_table(conn, "project"):
        return None  # schema 1, read as it is: made before a database recorded its project
    stored = dict(conn.execute("SELECT key, value FROM project").fetchall())
    was_folder, was_name = stored.get("folder"), stored.get("name", "")
    if was_folder is not None and was_folder != folder and not (name and name == was_name):
        return was_folder, was_name
    return None


def another_project(root: Path, other: tuple[str, str]) -> EnvironmentProblem:
    """A database made for another project (`made_for`), refused by the studio and by a build that
    would take its approvals: its accounts could log in here, its approvals of the same text count
    here, its log is another's."""
    rel = path(root).relative_to(root).as_posix()
    return EnvironmentProblem(
        f"{rel} là của một dự án khác ('{other[1]}' ở {other[0]}), có lẽ được chép sang: tài khoản, phê duyệt "
        "và nhật ký trong đó không phải của dự án này (studio database from another project)", file=rel,
        fix=f"đổi tên tệp đó (ví dụ {rel}.du-an-khac) để tạo tệp mới cho dự án này, rồi tạo tài khoản; nếu đúng "
            "là của dự án này (vừa chuyển thư mục vừa đổi tên dự án), đặt lại tên cũ trong broadcast.yaml, mở "
            "studio một lần, rồi đổi tên")


# --- users and sessions ------------------------------------------------------------------------


def add_user(conn: sqlite3.Connection, name: str, role: str, password_hash: str) -> None:
    """A new account, or a new password and role for one: its open sessions are closed either way
    (a password is reset because someone else may know the old one)."""
    conn.execute("INSERT OR REPLACE INTO users (name, role, password_hash, created) VALUES (?, ?, ?, ?)",
                 (name, role, password_hash, time.time()))
    conn.execute("DELETE FROM sessions WHERE user = ?", (name,))


def remove_user(conn: sqlite3.Connection, name: str) -> bool:
    """Whether `name` had an account; it and its sessions are gone."""
    conn.execute("DELETE FROM sessions WHERE user = ?", (name,))
    return conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount > 0


def users(conn: sqlite3.Connection) -> list[User]:
    return [User(n, r) for n, r in conn.execute("SELECT name, role FROM users ORDER BY name")]


def password_hash(conn: sqlite3.Connection, name: str) -> tuple[User, str] | None:
    row = conn.execute("SELECT name, role, password_hash FROM users WHERE name = ?", (name,)).fetchone()
    return (User(row[0], row[1]), row[2]) if row else None


def set_password_hash(conn: sqlite3.Connection, name: str, new_hash: str) -> None:
    conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (new_hash, name))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(conn: sqlite3.Connection, token: str, user: str | None) -> None:
    now = time.time()
    conn.execute("INSERT INTO sessions (token_hash, user, created, seen) VALUES (?, ?, ?, ?)",
                 (_token_hash(token), user, now, now))


SEEN_EVERY = 60  # seconds: how often a session's last use is written down


def session_user(conn: sqlite3.Connection, token: str, max_age: float,
                 max_life: float = math.inf, touch: bool = True) -> tuple[bool, User | None]:
    """(is the session open, its user: None for the local user). Sessions idle for `max_age` or
    opened `max_life` ago are closed. Its use is written at most once a minute: every page, and
    every lint as one types, wrote to the database (waiting for its lock). Without `touch`, nothing
    is written (a database that cannot be written still says who is logged in)."""
    now = time.time()
    row = conn.execute("SELECT user, created, seen FROM sessions WHERE token_hash = ?",
                       (_token_hash(token),)).fetchone()
    if row is None or row[2] < now - max_age or row[1] < now - max_life:
        if touch:
            conn.execute("DELETE FROM sessions WHERE seen < ? OR created < ?", (now - max_age, now - max_life))
        return False, None
    if touch and now - row[2] >= SEEN_EVERY:
        conn.execute("DELETE FROM sessions WHERE seen < ? OR created < ?", (now - max_age, now - max_life))
        conn.execute("UPDATE sessions SET seen = ? WHERE token_hash = ?", (now, _token_hash(token)))
    if row[0] is None:
        return True, None
    found = conn.execute("SELECT name, role FROM users WHERE name = ?", (row[0],)).fetchone()
    return (True, User(found[0], found[1])) if found else (False, None)


def close_session(conn: sqlite3.Connection, token: str) -> None:
    conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))


def note_login_failure(conn: sqlite3.Connection, keys: list[str]) -> None:
    conn.executemany("INSERT INTO login_failures (key, at) VALUES (?, ?)", [(k, time.time()) for k in keys])


def recent_login_failures(conn: sqlite3.Connection, key: str, seconds: float) -> int:
    since = time.time() - seconds
    conn.execute("DELETE FROM login_failures WHERE at < ?", (time.time() - 86400,))
    row = conn.execute("SELECT COUNT(*) FROM login_failures WHERE key = ? AND at >= ?", (key, since)).fetchone()
    return int(row[0])


def count_login_attempt(conn: sqlite3.Connection, keys: list[str], seconds: float, limit: int) -> bool:
    """Count an attempt against `keys` as a failure until it succeeds (`clear_login_failures`),
    unless one of them already has `limit` failures in the last `seconds`: then False. Checked and
    counted in one write transaction: concurrent guesses (threads, or another studio process) each
    passed the check before any was counted, and a burst of ten got through a limit of five."""
    if conn.in_transaction:
        conn.commit()
    conn.execute("BEGIN IMMEDIATE")
    try:
        allowed = all(recent_login_failures(conn, k, seconds) < limit for k in keys)
        if allowed:
            note_login_failure(conn, keys)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return allowed


def clear_login_failures(conn: sqlite3.Connection, keys: list[str]) -> None:
    conn.executemany("DELETE FROM login_failures WHERE key = ?", [(k,) for k in keys])


# --- approvals -----------------------------------------------------------------------------------


def decide(conn: sqlite3.Connection, script: str, sha256: str, decision: str, user: str, comment: str) -> None:
    conn.execute("INSERT INTO approvals (script, sha256, decision, user, comment, at) VALUES (?, ?, ?, ?, ?, ?)",
                 (script, sha256, decision, user, comment, time.time()))
    # the version decided on, in the log that nothing rewrites (the approvals table holds it too, but may be
    # changed): 'approve canh-bao' alone did not say which of its saved versions was approved
    add_audit(conn, user, "approve" if decision == "approved" else "reject", script,
              f"mã nội dung {sha256}" + (f"\n{comment}" if comment else ""))


def latest_decisions(conn: sqlite3.Connection) -> dict[str, Approval]:
    """The last decision on each script."""
    rows = conn.execute(
        "SELECT script, sha256, decision, user, comment, at FROM approvals "
        "WHERE id IN (SELECT MAX(id) FROM approvals GROUP BY script)")
    return {r[0]: Approval(*r) for r in rows}


def history(conn: sqlite3.Connection, script: str) -> list[Approval]:
    rows = conn.execute("SELECT script, sha256, decision, user, comment, at FROM approvals WHERE script = ? "
                        "ORDER BY id DESC", (script,))
    return [Approval(*r) for r in rows]


def approval_state(decision: Approval | None, current_sha256: str) -> str:
    """"approved" only while the file is byte for byte what was approved; an edit since (in the
    studio, an editor or git) returns it to "draft"; "rejected" until it is edited."""
    if decision is None or decision.sha256 != current_sha256:
        return "draft"
    return decision.decision


def approved_now(root: Path, scripts: dict[str, str], name: str) -> dict[str, Approval]:
    """The scripts (id -> the sha256 of the content to air) whose content carries an approval: what
    may air under `approval: required`. `name`: the project's (broadcast.yaml); a database copied from
    another project is refused, as the studio refuses it (its approvals are not this project's)."""
    with connect(root, create=False, write=False) as conn:
        other = _another_project(conn, str(root.resolve()), name)
        if other is not None:
            raise another_project(root, other)
        # a database no migration ever ran on (a first studio start stopped at once: an empty file) holds no
        # approval; read as it is, it has no table to read one from
        decisions = latest_decisions(conn) if _has_table(conn, "approvals") else {}
    out = {}
    for script_id, sha256 in scripts.items():
        decision = decisions.get(script_id)
        if approval_state(decision, sha256) == "approved" and decision is not None:
            out[script_id] = decision
    return out


# --- audit ---------------------------------------------------------------------------------------


def add_audit(conn: sqlite3.Connection, user: str, action: str, target: str, detail: str = "") -> None:
    conn.execute("INSERT INTO audit (at, user, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                 (time.time(), user, action, target, detail))


def audit(conn: sqlite3.Connection, limit: int = 200, offset: int = 0) -> list[AuditEntry]:
    rows = conn.execute("SELECT id, at, user, action, target, detail FROM audit ORDER BY id DESC LIMIT ? OFFSET ?",
                        (limit, offset))
    return [AuditEntry(*r) for r in rows]
