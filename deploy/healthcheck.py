"""The container's health check (the Dockerfile's HEALTHCHECK): exit 0 when this container's portal answers
GET /health/live, 1 otherwise. Standard library only (the slim image has no curl)."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def live_url(bind: str) -> str:
    """The live check's URL on loopback, from gunicorn's bind address (PORTAL_BIND: host:port)."""
    port = bind.rsplit(":", 1)[-1] if ":" in bind else "8000"
    return f"http://127.0.0.1:{port}/health/live"


def main() -> int:
    url = live_url(os.environ.get("PORTAL_BIND", "0.0.0.0:8000"))
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"health check {url}: {type(error).__name__}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
