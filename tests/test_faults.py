"""Faults under load, through real gunicorn workers over HTTP (issue 16 §3).

* PostgreSQL restarted under load (`pg_ctl restart -m fast` of a throwaway cluster this test starts): requests in
  flight are answered 503 with Retry-After, never 500; within 5 s of the restart every request is answered again;
  every write is either saved whole (its answer said so) or not at all (its answer said it failed).
* A gunicorn worker killed (`kill -9`) in the middle of requests, on SQLite and PostgreSQL: the client sees a
  dropped connection and sends the same form again with the same one-time key; it then gets the first result
  (303) or a clean save, and every form is saved exactly once: nothing committed is lost, nothing saved twice,
  nothing saved that the person was told had failed.
* A worker that dies of a fatal signal leaves every thread's Python stack in gunicorn's log (faulthandler), and is
  replaced.
"""

from __future__ import annotations

import http.client
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from portal.models import PlacementRequest
from portal.cli import upgrade_database
from tests.conftest import free_port, make_app, require
from tests.factories import create_user
from tests.requests.helpers import date_fields
from tests.test_races_over_http import Person, gunicorn_env
from tests.test_serving import fetch, gunicorn

pytestmark = pytest.mark.slow  # real processes: about two minutes for the module on two busy cores

CHILD = {"first_name": "Amara", "last_name": "Okafor", "sex": "female", "not_a_duplicate": "y",
         **date_fields("date_of_birth", date(2015, 4, 1))}
RECOVERY_SECONDS = 5.0


# ------------------------------------------------------------------------------ a throwaway PostgreSQL cluster

