"""Server time of the officer's matches page at the `large` demo scale (issue 4: p95 <= 50 ms).

Run with `make bench` (or `python -m bench.portal_bench`). Loads the large demo region into a SQLite database
under instance/ once (reused on later runs), signs in as a placement officer of each LA, and times the request
page (ranked matches of every open option for that child) through the WSGI app in-process, so the figure is
server time without network. Writes the table into docs/performance.md under "## Officer pages".
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import cpu_model, sign_in, write_section

ROOT = Path(__file__).resolve().parent.parent
DB_PATH = Path(os.environ.get("PORTAL_BENCH_DB", ROOT / "instance" / "bench-large.sqlite3"))
RUNS_PER_REQUEST = 3
REQUESTS = 120


def ensure_database(url: str) -> None:
    from portal import create_app
    from portal.cli import upgrade_database

    upgrade_database(url)
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        from sqlalchemy import func, select

        from portal.db import db
        from portal.models import Provider

        loaded = db.session.scalar(select(func.count()).select_from(Provider))
    if not loaded:
        print(f"Loading the large demo region into {DB_PATH} (once) ...", flush=True)
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "demo", "load", "--scale", "large"],
                       check=True, env={**os.environ, "DATABASE_URL": url}, cwd=ROOT)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> str:
    DB_PATH.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{DB_PATH}"
    ensure_database(url)
    from sqlalchemy import func, select

    from portal import create_app
    from portal.models import User
    from portal.db import db
    from portal.models import Vacancy
    from portal.models import PlacementRequest

    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        open_vacancies = db.session.scalar(select(func.count()).select_from(Vacancy).where(Vacancy.status == "open"))
        rows = db.session.execute(
            select(PlacementRequest.id, PlacementRequest.la_code)
            .where(PlacementRequest.status.in_(("searching", "offers")))
            .order_by(PlacementRequest.id)
            .limit(REQUESTS)
        ).all()
        officers = {u.la_code: u.email for u in db.session.scalars(select(User).where(User.role == "officer"))}
        from portal.options import get_options_version

        version = get_options_version()
    clients = {}
    for la_code, email in officers.items():
        client = app.test_client()
        sign_in(client, email)
        clients[la_code] = client

    # First page view builds the process's matching index (once per process and options version).
    started = time.perf_counter()
    clients[rows[0].la_code].get(f"/requests/{rows[0].id}")
    first = (time.perf_counter() - started) * 1000

    timings, fragment = [], []
    for request_id, la_code in rows:
        for _ in range(RUNS_PER_REQUEST):
            t = time.perf_counter()
            response = clients[la_code].get(f"/requests/{request_id}")
            timings.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, response.status_code
        t = time.perf_counter()
        clients[la_code].get(f"/requests/{request_id}/matches?version=-1")
        fragment.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    unchanged = clients[rows[0].la_code].get(f"/requests/{rows[0].id}/matches?version={version}")
    poll_unchanged = (time.perf_counter() - t) * 1000

    cpu = cpu_model()
    table = "\n".join([
        "## Officer pages",
        "",
        f"Measured by `make bench` (`python -m bench.portal_bench`) on {os.cpu_count()} cores ({cpu}), Python "
        f"{platform.python_version()}, SQLite, the `large` demo region ({open_vacancies:,} open vacancies). "
        "Server time through the WSGI app in-process (no network), signed in as each LA's officer, "
        f"{len(rows)} open requests x {RUNS_PER_REQUEST} views.",
        "",
        "| page | median | p95 | target |",
        "|---|---|---|---|",
        f"| request page with ranked matches (`/requests/<id>`) | {statistics.median(timings):.1f} ms | "
        f"{percentile(timings, 0.95):.1f} ms | p95 <= 50 ms |",
        f"| live match list, changed (`/requests/<id>/matches`) | {statistics.median(fragment):.1f} ms | "
        f"{percentile(fragment, 0.95):.1f} ms | |",
        f"| live match list, unchanged (204) | {poll_unchanged:.1f} ms | | |",
        f"| first view in a new process (builds the matching index) | {first:.0f} ms | | once per process and change |",
        "",
    ])
    assert unchanged.status_code == 204
    print(table)
    write_section(table)
    return table



if __name__ == "__main__":
    main()
