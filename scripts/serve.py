"""`make run`'s supervisor: gunicorn and the notifications worker side by side, stopped together.

    python scripts/serve.py -- <gunicorn arguments...>

Starts `gunicorn <arguments>` and `flask notifications send` (the worker, with the development sender unless
SMTP_HOST or NOTIFY_API_KEY is set). Ctrl+C (or SIGTERM) stops both; if either stops by itself, the other is
stopped too and the exit status is the one that stopped first's. Only for a developer's machine: in production
the worker is a service of its own (docs/operations.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def main(argv: list[str]) -> int:
    gunicorn_args = argv[argv.index("--") + 1:] if "--" in argv else argv
    children = {
        "gunicorn": subprocess.Popen([str(BIN / "gunicorn"), *gunicorn_args]),
        "notifications worker": subprocess.Popen([str(BIN / "flask"), "notifications", "send"]),
    }
    stopping = False

    def stop(_signum=None, _frame=None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    status = 0
    while not stopping:
        for name, child in children.items():
            code = child.poll()
            if code is not None:
                print(f"{name} stopped (exit {code}): stopping the rest", file=sys.stderr)
                status, stopping = code, True
                break
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 35  # gunicorn's graceful timeout is 30 s
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return status


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))