def pg_bindir() -> Path | None:
    """The newest installed PostgreSQL's programs (as .ci/run finds them)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                   if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Cluster:
    """A PostgreSQL cluster of this test's own, in a temporary directory, on a free loopback port: the shared
    server is never restarted. As root it runs as the `postgres` OS user (root may not run postgres)."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="portal-faults-pg."))
        self.data = self.dir / "data"
        self.port = free_port()
        self.log = self.dir / "postgres.log"
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, cwd="/", capture_output=True, text=True, timeout=timeout, check=True)

    def start(self) -> str:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8",
                 "--no-sync")
        conf = (f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.dir}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 100\n")
        with open(self.data / "postgresql.conf", "a") as out:
            out.write(conf)
        (self.data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
        admin = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "portal"'))
        admin.dispose()
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/portal"

    def restart(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "-t", "60", "restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_postgres():
    """The URL of a fresh database on a PostgreSQL cluster of the test's own, migrated to head; and the cluster."""
    bindir = pg_bindir()
    require(bindir is not None and (bindir / "pg_ctl").exists(),
            "the PostgreSQL fault test starts its own cluster: it needs initdb and pg_ctl (apt-get install postgresql)")
    if os.geteuid() == 0:
        require(shutil.which("runuser") is not None, "as root the cluster runs as `postgres` through runuser")
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            require(False, "as root the cluster runs as the `postgres` OS user, which does not exist")
    cluster = Cluster(bindir)
    try:
        url = cluster.start()
        upgrade_database(url)
        yield url, cluster
    finally:
        cluster.stop()


# ------------------------------------------------------------------------------------------ load and its record

@dataclass
class Sent:
    kind: str  # "read" or "write"
    started: float
    status: int  # 0: no answer (the connection dropped)
    retry_after: str | None = None
    reference: str | None = None
    finished: float = field(default_factory=time.monotonic)


@dataclass
class Load:
    """Threads sending reads (the requests list) and writes (a new child's draft, each its own reference) until
    stopped; every answer is kept."""

    person: Person
    writers: int = 2
    readers: int = 2
    sent: list[Sent] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def _read(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                status, headers, _ = self.person.get("/requests/")
            except OSError:
                status, headers = 0, {}
            self.sent.append(Sent("read", started, status, headers.get("retry-after")))

    def _write(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            reference = f"W{n}-{i}-{uuid.uuid4().hex[:6]}"
            started = time.monotonic()
            try:
                status, headers, _ = self.person.send("/requests/new", {**CHILD, "child_reference": reference})
            except OSError:
                status, headers = 0, {}
            self.sent.append(Sent("write", started, status, headers.get("retry-after"), reference))

    def __enter__(self) -> Load:
        self.threads = [threading.Thread(target=self._read) for _ in range(self.readers)]
        self.threads += [threading.Thread(target=self._write, args=(n,)) for n in range(self.writers)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)


def references_saved(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(PlacementRequest.child_reference, func.count())
                            .group_by(PlacementRequest.child_reference)).all()
    engine.dispose()
    return dict(rows)


def signed_in_officer(url: str, base: str) -> Person:
    app = make_app(url)
    with app.app_context():
        officer = create_user("officer")
    app.extensions["portal_db"][0].dispose()
    return Person(base).sign_in(officer)


@pytest.mark.postgres
def test_postgres_restarted_under_load_answers_503_then_recovers_and_loses_nothing(own_postgres, tmp_path):
    url, cluster = own_postgres
    port, log = free_port(), tmp_path / "gunicorn.log"
    with gunicorn(port, log, gunicorn_env(url, tmp_path), "--workers", "2", "--threads", "4"):
        person = signed_in_officer(url, f"http://127.0.0.1:{port}")
        with Load(person) as load:
            time.sleep(1.5)
            down = time.monotonic()
            cluster.restart()
            up = time.monotonic()
            time.sleep(RECOVERY_SECONDS + 2)
    sent = load.sent
    statuses = sorted({s.status for s in sent})
    assert 0 not in statuses, "gunicorn kept answering"
    assert not [s for s in sent if s.status >= 500 and s.status != 503], statuses
    busy = [s for s in sent if s.status == 503]
    assert all(s.retry_after and s.retry_after.isdigit() for s in busy), "every 503 says when to try again"
    late = [s for s in sent if s.started > up + RECOVERY_SECONDS]
    assert late and all(s.status in (200, 302, 303) for s in late), \
        f"recovered within {RECOVERY_SECONDS} s of the restart: {[(round(s.started - up, 2), s.status) for s in late if s.status not in (200, 302, 303)]}"
    before = [s for s in sent if s.finished < down]
    assert before and all(s.status in (200, 302) for s in before), "a steady load, answered, before the restart"

    # No partial writes: a draft saved is one the person was told was saved, and only those were saved.
    saved = references_saved(url)
    writes = [s for s in sent if s.kind == "write"]
    for write in writes:
        expected = 1 if write.status == 302 else 0
        assert saved.get(write.reference, 0) == expected, (write, saved.get(write.reference))
    assert sum(saved.values()) == sum(1 for w in writes if w.status == 302)
    text = log.read_text()
    assert "Traceback" not in text and "Fatal Python error" not in text, text[-3000:]
    last_failure = max((s.finished - up for s in sent if s.status not in (200, 302, 303)), default=None)
    print(f"restart took {up - down:.2f} s; last failed answer {last_failure} s after it; {len(sent)} requests: "
          f"{ {code: sum(1 for s in sent if s.status == code) for code in statuses} }")


# ------------------------------------------------------------------------------------ a worker killed mid-request

WRITERS, KILLS, KILL_EVERY_S = 6, 3, 1.5


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's worker processes (its children), from /proc."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return pids


@dataclass
class Form:
    reference: str
    answers: list[int] = field(default_factory=list)  # every try's status, 0 for a dropped connection
    location: str = ""  # where the last answer led


def send_until_answered(person: Person, form: Form, deadline: float) -> None:
    """As a person (or their browser) does: when the connection drops or the service is busy, send the same form
    again, with the same one-time key, until it is answered."""
    key = uuid.uuid4().hex
    while time.monotonic() < deadline:
        try:
            status, headers, _ = person.send("/requests/new", {**CHILD, "child_reference": form.reference}, key=key)
            form.location = headers.get("location", "")
        except (OSError, http.client.HTTPException):
            status = 0
        form.answers.append(status)
        if status not in (0, 503):
            return
        time.sleep(0.2)


def test_a_worker_killed_mid_request_loses_nothing_and_saves_nothing_twice(database_url, db_session, tmp_path):
    port, log = free_port(), tmp_path / "gunicorn.log"
    env = {**gunicorn_env(database_url, tmp_path), "PORTAL_MAX_REQUESTS": "0"}
    with gunicorn(port, log, env, "--workers", "2", "--threads", "4") as server:
        person = signed_in_officer(database_url, f"http://127.0.0.1:{port}")
        forms: list[list[Form]] = [[] for _ in range(WRITERS)]
        deadline = time.monotonic() + 90
        killed: list[int] = []
        done = threading.Event()

        def write(mine: list[Form]) -> None:
            while not done.is_set():  # forms one after another, until the last kill has been recovered from
                form = Form(f"K{len(mine)}-{uuid.uuid4().hex[:8]}")
                mine.append(form)
                send_until_answered(person, form, deadline)

        def kill() -> None:
            for _ in range(KILLS):
                time.sleep(KILL_EVERY_S)
                live = worker_pids(server.pid)
                if live:
                    os.kill(live[0], signal.SIGKILL)  # mid-request: six writers keep both workers busy
                    killed.append(live[0])
            time.sleep(KILL_EVERY_S)
            done.set()

        threads = [threading.Thread(target=write, args=(mine,)) for mine in forms] + [threading.Thread(target=kill)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert len(killed) == KILLS
    every = [form for mine in forms for form in mine]
    assert all(form.answers and form.answers[-1] in (302, 303) for form in every), \
        [form.answers for form in every if not form.answers or form.answers[-1] not in (302, 303)]
    assert not [form for form in every if any(status >= 500 and status != 503 for status in form.answers)]
    db_session.expire_all()
    saved = dict(db_session.execute(select(PlacementRequest.child_reference, func.count())
                                    .group_by(PlacementRequest.child_reference)).all())
    assert {form.reference: saved.get(form.reference, 0) for form in every} == {form.reference: 1 for form in every}, \
        "every form saved exactly once: nothing lost, nothing twice"
    dropped = sum(form.answers.count(0) for form in every)
    replayed = sum(1 for form in every if form.answers[-1] == 303)
    lost_answers = sum(1 for form in every if form.answers[-1] == 303 and "/requests/" not in form.location)
    assert dropped >= 1, "a worker was killed while it had requests in flight"
    text = log.read_text()
    assert "Traceback" not in text and "Fatal Python error" not in text, text[-3000:]
    print(f"{len(every)} forms, {sum(len(f.answers) for f in every)} posts, {KILLS} workers killed: "
          f"{dropped} dropped connections, {replayed} answered with the first result "
          f"({lost_answers} of them saved but never answered: sent home)")


def test_a_worker_that_crashes_leaves_every_threads_stack_in_the_log_and_is_replaced(tmp_path, sqlite_template):
    """faulthandler is on in every worker (gunicorn.conf.py): a fatal signal (here SIGSEGV sent to a worker, as a
    crash in a C extension would raise it) writes each thread's Python stack to the log before the worker dies,
    and gunicorn starts another in its place."""
    database = tmp_path / "portal.sqlite3"
    shutil.copyfile(sqlite_template, database)
    port, log = free_port(), tmp_path / "gunicorn.log"
    with gunicorn(port, log, gunicorn_env(f"sqlite:///{database}", tmp_path), "--workers", "1", "--threads", "2") as server:
        [worker] = worker_pids(server.pid)
        os.kill(worker, signal.SIGSEGV)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and log.read_text().count("Booting worker") < 2:
            time.sleep(0.2)
        assert fetch_status(port) == 200, "a new worker serves"
    text = log.read_text()
    assert "Fatal Python error: Segmentation fault" in text
    assert re.search(r"(Current thread|Thread) 0x[0-9a-f]+", text), "with the threads' stacks"
    assert "gunicorn/workers/gthread.py" in text, "naming the code each thread was in"


def fetch_status(port: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            return fetch(f"http://127.0.0.1:{port}/health/live")[0]
        except OSError:
            time.sleep(0.2)
    return 0
