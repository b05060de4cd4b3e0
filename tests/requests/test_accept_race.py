"""Accepting is safe under concurrency on SQLite and PostgreSQL: real concurrent requests race for one place.

Each thread is a different officer session accepting a different child's offer for the same one-place vacancy.
Exactly one wins; every other gets a clear "no longer available" (409) and nothing of theirs is saved.
"""

import threading

from sqlalchemy import func, select

from portal.models import Offer, Placement, PlacementRequest, Vacancy
from tests.conftest import signed_in_clients
from tests.factories import create_offer, create_provider, create_referral, create_request, create_setting, create_user, create_vacancy

RACERS = 6


def test_one_place_cannot_be_accepted_twice(app, db_session):
    officer = create_user("officer")
    provider = create_provider()
    vacancy = create_vacancy(create_setting(provider), places=1)
    pairs = []
    for n in range(RACERS):
        req = create_request(officer, first_name=f"Child{n}")
        pairs.append((req.id, create_offer(create_referral(req, provider), vacancy).id))

    clients = signed_in_clients(app, officer, RACERS)

    barrier = threading.Barrier(RACERS)
    statuses: list[int] = [0] * RACERS

    def race(i: int) -> None:
        request_id, offer_id = pairs[i]
        barrier.wait()
        statuses[i] = clients[i].post(f"/requests/{request_id}/offers/{offer_id}/accept").status_code

    threads = [threading.Thread(target=race, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(statuses) == [302] + [409] * (RACERS - 1), statuses
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Placement)) == 1
    assert db_session.scalar(select(func.count()).select_from(Offer).where(Offer.status == "accepted")) == 1
    booked = db_session.get(Vacancy, vacancy.id)
    assert (booked.places_taken, booked.status) == (1, "filled")
    placed = db_session.scalars(select(PlacementRequest).where(PlacementRequest.status == "placed")).all()
    assert len(placed) == 1


def test_two_place_vacancy_takes_exactly_two(app, db_session):
    officer = create_user("officer")
    provider = create_provider()
    vacancy = create_vacancy(create_setting(provider, registered_places=2), places=2)
    pairs = []
    for n in range(4):
        req = create_request(officer, first_name=f"Kid{n}")
        pairs.append((req.id, create_offer(create_referral(req, provider), vacancy).id))
    clients = signed_in_clients(app, officer, len(pairs))
    barrier = threading.Barrier(len(pairs))
    statuses = [0] * len(pairs)

    def race(i):
        barrier.wait()
        statuses[i] = clients[i].post(f"/requests/{pairs[i][0]}/offers/{pairs[i][1]}/accept").status_code

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(pairs))]
    [t.start() for t in threads]
    [t.join(timeout=60) for t in threads]
    assert sorted(statuses) == [302, 302, 409, 409]
    db_session.expire_all()
    booked = db_session.get(Vacancy, vacancy.id)
    assert (booked.places_taken, booked.status) == (2, "filled")


def test_two_offers_for_one_child_accepted_at_once_place_the_child_once(app, db_session):
    """Two officers accept two providers' offers for the same child at the same moment, for several children in
    turn: each child is placed once, the other officer gets a clear 409 (on PostgreSQL this was a deadlock between
    the two offers' row locks, answered 500)."""
    officer = create_user("officer")
    rounds = []
    for n in range(ROUNDS):
        req = create_request(officer, first_name=f"Child{n}")
        offers = []
        for name in ("Arden", "Briar"):
            provider = create_provider(name=f"{name} Fostering {n}")
            offers.append(create_offer(create_referral(req, provider), create_vacancy(create_setting(provider))).id)
        rounds.append((req.id, offers))
    clients = signed_in_clients(app, officer, 2)
    outcomes = []
    for request_id, offers in rounds:
        barrier = threading.Barrier(2)
        statuses = [0, 0]

        def race(i, request_id=request_id, offers=offers, barrier=barrier, statuses=statuses):
            barrier.wait()
            statuses[i] = clients[i].post(f"/requests/{request_id}/offers/{offers[i]}/accept").status_code

        threads = [threading.Thread(target=race, args=(i,)) for i in range(2)]
        [t.start() for t in threads]
        [t.join(timeout=60) for t in threads]
        outcomes.append(sorted(statuses))
    assert outcomes == [[302, 409]] * ROUNDS, outcomes
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Placement)) == ROUNDS
    assert db_session.scalar(select(func.count()).select_from(Offer).where(Offer.status == "accepted")) == ROUNDS
    assert sum(v.places_taken for v in db_session.scalars(select(Vacancy))) == ROUNDS


ROUNDS = 8
