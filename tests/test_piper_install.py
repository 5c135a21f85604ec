"""`broadcast voices install`: a tiny Piper voice served from 127.0.0.1 with the catalogue format of the public
Piper voices repository, an interrupted download resumed with a Range request, digests checked."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from broadcast.tts import make_engine
from broadcast.tts.piper_voices import installed
from conftest import run
from test_tts_piper import build_voice

NAME = "vi_VN-tiny-x_low"


class Repository:
    """voices.json plus the voice's files; `cut` = serve only the first N bytes of the model once."""

    def __init__(self, files: dict[str, bytes], digests: dict[str, str] | None = None) -> None:
        self.files = files
        self.ranges: list[str] = []
        self.cut: int | None = None
        catalogue = {NAME: {"key": NAME, "files": {rel: {"size_bytes": len(data), "sha256_digest":
                                                         (digests or {}).get(rel) or hashlib.sha256(data).hexdigest()}
                                                   for rel, data in files.items()}}}
        self.files["voices.json"] = json.dumps(catalogue).encode()
        repo = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                rel = self.path.lstrip("/")
                if rel not in repo.files:
                    self.send_error(404)
                    return
                data = repo.files[rel]
                start = 0
                if self.headers.get("Range"):
                    repo.ranges.append(self.headers["Range"])
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if repo.cut is not None and rel.endswith(".onnx"):
                    self.wfile.write(body[:repo.cut])  # then the connection drops
                    repo.cut = None
                    self.wfile.flush()
                    self.connection.close()
                    return
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def voice_files(tmp_path) -> dict[str, bytes]:
    folder = tmp_path / "made"
    build_voice(folder, NAME)
    base = f"vi/vi_VN/tiny/x_low/{NAME}"
    return {f"{base}.onnx": (folder / f"{NAME}.onnx").read_bytes(),
            f"{base}.onnx.json": (folder / f"{NAME}.onnx.json").read_bytes()}


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("BROADCAST_DATA_DIR", str(folder))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    return folder


def test_install_resumes_an_interrupted_download_and_the_voice_speaks(voice_files, data_dir, tmp_path, monkeypatch):
    from broadcast.tts import piper_voices

    monkeypatch.setattr(piper_voices, "CHUNK", 128)  # the tiny test model arrives in several pieces
    repo = Repository(dict(voice_files))
    model = voice_files[f"vi/vi_VN/tiny/x_low/{NAME}.onnx"]
    repo.cut = len(model) // 3
    first = run("voices", "install", NAME, "--base-url", repo.url)
    assert first.exit_code != 0 and "chạy lại" in first.output and "Traceback" not in first.output
    assert not (data_dir / "piper" / f"{NAME}.onnx").exists()  # never a half voice in place
    arrived = (data_dir / "piper" / f"{NAME}.onnx.part").stat().st_size
    assert 0 < arrived <= len(model) // 3  # what arrived before the cut is kept
    second = run("voices", "install", NAME, "--base-url", repo.url)
    assert second.exit_code == 0, second.output
    assert repo.ranges == [f"bytes={arrived}-"]  # resumed, not started again
    assert (data_dir / "piper" / f"{NAME}.onnx").read_bytes() == model
    assert installed() == [NAME]
    listed = run("voices", "--offline", "--project", str(Path(__file__).resolve().parents[1]))
    assert NAME in listed.output
    clip = make_engine("piper", {"voice": NAME}, tmp_path).synthesize("Xin chào bà con.")
    assert clip.duration > 0.1


def test_a_file_whose_digest_is_wrong_is_never_installed(voice_files, data_dir):
    rel = f"vi/vi_VN/tiny/x_low/{NAME}.onnx"
    repo = Repository(dict(voice_files), digests={rel: "0" * 64})
    result = run("voices", "install", NAME, "--base-url", repo.url)
    assert result.exit_code != 0 and "sha256" in result.output
    assert installed() == [] and not list((data_dir / "piper").glob("*.onnx*.part"))


def test_unknown_and_hostile_names_are_refused(voice_files, data_dir):
    repo = Repository(dict(voice_files))
    unknown = run("voices", "install", "vi_VN-khong-co", "--base-url", repo.url)
    assert unknown.exit_code == 2 and "không có giọng" in unknown.output  # a wrong argument: 2, as README says
    hostile = run("voices", "install", "../../etc/passwd", "--base-url", repo.url)
    assert hostile.exit_code == 2 and "không hợp lệ" in hostile.output and "Cách sửa" in hostile.output
    assert not data_dir.exists() or not any(data_dir.rglob("*passwd*"))


def test_a_data_folder_that_cannot_be_written_is_named_exit_3(voice_files, data_dir):
    """A file where the data folder goes (or a folder not writable) ended in a traceback."""
    repo = Repository(dict(voice_files))
    data_dir.write_text("not a folder", encoding="utf-8")
    result = run("voices", "install", NAME, "--base-url", repo.url)
    assert result.exit_code == 3, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert str(data_dir / "piper") in result.output and "Cách sửa:" in result.output, result.output
