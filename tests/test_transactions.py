"""The unit of work on both databases: reads never wait for writers (SQLite), a writer that cannot get the lock
in time gets a 503 with Retry-After and saves nothing, concurrent writers queue, and a PostgreSQL deadlock between
two accepts ends as one success and one clear 409, never a 500."""

from __future__ import annotations

import sqlite3
from datetime import date
import threading

import pytest
from sqlalchemy import func, select

from portal.models import Offer, Placement, PlacementRequest
from tests.conftest import signed_in_clients
from tests.factories import create_offer, create_provider, create_referral, create_request, create_setting, create_user, create_vacancy


def _signed_in(app, user):
    return signed_in_clients(app, user)[0]


# SQLite's write lock: these tests run on SQLite only (PostgreSQL readers never wait for writers anyway).
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _sqlite_path(app) -> str:
    url = app.config["DATABASE_URL"]
    assert url.startswith("sqlite")
    return url.removeprefix("sqlite:///")


def _short_busy_timeout(app, milliseconds: int) -> None:
    """Rebuild the app's engine with a short SQLite busy timeout, so a request that waits for the lock fails fast."""
    from sqlalchemy.orm import sessionmaker

    from portal.db import make_engine
    from portal.unit_of_work import guard_writes

    app.extensions["portal_db"][0].dispose()
    engine = make_engine(app.config["DATABASE_URL"], busy_timeout_ms=milliseconds)
    app.extensions["portal_db"] = (engine, sessionmaker(bind=engine, expire_on_commit=False))
    guard_writes(app.extensions["portal_db"][1])


class HeldWriteLock:
    """Another connection in the middle of a write transaction: it holds SQLite's write lock until released."""

    def __init__(self, path: str):
        self.connection = sqlite3.connect(path, isolation_level=None, timeout=5)

    def __enter__(self):
        self.connection.execute("BEGIN IMMEDIATE")
        self.connection.execute("UPDATE options_version SET version = version WHERE id = 1")
        return self

    def __exit__(self, *exc):
        self.connection.execute("ROLLBACK")
        self.connection.close()


@sqlite_only
def test_a_read_only_page_answers_while_another_connection_holds_the_write_lock(app, db_session):
    path = _sqlite_path(app)
    officer = create_user("officer")
    create_request(officer, first_name="Amara")
    client = _signed_in(app, officer)
    # A page that waited for the writer would wait the whole busy timeout and fail (503); this one must not wait.
    _short_busy_timeout(app, 500)
    with HeldWriteLock(path):
        page = client.get("/requests/")
        assert page.status_code == 200
        assert "Amara" in page.get_data(as_text=True)


@sqlite_only
def test_a_writer_that_cannot_get_the_lock_in_time_gets_503_and_saves_nothing(app, db_session):
    path = _sqlite_path(app)
    officer = create_user("officer")
    provider = create_provider()
    req = create_request(officer)
    offer = create_offer(create_referral(req, provider), create_vacancy(create_setting(provider)))
    client = _signed_in(app, officer)
    _short_busy_timeout(app, 300)
    with HeldWriteLock(path):
        busy = client.post(f"/requests/{req.id}/offers/{offer.id}/shortlist")
    assert busy.status_code == 503
    assert busy.headers["Retry-After"].isdigit()
    assert "Nothing you entered has been saved" in busy.get_data(as_text=True)
    assert "database is locked" not in busy.get_data(as_text=True)
    assert db_session.get(Offer, offer.id).status == "made"
    # Once the other writer has finished, the same post goes through.
    assert client.post(f"/requests/{req.id}/offers/{offer.id}/shortlist").status_code == 302
    db_session.expire_all()
    assert db_session.get(Offer, offer.id).status == "shortlisted"


WRITERS = 8


