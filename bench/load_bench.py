"""Load, measured (issue 16 §4): virtual officers, providers and commissioners reading and writing through a real
gunicorn server at the `large` demo scale, on SQLite and on PostgreSQL, with the same server's sign-in page as a
reference in the same run.

    python -m bench.load_bench [--users 50] [--seconds 180] [--reference-seconds 30] [--think-ms 250]
                               [--db sqlite|postgresql|both] [--no-write]

Every option has an environment override (PORTAL_LOAD_USERS, PORTAL_LOAD_SECONDS, PORTAL_LOAD_REFERENCE_SECONDS,
PORTAL_LOAD_THINK_MS, PORTAL_LOAD_DB, PORTAL_LOAD_PG_URL), so a short run while developing is
`PORTAL_LOAD_SECONDS=20 make bench BENCH=load_bench`. The documented run is 50 users for 3 minutes on both.

For each database, in one run:

1. A fresh `large` demo region (`flask demo load --scale large` into a new SQLite file under instance/, or into a
   PostgreSQL database this bench creates, `portal_load_bench` on 127.0.0.1:55440 unless PORTAL_LOAD_PG_URL says
   otherwise), timed. Then one demo account per virtual user (the demo password and a demo MFA secret): officers
   spread over the 14 LAs by size, provider staff of the providers with the most referrals, commissioners of the
   region and of LAs.
2. gunicorn from gunicorn.conf.py, 4 workers x 4 threads, on a free port of 127.0.0.1. Every virtual user signs in
   as a person does (password, then the security code from its authenticator secret).
3. A warm-up of the mix (not counted); then the reference: the same number of anonymous users fetching the sign-in
   page with the same think time; then the mix for the given time.

The mix (60% officers, 28% providers, 12% commissioners), each user looping with a random think time (uniform,
0 to twice the mean) between requests:
  officers: their requests list (first page, a later page, sorted), a request page with ranked matches, the live
    match list, a draft's budget section drawn and saved with a new budget, a referral sent to one more provider;
  providers: home (the inbox), the inbox filtered or paged, a referral page, offers, vacancies, a vacancy confirmed;
  commissioners: the market pages (with and without filters) and their CSV downloads.

Errors are answers other than the one the page gives a person (200, or 302/303 after a form), and no answer at
all; the server log is read for unhandled errors and worker timeouts. Times are what the client waited, on the same
2-core machine as the server (the client's own CPU is part of the load). Loopback only; every loop is bounded by
the run's deadline and the client's timeout. Replaces "## Load: officers, providers and commissioners" in
docs/performance.md. Nothing here asserts a time: it reports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import cpu_model, load_average, write_section
from bench.contention_bench import Answer, Browser, LogFindings, Server, code_version, csrf_token

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Load: officers, providers and commissioners"
LOG_DIR = ROOT / "instance" / "load-bench"
SQLITE_PATH = ROOT / "instance" / "load-bench.sqlite3"
PG_URL = "postgresql+psycopg://portal@127.0.0.1:55440/portal_load_bench"
WORKERS, THREADS = 4, 4
SHARES = (("officer", 0.60), ("provider", 0.28), ("commissioner", 0.12))
WARM_UP_S = 20.0
TARGET_P95_MS = 300
TARGET_RATIO = 0.40
# The baseline, measured when issue 16 was filed (50 users for 190 s at the `large` scale).
BASELINE = {"postgresql": "14.2 req/s, p50 2.1 s, p95 9.0 s, p99 30.5 s",
            "sqlite": "9.8 req/s, p95 15.4 s, 53 x 500 \"database is locked\""}
MARKET_PAGES = ("/market/", "/market/demand", "/market/supply", "/market/gaps", "/market/prices", "/market/distance",
                "/market/outcomes", "/market/responses", "/market/shape", "/market/summary")
MARKET_FILTERS = ("?age=10_15", "?period=12m-1", "?need=going_missing", "?type=foster", "?type=residential&age=16_plus")
OK_GET = (200,)
OK_POST = (302, 303)


def _env(name: str, default):
    value = os.environ.get(name, "").strip()
    return type(default)(value) if value else default


# ------------------------------------------------------------------------------------------------ the data

@dataclass
class Cast:
    """Who the virtual users are and what they work on (ids read once, before the server starts)."""

    officers: list[tuple[str, str]] = field(default_factory=list)  # (email, LA code)
    providers: list[tuple[str, str]] = field(default_factory=list)  # (email, provider id)
    commissioners: list[str] = field(default_factory=list)
    open_requests: dict[str, list[str]] = field(default_factory=dict)  # LA -> request ids
    drafts: dict[str, list[str]] = field(default_factory=dict)
    referrals: dict[str, list[str]] = field(default_factory=dict)  # provider -> referral ids
    vacancies: dict[str, list[str]] = field(default_factory=dict)  # provider -> open vacancy ids
    counts: str = ""


def load_region(url: str) -> float:
    """A fresh `large` demo region at `url`; returns the seconds the load took (the whole command)."""
    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(str(SQLITE_PATH) + suffix).unlink(missing_ok=True)
    else:
        recreate_pg_database(url)
    from portal.cli import upgrade_database

    upgrade_database(url)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "demo", "load", "--scale", "large"],
                   check=True, env={**os.environ, "DATABASE_URL": url}, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def loaded(url: str) -> bool:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError, ProgrammingError

    if url.startswith("sqlite") and not SQLITE_PATH.exists():
        return False
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(text("SELECT COUNT(*) FROM provider")))
    except (OperationalError, ProgrammingError):
        return False
    finally:
        engine.dispose()


def recreate_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    name = target.database
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name or ""):
        raise SystemExit(f"refusing an unusual database name: {name!r}")
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def make_cast(url: str, users: int) -> Cast:
    """Add one demo account per virtual user and read the ids they work on."""
    from sqlalchemy import func, select

    from portal import create_app
    from portal.db import db
    from portal.demo.people import DEMO_DOMAIN, REGION, demo_mfa_secret
    from portal.models import PlacementRequest, Placement, Referral, Setting, User, Vacancy

    counts = {role: max(1, round(users * share)) for role, share in SHARES}
    counts["officer"] = users - counts["provider"] - counts["commissioner"]
    app = create_app({"DATABASE_URL": url})
    cast = Cast()
    with app.app_context():
        session = db.session
        password_hash = session.scalar(select(User.password_hash).where(User.role == "officer").limit(1))
        existing = set(session.scalars(select(User.email).where(User.email.like("load.%"))))

        def add(email: str, **values) -> None:
            if email not in existing:  # a reused database has them already
                session.add(User(email=email, password_hash=password_hash, mfa_secret=demo_mfa_secret(email),
                                 **values))

        # Officers: LAs in turn, the larger ones (the demo's weights) more often.
        weights = [la.weight for la in REGION]
        picks = random.Random(16).choices(REGION, weights, k=counts["officer"])
        for i, la in enumerate(picks):
            email = f"load.officer.{i + 1}@{DEMO_DOMAIN}"
            add(email, name=f"Load Officer {i + 1}", role="officer", la_code=la.code)
            cast.officers.append((email, la.code))
        # Provider staff: the providers with the most referrals, each with open vacancies.
        busiest = session.execute(
            select(Setting.provider_id, func.count(Referral.id))
            .join(Referral, Referral.provider_id == Setting.provider_id)
            .join(Vacancy, (Vacancy.setting_id == Setting.id) & (Vacancy.status == "open"))
            .group_by(Setting.provider_id).order_by(func.count(Referral.id).desc()).limit(counts["provider"])
        ).all()
        for i in range(counts["provider"]):
            provider_id = busiest[i % len(busiest)][0]
            email = f"load.provider.{i + 1}@{DEMO_DOMAIN}"
            add(email, name=f"Load Provider {i + 1}", role="provider", provider_id=provider_id, provider_role="admin")
            cast.providers.append((email, provider_id))
        # Commissioners: the region's and LA ones, alternately.
        for i in range(counts["commissioner"]):
            email = f"load.commissioner.{i + 1}@{DEMO_DOMAIN}"
            la_code = None if i % 2 == 0 else REGION[(i // 2) % len(REGION)].code
            add(email, name=f"Load Commissioner {i + 1}", role="commissioner", la_code=la_code)
            cast.commissioners.append(email)
        session.commit()

        for rid, la, status in session.execute(select(PlacementRequest.id, PlacementRequest.la_code,
                                                      PlacementRequest.status).order_by(PlacementRequest.id)):
            if status in ("searching", "offers"):
                cast.open_requests.setdefault(la, []).append(rid)
            elif status == "draft":
                cast.drafts.setdefault(la, []).append(rid)
        providers = {p for _e, p in cast.providers}
        for ref_id, provider_id in session.execute(
                select(Referral.id, Referral.provider_id).where(Referral.provider_id.in_(providers))
                .order_by(Referral.sent_at.desc())):
            cast.referrals.setdefault(provider_id, []).append(ref_id)
        for vac_id, provider_id in session.execute(
                select(Vacancy.id, Setting.provider_id).join(Setting, Setting.id == Vacancy.setting_id)
                .where(Setting.provider_id.in_(providers), Vacancy.status == "open").order_by(Vacancy.id)):
            cast.vacancies.setdefault(provider_id, []).append(vac_id)
        settings = session.scalar(select(func.count()).select_from(Setting))
        vacancies = session.scalar(select(func.count()).select_from(Vacancy).where(Vacancy.status == "open"))
        requests = session.scalar(select(func.count()).select_from(PlacementRequest))
        placements = session.scalar(select(func.count()).select_from(Placement))
        referrals = session.scalar(select(func.count()).select_from(Referral))
    app.extensions["portal_db"][0].dispose()
    open_count = sum(map(len, cast.open_requests.values()))
    cast.counts = (f"{settings:,} settings, {vacancies:,} open vacancies, {requests:,} placement requests "
                   f"({open_count:,} open), {referrals:,} referrals, {placements:,} placements")
    return cast


# ------------------------------------------------------------------------------------------------ the users

_HIDDEN = re.compile(rb'<input[^>]*type="hidden"[^>]*>')
_NAME = re.compile(rb'name="([^"]+)"')
_VALUE = re.compile(rb'value="([^"]*)"')


def hidden_fields(answer: Answer, action: str = "", marker: str = "") -> dict[str, str]:
    """The hidden fields (CSRF token, one-time form key) of the form posting to `action` (or whose tag holds
    `marker`) on a page."""
    body = answer.body
    start = body.find((marker or f'action="{action}"').encode())
    if start < 0:
        return {}
    end = body.find(b"</form>", start)
    found = {}
    for tag in _HIDDEN.findall(body[start:end]):
        name, value = _NAME.search(tag), _VALUE.search(tag)
        if name and value:
            found[name.group(1).decode()] = value.group(1).decode()
    return found


@dataclass
class Sample:
    page: str
    status: int
    ms: float
    at: float
    ok: bool


class VirtualUser:
    """One signed-in person looping over their role's pages with think time, until the deadline."""

    def __init__(self, role: str, browser: Browser, cast: Cast, key: str, seed: int, think_s: float) -> None:
        self.role, self.browser, self.cast, self.key = role, browser, cast, key
        self.rng = random.Random(seed)
        self.think_s = think_s
        self.samples: list[Sample] = []
        self.recording = False
        self.csv_links: list[str] = []

    # Each action: (weight, method). Weights are requests' rough shares within the role.
    def actions(self):
        if self.role == "officer":
            return ((3, self.requests_list), (1, self.requests_list_other), (4, self.request_page),
                    (2, self.live_matches), (1, self.save_draft), (0.4, self.send_referral))
        if self.role == "provider":
            return ((3, self.provider_home), (1, self.inbox_filtered), (3, self.referral_page), (1, self.offers),
                    (2, self.vacancies), (0.7, self.confirm_vacancy))
        return ((5, self.market_page), (1.5, self.market_filtered), (2, self.csv_download))

    def get(self, page: str, path: str, ok=OK_GET) -> Answer:
        answer = self.browser.get(path)
        self.note(page, answer, ok)
        return answer

    def post(self, page: str, path: str, form: dict[str, str], ok=OK_POST) -> Answer:
        answer = self.browser.post(path, form)
        self.note(page, answer, ok)
        return answer

    def note(self, page: str, answer: Answer, ok) -> None:
        if self.recording:
            self.samples.append(Sample(page, answer.status, answer.ms, answer.started, answer.status in ok))

    def think(self, deadline: float) -> None:
        pause = self.rng.uniform(0, 2 * self.think_s)
        time.sleep(max(0.0, min(pause, deadline - time.monotonic())))

    def run(self, deadline: float) -> None:
        actions = self.actions()
        weights = [w for w, _ in actions]
        while time.monotonic() < deadline:
            _w, action = self.rng.choices(actions, weights)[0]
            action(deadline)

    # ------------------------------------------------------------------ officers
    def _open_request(self) -> str:
        return self.rng.choice(self.cast.open_requests[self.key])

    def requests_list(self, deadline):
        self.get("officer: requests list", "/requests/")
        self.think(deadline)

    def requests_list_other(self, deadline):
        path = self.rng.choice(("/requests/?page=2", "/requests/?sort=needed_by", "/requests/?status=searching"))
        self.get("officer: requests list, paged or sorted", path)
        self.think(deadline)

    def request_page(self, deadline):
        self.get("officer: request page with ranked matches", f"/requests/{self._open_request()}")
        self.think(deadline)

    def live_matches(self, deadline):
        self.get("officer: live match list", f"/requests/{self._open_request()}/matches?version=-1")
        self.think(deadline)

    def save_draft(self, deadline):
        drafts = self.cast.drafts.get(self.key)
        if not drafts:
            return self.request_page(deadline)
        path = f"/requests/{self.rng.choice(drafts)}/edit/budget"
        page = self.get("officer: draft section form", path)
        self.think(deadline)
        if page.status != 200:
            return
        form = {**hidden_fields(page, marker='id="section-form"'), "budget_gbp_week": str(self.rng.randrange(900, 6000)),
                "notes": "", "action": "draft"}
        self.post("officer: save a draft section", path, form)
        self.think(deadline)

    def send_referral(self, deadline):
        request_id = self._open_request()
        path = f"/requests/{request_id}"
        page = self.get("officer: request page with ranked matches", path)
        self.think(deadline)
        if page.status != 200:
            return
        action = f"/requests/{request_id}/referrals"
        start = page.body.find(f'action="{action}"'.encode())
        form_html = page.body[start:page.body.find(b"</form>", start)] if start >= 0 else b""
        unsent = [m.decode() for m in re.findall(rb'name="providers" type="checkbox" value="([^"]+)"(?! checked)',
                                                 form_html)]
        if not unsent:
            return
        form = {**hidden_fields(page, action), "providers": self.rng.choice(unsent), "send_to": "selected"}
        self.post("officer: send a referral", action, form)
        self.think(deadline)

    # ------------------------------------------------------------------ providers
    def provider_home(self, deadline):
        self.get("provider: home (inbox)", "/provider/")
        self.think(deadline)

    def inbox_filtered(self, deadline):
        path = self.rng.choice(("/provider/?page=2", "/provider/?status=new", "/provider/?urgency=today",
                                "/provider/?sort=needed_by"))
        self.get("provider: inbox, filtered or paged", path)
        self.think(deadline)

    def referral_page(self, deadline):
        referrals = self.cast.referrals.get(self.key)
        if not referrals:
            return self.provider_home(deadline)
        self.get("provider: referral page", f"/provider/referrals/{self.rng.choice(referrals[:200])}")
        self.think(deadline)

    def offers(self, deadline):
        self.get("provider: offers", "/provider/offers")
        self.think(deadline)

    def vacancies(self, deadline):
        self.get("provider: vacancies", "/provider/vacancies")
        self.think(deadline)

    def confirm_vacancy(self, deadline):
        vacancies = self.cast.vacancies.get(self.key)
        page = self.get("provider: vacancies", "/provider/vacancies")
        self.think(deadline)
        if page.status != 200 or not vacancies:
            return
        action = f"/provider/vacancies/{self.rng.choice(vacancies)}/confirm"
        fields = hidden_fields(page, action) or {"csrf_token": csrf_token(page)}
        self.post("provider: confirm a vacancy", action, fields)
        self.think(deadline)

    # ------------------------------------------------------------------ commissioners
    def market_page(self, deadline):
        path = self.rng.choice(MARKET_PAGES)
        page = self.get("commissioner: market page", path)
        if page.status == 200 and len(self.csv_links) < 200:
            for link in re.findall(rb'href="(/market/[a-z]+/[a-z0-9-]+\.csv)"', page.body):
                if link.decode() not in self.csv_links:
                    self.csv_links.append(link.decode())
        self.think(deadline)

    def market_filtered(self, deadline):
        path = self.rng.choice(MARKET_PAGES[1:]) + self.rng.choice(MARKET_FILTERS)
        self.get("commissioner: market page, filtered", path)
        self.think(deadline)

    def csv_download(self, deadline):
        if not self.csv_links:
            return self.market_page(deadline)
        self.get("commissioner: CSV download", self.rng.choice(self.csv_links))
        self.think(deadline)


