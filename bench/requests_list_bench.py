"""Server time of the officer's requests list at the `large` demo scale (issue 11 §4: p95 <= 100 ms), against the
list as it was before it was paged in SQL, measured in the same run.

    python -m bench.requests_list_bench [--runs N] [--no-write]

Uses the `large` demo region in the same SQLite database as bench/portal_bench.py (built once, reused after),
signs in as the placement officer of each of the 14 LAs (password and security code, as a person does) and
times the requests list through the WSGI app in-process, so the figure is server time without network: the same
call, page size (50) and data as the page.

The baseline is the code before this change (commit 04746b7): the list loaded every request of the LA, newest
first, sliced the page out in Python (and scored a search over every loaded request). It is measured in the same
run, alternating with the new code request by request, on a copy of the database without the index this change
adds, so it runs main's query on main's schema. Writes "## Officer's requests list" in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sqlite3
import time
from pathlib import Path

from bench.common import cpu_model, load_average, sign_in, write_section
from bench.portal_bench import DB_PATH, ensure_database, percentile

TARGET_MS = 100
SECTION = "## Officer's requests list"
BASELINE_COMMIT = "04746b7"


def baseline_list_requests(user, status=None, *, urgency=None, age_min=None, age_max=None, search=None, sort=None,
                           page=1, per_page=None):
    """`list_requests_for_officer` as it was at 04746b7 (every request of the LA loaded, the page sliced out),
    returning the page as today's view reads it. `sort` is ignored: that list had one order, newest first."""
    from datetime import date

    from sqlalchemy import select

    from portal import listing
    from portal.access import officer_requests
    from portal.db import db
    from portal.models import PlacementRequest
    from portal.requests.queries import _fuzzy_filter, _years_before

    per_page = per_page or listing.PER_PAGE
    query = select(PlacementRequest).where(officer_requests(user))
    if status:
        query = query.where(PlacementRequest.status == status)
    if urgency:
        query = query.where(PlacementRequest.urgency == urgency)
    today = date.today()
    if age_min is not None:
        query = query.where(PlacementRequest.date_of_birth <= _years_before(today, age_min))
    if age_max is not None:
        query = query.where(PlacementRequest.date_of_birth > _years_before(today, age_max + 1))
    rows = list(db.session.scalars(query.order_by(PlacementRequest.created_at.desc())))
    if search and search.strip():
        rows = _fuzzy_filter(rows, search)
    return listing.paginate_rows(rows, page=page, per_page=per_page)


