"""Piper voices installed for the user: `broadcast voices install NAME` and the voices a profile can name.

A voice is the pair `<name>.onnx` + `<name>.onnx.json` in the user's data folder
(`BROADCAST_DATA_DIR`, else %LOCALAPPDATA%\\broadcast or $XDG_DATA_HOME/broadcast or
~/.local/share/broadcast, then `piper/`). Installing reads the catalogue `voices.json` at a base URL
(default: the public Piper voices repository, whose catalogue has this format), downloads each file
of the voice to a `.part` file, resuming an interrupted download with an HTTP Range request, checks
its size and digest (sha256 where the catalogue gives one, else its md5) and only then renames it
into place: a voice is either whole or absent.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .base import TTSError, bilingual

DEFAULT_BASE_URL = "https://huggingface.co/rhasspy/piper-voices/resolve/main"
NAME_RE = re.compile(r"[A-Za-z]{2}_[A-Za-z]{2}-[A-Za-z0-9_]+-[a-z_]+")  # e.g. vi_VN-vais1000-medium
CHUNK = 1 << 14  # written as it comes: a cut connection loses at most this much of what arrived
Progress = Callable[[str, int, int], None]  # (file name, bytes so far, total)


def data_folder() -> Path:
    if os.environ.get("BROADCAST_DATA_DIR"):
        base = Path(os.environ["BROADCAST_DATA_DIR"])
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"]) / "broadcast"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "broadcast"
    return base / "piper"


def model_path(name: str) -> Path:
    return data_folder() / f"{_checked_name(name)}.onnx"


def installed() -> list[str]:
    folder = data_folder()
    if not folder.is_dir():
        return []
    return sorted(p.name[:-5] for p in folder.glob("*.onnx") if (folder / f"{p.name}.json").is_file())


def _checked_name(name: str) -> str:
    if not NAME_RE.fullmatch(name or ""):
        raise TTSError(bilingual(f"tên giọng Piper '{name}' không hợp lệ (ví dụ vi_VN-vais1000-medium)",
                                 f"invalid Piper voice name '{name}'"))
    return name


def install(name: str, base_url: str = DEFAULT_BASE_URL, progress: Progress | None = None,
            timeout: float = 30.0) -> Path:
    """Download voice `name` into the data folder (resuming, verified); returns the model's path."""
    import requests

    if not NAME_RE.fullmatch(name or ""):  # a wrong argument, as a wrong option is: exit 2
        raise UsageError(f"tên giọng Piper '{name}' không hợp lệ (invalid Piper voice name)", field="NAME",
                         fix="viết tên đầy đủ như trong danh mục, ví dụ vi_VN-vais1000-medium")
    base = base_url.rstrip("/")
    try:
        catalogue = requests.get(f"{base}/voices.json", timeout=timeout)
        catalogue.raise_for_status()
        entry = catalogue.json().get(name)
    except (requests.RequestException, ValueError, AttributeError) as e:
        raise TTSError(bilingual(f"không đọc được danh mục giọng {base}/voices.json: {type(e).__name__}",
                                 "cannot read the voice catalogue")) from None
    if not isinstance(entry, dict) or not isinstance(entry.get("files"), dict):
        raise UsageError(f"danh mục không có giọng '{name}' (no such voice in the catalogue)", field="NAME",
                         fix=f"xem tên các giọng tiếng Việt trong {base}/voices.json (ví dụ vi_VN-vais1000-medium)")
    folder = data_folder()
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {rel: info for rel, info in entry["files"].items() if rel.endswith((".onnx", ".onnx.json"))}
    if len(wanted) != 2:
        raise TTSError(bilingual(f"giọng '{name}' thiếu tệp .onnx hoặc .onnx.json trong danh mục",
                                 "the catalogue entry lacks the model or its config"))
    for rel, info in sorted(wanted.items(), key=lambda item: item[0].endswith(".onnx")):  # config first, model last
        target = folder / (f"{name}.onnx" if rel.endswith(".onnx") else f"{name}.onnx.json")
        _download(f"{base}/{rel}", target, info, progress, timeout)
    return folder / f"{name}.onnx"


def _download(url: str, target: Path, info: dict[str, Any], progress: Progress | None, timeout: float) -> None:
    import requests

    size = int(info.get("size_bytes") or 0)
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if size and have > size:
        part.unlink()
        have = 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with requests.get(url, headers=headers, stream=True, timeout=timeout) as response:
            if response.status_code == 416 and have == size:
                pass  # already whole: only the check is left
            else:
                response.raise_for_status()
                mode = "ab" if have and response.status_code == 206 else "wb"
                done = have if mode == "ab" else 0
                with open(part, mode) as f:
                    for block in response.iter_content(CHUNK):
                        f.write(block)
                        done += len(block)
                        if progress:
                            progress(target.name, done, size)
    except requests.RequestException as e:
        raise TTSError(bilingual(f"tải {target.name} bị ngắt ({type(e).__name__}); chạy lại lệnh để tải tiếp",
                                 "download interrupted: run the command again to resume")) from None
    problem = _verify(part, size, info)
    if problem:
        part.unlink(missing_ok=True)
        raise TTSError(bilingual(f"{target.name}: {problem}; đã xóa tệp tải dở, hãy tải lại",
                                 "the downloaded file is not the published one"))
    os.replace(part, target)


def _verify(path: Path, size: int, info: dict[str, Any]) -> str:
    """Why `path` is not the catalogue's file ("" when it is)."""
    if size and path.stat().st_size != size:
        return f"kích thước {path.stat().st_size} byte, danh mục ghi {size}"
    expected_sha = str(info.get("sha256_digest") or "").lower()
    expected_md5 = str(info.get("md5_digest") or "").lower()
    if not expected_sha and not expected_md5:
        return "danh mục không có mã kiểm tra (sha256 hoặc md5) cho tệp này"
    sha, md5 = hashlib.sha256(), hashlib.md5()  # md5 only to compare with catalogues that publish it
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
            md5.update(block)
    if expected_sha and sha.hexdigest() != expected_sha:
        return "sai mã sha256"
    if not expected_sha and md5.hexdigest() != expected_md5:
        return "sai mã md5"
    return ""
