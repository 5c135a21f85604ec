"""Who is using the studio: accounts, sessions and what each role may do.

Passwords are hashed with Argon2 (argon2-cffi). A session is a random token in an HttpOnly,
SameSite=Strict cookie; the database keeps only its sha256. Bound to 127.0.0.1 with no accounts,
the one person at the PC is the local user and may do everything; on the network every page
needs a login and each role has its own rights. Login attempts are limited per name and per
address.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .. import records
from ..errors import EnvironmentProblem, UsageError
from ..project import read_settings

COOKIE = "broadcast_studio"
SESSION_SECONDS = 12 * 3600  # idle
SESSION_LIFE = 7 * 24 * 3600  # since the login, however busy: a stolen cookie does not last for ever
MAX_FAILURES = 5  # per name and per address ...
FAILURE_WINDOW = 15 * 60  # ... in this many seconds
MIN_PASSWORD = 8
MAX_NAME = 64  # characters of an account's name
LOCAL = records.User("máy này", "local")  # the local user: every right

RIGHTS = {
    "read": {"editor", "approver", "operator", "local"},
    "edit": {"editor", "local"},
    "approve": {"approver", "local"},
    "build": {"editor", "approver", "local"},
    "download": {"editor", "approver", "operator", "local"},
}

_hasher = PasswordHasher()
# verified against when the name has no account, so that a wrong name takes as long as a wrong password
# (an unknown name answered in 5 ms and a known one in 125 ms: the names could be listed)
_NO_ACCOUNT = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a user (or the local user), or nobody yet."""

    user: records.User | None

    def may(self, right: str) -> bool:
        return self.user is not None and self.user.role in RIGHTS[right]

    @property
    def name(self) -> str:
        return self.user.name if self.user else ""


def claim(root: Path, conn: sqlite3.Connection) -> None:
    """Record the project as the database's own, or refuse a database made for another project."""
    settings = read_settings(root)
    other = records.made_for(conn, str(root.resolve()), settings.name if settings else "")
    if other is not None:
        raise records.another_project(root, other)


def add_user(root: Path, name: str, role: str, password: str) -> None:
    if role not in records.ROLES:
        raise UsageError(f"vai trò '{role}' không có (unknown role)", field="--role",
                         fix="dùng một trong: " + ", ".join(records.ROLES))
    if not name or len(name) > MAX_NAME or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise UsageError(f"tên người dùng '{name}' không hợp lệ (invalid user name)",
                         fix=f"dùng chữ, số, '-', '_' hoặc '.', tối đa {MAX_NAME} ký tự")
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"mật khẩu quá ngắn: cần ít nhất {MIN_PASSWORD} ký tự (password too short)")
    with records.connect(root) as conn:
        claim(root, conn)
        records.add_user(conn, name, role, _hasher.hash(password))
        records.add_audit(conn, "(dòng lệnh)", "user", name, f"vai trò {role}")


def remove_user(root: Path, name: str) -> list[str]:
    """Remove an account (its sessions end at once); returns what that leaves the studio without: no
    account at all (the network studio lets nobody in, and will not start again), no approver."""
    with records.connect(root) as conn:
        found = records.password_hash(conn, name)
        if found is None or not records.remove_user(conn, name):
            raise UsageError(f"không có tài khoản '{name}' (no such account)",
                             fix="xem các tài khoản: broadcast studio user list")
        records.add_audit(conn, "(dòng lệnh)", "user", name, "xóa tài khoản")
        left = records.users(conn)
    if not left:
        return ["không còn tài khoản nào: studio trên mạng không cho ai đăng nhập nữa và sẽ không mở lại được "
                "(no accounts left); tạo tài khoản: broadcast studio user add TÊN --role approver"]
    if found[0].role == "approver" and not any(u.role == "approver" for u in left):
        return ["không còn người duyệt nào: nếu dự án đặt approval: required, không kịch bản nào được duyệt để "
                "phát nữa (no approver left); tạo một: broadcast studio user add TÊN --role approver"]
    return []


def has_accounts(root: Path) -> bool:
    with records.connect(root, create=False) as conn:  # asking makes no .studio/
        return bool(records.users(conn))


def login(root: Path, name: str, password: str, address: str) -> str | None:
    """A new session token, or None (wrong name or password, or too many attempts)."""
    keys = _attempt_keys(name, address)
    with records.connect(root) as conn:
        # counted as a failure before Argon2's ~0.1 s, and forgotten if the password is right
        if not records.count_login_attempt(conn, keys, FAILURE_WINDOW, MAX_FAILURES):
            return None
        found = records.password_hash(conn, name)
        try:
            _hasher.verify(found[1] if found else _NO_ACCOUNT, password)
            if found is None:
                raise VerifyMismatchError
        except (VerificationError, InvalidHashError):
            return None
        if _hasher.check_needs_rehash(found[1]):
            records.set_password_hash(conn, name, _hasher.hash(password))
        records.clear_login_failures(conn, keys)
        token = secrets.token_urlsafe(32)
        records.open_session(conn, token, name)
        records.add_audit(conn, name, "login", name)
        return token


def too_many_attempts(root: Path, name: str, address: str) -> bool:
    with records.connect(root) as conn:
        return any(records.recent_login_failures(conn, k, FAILURE_WINDOW) >= MAX_FAILURES
                   for k in _attempt_keys(name, address))


def _attempt_keys(name: str, address: str) -> list[str]:
    """What failed logins are counted under. A name longer than any account's counts under its first characters:
    a stranger's names of 2 MB were stored whole, 2 MB more in the database for each guess, kept a day."""
    return [f"user:{name[:MAX_NAME + 1]}", f"ip:{address}"]


def viewer(root: Path, token: str | None, local: bool) -> Viewer:
    """Who holds `token`; on a local studio with no login, the local user."""
    if local:
        return Viewer(LOCAL)
    if not token:
        return Viewer(None)
    try:
        with records.connect(root) as conn:
            is_open, user = records.session_user(conn, token, SESSION_SECONDS, SESSION_LIFE)
    except EnvironmentProblem:  # the disk full or read-only: every page was a 500, even to read; the write says it
        with records.connect(root) as conn:
            is_open, user = records.session_user(conn, token, SESSION_SECONDS, SESSION_LIFE, touch=False)
    return Viewer(user if is_open else None)


def logout(root: Path, token: str | None) -> None:
    if token:
        with records.connect(root) as conn:
            records.close_session(conn, token)
