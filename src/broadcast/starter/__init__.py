"""`broadcast init`: a new project from the small example shipped in files/."""

from __future__ import annotations

import os
import shutil
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from broadcast.errors import UsageError


def _walk(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found = []
    for item in sorted(folder.iterdir(), key=lambda t: t.name):
        if item.name == "__pycache__":
            continue
        if item.is_dir():
            found += _walk(item, f"{prefix}{item.name}/")
        else:
            found.append((prefix + item.name, item))
    return found


def create_project(directory: Path) -> list[Path]:
    """Copy the starter project into `directory`, which must be empty or absent: whole or not at all.
    It is written beside it and renamed into place, so a kill or a full disk half way never leaves a
    project that lacks files and that `init` then refuses to complete."""
    if directory.exists() and any(directory.iterdir()):
        raise UsageError(f"thư mục {directory} đã có tệp; 'init' không ghi đè (directory not empty)",
                         fix="chọn một thư mục mới hoặc thư mục trống")
    directory.parent.mkdir(parents=True, exist_ok=True)
    draft = directory.parent / f".{directory.name}.init-{os.getpid()}"
    try:
        for name, item in _walk(files(__package__) / "files"):
            target = draft / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.read_bytes())
        try:
            os.replace(draft, directory)  # over an empty folder in one step where the system can
        except OSError:
            if not directory.is_dir():
                raise
            directory.rmdir()  # Windows: the empty folder first
            os.replace(draft, directory)
    finally:
        shutil.rmtree(draft, ignore_errors=True)
    return sorted(p for p in directory.rglob("*") if p.is_file())
