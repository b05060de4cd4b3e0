"""The provider's inbox at the `large` demo scale (issue 17 §4): p95 <= 150 ms, and no other page slowed while it
renders.

    python -m bench.inbox_bench [--no-write]      (also part of `make bench`; one: make bench BENCH=inbox_bench)

One run, over the `large` demo region in SQLite (bench.portal_bench's database, built once and reused):

1. **Server time** (the Flask app in-process, no network), signed in as an admin of each of the providers with the
   most open referrals (one bench account each, added once). The inbox ranks every open referral against the
   provider's own options, so the busiest providers are the slow case. For each provider: its first inbox in the
   process (builds that provider's index), then rounds of the inbox as providers use it: the first page, the next
   page, filtered to today's, to open referrals, to an age band and to a need. Then a vacancy of another provider
   is confirmed through its form (the options version moves), and the next inbox of every provider is timed: the
   index is patched, not rebuilt.
2. **No other page slowed**: through gunicorn (`gunicorn.conf.py`, 2 workers x 4 threads, loopback), officers'
   request pages one after another, alone, then while the busiest provider reloads its inbox back to back (the same
   shape as contention_bench's scenario B for the market pages: one other user, never waiting).

Replaces "## Provider's inbox" in docs/performance.md. Nothing here asserts a time: it reports.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import threading
import time

from bench.common import cpu_model, load_average, sign_in, write_section
from bench.contention_bench import (CLIENT_TIMEOUT_S, Answer, Browser, Server, code_version, failures, not_ok,
                                    read_region, stats, statuses, trio)
from bench.portal_bench import DB_PATH, ensure_database, percentile

SECTION = "## Provider's inbox"
PROVIDERS = 6  # the busiest providers, by open referrals
ROUNDS = 5
VIEWS = (("first page", "/provider/"), ("next page", "/provider/?page=2"),
         ("needed today", "/provider/?urgency=today"), ("open referrals", "/provider/?status=open"),
         ("age 10 to 15", "/provider/?age_band=10_15"), ("a need: going missing", "/provider/?need=going_missing"))
TARGET_P95_MS = 150
OFFICER_VIEWS = 60
TARGET_SLOWDOWN_PCT = 20  # the same bound as contention_bench's scenario B


def busiest_providers(url: str, count: int, prefix: str) -> list[tuple[str, str, int]]:
    """(bench account email, provider id, open referrals) for the `count` providers with the most open referrals;
    adds the accounts (admins, the demo password and MFA secret) when missing."""
    from sqlalchemy import func, select

    from portal import create_app
    from portal.db import db
    from portal.demo.people import DEMO_DOMAIN, demo_mfa_secret
    from portal.models import Referral, User

    app = create_app({"DATABASE_URL": url})
    found = []
    with app.app_context():
        session = db.session
        password_hash = session.scalar(select(User.password_hash).where(User.role == "officer").limit(1))
        busiest = session.execute(
            select(Referral.provider_id, func.count(Referral.id)).where(Referral.status.in_(("sent", "offered")))
            .group_by(Referral.provider_id).order_by(func.count(Referral.id).desc(), Referral.provider_id)
            .limit(count)).all()
        existing = set(session.scalars(select(User.email).where(User.email.like(f"{prefix}.%"))))
        for i, (provider_id, open_referrals) in enumerate(busiest, start=1):
            email = f"{prefix}.{i}@{DEMO_DOMAIN}"
            if email not in existing:
                session.add(User(email=email, password_hash=password_hash, mfa_secret=demo_mfa_secret(email),
                                 name=f"Inbox Bench {i}", role="provider", provider_id=provider_id,
                                 provider_role="admin"))
            found.append((email, provider_id, open_referrals))
        session.commit()
    app.extensions["portal_db"][0].dispose()
    return found


def other_vacancy(app, providers: set[str]) -> str:
    """An open vacancy of a provider not being measured, and the email of one of its admins or managers."""
    from sqlalchemy import select

    from portal.db import db
    from portal.models import Setting, User, Vacancy

    with app.app_context():
        row = db.session.execute(
            select(Vacancy.id, User.email).join(Setting, Setting.id == Vacancy.setting_id)
            .join(User, (User.provider_id == Setting.provider_id) & User.provider_role.in_(("admin", "manager")))
            .where(Vacancy.status == "open", Setting.provider_id.not_in(providers), User.active)
            .order_by(Vacancy.id).limit(1)).one()
    return row


def server_time(url: str) -> dict:
    from portal import create_app

    cast = busiest_providers(url, PROVIDERS, "bench.inbox")
    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False})
    clients = []
    for email, provider_id, open_referrals in cast:
        client = app.test_client()
        sign_in(client, email)
        clients.append((client, provider_id, open_referrals))
    first, by_view = [], {label: [] for label, _ in VIEWS}
    for client, _provider, _n in clients:
        t = time.perf_counter()
        response = client.get("/provider/")
        first.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.status_code
    for _ in range(ROUNDS):
        for client, _provider, _n in clients:
            for label, path in VIEWS:
                t = time.perf_counter()
                response = client.get(path)
                by_view[label].append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, (path, response.status_code)
    everything = [ms for values in by_view.values() for ms in values]
    # A vacancy change elsewhere: the next inbox patches the index instead of rebuilding it.
    vacancy_id, writer_email = other_vacancy(app, {p for _c, p, _n in clients})
    writer = app.test_client()
    sign_in(writer, writer_email)
    confirmed = writer.post(f"/provider/vacancies/{vacancy_id}/confirm")
    assert confirmed.status_code in (302, 303), confirmed.status_code
    after_change = []
    for client, _provider, _n in clients:
        t = time.perf_counter()
        response = client.get("/provider/")
        after_change.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    return {"first": first, "by_view": by_view, "all": everything, "after_change": after_change,
            "referrals": [n for _c, _p, n in clients]}


def no_page_slowed(url: str, db_path) -> dict:
    region = read_region(db_path)
    cast = busiest_providers(url, 1, "bench.inbox.gunicorn")
    server = Server(url, workers=2, threads=4)
    try:
        server.start()
        officers = {la: Browser(server.port, "officer").sign_in(email)
                    for la, email in itertools.islice(region.officers.items(), 4)}
        providers = [Browser(server.port, "provider").sign_in(email) for email, _p, _n in cast]
        pools = [[(la, rid) for rid in region.open_requests[la]] for la in officers]
        views = [pair for pair in itertools.chain.from_iterable(itertools.zip_longest(*pools)) if pair][:OFFICER_VIEWS]

        def run_views() -> list[Answer]:
            return [officers[la].get(f"/requests/{request_id}") for la, request_id in views]

        # Warm: every inbox view in both workers, and the request pages once.
        for provider in providers:
            for _label, path in VIEWS:
                for _ in range(4):
                    provider.get(path)
        for la, request_id in views[:len(officers) * 2]:
            officers[la].get(f"/requests/{request_id}")
        alone = run_views()
        stop = threading.Event()
        inboxes: list[Answer] = []

        def reload_inbox(provider: Browser) -> None:
            for _label, path in itertools.cycle(VIEWS):
                if stop.is_set() or len(inboxes) >= 5000:
                    return
                inboxes.append(provider.get(path))

        threads = [threading.Thread(target=reload_inbox, args=(p,), daemon=True) for p in providers]
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # the provider is mid-page when the officers start
        loaded = run_views()
        stop.set()
        for thread in threads:
            thread.join(CLIENT_TIMEOUT_S + 5)
    finally:
        server.stop()
    a, b = stats(alone), stats(loaded)
    return {"alone": a, "loaded": b, "change_pct": (b["p95"] / a["p95"] - 1) * 100 if a["p95"] else float("nan"),
            "alone_bad": failures(alone), "loaded_bad": failures(loaded), "inbox": stats(inboxes),
            "inbox_statuses": statuses(inboxes), "inbox_bad": failures(inboxes),
            "bad": not_ok(alone) + not_ok(loaded) + not_ok(inboxes), "counts": region.counts,
            "referrals": [n for _e, _p, n in cast]}


def _ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def _three(values: list[float]) -> str:
    return f"{_ms(statistics.median(values))} / {_ms(percentile(values, 0.95))} / {_ms(max(values))}"


def render(s: dict, g: dict, machine: str) -> str:
    p95 = percentile(s["all"], 0.95)
    lines = [
        SECTION, "",
        f"Measured {time.strftime('%Y-%m-%d')} with `python -m bench.inbox_bench` (part of `make bench`) on {machine}; "
        f"the portal at {code_version()}. The `large` demo region in SQLite ({g['counts']}).", "",
        f"**Server time** (the Flask app in-process, no network): an admin of each of the {PROVIDERS} providers with "
        f"the most open referrals ({', '.join(f'{n:,}' for n in s['referrals'])}), {ROUNDS} rounds of each view. "
        "The inbox ranks every open referral against the provider's own options (scores against the regional "
        "medians), per options version.", "",
        "| figure | p50 / p95 / max | target | met |", "|---|---|---|---|",
        f"| the inbox, every view below together | {_three(s['all'])} | p95 ≤ {TARGET_P95_MS} ms | "
        f"{'yes' if p95 <= TARGET_P95_MS else 'no'} |",
    ]
    for label, values in s["by_view"].items():
        lines.append(f"| — {label} | {_three(values)} | | |")
    lines += [
        f"| first inbox of each provider in a new process (builds its index; the first also the region's) | {_three(s['first'])} | | |",
        f"| next inbox after another provider's vacancy is confirmed (index patched) | {_three(s['after_change'])} "
        "| | |", "",
        f"**No other page slowed**: gunicorn with `gunicorn.conf.py`, 2 workers x 4 threads on 127.0.0.1; plain HTTP "
        f"clients on the same machine. {g['alone']['n']} officers' request pages (open requests of 4 LAs in turn), "
        "one after another, alone, then while the busiest provider ("
        f"{g['referrals'][0]:,} open referrals) reloads its inbox views back to back "
        f"({g['inbox']['n']} inboxes meanwhile, p50 / p95 / max {trio(g['inbox'])}; {g['inbox_statuses']}).", "",
        "| figure | measured | baseline | target | met |", "|---|---|---|---|---|",
        f"| request page with ranked matches (`/requests/<id>`) while the provider reloads its inbox: p50 / p95 / "
        f"max | {trio(g['loaded'])} | alone: {trio(g['alone'])} | | |",
        f"| change of the request page's p95 | {g['change_pct']:+.0f}% | | ≤ +{TARGET_SLOWDOWN_PCT}% | "
        f"{'yes' if g['change_pct'] <= TARGET_SLOWDOWN_PCT else 'no'} |",
        f"| answers other than 200: officers (alone; loaded); inboxes | {g['alone_bad']}; {g['loaded_bad']}; "
        f"{g['inbox_bad']} | | 0 | {'yes' if g['bad'] == 0 else 'no'} |",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args(argv)
    DB_PATH.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{DB_PATH}"
    ensure_database(url)
    load = load_average()
    machine = (f"{os.cpu_count()} CPUs ({cpu_model()}), load average {load:.2f} at the start, Python "
               f"{platform.python_version()}" if load is not None else f"{os.cpu_count()} CPUs ({cpu_model()})")
    s = server_time(url)
    print(f"inbox server time p50/p95/max {_three(s['all'])} (target p95 <= {TARGET_P95_MS} ms)", flush=True)
    g = no_page_slowed(url, DB_PATH)
    print(f"request page alone {trio(g['alone'])}; with inboxes {trio(g['loaded'])}; p95 {g['change_pct']:+.0f}%")
    section = render(s, g, machine)
    print(section)
    if not args.no_write:
        write_section(section)
        print(f"Wrote {SECTION!r} to docs/performance.md")


if __name__ == "__main__":
    main()
