"""Run every issue-7 benchmark and write benchmarks/RESULTS.md:  .venv/bin/python benchmarks/run_all.py"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    for script in ("bench_plan_country.py", "bench_province.py"):
        subprocess.run([sys.executable, str(HERE / script), "--write"], check=True)
