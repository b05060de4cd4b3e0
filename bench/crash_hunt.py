"""Hunt for a worker crash under concurrency (issue 16 §3): gunicorn (2 workers × 4 threads, faulthandler on in
every worker: gunicorn.conf.py) serves a test database while threads race accepts (each one moves the options
version, so every worker rebuilds its matching index while other threads rank with the old one), open children's
pages (a ranking each), providers' referral pages, the commissioner's market pages, and two administrators run the
region-wide allocation (OR-Tools CP-SAT) at the same moment. At the end the gunicorn log is searched for a fatal
signal ("Fatal Python error", a worker "was sent SIGSEGV", or one that exited with a signal).

    .venv/bin/python -m bench.crash_hunt [--requests 8000] [--seconds 600] [--database-url URL]

Not a test and not part of `make bench`: it asserts nothing and writes no docs; it prints what it ran and found.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.cli import upgrade_database  # noqa: E402
from tests.conftest import free_port, make_app  # noqa: E402
from tests.factories import (  # noqa: E402
    create_offer, create_provider, create_referral, create_request, create_setting, create_user, create_vacancy,
)
from tests.test_races_over_http import Person, gunicorn_env  # noqa: E402
from tests.test_serving import gunicorn  # noqa: E402

FATAL = re.compile(r"Fatal Python error|was sent SIGSEGV|was sent SIGABRT|exited with code -?1[13]|Segmentation fault")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=8000, help="stop after about this many requests")
    parser.add_argument("--database-url", help="a migrated, empty PostgreSQL database (default: a SQLite file)")
    parser.add_argument("--seconds", type=float, default=600, help="or after this long")
    parser.add_argument("--threads", type=int, default=8, help="client threads sending pages")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="portal-crash-hunt."))
    url = args.database_url or f"sqlite:///{work / 'portal.sqlite3'}"
    if not args.database_url:
        upgrade_database(url)
    app = make_app(url)
    counts: Counter = Counter()
    unanswered: Counter = Counter()
    lock = threading.Lock()
    with app.app_context():
        officer = create_user("officer")
        admins = [create_user("admin", la_code=None) for _ in range(2)]
        commissioner = create_user("commissioner")
        provider = create_provider()
        provider_user = create_user("provider", provider=provider)
        browsing = [create_request(officer, first_name=f"Browse{n}") for n in range(6)]
        referrals = [create_referral(req, provider).id for req in browsing]
        for n in range(30):
            create_vacancy(create_setting(provider, name=f"Spare {n}"))
        browsing = [req.id for req in browsing]

        def new_round(n: int) -> list[tuple[str, str]]:
            pairs = []
            for v in range(6):
                vacancy = create_vacancy(create_setting(provider, name=f"R{n}V{v}", registered_places=1))
                for m in range(2):
                    child = create_request(officer, first_name=f"R{n}V{v}C{m}")
                    pairs.append((child.id, create_offer(create_referral(child, provider), vacancy).id))
            return pairs

        log = work / "gunicorn.log"
        port = free_port()
        started = time.monotonic()
        with gunicorn(port, log, {**gunicorn_env(url, work), "PORTAL_MAX_REQUESTS": "0"},
                      "--workers", "2", "--threads", "4") as server:
            base = f"http://127.0.0.1:{port}"
            people = {"officer": Person(base).sign_in(officer), "admin0": Person(base).sign_in(admins[0]),
                      "admin1": Person(base).sign_in(admins[1]), "commissioner": Person(base).sign_in(commissioner),
                      "provider": Person(base).sign_in(provider_user)}
            stop = threading.Event()

            def record(status: int, path: str = "") -> None:
                with lock:
                    counts[status] += 1
                    if status == 0:  # no answer within the client's 15 s (or the connection dropped)
                        unanswered[path.split("/")[1] + ("/run" if path.endswith("/run") else "")] += 1
                    if sum(counts.values()) >= args.requests or time.monotonic() - started > args.seconds:
                        stop.set()

            def browse() -> None:
                pages = [("officer", f"/requests/{rid}") for rid in browsing] + \
                        [("provider", f"/provider/referrals/{ref}") for ref in referrals] + \
                        [("commissioner", "/market/"), ("officer", "/requests/"), ("admin0", "/allocation/")]
                while not stop.is_set():
                    who, path = random.choice(pages)
                    try:
                        status = people[who].get(path)[0]
                    except OSError:
                        status = 0
                    record(status, path)

            readers = [threading.Thread(target=browse) for _ in range(args.threads)]
            for thread in readers:
                thread.start()
            rounds = 0
            while not stop.is_set() and server.poll() is None:
                pairs = new_round(rounds)
                posts = [(people["officer"], f"/requests/{rid}/offers/{oid}/accept") for rid, oid in pairs]
                if rounds % 5 == 0:  # the solver takes seconds: two runs at once every fifth round
                    posts += [(people[f"admin{i}"], "/allocation/run") for i in range(2)]
                barrier = threading.Barrier(len(posts))

                def post(person, path, barrier=barrier):
                    barrier.wait()
                    try:
                        status = person.send(path, {})[0]
                    except OSError:
                        status = 0
                    record(status, path)

                racers = [threading.Thread(target=post, args=p) for p in posts]
                for thread in racers:
                    thread.start()
                for thread in racers:
                    thread.join(120)
                rounds += 1
            stop.set()
            for thread in readers:
                thread.join(60)
        elapsed = time.monotonic() - started
    text = log.read_text()
    fatal = [line for line in text.splitlines() if FATAL.search(line)]
    print(f"{sum(counts.values())} requests in {elapsed:.0f} s ({rounds} rounds of 12 racing accepts, every fifth "
          f"with two allocation runs at once, {args.threads} threads of pages): statuses {dict(sorted(counts.items()))}")
    if unanswered:
        print(f"unanswered within 15 s, by section: {dict(unanswered)} (load average {os.getloadavg()[0]:.1f})")
    print(f"workers booted: {text.count('Booting worker')}; fatal signals in the log: {len(fatal)}")
    for line in fatal[:5]:
        print("  ", line)
    if fatal:
        index = text.index(fatal[0])
        print(text[max(0, index - 200):index + 4000])
        print(f"(log kept in {log})")
    else:
        shutil.rmtree(work, ignore_errors=True)
    os._exit(1 if fatal else 0)


if __name__ == "__main__":
    main()
