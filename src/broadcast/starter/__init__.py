"""`broadcast init`: a new project from the small example shipped in files/."""

from __future__ import annotations

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
    """Copy the starter project into `directory`, which must be empty or absent."""
    if directory.exists() and any(directory.iterdir()):
        raise UsageError(f"thư mục {directory} đã có tệp; 'init' không ghi đè (directory not empty)",
                         fix="chọn một thư mục mới hoặc thư mục trống")
    created = []
    for name, item in _walk(files(__package__) / "files"):
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.read_bytes())
        created.append(target)
    return created
