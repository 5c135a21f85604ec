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


# In a folder `init` is filling: made first, removed last. A folder holding it is an unfinished init,
# which `init` completes (a kill or a full disk half way left a project lacking files that init refused).
UNFINISHED = ".init-chua-xong"


def create_project(directory: Path) -> list[Path]:
    """Copy the starter project into `directory`, which must be empty or absent: whole or not at all.
    A new folder is written beside it and renamed into place; an existing empty one (the current
    folder, a USB stick's root) is filled behind the `UNFINISHED` mark."""
    directory = directory.absolute()
    if directory.exists() and not (directory / UNFINISHED).exists() and any(directory.iterdir()):
        raise UsageError(f"thư mục {directory} đã có tệp; 'init' không ghi đè (directory not empty)",
                         fix="chọn một thư mục mới hoặc thư mục trống")
    starter = _walk(files(__package__) / "files")
    if directory.exists():
        (directory / UNFINISHED).touch()
        _write(starter, directory)
        (directory / UNFINISHED).unlink()
    else:
        directory.parent.mkdir(parents=True, exist_ok=True)
        draft = directory.parent / f".{directory.name}.init-{os.getpid()}"
        try:
            _write(starter, draft)
            os.rename(draft, directory)
        finally:
            shutil.rmtree(draft, ignore_errors=True)
    return sorted(p for p in directory.rglob("*") if p.is_file())


def _write(starter: list[tuple[str, Traversable]], folder: Path) -> None:
    for name, item in starter:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.read_bytes())
