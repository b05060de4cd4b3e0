"""Concurrent requests on SQLite through a real gunicorn server (DESIGN.md §3: only a request that writes takes the
write lock; reads never wait for a writer; no lock is held while ranking or rendering).

    python -m bench.contention_bench [--db PATH] [--no-write]

Starts gunicorn with the repository's gunicorn.conf.py (2 workers x 4 threads) on a free port of 127.0.0.1, over
the `large` demo region in SQLite (the database of bench/portal_bench.py, built once), signs in as demo users with
plain HTTP clients (http.client and threads; the CSRF token read from each form) and measures, in one run:

  A. an officer's request list (`GET /requests/`), 4 a second, alone and while another process holds SQLite's write
     lock (`BEGIN IMMEDIATE` and an insert, held 6 s, then rolled back);
  B. officers' request pages with ranked matches (`GET /requests/<id>`), one after another, alone and while a
     commissioner reloads every market page back to back;
  C. the first request page after a provider confirms a vacancy (the options version moves, so that worker rebuilds
     its matching index), and the request list served meanwhile by the other worker and by the same one, against
     the same probes while a warm request page is served;
  D. 8 writers (officers saving a draft's budget section, providers confirming a vacancy) posting back to back for
     15 s, against one writer alone: answers by status, and whether a 500 or the server log says
     "database is locked".

Only URLs and forms are used against the server, so the figures stay comparable whatever portal/db.py does; the set-up
reads ids with plain SQL. Every loop is bounded in count and time; the server is stopped at the end. The gunicorn logs
are kept in instance/contention-bench/. Prints the table and replaces the "## Concurrent requests on SQLite" section
of docs/performance.md. Nothing here asserts a time: it reports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import http.client
import itertools
import os
import platform
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bench.common import cpu_model, load_average, write_section
from bench.portal_bench import DB_PATH, ensure_database, percentile

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Concurrent requests on SQLite"
LOG_DIR = ROOT / "instance" / "contention-bench"
PASSWORD = "demo-portal-2026"
COMMISSIONER = "commissioner@demo.wmportal.test"
WORKERS, THREADS = 2, 4
CLIENT_TIMEOUT_S = 40  # longer than the app's 15 s busy timeout, so a wait that long shows as the app's answer

# The commissioner's pages: the market navigation (portal/market/views.py NAVIGATION).
MARKET_PAGES = ("/market/", "/market/demand", "/market/supply", "/market/gaps", "/market/prices", "/market/distance",
                "/market/outcomes", "/market/responses", "/market/shape", "/market/summary")

A_REQUESTS, A_EVERY_S, A_HOLD_S = 20, 0.25, 6.0  # all 20 are sent within the first 4.75 s of the 6 s hold
B_VIEWS, B_MAX_S = 60, 90.0
# Request lists 250 ms apart: slower than one list takes, so probes do not queue behind each other when warm.
C_ROUNDS, C_PROBES, C_PROBE_EVERY_S = 4, 6, 0.25
D_WRITERS, D_SECONDS, D_ALONE_SECONDS, D_MAX_POSTS = 8, 15.0, 4.0, 2000

# A separate process holds the write lock: an audit row inserted inside BEGIN IMMEDIATE (what most pages write),
# kept for the given seconds, then rolled back so the benchmark leaves the data as it found it.
HOLDER = r"""
import datetime, sqlite3, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
conn = sqlite3.connect(path, timeout=30, isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO audit_event (at, record_type, action, outcome, detail) VALUES (?, ?, ?, ?, ?)",
             (datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).isoformat(" "), "benchmark", "hold_write_lock", "allowed", "contention_bench"))
