"""The studio at the country's scale, timed as a browser meets it: real HTTP requests to a real server.

A copy of the example project with all 34 provinces imported (3,321 communes) is served by uvicorn on
127.0.0.1; the benchmark times, over repeated requests (after one warm-up that reads the project):

- the communes page (Xã, phường) for all 3,321 communes, and a search in it (target: under 300 ms);
- lint as you type: one edited script linted for every commune of Lạng Sơn (65), as the editor's page
  asks for it (target: under 1 s).

Run:  python benchmarks/bench_studio.py [--write]
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from machine import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from broadcast import app  # noqa: E402
from broadcast.studio import create_app  # noqa: E402


def national_copy(folder: Path) -> Path:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if rel.split("/")[0] in ("tests", "benchmarks", "docs"):
            continue
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    app.open_workspace(folder).import_locales(every_province=True)
    return folder


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS-studio.md")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    import uvicorn

    with tempfile.TemporaryDirectory() as tmp:
        root = national_copy(Path(tmp) / "p")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(root), host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

        def get(path: str) -> str:
            with opener.open(base + path) as response:
                return response.read().decode("utf-8")

        started = time.perf_counter()
        page = get("/kich-ban/khi-bi-de-doa")  # the first request reads the whole project
        first = time.perf_counter() - started
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        form = {name: value for name, value in re.findall(r'<input[^>]* name="([a-z_]+)" value="([^"]*)"', page)}
        form["body"] = re.search(r'<textarea id="body" name="body"[^>]*>(.*?)</textarea>', page, re.S).group(1)
        form.update(level="normal", province="lang-son", csrftoken=token)
        form["body"] = form["body"].replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&") + \
            "\nXin bà con nhớ gọi 113.\n"
        data = urllib.parse.urlencode(form).encode()

        def lint() -> None:
            request = urllib.request.Request(base + "/api/lint", data=data, headers={"x-csrftoken": token})
            with opener.open(request) as response:
                assert b"problems" in response.read()

        communes = get("/xa")
        assert "3321 xã, phường" in communes, communes[:2000]
        results = {
            "Xã, phường: all 3,321 communes, page 1": timed(lambda: get("/xa"), args.runs),
            "Xã, phường: search \"chi\" in all provinces": timed(lambda: get("/xa?q=chi"), args.runs),
            "Xã, phường: Lạng Sơn, page 2": timed(lambda: get("/xa?tinh=lang-son&trang=2"), args.runs),
            "Lint as you type: one script x 65 communes of Lạng Sơn": timed(lint, args.runs),
            "Kịch bản list": timed(lambda: get("/kich-ban"), args.runs),
        }
        server.should_exit = True

    lines = ["# Benchmark: the studio at the country's scale", "",
             "`benchmarks/bench_studio.py`: real HTTP requests to uvicorn on 127.0.0.1, a copy of the example",
             "project with all 34 provinces imported (3,321 communes). Times per request, after the first",
             f"request (which reads the whole project: {first:.2f} s).", "",
             f"- Machine: {machine()}", f"- Date: {time.strftime('%Y-%m-%d')}", f"- Runs: {args.runs}",
             "- Targets: communes page < 300 ms; lint feedback for one script across a province < 1 s", "",
             "| Request | median ms | max ms |", "|---|---:|---:|"]
    for name, times in results.items():
        lines.append(f"| {name} | {1000 * statistics.median(times):.0f} | {1000 * max(times):.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        (ROOT / "benchmarks" / "RESULTS-studio.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