class Anonymous(VirtualUser):
    """The reference: someone fetching the sign-in page, with the same think time."""

    def actions(self):
        return ((1, self.sign_in_page),)

    def sign_in_page(self, deadline):
        self.get("sign-in page", "/sign-in")
        self.think(deadline)


def run_users(users: list[VirtualUser], seconds: float, *, record: bool) -> float:
    """Every user loops until the deadline; returns the seconds from the start to the last answer."""
    for user in users:
        user.recording = record
        if record:
            user.samples = []
    started = time.monotonic()
    deadline = started + seconds
    threads = [threading.Thread(target=user.run, args=(deadline,), daemon=True) for user in users]
    for thread in threads:
        thread.start()
        time.sleep(min(0.02, seconds / max(1, len(users)) / 4))  # a ramp of a second at most
    for thread in threads:
        thread.join(seconds + 60)
    return time.monotonic() - started


# ------------------------------------------------------------------------------------------------ figures

def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def figures(samples: list[Sample], seconds: float) -> dict:
    times = [s.ms for s in samples]
    bad = [s for s in samples if not s.ok]
    return {"n": len(samples), "rps": len(samples) / seconds if seconds else 0.0,
            "p50": pct(times, 0.50), "p95": pct(times, 0.95), "p99": pct(times, 0.99), "max": max(times or [0]),
            "errors": len(bad), "error_kinds": Counter(s.status or "no answer" for s in bad)}


