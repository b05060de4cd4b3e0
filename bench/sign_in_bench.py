"""How long a sign-in's password step takes for a real account and for an unknown one (issue 15 §3: unknown
accounts must cost the same, so the answer's timing does not say whether an email address has an account).

In-process, on a fresh SQLite database, with the production argon2id cost (64 MiB, 3 passes, 4 lanes): POST
/sign-in as a browser does, interleaving a known account with the right password, the same account with a wrong
one, and an unknown email address, 40 times each (locking is set out of the way: it is not what is measured).
Target: the unknown account's median within 10% of the known account's. Run with `make bench BENCH=sign_in_bench`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import cpu_model, write_section

ROUNDS = 40


def _measure() -> dict[str, list[float]]:
    from portal import create_app
    from portal.auth.passwords import hash_password
    from portal.cli import upgrade_database
    from portal.db import db
    from portal.models import User

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade_database(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "b" * 40, "WTF_CSRF_ENABLED": False,
                          "SIGN_IN_ACCOUNT_FAILURES": 10_000, "SIGN_IN_ADDRESS_FAILURES": 10_000})
        with app.app_context():
            db.session.add(User(email="known@example.test", name="Known Person", role="admin",
                                password_hash=hash_password("the right passphrase"), mfa_secret="JBSWY3DPEHPK3PXP"))
            db.session.commit()
        client = app.test_client()
        cases = {
            "known account, right password": ("known@example.test", "the right passphrase"),
            "known account, wrong password": ("known@example.test", "a wrong passphrase"),
            "unknown account": ("nobody@example.test", "a wrong passphrase"),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(ROUNDS + 3):
            for name, (email, password) in cases.items():
                started = time.perf_counter()
                response = client.post("/sign-in", data={"email": email, "password": password})
                times[name].append((time.perf_counter() - started) * 1000)
                assert response.status_code in (302, 422), response.status_code
        app.extensions["portal_db"][0].dispose()
    return {name: values[3:] for name, values in times.items()}  # the first rounds warm up


def main() -> str:
    times = _measure()
    known = statistics.median(times["known account, right password"])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        p95 = sorted(values)[int(len(values) * 0.95) - 1]
        rows.append(f"| {name} | {median:.0f} ms | {p95:.0f} ms | {100 * (median - known) / known:+.0f}% |")
        print(rows[-1], flush=True)
    unknown = statistics.median(times["unknown account"])
    verdict = "met" if abs(unknown - known) <= 0.1 * known else "NOT met"
    lines = [
        "## Sign-in timing, timed by make bench",
        "",
        f"`make bench BENCH=sign_in_bench` on {cpu_model()}, {os.cpu_count()} cores: the password step of "
        f"`POST /sign-in` in-process on SQLite, production argon2id cost, {ROUNDS} interleaved rounds. "
        "Baseline (before issue 15, as reported in the issue): 141 ms for a real account, 8 ms for an unknown one.",
        "",
        "| case | median | p95 | against the known account |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        f"Target: the unknown account's median within 10% of the known account's: **{verdict}** "
        f"({unknown:.0f} ms against {known:.0f} ms).",
    ]
    section = "\n".join(lines) + "\n"
    if "--no-write" not in sys.argv:
        write_section(section)
    return section


if __name__ == "__main__":
    print(main())