print("held", flush=True)
time.sleep(seconds)
conn.execute("ROLLBACK")
print("released", flush=True)
"""


# ------------------------------------------------------------------------------------------------ HTTP clients

@dataclass
class Answer:
    """One request as the client saw it. Status 0: no answer (refused, reset or timed out)."""

    status: int
    ms: float
    bench_id: str
    started: float  # time.perf_counter() when sent
    path: str = ""
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""

    @property
    def answered_at(self) -> float:
        return self.started + self.ms / 1000


class Browser:
    """One signed-in user: a cookie jar and a new loopback connection per request (so requests spread over the
    workers as separate visitors' would). Each request carries X-Bench-Id, which the access log records with the
    worker's pid."""

    _ids = itertools.count(1)

    def __init__(self, port: int, label: str) -> None:
        self.port = port
        self.label = label
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None, *, keep_cookies: bool = True
                ) -> Answer:
        bench_id = f"{self.label}-{next(Browser._ids)}"
        headers = {"Connection": "close", "User-Agent": "contention-bench", "X-Bench-Id": bench_id}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_TIMEOUT_S)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            return Answer(0, (time.perf_counter() - started) * 1000, bench_id, started, path, error=type(error).__name__)
        finally:
            connection.close()
        ms = (time.perf_counter() - started) * 1000
        # Writers do not keep the cookie a POST sets: it only adds a flash message, which a browser would pop on the
        # page it is redirected to; kept, the messages would pile up in the cookie.
        if keep_cookies:
            for cookie in response.msg.get_all("Set-Cookie") or ():
                name, _, value = cookie.split(";", 1)[0].partition("=")
                if value and value != '""':
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
        return Answer(response.status, ms, bench_id, started, path, data, {k.lower(): v for k, v in response.getheaders()})

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Answer:
        return self.request("POST", path, form, keep_cookies=False)

    def sign_in(self, email: str) -> Browser:
        """The password, then the security code from the demo account's authenticator secret (every account
        uses MFA; a demo account's secret comes from its email: portal/demo/people.py)."""
        import pyotp

        from portal.demo.people import demo_mfa_secret

        page = self.get("/sign-in")
        answer = self.request("POST", "/sign-in", {"csrf_token": csrf_token(page), "email": email, "password": PASSWORD})
        if answer.status != 302:
            raise SystemExit(f"{email} could not sign in: {answer.status} {answer.error}")
        if answer.headers.get("location", "").endswith("/sign-in/security-code"):
            page = self.get("/sign-in/security-code")
            code = pyotp.TOTP(demo_mfa_secret(email)).now()
            answer = self.request("POST", "/sign-in/security-code", {"csrf_token": csrf_token(page), "code": code})
            if answer.status != 302:
                raise SystemExit(f"{email}: the security code was refused ({answer.status} {answer.error})")
        return self


def csrf_token(answer: Answer) -> str:
    tag = re.search(rb'<input[^>]*name="csrf_token"[^>]*>', answer.body)
    value = re.search(rb'value="([^"]+)"', tag.group(0)) if tag else None
    if value is None:
        raise SystemExit(f"no CSRF token on {answer.path} ({answer.status})")
    return value.group(1).decode()


def field_value(answer: Answer, name: str) -> str:
    """The prefilled value of a text input or textarea, as a browser would post it back."""
    text = answer.body.decode()
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', text)
    if tag:
        value = re.search(r'value="([^"]*)"', tag.group(0))
        return html.unescape(value.group(1)) if value else ""
    area = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', text, re.S)
    if area:
        content = html.unescape(area.group(1))
        return content[2:] if content.startswith("\r\n") else content[1:] if content.startswith("\n") else content
    return ""


# ------------------------------------------------------------------------------------------------ the server

ACCESS_FORMAT = '%(p)s "%({x-bench-id}i)s" %(s)s %(D)s "%(r)s"'
# An access line on its own (--access-logfile) or inside the portal's log format (gunicorn.conf.py's logconfig_dict
# sends access lines to the error log's stream: "... INFO gunicorn.access [-] <pid> ...").
ACCESS_LINE = re.compile(r'(?:^|gunicorn\.access \S+ )<?(\d+)>? "([^"]*)" (\d{3}) (\d+) ')