def _baseline_database(url_path: Path) -> Path:
    """A copy of the bench database without the index the paged list reads (main's schema for that table)."""
    copy = url_path.with_name(url_path.stem + "-baseline.sqlite3")
    with sqlite3.connect(url_path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP INDEX IF EXISTS ix_placement_request_la_created")
        conn.execute("ANALYZE")
    return copy


def _timed(client, method: str, path: str, data: dict | None = None) -> float:
    started = time.perf_counter()
    response = client.open(path, method=method, data=data)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, f"{method} {path}: {response.status_code}"
    return elapsed


def measure(runs: int) -> tuple[list[dict], dict]:
    from sqlalchemy import func, select

    from portal import create_app
    from portal.db import db
    from portal.models import PlacementRequest, User
    from portal.requests import queries

    DB_PATH.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{DB_PATH}"
    ensure_database(url)
    config = {"WTF_CSRF_ENABLED": False, "SECRET_KEY": secrets.token_urlsafe(48)}
    new_app = create_app({"DATABASE_URL": url, **config})
    with new_app.app_context():
        officers = {u.la_code: u.email for u in db.session.scalars(select(User).where(User.role == "officer"))}
        sizes = dict(db.session.execute(select(PlacementRequest.la_code, func.count())
                                        .group_by(PlacementRequest.la_code)).all())
        surnames = dict(db.session.execute(select(PlacementRequest.la_code, func.min(PlacementRequest.last_name))
                                           .group_by(PlacementRequest.la_code)).all())
    clients = {}
    for la_code, email in sorted(officers.items()):
        clients[la_code] = {"new": new_app.test_client()}
        sign_in(clients[la_code]["new"], email)
    # The copy is taken after signing in, so each officer's session is in both databases: the baseline's client
    # carries the same cookie (a security code works once, so each officer signs in once).
    baseline_path = _baseline_database(DB_PATH)
    old_app = create_app({"DATABASE_URL": f"sqlite:///{baseline_path}", **config})
    cookie = new_app.config["SESSION_COOKIE_NAME"]
    for pair in clients.values():
        pair["old"] = old_app.test_client()
        pair["old"].set_cookie(cookie, pair["new"].get_cookie(cookie).value)

    # One function serves both apps: the baseline app's requests get the old list (the view is today's).
    current = queries.list_requests_for_officer
    from flask import current_app

    def dispatch(*args, **kwargs):
        old = current_app._get_current_object() is old_app
        return (baseline_list_requests if old else current)(*args, **kwargs)

    queries.list_requests_for_officer = dispatch
    cases = [
        ("first page, newest first (`GET /requests/`)", "GET", lambda la: "/requests/", None, True),
        ("last page (`GET /requests/?page=<last>`)", "GET",
         lambda la: f"/requests/?page={-(-sizes[la] // 50)}", None, True),
        ("sorted by needed-by (`?sort=needed_by`)", "GET", lambda la: "/requests/?sort=needed_by", None, False),
        ("sorted by child's name (`?sort=child`)", "GET", lambda la: "/requests/?sort=child", None, False),
        ("a search by surname, typos allowed (`POST /requests/`)", "POST", lambda la: "/requests/",
         lambda la: {"q": surnames[la]}, True),
    ]
    try:
        for la_code in clients:  # warm both processes' caches and connections once
            for kind in ("new", "old"):
                clients[la_code][kind].get("/requests/")
        results = []
        for name, method, path, data, compare in cases:
            times = {"new": [], "old": []}
            for _ in range(runs):
                for la_code, pair in clients.items():
                    body = data(la_code) if data else None
                    times["new"].append(_timed(pair["new"], method, path(la_code), body))
                    if compare:
                        times["old"].append(_timed(pair["old"], method, path(la_code), body))
            row = {"name": name, "n": len(times["new"]),
                   **{f"{k}_{q}": (percentile(v, p) if v else None) for k, v in times.items()
                      for q, p in (("p50", 0.5), ("p95", 0.95))}}
            results.append(row)
            old = f"; before: p50 {row['old_p50']:.1f} ms, p95 {row['old_p95']:.1f} ms" if compare else ""
            print(f"{name:58} p50 {row['new_p50']:6.1f} ms  p95 {row['new_p95']:6.1f} ms{old}", flush=True)
    finally:
        queries.list_requests_for_officer = current
        for app in (new_app, old_app):
            app.extensions["portal_db"][0].dispose()
        baseline_path.unlink(missing_ok=True)
    largest = max(sizes, key=sizes.get)
    data_info = {"requests": sum(sizes.values()), "las": len(sizes), "largest": sizes[largest],
                 "largest_la": largest, "smallest": min(sizes.values())}
    return results, data_info


def render(results: list[dict], runs: int, data: dict, load: float | None) -> str:
    from portal.formatting import la_name

    def ms(value):
        return f"{value:.1f} ms" if value is not None else "–"

    lines = [
        SECTION,
        "",
        f"Measured by `make bench` (`python -m bench.requests_list_bench`) on {os.cpu_count()} cores ({cpu_model()}),"
        f" load average {load:.2f} at the start, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version},"
        f" the `large` demo region: {data['requests']:,} placement requests in {data['las']} LAs ({data['smallest']:,} "
        f"to {data['largest']:,} an LA, {la_name(data['largest_la'])} the largest). Server time through the "
        "WSGI app in-process (no network), signed in as each LA's placement officer, 50 requests a page as the page "
        f"shows them; {runs} rounds of the 14 officers ({runs * data['las']} requests a row). Target: p95 <= "
        f"{TARGET_MS} ms.",
        "",
        f"*Before* is the code at {BASELINE_COMMIT} (every request of the LA loaded as objects, newest first, the page "
        "sliced out in Python; a search scored every loaded request), timed in the same run, alternating request by "
        "request with the new code, on a copy of the database without the new index. *Now* the list without a "
        "search is a COUNT and a LIMIT / OFFSET query, newest first from the (la_code, created_at, id) index; the "
        "other orders sort one LA's rows in the database; a search scores only names and references and loads the "
        "page's 50 rows. The list had no other order before (–).",
        "",
        "| the requests list | now p50 | now p95 | before p50 | before p95 | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(f"| {r['name']} | {ms(r['new_p50'])} | {ms(r['new_p95'])} | {ms(r['old_p50'])} | "
                     f"{ms(r['old_p95'])} | p95 <= {TARGET_MS} ms |")
    lines.append("")
    return "\n".join(lines)


def main() -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="rounds of the 14 officers per row (default 10)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()
    load = load_average()
    results, data = measure(args.runs)
    section = render(results, args.runs, data, load)
    print(section)
    if not args.no_write:
        write_section(section)
    return section


if __name__ == "__main__":
    main()
