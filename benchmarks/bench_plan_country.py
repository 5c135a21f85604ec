"""Benchmark 1 (issue 7): plan the whole country.

All 3,321 communes (imported from vietnam-provinces), the example project's scripts, a 14-slot
week (06:00 and 17:00 every day). Measures load, lint-style rendering and planning time and
the peak RSS of this process. Targets: <= 30 s and <= 1 GiB.

    .venv/bin/python benchmarks/bench_plan_country.py [--write]
"""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from broadcast.app import Workspace
from broadcast.locales import all_provinces, import_locales
from broadcast.model import Week
from machine import machine

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "country"
        root.mkdir()
        for name in ("broadcast.yaml", "lexicon.yaml"):
            shutil.copy(REPO / name, root / name)
        for name in ("scripts", "voices", "schedules"):
            shutil.copytree(REPO / name, root / name)
        t0 = time.perf_counter()
        import_locales(root, all_provinces(), "sang-chieu")
        t1 = time.perf_counter()
        workspace = Workspace(root)
        project = workspace.project
        t2 = time.perf_counter()
        plan = workspace.plan(Week(2026, 49))
        t3 = time.perf_counter()
        rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        programs = sum(len(p.programs) for p in plan.locales)
        airings = sum(len(pr.items) for p in plan.locales for pr in p.programs)
        lines = [
            "## Benchmark 1: plan the whole country",
            "",
            f"Machine: {machine()}.",
            "",
            f"- communes: {len(project.locales)}, scripts: {len(project.scripts)}, slots per week: "
            f"{len(plan.locales[0].programs)}, programs planned: {programs}, airings: {airings}",
            f"- import all locales (first time): {t1 - t0:.2f} s",
            f"- load and validate the project: {t2 - t1:.2f} s",
            f"- render every script for every commune and plan the week: {t3 - t2:.2f} s",
            f"- total load + plan: **{t3 - t1:.2f} s** (target <= 30 s); peak RSS **{rss_mib:.0f} MiB** (target <= 1024)",
            "",
        ]
        print("\n".join(lines))
        if "--write" in sys.argv:
            write_section("## Benchmark 1:", lines)


def write_section(heading: str, lines: list[str]) -> None:
    """Replace the section starting with `heading` in benchmarks/RESULTS.md (or append it)."""
    results = REPO / "benchmarks" / "RESULTS.md"
    old = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    start = old.find(heading)
    if start >= 0:
        end = old.find("\n## ", start + 1)
        old = old[:start] + (old[end + 1:] if end >= 0 else "")
    results.write_text(old.rstrip("\n") + "\n\n" + "\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
