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