def ms(value: float) -> str:
    if value != value:
        return "–"
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def errors_words(f: dict) -> str:
    if not f["errors"]:
        return "0"
    return f"**{f['errors']}** (" + ", ".join(f"{k}: {v}" for k, v in f["error_kinds"].most_common()) + ")"


@dataclass
class Result:
    database: str
    load_s: float
    cast: Cast
    users: int
    seconds: float
    think_ms: int
    reference: dict
    overall: dict
    pages: dict[str, dict]
    roles: dict[str, dict]
    log: LogFindings
    server_version: str


def measure(database: str, url: str, users: int, seconds: float, reference_seconds: float, think_ms: int,
            reuse: bool = False) -> Result:
    if reuse and loaded(url):
        from portal.cli import upgrade_database

        upgrade_database(url)
        load_s = float("nan")
        print(f"\n--- {database}: reusing the loaded region (--reuse: figures not for the record)", flush=True)
    else:
        print(f"\n--- {database}: loading the large demo region ...", flush=True)
        load_s = load_region(url)
        print(f"    loaded in {load_s:.1f} s", flush=True)
    cast = make_cast(url, users)
    print(f"    {cast.counts}", flush=True)
    server_version = sqlite3.sqlite_version if database == "sqlite" else pg_version(url)
    server = Server(url, workers=WORKERS, threads=THREADS, log_dir=LOG_DIR / database)
    think_s = think_ms / 1000
    try:
        server.start()
        print(f"    gunicorn on 127.0.0.1:{server.port}, {WORKERS} workers x {THREADS} threads", flush=True)
        people = ([("officer", email, la) for email, la in cast.officers]
                  + [("provider", email, p) for email, p in cast.providers]
                  + [("commissioner", email, None) for email in cast.commissioners])
        vus = [VirtualUser(role, Browser(server.port, role).sign_in(email), cast, key, seed, think_s)
               for seed, (role, email, key) in enumerate(people)]
        random.Random(0).shuffle(vus)
        print(f"    {len(vus)} users signed in; warming up {WARM_UP_S:.0f} s", flush=True)
        run_users(vus, WARM_UP_S, record=False)
        anonymous = [Anonymous("anonymous", Browser(server.port, "anonymous"), cast, "", 10_000 + i, think_s)
                     for i in range(users)]
        ref_s = run_users(anonymous, reference_seconds, record=True)
        reference = figures([s for u in anonymous for s in u.samples], ref_s)
        print(f"    sign-in page: {reference['rps']:.1f} req/s, p50 {ms(reference['p50'])}, p95 "
              f"{ms(reference['p95'])}, errors {reference['errors']}", flush=True)
        offset = server.log_size()
        mix_s = run_users(vus, seconds, record=True)
        time.sleep(0.5)
        log = LogFindings.read(server.log_since(offset))
    finally:
        server.stop()
    samples = [s for u in vus for s in u.samples]
    pages: dict[str, list[Sample]] = defaultdict(list)
    roles: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        pages[s.page].append(s)
        roles[s.page.split(":")[0]].append(s)
    result = Result(database, load_s, cast, users, seconds, think_ms, reference, figures(samples, mix_s),
                    {name: figures(group, mix_s) for name, group in sorted(pages.items())},
                    {name: figures(group, mix_s) for name, group in roles.items()}, log, server_version)
    o = result.overall
    print(f"    mix: {o['rps']:.1f} req/s, p50 {ms(o['p50'])}, p95 {ms(o['p95'])}, p99 {ms(o['p99'])}, "
          f"errors {o['errors']}; {100 * o['rps'] / reference['rps']:.0f}% of the sign-in page's", flush=True)
    for name, f in result.pages.items():
        print(f"      {name:48} {f['n']:6} {f['rps']:6.1f}/s  p50 {ms(f['p50']):>9}  p95 {ms(f['p95']):>9}  "
              f"p99 {ms(f['p99']):>9}  errors {f['errors']}", flush=True)
    print(f"    server log: {log.words()}", flush=True)
    return result


