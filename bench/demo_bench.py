"""How long `flask demo load` takes (it runs inside `make run`, so a newcomer waits for it): each scale on a
fresh SQLite database, whole command and the loader's own figure. Target: the `region` scale well under a minute.

Run with `make bench BENCH=demo_bench`; writes "## Demo loader, timed by make bench" in docs/performance.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import cpu_model, write_section

ROOT = Path(__file__).resolve().parent.parent
SCALES = ("small", "region", "large")


def _flask(url: str, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, check=True,
                            capture_output=True, text=True, env={**os.environ, "DATABASE_URL": url})
    return result.stdout


def main() -> str:
    rows = []
    for scale in SCALES:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'demo.sqlite3'}"
            _flask(url, "db", "upgrade")
            started = time.perf_counter()
            output = _flask(url, "demo", "load", "--scale", scale)
            command_s = time.perf_counter() - started
        loader = re.search(r"in ([0-9.]+) s", output)
        rows.append((scale, float(loader.group(1)) if loader else float("nan"), command_s))
        print(f"{scale:7} loader {rows[-1][1]:.1f} s, command {command_s:.1f} s", flush=True)
    lines = [
        "## Demo loader, timed by make bench",
        "",
        f"`make bench BENCH=demo_bench` on {cpu_model()}, {os.cpu_count()} cores: a fresh SQLite database each, "
        "`flask db upgrade`, then `flask demo load --scale <scale>` (seed 2026, today's allocation included). "
        "\"Loader\" is the figure the command prints; \"command\" is the whole process. Target: `region` (what "
        "`make run` loads) well under 60 s.",
        "",
        "| scale | loader | command |",
        "|---|---:|---:|",
        *[f"| {scale} | {loader:.1f} s | {command:.1f} s |" for scale, loader, command in rows],
    ]
    section = "\n".join(lines) + "\n"
    if "--no-write" not in sys.argv:
        write_section(section)
    return section


if __name__ == "__main__":
    print(main())