def test_eight_concurrent_writers_queue_and_all_succeed(app, db_session):
    """On SQLite they queue on the busy timeout; on PostgreSQL they run side by side. No 500, nothing lost."""
    officer = create_user("officer")
    provider = create_provider()
    offers = []
    for n in range(WRITERS):
        req = create_request(officer, first_name=f"Child{n}")
        offers.append((req.id, create_offer(create_referral(req, provider),
                                            create_vacancy(create_setting(provider, name=f"Home {n}"))).id))
    clients = signed_in_clients(app, officer, WRITERS)
    barrier = threading.Barrier(WRITERS)
    statuses = [0] * WRITERS

    def write(i: int) -> None:
        request_id, offer_id = offers[i]
        barrier.wait()
        statuses[i] = clients[i].post(f"/requests/{request_id}/offers/{offer_id}/shortlist").status_code

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    [t.start() for t in threads]
    [t.join(timeout=60) for t in threads]
    assert statuses == [302] * WRITERS
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Offer).where(Offer.status == "shortlisted")) == WRITERS


ROUNDS = 4


def test_two_offers_for_one_child_accepted_at_once_end_as_one_success_and_one_409(app, db_session):
    """The one-accepted-offer index against the update marking the other offers "not chosen" can deadlock on
    PostgreSQL: the loser is retried by the unit of work, finds the child placed, and answers 409."""
    officer = create_user("officer")
    provider = create_provider()
    rounds = []
    for n in range(ROUNDS):
        req = create_request(officer, first_name=f"Twin{n}")
        referral = create_referral(req, provider)
        first = create_offer(referral, create_vacancy(create_setting(provider, name=f"North {n}")))
        second = create_offer(referral, create_vacancy(create_setting(provider, name=f"South {n}")))
        rounds.append((req.id, first.id, second.id))
    clients = signed_in_clients(app, officer, 2)
    for request_id, *offer_ids in rounds:
        barrier = threading.Barrier(2)
        statuses = [0, 0]
        pages = ["", ""]

        def accept(i: int) -> None:
            barrier.wait()
            response = clients[i].post(f"/requests/{request_id}/offers/{offer_ids[i]}/accept")
            statuses[i], pages[i] = response.status_code, response.get_data(as_text=True)

        threads = [threading.Thread(target=accept, args=(i,)) for i in range(2)]
        [t.start() for t in threads]
        [t.join(timeout=60) for t in threads]
        assert sorted(statuses) == [302, 409], statuses
        loser = pages[statuses.index(409)]
        assert "Nothing has been saved" in loser
        db_session.rollback()  # a fresh snapshot for each round's checks
        assert db_session.scalar(select(func.count()).select_from(Placement)
                                 .where(Placement.request_id == request_id)) == 1
        assert db_session.scalar(select(func.count()).select_from(Offer)
                                 .where(Offer.request_id == request_id, Offer.status == "accepted")) == 1
        assert db_session.get(PlacementRequest, request_id).status == "placed"


def test_a_unique_violation_on_a_known_constraint_is_a_409_and_any_other_integrity_error_is_not_hidden(app, db_session):
    from sqlalchemy.exc import IntegrityError

    from portal.db import db
    from portal.models import Referral, Vacancy
    from portal.unit_of_work import unit_of_work

    officer = create_user("officer")
    provider = create_provider()
    req = create_request(officer)
    create_referral(req, provider)
    setting = create_setting(provider)
    with app.app_context():
        with unit_of_work() as work:
            db.session.add(Referral(request_id=req.id, provider_id=provider.id, sent_by_id=officer.id))
        assert work.status == 409
        assert work.message == "The referral has already been sent to this provider. Nothing has been saved"
        with pytest.raises(IntegrityError):  # a broken CHECK is a bug, not a race: it is not turned into a 409
            with unit_of_work():
                db.session.add(Vacancy(setting_id=setting.id, places=0, fee_gbp_week=100, status="open",
                                       available_from=date.today()))
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Referral)) == 1


def _lost_connection():
    from sqlalchemy.exc import OperationalError

    return OperationalError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True)