def pg_version(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        version = conn.scalar(text("SHOW server_version"))
    engine.dispose()
    return version.split()[0]


def render(results: list[Result], machine: str) -> str:
    first = results[0]
    lines = [
        SECTION,
        "",
        f"Measured {dt.date.today().isoformat()} with `python -m bench.load_bench` (part of `make bench`) on {machine}; "
        f"the portal at {code_version()}.",
        "",
        f"{first.users} virtual users ({len(first.cast.officers)} placement officers, {len(first.cast.providers)} "
        f"provider staff, {len(first.cast.commissioners)} commissioners, each a demo account of its own, signed in "
        f"with password and security code) for {first.seconds:.0f} s on each database, after a {WARM_UP_S:.0f} s "
        f"warm-up, through gunicorn with `gunicorn.conf.py`, {WORKERS} workers x {THREADS} threads on 127.0.0.1. "
        f"Each user waits a random think time (uniform, 0 to {2 * first.think_ms} ms) after each answer. Officers "
        "read their requests list (first page, later pages, sorted), request pages with ranked matches and the live "
        "match list, save a draft's budget section and send referrals; providers read their inbox (filtered and "
        "paged), referral pages, offers and vacancies and confirm vacancies; commissioners read the market pages, "
        "with and without filters, and download their tables as CSV. The reference: the same number of anonymous "
        "users fetching the sign-in page with the same think time, on the same server in the same run "
        f"({results[0].reference['n']:,} requests over the reference period). Times are what the client waited "
        "(the client runs on the same 2 cores). Errors: any answer other than the page's own (200, or a redirect "
        "after a form) or no answer.",
        "",
        "| | SQLite | PostgreSQL | target | baseline (issue 16, 50 users, 190 s) |" if len(results) == 2 else
        f"| | {first.database} | | target | baseline |",
        "|---|---|---|---|---|",
    ]
    by = {r.database: r for r in results}
    cols = [by.get("sqlite"), by.get("postgresql")]

    def row(label: str, cell, target: str = "", baseline: str = "") -> str:
        return f"| {label} | " + " | ".join(cell(r) if r else "–" for r in cols) + f" | {target} | {baseline} |"

    lines += [
        row("demo region loaded in (`flask demo load --scale large`)", lambda r: f"{r.load_s:.0f} s"),
        row("requests / s (the mix)", lambda r: f"{r.overall['rps']:.1f}", "", "PostgreSQL 14.2; SQLite 9.8"),
        row("p50 / p95 / p99, every page", lambda r: f"{ms(r.overall['p50'])} / {ms(r.overall['p95'])} / "
                                                   f"{ms(r.overall['p99'])}",
            "every page p95 ≤ 300 ms (PostgreSQL)", "PostgreSQL 2.1 s / 9.0 s / 30.5 s; SQLite p95 15.4 s"),
        row("errors", lambda r: errors_words(r.overall), "0", "SQLite 53 x 500 \"database is locked\""),
        row("sign-in page alone: requests / s, p95", lambda r: f"{r.reference['rps']:.1f}, {ms(r.reference['p95'])}"),
        row("the mix's throughput / the sign-in page's",
            lambda r: f"{100 * r.overall['rps'] / r.reference['rps']:.0f}%", "≥ 40%", "2–4%"),
        row("slowest page's p95", lambda r: slowest(r)),
        row("server log: unhandled errors, worker timeouts", lambda r: r.log.words()),
    ]
    lines += ["", "Every page (requests counted over the whole run; p50 / p95 / p99):", "",
              "| page | SQLite: req/s | SQLite: p50 / p95 / p99 | SQLite: errors | PostgreSQL: req/s | "
              "PostgreSQL: p50 / p95 / p99 | PostgreSQL: errors | PostgreSQL p95 ≤ 300 ms |",
              "|---|---:|---|---:|---:|---|---:|---|"]
    names = sorted({name for r in results for name in r.pages})
    for name in names:
        cells = []
        for r in cols:
            f = r.pages.get(name) if r else None
            cells += ([f"{f['rps']:.1f}", f"{ms(f['p50'])} / {ms(f['p95'])} / {ms(f['p99'])}", errors_words(f)]
                      if f else ["–", "–", "–"])
        pg = by.get("postgresql")
        verdict = ("yes" if pg.pages[name]["p95"] <= TARGET_P95_MS else
                   f"**no** (+{pg.pages[name]['p95'] - TARGET_P95_MS:,.0f} ms)") if pg and name in pg.pages else "–"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {verdict} |")
    lines += ["", "By role:", "", "| role | " + " | ".join(f"{r.database}: req/s, p50 / p95 / p99, errors"
                                                         for r in results) + " |",
              "|---|" + "---|" * len(results)]
    for role, _share in SHARES:
        lines.append(f"| {role}s | " + " | ".join(
            f"{r.roles[role]['rps']:.1f}, {ms(r.roles[role]['p50'])} / {ms(r.roles[role]['p95'])} / "
            f"{ms(r.roles[role]['p99'])}, {errors_words(r.roles[role])}" if role in r.roles else "–"
            for r in results) + " |")
    lines += ["", "Data: " + "; ".join(f"{r.database} {r.server_version}: {r.cast.counts}" for r in results) + ".",
              ""]
    return "\n".join(lines)


def slowest(r: Result) -> str:
    name, f = max(r.pages.items(), key=lambda item: item[1]["p95"])
    return f"{ms(f['p95'])} ({name})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=_env("PORTAL_LOAD_USERS", 50))
    parser.add_argument("--seconds", type=float, default=_env("PORTAL_LOAD_SECONDS", 180.0))
    parser.add_argument("--reference-seconds", type=float, default=_env("PORTAL_LOAD_REFERENCE_SECONDS", 30.0))
    parser.add_argument("--think-ms", type=int, default=_env("PORTAL_LOAD_THINK_MS", 250))
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default=_env("PORTAL_LOAD_DB", "both"))
    parser.add_argument("--pg-url", default=_env("PORTAL_LOAD_PG_URL", PG_URL))
    parser.add_argument("--reuse", action="store_true", default=bool(_env("PORTAL_LOAD_REUSE", "")),
                        help="while developing: keep a database loaded before (its data has been written to)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()
    if not 1 <= args.users <= 200 or not 1 <= args.seconds <= 900 or not 1 <= args.reference_seconds <= 300:
        raise SystemExit("users 1-200, seconds 1-900, reference seconds 1-300")
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    load = load_average()
    machine = (f"{os.cpu_count()} CPUs ({cpu_model()}), load average {load:.2f} at the start, {platform.system()} "
               f"{platform.release()}, Python {platform.python_version()}" if load is not None else cpu_model())
    targets = [("sqlite", f"sqlite:///{SQLITE_PATH}"), ("postgresql", args.pg_url)]
    results = [measure(name, url, args.users, args.seconds, args.reference_seconds, args.think_ms, args.reuse)
               for name, url in targets if args.db in (name, "both")]
    section = render(results, machine)
    print(section)
    if not args.no_write:
        write_section(section)
        print(f"Wrote {SECTION!r} to docs/performance.md")


if __name__ == "__main__":
    main()