class Server:
    """gunicorn with the repository's gunicorn.conf.py, on a free loopback port, logs under instance/."""

    def __init__(self, url: str, *, workers: int = WORKERS, threads: int = THREADS, log_dir: Path = LOG_DIR) -> None:
        self.url = url
        self.worker_count, self.threads = workers, threads
        log_dir.mkdir(parents=True, exist_ok=True)
        self.access_log = log_dir / "access.log"
        self.server_log = log_dir / "server.log"
        for path in (self.access_log, self.server_log):
            path.write_text("")
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.workers: set[int] = set()
        self._served: dict[str, tuple[int, int]] = {}
        self._read = 0

    def start(self) -> None:
        command = [
            sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.worker_count), "--threads", str(self.threads), "--no-control-socket",
            "--access-logfile", str(self.access_log), "--access-logformat", ACCESS_FORMAT, "wsgi:app",
        ]
        env = {**os.environ, "DATABASE_URL": self.url, "PYTHONUNBUFFERED": "1"}
        with open(self.server_log, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        probe = Browser(self.port, "ready")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.process.returncode}); see {self.server_log}")
            answer = probe.get("/sign-in")
            if answer.status == 200:
                self.workers.add(self.worker_of(answer))
                if len(self.workers) == self.worker_count:
                    return
            else:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer from {self.worker_count} workers within 90 s; see {self.server_log}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def served(self, bench_id: str, wait_s: float = 2.0) -> tuple[int, int] | None:
        """(worker pid, status) of a request from the access log, which is written just after the answer."""
        deadline = time.monotonic() + wait_s
        while True:
            if self._read == 0 and not self.access_log.stat().st_size and self.access_log != self.server_log:
                self.access_log = self.server_log  # the access lines went to the server's log
            with open(self.access_log) as log:
                log.seek(self._read)
                chunk = log.read()
            complete = chunk[: chunk.rfind("\n") + 1]
            self._read += len(complete.encode())
            for line in complete.splitlines():
                match = ACCESS_LINE.search(line)
                if match:
                    self._served[match.group(2)] = (int(match.group(1)), int(match.group(3)))
            if bench_id in self._served or time.monotonic() > deadline:
                return self._served.get(bench_id)
            time.sleep(0.02)

    def worker_of(self, answer: Answer) -> int:
        found = self.served(answer.bench_id)
        return found[0] if found else 0

    def log_size(self) -> int:
        return self.server_log.stat().st_size

    def log_since(self, offset: int) -> str:
        with open(self.server_log, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LogFindings:
    """What the server log says: unhandled errors (a chained traceback counts once, by its last exception), how
    many of them say "database is locked", and gunicorn's worker timeouts."""

    errors: Counter = field(default_factory=Counter)
    timeouts: int = 0

    @classmethod
    def read(cls, text: str) -> LogFindings:
        found = cls()
        lines = text.splitlines()
        found.timeouts = sum("WORKER TIMEOUT" in line for line in lines)
        messages: list[str] = []
        chained = False
        for i, line in enumerate(lines):
            if line.startswith(("The above exception was", "During handling of the above exception")):
                chained = True
            elif line.startswith("Traceback (most recent call last)"):
                # The exception is the first unindented line after the frames.
                message = next((after for after in lines[i + 1:] if after and not after[0].isspace()), "?")[:160]
                if chained and messages:
                    messages[-1] = message
                else:
                    messages.append(message)
                chained = False
        found.errors = Counter(messages)
        return found

    @property
    def count(self) -> int:
        return sum(self.errors.values())

    @property
    def locked(self) -> int:
        return sum(n for message, n in self.errors.items() if "database is locked" in message)

    def words(self) -> str:
        if not self.count and not self.timeouts:
            return "none"
        parts = [f"{self.count} unhandled error{'s' if self.count != 1 else ''}"]
        parts += [f"`{message}` x{n}" for message, n in self.errors.most_common(3)]
        if self.timeouts:
            parts.append(f"{self.timeouts} worker timeouts")
        return "; ".join(parts)


# ------------------------------------------------------------------------------------------------ set-up data

@dataclass(frozen=True)
class Region:
    officers: dict[str, str]  # LA code -> officer's email (the LAs with the most drafts first)
    open_requests: dict[str, list[str]]  # LA code -> open request ids
    drafts: dict[str, list[str]]  # LA code -> draft request ids
    provider_writers: list[tuple[str, str]]  # (email of an admin or manager, one of its open vacancies)
    counts: str


def read_region(path: Path) -> Region:
    """Ids for the clients, read with plain SQL (read-only); the server is given only URLs and forms."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        drafts: dict[str, list[str]] = {}
        for request_id, la_code in conn.execute(
                "SELECT id, la_code FROM placement_request WHERE status = 'draft' ORDER BY la_code, id"):
            drafts.setdefault(la_code, []).append(request_id)
        open_requests: dict[str, list[str]] = {}
        for request_id, la_code in conn.execute(
                "SELECT id, la_code FROM placement_request WHERE status IN ('searching', 'offers') ORDER BY id"):
            open_requests.setdefault(la_code, []).append(request_id)
        emails = dict(conn.execute("SELECT la_code, email FROM user_account WHERE role = 'officer' AND active"))
        ordered = sorted((la for la in emails if open_requests.get(la)), key=lambda la: (-len(drafts.get(la, ())), la))
        writers = list(conn.execute(
            "SELECT u.email, MIN(v.id) FROM user_account u JOIN setting s ON s.provider_id = u.provider_id "
            "JOIN vacancy v ON v.setting_id = s.id AND v.status = 'open' "
            "WHERE u.role = 'provider' AND u.active AND u.provider_role IN ('admin', 'manager') "
            "GROUP BY u.email ORDER BY u.email"))
        counted = {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                   for table in ("setting", "placement_request", "placement")}
        vacancies = conn.execute("SELECT COUNT(*) FROM vacancy WHERE status = 'open'").fetchone()[0]
    finally:
        conn.close()
    counts = (f"{counted['setting']:,} settings, {vacancies:,} open vacancies, "
              f"{sum(map(len, open_requests.values())):,} open requests, {counted['placement']:,} placements")
    return Region({la: emails[la] for la in ordered}, open_requests, drafts, writers, counts)


# ------------------------------------------------------------------------------------------------ helpers

def open_loop(send: Callable[[], Answer], count: int, every_s: float) -> list[Answer]:
    """`count` requests sent `every_s` apart, each on its own thread, whether or not earlier ones were answered
    (visitors do not wait for each other)."""
    answers: list[Answer] = []
    threads = []
    start = time.perf_counter()
    for i in range(count):
        pause = start + i * every_s - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        thread = threading.Thread(target=lambda: answers.append(send()), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(CLIENT_TIMEOUT_S + 5)
    return sorted(answers, key=lambda a: a.started)


def stats(answers: list[Answer]) -> dict[str, float]:
    times = [a.ms for a in answers] or [float("nan")]
    return {"p50": statistics.median(times), "p95": percentile(times, 0.95), "max": max(times), "n": len(answers)}


def ms(value: float) -> str:
    if value != value:  # NaN: nothing measured
        return "–"
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def trio(s: dict[str, float]) -> str:
    return f"{ms(s['p50'])} / {ms(s['p95'])} / {ms(s['max'])}"


def not_ok(answers: list[Answer], ok: tuple[int, ...] = (200,)) -> int:
    return sum(a.status not in ok for a in answers)


def failures(answers: list[Answer], ok: tuple[int, ...] = (200,)) -> str:
    """How many answers were not `ok`, and what they were: "1 (500 after 20,627 ms)"."""
    bad = [a for a in answers if a.status not in ok]
    if not bad:
        return "0"
    shown = ", ".join(f"{a.status or a.error} after {ms(a.ms)}" for a in bad[:3])
    return f"{len(bad)} ({shown}{', ...' if len(bad) > 3 else ''})"


def statuses(answers: list[Answer]) -> str:
    counts = Counter(a.status or "no answer" for a in answers)
    return ", ".join(f"{status}: {n}" for status, n in sorted(counts.items(), key=str))


# ------------------------------------------------------------------------------------------------ A

def scenario_a(server: Server, officer: Browser, db_path: Path) -> dict:
    """The request list, alone and while another connection holds the write lock."""
    send = lambda: officer.get("/requests/")  # noqa: E731
    for _ in range(3):
        send()
    alone = open_loop(send, A_REQUESTS, A_EVERY_S)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_path), str(A_HOLD_S)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        line = holder.stdout.readline().strip()
        if line != "held":
            raise SystemExit(f"the lock holder did not start: {line} {holder.stderr.read()}")
        held_at = time.perf_counter()
        during = open_loop(send, A_REQUESTS, A_EVERY_S)
        holder.stdout.readline()
        released_at = held_at + A_HOLD_S
        holder.wait(CLIENT_TIMEOUT_S)
    finally:
        if holder.poll() is None:
            holder.kill()
    sent_in_hold = sum(held_at <= a.started < released_at for a in during)
    result = {"alone": stats(alone), "during": stats(during), "alone_bad": failures(alone),
              "during_bad": failures(during), "bad": not_ok(during), "sent_in_hold": sent_in_hold}
    print(f"A  request list alone   p50/p95/max {trio(result['alone'])}  non-200 {result['alone_bad']}")
    print(f"A  during the 6 s hold  p50/p95/max {trio(result['during'])}  non-200 {result['during_bad']}"
          f"  ({statuses(during)}; {sent_in_hold} sent while the lock was held)")
    return result


# ------------------------------------------------------------------------------------------------ B

def scenario_b(server: Server, officers: dict[str, Browser], region: Region, commissioner: Browser) -> dict:
    """Officers' request pages, alone and while a commissioner reloads every market page back to back."""
    pools = [[(la, rid) for rid in region.open_requests[la]] for la in officers]
    views = [pair for pair in itertools.chain.from_iterable(itertools.zip_longest(*pools)) if pair][:B_VIEWS]

    def run_views() -> list[Answer]:
        answers, deadline = [], time.monotonic() + B_MAX_S
        for la, request_id in views:
            if time.monotonic() > deadline:
                break
            answers.append(officers[la].get(f"/requests/{request_id}"))
        return answers

    # Warm: every market page in both workers (the gap page counts every open request once per process), and the
    # request pages once.
    for path in MARKET_PAGES:
        seen: set[int] = set()
        for _ in range(8):
            seen.add(server.worker_of(commissioner.get(path)))
            if server.workers <= seen:
                break
    for la, request_id in views[:len(officers) * 2]:
        officers[la].get(f"/requests/{request_id}")

    alone = run_views()
    stop = threading.Event()
    market: list[Answer] = []

    def reload_market() -> None:
        for path in itertools.cycle(MARKET_PAGES):
            if stop.is_set() or len(market) >= 5000:
                return
            market.append(commissioner.get(path))

    thread = threading.Thread(target=reload_market, daemon=True)
    thread.start()
    time.sleep(0.5)  # the commissioner is mid-page when the officer starts
    loaded = run_views()
    stop.set()
    thread.join(CLIENT_TIMEOUT_S + 5)
    a, b = stats(alone), stats(loaded)
    change = (b["p95"] / a["p95"] - 1) * 100 if a["p95"] else float("nan")
    result = {"alone": a, "loaded": b, "change_pct": change, "alone_bad": failures(alone),
              "loaded_bad": failures(loaded), "market": stats(market), "market_bad": failures(market),
              "bad": not_ok(loaded) + not_ok(market)}
    print(f"B  request page alone        p50/p95/max {trio(a)}  ({len(alone)} views, non-200 {result['alone_bad']})")
    print(f"B  with the commissioner     p50/p95/max {trio(b)}  ({len(loaded)} views, non-200 {result['loaded_bad']})"
          f"  p95 change {change:+.0f}%")
    print(f"B  commissioner market pages p50/p95/max {trio(result['market'])}  ({len(market)} pages, "
          f"{statuses(market)})")
    return result


# ------------------------------------------------------------------------------------------------ C

def scenario_c(server: Server, officer: Browser, request_id: str, provider: Browser, vacancy_id: str) -> dict:
    """The first request page after a vacancy changes rebuilds that worker's matching index: what do the pages
    served meanwhile (request lists, in the other worker and in the same one) wait?"""
    detail, listing = f"/requests/{request_id}", "/requests/"
    token = csrf_token(provider.get("/provider/vacancies"))
    rebuilds, warm_pages, confirms, every_probe = [], [], [], []
    probes: dict[str, list[Answer]] = {"warm": [], "other": [], "same": []}

    def warm_everywhere() -> None:
        seen: set[int] = set()
        for _ in range(10):
            seen.add(server.worker_of(officer.get(detail)))
            if server.workers <= seen:
                return

    warm_everywhere()
    for round_ in range(C_ROUNDS * 2):
        changed = round_ % 2 == 1  # warm, changed, warm, changed, ...
        if changed:
            confirm = provider.post(f"/provider/vacancies/{vacancy_id}/confirm", {"csrf_token": token})
            confirms.append(confirm)
            if confirm.status not in (302, 303):
                continue
        trigger: list[Answer] = []
        thread = threading.Thread(target=lambda: trigger.append(officer.get(detail)), daemon=True)
        thread.start()
        time.sleep(0.05)
        sent = open_loop(lambda: officer.get(listing), C_PROBES, C_PROBE_EVERY_S)
        every_probe += sent
        thread.join(CLIENT_TIMEOUT_S + 5)
        if not trigger:
            continue
        page = trigger[0]
        (rebuilds if changed else warm_pages).append(page)
        if not changed:
            probes["warm"] += sent
            continue
        rebuilder = server.worker_of(page)
        for probe in sent:
            worker = server.worker_of(probe)
            if worker and probe.started < page.answered_at:  # sent while the rebuilding page was being served
                probes["same" if worker == rebuilder else "other"].append(probe)
        warm_everywhere()  # the other worker rebuilds too, so the next warm round is warm in both
    result = {
        "rebuild": stats(rebuilds), "warm_page": stats(warm_pages),
        **{name: stats(answers) for name, answers in probes.items()},
        "bad": failures([*rebuilds, *warm_pages, *every_probe]),
        "confirm_bad": failures(confirms, (302, 303)), "confirms": len(confirms),
    }
    print(f"C  first request page after a change  p50/max {ms(result['rebuild']['p50'])} / "
          f"{ms(result['rebuild']['max'])}  (warm {ms(result['warm_page']['p50'])}; {len(rebuilds)} changes)")
    for name, words in (("other", "other worker, during the rebuild"), ("same", "same worker, during the rebuild"),
                        ("warm", "any worker, warm")):
        print(f"C  request list, {words:32} p50/p95/max {trio(result[name])}  ({result[name]['n']} pages)")
    return result


# ------------------------------------------------------------------------------------------------ D

@dataclass
class Writer:
    browser: Browser
    path: str
    form: dict[str, str]


def writers_for(region: Region, officers: dict[str, Browser], port: int) -> list[Writer]:
    """Officers saving a draft's budget section as it stands ('Save as draft') and providers confirming a vacancy
    ('Still available'): real forms, posted with the CSRF token and values the page gave."""
    found: list[Writer] = []
    for la, browser in officers.items():
        draft = next(iter(region.drafts.get(la, ())), None)
        if draft is None:
            continue
        page = browser.get(f"/requests/{draft}/edit/budget")
        if page.status != 200:
            continue
        found.append(Writer(browser, f"/requests/{draft}/edit/budget", {
            "csrf_token": csrf_token(page), "budget_gbp_week": field_value(page, "budget_gbp_week"),
            "notes": field_value(page, "notes"), "action": "draft"}))
    for email, vacancy_id in region.provider_writers:
        browser = Browser(port, "provider").sign_in(email)
        token = csrf_token(browser.get("/provider/vacancies"))
        found.append(Writer(browser, f"/provider/vacancies/{vacancy_id}/confirm", {"csrf_token": token}))
    # Officers and providers alternate, so any count takes both kinds.
    officers_first = [w for w in found if "/requests/" in w.path]
    providers_first = [w for w in found if "/provider/" in w.path]
    mixed = [w for pair in itertools.zip_longest(officers_first, providers_first) for w in pair if w]
    return [mixed[i % len(mixed)] for i in range(D_WRITERS)] if mixed else []


def run_writers(writers: list[Writer], seconds: float) -> list[Answer]:
    answers: list[Answer] = []
    start = threading.Barrier(len(writers))
    deadline = [0.0]

    def write(writer: Writer) -> None:
        if start.wait() == 0:
            deadline[0] = time.monotonic() + seconds
        while not deadline[0]:
            time.sleep(0.001)
        for _ in range(D_MAX_POSTS):
            if time.monotonic() > deadline[0]:
                return
            answers.append(writer.browser.post(writer.path, writer.form))

    threads = [threading.Thread(target=write, args=(w,), daemon=True) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + CLIENT_TIMEOUT_S + 5)
    return answers


def classify(answers: list[Answer]) -> dict[str, int]:
    counts = Counter()
    for a in answers:
        if 200 <= a.status < 400:
            counts["2xx/3xx"] += 1
        elif a.status == 503:
            counts["503 with Retry-After" if "retry-after" in a.headers else "503 without Retry-After"] += 1
        elif a.status in (409, 500):
            counts[str(a.status)] += 1
        elif 400 <= a.status < 500:
            counts["other 4xx"] += 1
        elif a.status:
            counts["other 5xx"] += 1
        else:
            counts["no answer"] += 1
    return counts


def scenario_d(server: Server, region: Region, officers: dict[str, Browser]) -> dict:
    writers = writers_for(region, officers, server.port)
    if not writers:
        raise SystemExit("no writers: no draft requests or provider admins in the database")
    alone = run_writers(writers[:1], D_ALONE_SECONDS)
    offset = server.log_size()
    together = run_writers(writers, D_SECONDS)
    time.sleep(0.5)  # let the workers finish logging
    log = LogFindings.read(server.log_since(offset))
    locked_bodies = sum(a.status == 500 and b"database is locked" in a.body for a in together)
    result = {
        "writers": len(writers), "kinds": Counter("officer" if "/requests/" in w.path else "provider" for w in writers),
        "alone": stats(alone), "alone_counts": classify(alone), "together": stats(together),
        "counts": classify(together), "rate_alone": len(alone) / D_ALONE_SECONDS,
        "rate": len(together) / D_SECONDS, "locked_bodies": locked_bodies, "log": log,
        "retry_after": sorted({a.headers["retry-after"] for a in together if "retry-after" in a.headers}),
    }
    print(f"D  one writer alone: {len(alone)} posts in {D_ALONE_SECONDS:.0f} s, p50/p95/max {trio(result['alone'])}, "
          f"{dict(result['alone_counts'])}")
    print(f"D  {len(writers)} writers: {len(together)} posts in {D_SECONDS:.0f} s, p50/p95/max "
          f"{trio(result['together'])}, {dict(result['counts'])}")
    print(f"D  'database is locked': {locked_bodies} in 500 bodies, {log.locked} in the server log; "
          f"log: {log.words()}")
    return result


# ------------------------------------------------------------------------------------------------ report

def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def code_version() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "portal", "gunicorn.conf.py", "wsgi.py"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit"
    return f"commit `{head}`" + (" with local changes under portal/" if dirty else "")


def render(a: dict, b: dict, c: dict, d: dict, info: dict) -> str:
    counts = d["counts"]
    d_words = " · ".join(f"{name} {counts.get(name, 0)}" for name in
                         ("2xx/3xx", "409", "500", "503 with Retry-After", "503 without Retry-After"))
    others = {k: v for k, v in counts.items() if k in ("other 4xx", "other 5xx", "no answer")}
    if others:
        d_words += " · " + " · ".join(f"{k} {v}" for k, v in others.items())
    bad_503 = counts.get("503 without Retry-After", 0)
    c_delay = c["other"]["p50"] - c["warm"]["p50"]
    rows = [
        ("A", f"request list (`/requests/`) while another connection holds the write lock {A_HOLD_S:.0f} s: "
              "p50 / p95 / max", trio(a["during"]), f"alone: {trio(a['alone'])}",
         "within its usual time (p95 ≤ alone +20%, +5 ms)",
         met(a["during"]["p95"] <= a["alone"]["p95"] * 1.2 + 5)),
        ("A", f"answers other than 200, of {a['during']['n']}", a["during_bad"], a["alone_bad"], "0",
         met(a["bad"] == 0)),
        ("B", "request page with ranked matches (`/requests/<id>`) while a commissioner reloads every market page: "
              "p50 / p95", f"{ms(b['loaded']['p50'])} / {ms(b['loaded']['p95'])}",
         f"alone: {ms(b['alone']['p50'])} / {ms(b['alone']['p95'])}", "", ""),
        ("B", "change of the request page's p95", f"{b['change_pct']:+.0f}%", "", "≤ +20%",
         met(b["change_pct"] <= 20)),
        ("B", "answers other than 200: officer; commissioner", f"{b['loaded_bad']}; {b['market_bad']}",
         f"{b['alone_bad']}; –", "0", met(b["bad"] == 0)),
        ("C", "request list in the other worker while one rebuilds its matching index: p50 / p95 / max "
              "(p50 delay)", f"{trio(c['other'])} ({c_delay:+,.0f} ms)", f"warm: {trio(c['warm'])}", "delay ~0 (p50 ≤ warm +20 ms)",
         met(c["other"]["n"] > 0 and c_delay <= 20)),
        ("C", "request list in the rebuilding worker during its rebuild: p50 / p95 / max (p50 delay)",
         f"{trio(c['same'])} ({c['same']['p50'] - c['warm']['p50']:+,.0f} ms)",
         f"warm: {trio(c['warm'])}", "", ""),
        ("C", "first request page after a vacancy change (rebuilds that worker's index): p50 / max",
         f"{ms(c['rebuild']['p50'])} / {ms(c['rebuild']['max'])}", f"warm: {ms(c['warm_page']['p50'])}",
         "", ""),
        ("C", "answers other than 200 (request pages and lists); vacancy confirmations not redirected",
         f"{c['bad']}; {c['confirm_bad']}", "", "0", met(c["bad"] == "0" and c["confirm_bad"] == "0")),
        ("D", f"{d['writers']} writers posting for {D_SECONDS:.0f} s: answers", d_words,
         f"1 writer: {' · '.join(f'{k} {v}' for k, v in d['alone_counts'].items())}",
         "no 500; 503 with Retry-After past the busy timeout",
         met(counts.get("500", 0) == 0 and bad_503 == 0 and counts.get("other 5xx", 0) == 0)),
        ("D", "time of a write: p50 / p95 / max", trio(d["together"]), f"1 writer: {trio(d['alone'])}", "", ""),
        ("D", "writes per second", f"{d['rate']:.1f}", f"1 writer: {d['rate_alone']:.1f}", "", ""),
        ("D", "\"database is locked\" in a 500 page or the server log",
         f"{d['locked_bodies']} pages, {d['log'].locked} logged errors", "", "none",
         met(d["locked_bodies"] == 0 and d["log"].locked == 0)),
    ]
    lines = [
        SECTION,
        "",
        f"Measured {dt.date.today().isoformat()} with `python -m bench.contention_bench` (also part of `make bench`) on "
        f"{info['machine']}; the portal at {info['code']}.",
        "",
        f"gunicorn {info['gunicorn']} with `gunicorn.conf.py`, {WORKERS} workers x {THREADS} threads on 127.0.0.1, "
        f"over the `large` demo region in SQLite {sqlite3.sqlite_version} ({info['counts']}). The clients are plain "
        "HTTP (one new loopback connection per request, so requests spread over the workers), signed in as demo "
        "users, on the same machine as the server; times are what the client waited, network included. All figures "
        "come from one run.",
        "",
        f"- **A**: an officer's request list, {A_REQUESTS} requests sent {A_EVERY_S * 1000:.0f} ms apart without "
        f"waiting for answers, alone, then while another process holds SQLite's write lock (`BEGIN IMMEDIATE`, one "
        f"insert, {A_HOLD_S:.0f} s, rolled back); {a['sent_in_hold']} of them were sent while the lock was held.",
        f"- **B**: {b['alone']['n']} officers' request pages (open requests of {info['b_las']} LAs in turn), one "
        f"after another, alone, then while the regional commissioner reloads the {len(MARKET_PAGES)} market pages "
        f"back to back ({b['market']['n']} pages meanwhile, p50 {ms(b['market']['p50'])}, p95 "
        f"{ms(b['market']['p95'])}). Market pages and request pages were warmed in both workers first.",
        f"- **C**: {c['confirms']} times, a provider confirms a vacancy through its form (the options version moves), "
        f"an officer opens a request page (its worker rebuilds its matching index) and {C_PROBES} request lists are "
        f"sent {C_PROBE_EVERY_S * 1000:.0f} ms apart from 50 ms later; those sent before the request page was "
        "answered are counted by the worker that served them (gunicorn's access log); warm: the same probes around "
        "a request page with nothing changed, alternating with the changed rounds.",
        f"- **D**: {d['writers']} writers ({d['kinds']['officer']} officers saving a draft's budget section as it "
        f"stands, {d['kinds']['provider']} providers confirming a vacancy) post back to back for {D_SECONDS:.0f} s "
        f"without following the redirect; the baseline is one officer writer alone for {D_ALONE_SECONDS:.0f} s.",
        "",
        "| | figure | measured | baseline | target | met |",
        "|---|---|---|---|---|---|",
        *(f"| {s} | {f} | {m} | {base} | {t} | {ok} |" for s, f, m, base, t, ok in rows),
        "",
        f"The server log (unhandled errors, by their last exception; worker timeouts) during A: {info['logs']['A'].words()}; "
        f"B: {info['logs']['B'].words()}; C: {info['logs']['C'].words()}; D: {info['logs']['D'].words()}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=DB_PATH, help=f"SQLite file (default {DB_PATH}; built once)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()
    db_path = args.db.resolve()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{db_path}"
    ensure_database(url)
    region = read_region(db_path)
    load = load_average()
    info = {
        "machine": f"{os.cpu_count()} CPUs ({cpu_model()}), load average {load:.2f} at the start, "
                   f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
                   if load is not None else f"{os.cpu_count()} CPUs ({cpu_model()})",
        "code": code_version(), "counts": region.counts, "logs": {},
    }
    server = Server(url)
    started = time.monotonic()
    try:
        server.start()
        from importlib.metadata import version

        info["gunicorn"] = version("gunicorn")
        print(f"gunicorn on 127.0.0.1:{server.port}, workers {sorted(server.workers)}; logs in {LOG_DIR}")
        officers = {la: Browser(server.port, "officer").sign_in(email)
                    for la, email in itertools.islice(region.officers.items(), 4)}
        commissioner = Browser(server.port, "commissioner").sign_in(COMMISSIONER)
        first_la, first = next(iter(officers.items()))
        info["b_las"] = len(officers)

        offset = server.log_size()
        a = scenario_a(server, first, db_path)
        info["logs"]["A"] = LogFindings.read(server.log_since(offset))
        offset = server.log_size()
        b = scenario_b(server, officers, region, commissioner)
        info["logs"]["B"] = LogFindings.read(server.log_since(offset))
        offset = server.log_size()
        email, vacancy_id = region.provider_writers[0]
        c = scenario_c(server, first, region.open_requests[first_la][0], Browser(server.port, "provider").sign_in(email),
                       vacancy_id)
        info["logs"]["C"] = LogFindings.read(server.log_since(offset))
        d = scenario_d(server, region, officers)
        info["logs"]["D"] = d["log"]
    finally:
        server.stop()
    print(f"(measured in {time.monotonic() - started:.0f} s; server stopped)")
    section = render(a, b, c, d, info)
    print(section)
    if not args.no_write:
        write_section(section)
        print(f"Wrote {SECTION!r} to docs/performance.md")


if __name__ == "__main__":
    main()