def test_a_page_whose_connection_dies_is_read_again_then_answered_503_never_500(app, db_session, monkeypatch):
    """A lost connection under a page's reads: run again on a fresh connection twice (a restart that short costs
    a second), then the busy page with Retry-After; a form post is never run again (its key makes a retry safe)."""
    import portal.requests.queries as queries
    import portal.unit_of_work as uow

    officer = create_user("officer")
    create_request(officer, first_name="Amara")
    client = _signed_in(app, officer)
    real = queries.list_requests_for_officer
    calls = []
    monkeypatch.setattr(uow, "READ_AGAIN_PAUSES_S", (0.01, 0.01))

    def dies(times):
        def list_requests(*args, **kwargs):
            calls.append(1)
            if len(calls) <= times:
                raise _lost_connection()
            return real(*args, **kwargs)
        return list_requests

    monkeypatch.setattr(queries, "list_requests_for_officer", dies(2))
    page = client.get("/requests/")
    assert (page.status_code, len(calls)) == (200, 3) and "Amara" in page.get_data(as_text=True)

    calls.clear()
    monkeypatch.setattr(queries, "list_requests_for_officer", dies(10))
    busy = client.get("/requests/")
    assert (busy.status_code, len(calls)) == (503, 3), "read twice more, no more"
    assert busy.headers["Retry-After"].isdigit() and "Nothing you entered has been saved" in busy.get_data(as_text=True)

    calls.clear()
    busy = client.post("/requests/", data={"q": "Amara"})  # the filter form: a post, so not run again
    assert (busy.status_code, len(calls)) == (503, 1)


# ------------------------------------------------------------------------------------ bounded requests

def test_a_request_past_its_deadline_gets_503_and_saves_nothing(app, db_session, monkeypatch):
    """A request still running after REQUEST_DEADLINE_SECONDS issues no further statement: 503 with Retry-After,
    rolled back, the error page still drawn (it may read the database), and the next request served as usual."""
    import time

    from portal.requests import services

    officer = create_user("officer")
    provider = create_provider()
    req = create_request(officer)
    offer = create_offer(create_referral(req, provider), create_vacancy(create_setting(provider)))
    client = _signed_in(app, officer)
    app.config["REQUEST_DEADLINE_SECONDS"] = 0.3
    real = services.shortlist_offer

    def slow_shortlist(*args, **kwargs):
        real(*args, **kwargs)  # the change is made (flushed) ...
        time.sleep(0.4)  # ... then the request runs past its deadline before it commits
        from portal.db import db

        db.session.flush()
        db.session.execute(select(func.count()).select_from(Offer))

    monkeypatch.setattr(services, "shortlist_offer", slow_shortlist)
    started = time.monotonic()
    late = client.post(f"/requests/{req.id}/offers/{offer.id}/shortlist")
    assert late.status_code == 503 and late.headers["Retry-After"].isdigit()
    assert "Nothing you entered has been saved" in late.get_data(as_text=True)
    assert time.monotonic() - started < 5
    db_session.expire_all()
    assert db_session.get(Offer, offer.id).status == "made"
    monkeypatch.setattr(services, "shortlist_offer", real)
    assert client.post(f"/requests/{req.id}/offers/{offer.id}/shortlist").status_code == 302
    db_session.expire_all()
    assert db_session.get(Offer, offer.id).status == "shortlisted"


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_statement_past_the_postgresql_statement_timeout_is_cancelled_and_answered_503(database_url, monkeypatch):
    """DB_STATEMENT_TIMEOUT_MS is every PostgreSQL session's statement_timeout: the server cancels a statement that
    runs longer (SQLSTATE 57014) and the page is a 503 with Retry-After, not a 500 after a minute."""
    import time

    from sqlalchemy import text

    from portal import create_app
    from portal.db import db
    from portal.requests import queries
    from tests.conftest import TEST_PASSWORD_HASHING

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "WTF_CSRF_ENABLED": False, "DB_STATEMENT_TIMEOUT_MS": 200, **TEST_PASSWORD_HASHING})
    try:
        with app.app_context():
            assert db.session.scalar(text("SHOW statement_timeout")) == "200ms"
            officer = create_user("officer")
            create_request(officer)
            client = _signed_in(app, officer)
        real = queries.list_requests_for_officer

        def slow_list(*args, **kwargs):
            db.session.execute(text("SELECT pg_sleep(2)"))
            return real(*args, **kwargs)

        monkeypatch.setattr(queries, "list_requests_for_officer", slow_list)
        started = time.monotonic()
        page = client.get("/requests/")
        assert page.status_code == 503 and page.headers["Retry-After"].isdigit()
        assert time.monotonic() - started < 1.5, "cancelled by the server, not left to run"
        monkeypatch.setattr(queries, "list_requests_for_officer", real)
        assert client.get("/requests/").status_code == 200
    finally:
        app.extensions["portal_db"][0].dispose()
