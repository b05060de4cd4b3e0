"""Faults under load, through real gunicorn workers over HTTP (issue 16 §3).

* PostgreSQL restarted under load (`pg_ctl restart -m fast` of a throwaway cluster this test starts): requests in
  flight are answered 503 with Retry-After, never 500; within 5 s of the restart every request is answered again;
  every write is either saved whole (its answer said so) or not at all (its answer said it failed).
* A gunicorn worker killed (`kill -9`) in the middle of requests, on SQLite and PostgreSQL: the client sees a
  dropped connection and sends the same form again with the same one-time key; it then gets the first result
  (303) or a clean save, and every form is saved exactly once: nothing committed is lost, nothing saved twice,
  nothing saved that the person was told had failed.
"""

from __future__ import annotations

import os
import pwd
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
from tests.conftest import free_port, make_app, postgres_only, require
from tests.factories import create_user
from tests.requests.helpers import date_fields
from tests.test_races_over_http import Person, gunicorn_env
from tests.test_serving import gunicorn

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
