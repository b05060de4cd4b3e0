"""Races through real gunicorn workers over HTTP, on SQLite and PostgreSQL (issue 16 §1): every state change that
must happen once happens once, the loser gets a clear 409 page that keeps what they typed, and nothing answers 5xx.

One gunicorn (2 worker processes × 4 threads, gunicorn.conf.py as production runs it) serves a test database;
people sign in over HTTP with their password and security code, then post at the same moment from many threads:

* many one-place vacancies, each raced by two children's accepts; a three-place vacancy raced by six accepts;
* one child's two offers (two providers) accepted at once; a sibling group's two offers accepted at once, from
  each child's page;
* two people of one provider offering the same vacancy at once; one provider's double click (one form key);
  two providers offering for one child at once (both stand);
* referrals sent twice at once; an agreement signed twice at once (and by both sides at once); a provider approved
  by two administrators at once; a vacancy confirmed twice at once.

The database is read afterwards: places never overbooked, one accepted offer and one placement per child, every
answer 302/303 or a 409 with its message, and the gunicorn log free of tracebacks and crashed workers.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from portal.db import db
from portal.models import AuditEvent, Offer, Placement, PlacementAgreement, PlacementRequest, Provider, Referral, Vacancy
from portal.placement_records import create_agreement
from portal.requests.services import accept_offer, link_sibling
from tests.conftest import free_port, totp_code
from tests.factories import (
    TEST_MFA_SECRET,
    create_offer,
    create_provider,
    create_referral,
    create_request,
    create_setting,
    create_user,
    create_vacancy,
)
from tests.test_serving import Browser, _token, gunicorn

SINGLE_PLACE_VACANCIES = 12  # each raced by two children: 24 accepts
MULTI_PLACES, MULTI_RACERS = 3, 6
TWO_OFFER_ROUNDS = 4  # children, each with two providers' offers accepted at once


def gunicorn_env(database_url: str, tmp_path) -> dict[str, str]:
    return {"PORTAL_ENV": "development", "DATABASE_URL": database_url, "PORTAL_INSTANCE_DIR": str(tmp_path),
            "SECRET_KEY": secrets.token_urlsafe(48), "PORTAL_ARGON2_TIME_COST": "1",
            "PORTAL_ARGON2_MEMORY_KIB": "1024", "PORTAL_ARGON2_PARALLELISM": "1", "PYTHONFAULTHANDLER": "1",
            "PORTAL_ACCESS_LOG": ""}


class Person(Browser):
    """One signed-in person over HTTP (their session cookie and CSRF token); safe to share between threads."""

    def sign_in(self, user) -> Person:
        status, _headers, body = self.get("/sign-in")
        assert status == 200
        status, headers, _ = self.post("/sign-in", {"email": user.email, "password": "password",
                                                    "csrf_token": _token(body)})
        assert status == 302 and headers["location"].endswith("/sign-in/security-code"), status
        _status, _headers, body = self.get("/sign-in/security-code")
        code = totp_code(TEST_MFA_SECRET, fresh=True, key=user.email)
        status, headers, _ = self.post("/sign-in/security-code", {"code": code, "csrf_token": _token(body)})
        assert status == 302, status
        status, _headers, body = self.get(headers["location"].removeprefix(self.base))
        assert status == 200, status
        self.csrf = _token(body)
        return self

    def send(self, path: str, fields: dict | None = None, *, key: str | None = None) -> tuple[int, dict, str]:
        """Post a form as its page would: the CSRF token, and a one-time form key (a new one unless given)."""
        form = [(name, item) for name, value in (fields or {}).items()
                for item in (value if isinstance(value, list) else [value])]  # a list: a field sent more than once
        return self.post(path, [*form, ("csrf_token", self.csrf), ("form_key", key or secrets.token_urlsafe(18))])


@dataclass
class Answer:
    status: int
    location: str
    body: str


def race(posts: list) -> list[Answer]:
    """Send every post at the same moment (one thread each, released together); their answers in order."""
    answers: list[Answer | None] = [None] * len(posts)
    barrier = threading.Barrier(len(posts))
    failures: list[BaseException] = []

    def run(i: int) -> None:
        person, path, fields, key = posts[i]
        try:
            barrier.wait(30)
            status, headers, body = person.send(path, fields, key=key)
            answers[i] = Answer(status, headers.get("location", ""), body)
        except BaseException as error:  # noqa: BLE001 - reported below, with the others
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not failures, failures
    return answers


def statuses(answers: list[Answer]) -> list[int]:
    return sorted(answer.status for answer in answers)


def losers(answers: list[Answer]) -> list[Answer]:
    return [answer for answer in answers if answer.status == 409]


def build_region():
    """The people and records the races are about (committed before gunicorn starts)."""
    officers = [create_user("officer", name=f"Olive Officer {n}") for n in range(2)]
    admins = [create_user("admin", la_code=None, name=f"Hana Hub {n}") for n in range(2)]
    providers = [create_provider(name=f"Arden Fostering {n}") for n in range(2)]
    provider_people = [create_user("provider", provider=providers[0], provider_role=role, name=f"Ada {role}")
                       for role in ("admin", "manager")] + [
        create_user("provider", provider=providers[1], provider_role="admin", name="Rhys Rival")]
    world = {"officers": officers, "admins": admins, "providers": providers, "provider_people": provider_people}

    # Many one-place vacancies, each offered to two children.
    singles = []
    for n in range(SINGLE_PLACE_VACANCIES):
        vacancy = create_vacancy(create_setting(providers[0], name=f"Single {n}", registered_places=1), places=1)
        pair = []
        for m in range(2):
            child = create_request(officers[m], first_name=f"Single{n}x{m}")
            pair.append((child.id, create_offer(create_referral(child, providers[0]), vacancy).id))
        singles.append((vacancy.id, pair))
    world["singles"] = singles

    multi = create_vacancy(create_setting(providers[0], name="Big house", registered_places=MULTI_PLACES),
                           places=MULTI_PLACES)
    world["multi"] = (multi.id, [
        (child.id, create_offer(create_referral(child, providers[0]), multi).id)
        for child in (create_request(officers[n % 2], first_name=f"Multi{n}") for n in range(MULTI_RACERS))])

    two_offers = []
    for n in range(TWO_OFFER_ROUNDS):
        child = create_request(officers[0], first_name=f"Twice{n}")
        two_offers.append((child.id, [
            create_offer(create_referral(child, provider),
                         create_vacancy(create_setting(provider, name=f"Twice {n} at {provider.name}"))).id
            for provider in providers]))
    world["two_offers"] = two_offers

    sister = create_request(officers[0], first_name="Sister", age=12)
    brother = create_request(officers[0], first_name="Brother", age=10, sex="male")
    link_sibling(officers[0], sister, brother, together=True)
    db.session.commit()
    group_offers = [create_offer(create_referral(sister, provider),
                                 create_vacancy(create_setting(provider, name=f"Siblings at {provider.name}",
                                                               registered_places=2), places=2)).id
                    for provider in providers]
    world["siblings"] = (sister.id, brother.id, group_offers)

    # Offers to be made: one referral answered by two people of provider 0 at once, one double click, and one child
    # whom both providers answer at once.
    offer_vacancies = [create_vacancy(create_setting(provider, name=f"Offer home {provider.name}")) for provider in providers]
    world["offer_vacancies"] = [v.id for v in offer_vacancies]
    world["offer_referrals"] = {
        "two_people": create_referral(create_request(officers[0], first_name="Offered"), providers[0]).id,
        "double_click": create_referral(create_request(officers[0], first_name="Clicked"), providers[0]).id,
    }
    both = create_request(officers[0], first_name="Both")
    world["offer_referrals"]["both"] = [create_referral(both, provider).id for provider in providers]
    world["offer_both_request"] = both.id

    child = create_request(officers[0], first_name="DoubleAccept")
    world["double_accept"] = (child.id, create_offer(create_referral(child, providers[0]), create_vacancy(
        create_setting(providers[0], name="Double accept"))).id)

    world["refer"] = create_request(officers[0], first_name="Referred").id

    agreements = []
    for n in range(2):
        child = create_request(officers[0], first_name=f"Agreed{n}")
        offer = create_offer(create_referral(child, providers[0]),
                             create_vacancy(create_setting(providers[0], name=f"Agreed home {n}")))
        placement = accept_offer(officers[0], child, offer)
        create_agreement(placement, child, offer, user=officers[0])
        db.session.commit()
        agreements.append(placement.id)
    world["agreements"] = agreements

    world["applicant"] = create_provider(name="Newfield Homes", status="pending").id
    world["confirm"] = create_vacancy(create_setting(providers[0], name="Confirmed home")).id
    return world


def count(db_session, model, *where) -> int:
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_races_through_real_gunicorn_workers_end_in_one_success_and_clear_answers(database_url, db_session, tmp_path):
    world = build_region()
    port, log = free_port(), tmp_path / "gunicorn.log"
    all_answers: list[Answer] = []
    with gunicorn(port, log, gunicorn_env(database_url, tmp_path), "--workers", "2", "--threads", "4"):
        base = f"http://127.0.0.1:{port}"
        officer_a, officer_b = (Person(base).sign_in(user) for user in world["officers"])
        admin_a, admin_b = (Person(base).sign_in(user) for user in world["admins"])
        ada_admin, ada_manager, rival = (Person(base).sign_in(user) for user in world["provider_people"])
        officers = (officer_a, officer_b)

        def accept(person, request_id, offer_id, key=None):
            return (person, f"/requests/{request_id}/offers/{offer_id}/accept", {}, key)

        # Many one-place vacancies, each raced by two children's accepts (all at once: the pairs interleave).
        posts = [accept(officers[m], request_id, offer_id)
                 for _vacancy, pair in world["singles"] for m, (request_id, offer_id) in enumerate(pair)]
        answers = race(posts)
        all_answers += answers
        for n in range(SINGLE_PLACE_VACANCIES):
            assert statuses(answers[2 * n:2 * n + 2]) == [302, 409], [a.status for a in answers]
        assert all("no longer" in a.body or "Nothing has been saved" in a.body for a in losers(answers))

        # A three-place vacancy raced by six accepts.
        vacancy_id, racers = world["multi"]
        answers = race([accept(officers[n % 2], rid, oid) for n, (rid, oid) in enumerate(racers)])
        all_answers += answers
        assert statuses(answers) == [302] * MULTI_PLACES + [409] * (MULTI_RACERS - MULTI_PLACES)

        # One child's two offers accepted at once, by two officers, for several children at once.
        answers = race([accept(officers[m], rid, offers[m]) for rid, offers in world["two_offers"] for m in range(2)])
        all_answers += answers
        for n in range(TWO_OFFER_ROUNDS):
            assert statuses(answers[2 * n:2 * n + 2]) == [302, 409]

        # A sibling group's two offers accepted at once, one from each child's page.
        sister, brother, group_offers = world["siblings"]
        answers = race([accept(officer_a, sister, group_offers[0]), accept(officer_b, brother, group_offers[1])])
        all_answers += answers
        assert statuses(answers) == [302, 409]

        # A double click on "accept": one form key twice; the copy gets the first answer again.
        key = secrets.token_urlsafe(18)
        answers = race([accept(officer_a, *world["double_accept"], key)] * 2)
        all_answers += answers
        assert statuses(answers) == [302, 303] and answers[0].location == answers[1].location, answers

        # Offers: two people of one provider offer the same vacancy for one child at once; a double click; two
        # providers answering one child at once (both offers stand).
        mine, theirs = world["offer_vacancies"]
        referral = world["offer_referrals"]["two_people"]
        answers = race([(person, f"/provider/referrals/{referral}",
                         {"vacancy_id": mine, "message": f"We can start on Monday ({n})"}, None)
                        for n, person in enumerate((ada_admin, ada_manager))])
        all_answers += answers
        assert statuses(answers) == [302, 409], [(a.status, re.findall(r"govuk-error-message[^<]*<[^>]*>([^<]*)", a.body)) for a in answers]
        loser = losers(answers)[0]
        assert "already offered this vacancy" in loser.body and "We can start on Monday" in loser.body, \
            "the loser's page says why and keeps the message they typed"

        referral = world["offer_referrals"]["double_click"]
        key = secrets.token_urlsafe(18)
        answers = race([(ada_admin, f"/provider/referrals/{referral}", {"vacancy_id": mine, "message": "Hello"}, key)] * 2)
        all_answers += answers
        assert statuses(answers) == [302, 303]

        first, second = world["offer_referrals"]["both"]
        answers = race([(ada_admin, f"/provider/referrals/{first}", {"vacancy_id": mine}, None),
                        (rival, f"/provider/referrals/{second}", {"vacancy_id": theirs}, None)])
        all_answers += answers
        assert statuses(answers) == [302, 302]

        # Referrals sent twice at once (two tabs): each provider gets one referral.
        refer = world["refer"]
        provider_ids = [p.id for p in world["providers"]]
        answers = race([(officer_a, f"/requests/{refer}/referrals", {"providers": provider_ids}, None)] * 2)
        all_answers += answers
        assert 302 in statuses(answers) and set(statuses(answers)) <= {302, 409}, statuses(answers)

        # An agreement signed twice at once by the officer; another by both sides at once.
        twice, both_sides = world["agreements"]
        name = world["officers"][0].name
        answers = race([(officer_a, f"/placements/{twice}/sign", {"full_name": name}, None)] * 2)
        all_answers += answers
        assert statuses(answers) == [302, 409]
        loser = losers(answers)[0]
        assert "already been signed" in loser.body, re.findall(r"govuk-error-summary__list.*?</ul>", loser.body, re.S)
        assert name in loser.body, "and shows the signature that stands (their side is signed: no form is left)"
        answers = race([(officer_a, f"/placements/{both_sides}/sign", {"full_name": name}, None),
                        (ada_admin, f"/placements/{both_sides}/sign", {"full_name": world["provider_people"][0].name}, None)])
        all_answers += answers
        assert statuses(answers) == [302, 302]

        # A provider approved by two administrators at once.
        applicant = world["applicant"]
        answers = race([(admin, f"/admin/providers/{applicant}/decision",
                         {"decision": "approve", "reason": f"Registration checked by {n}"}, None)
                        for n, admin in enumerate((admin_a, admin_b))])
        all_answers += answers
        assert statuses(answers) == [302, 409]
        assert "already been decided" in losers(answers)[0].body and "Registration checked by" in losers(answers)[0].body

        # A vacancy confirmed twice at once: both are told it is confirmed (it is, once or twice: the same state).
        answers = race([(ada_admin, f"/provider/vacancies/{world['confirm']}/confirm", {}, None),
                        (ada_manager, f"/provider/vacancies/{world['confirm']}/confirm", {}, None)])
        all_answers += answers
        assert statuses(answers) == [302, 302]

    assert all(answer.status < 500 for answer in all_answers), Counter(a.status for a in all_answers)

    # What the database says, read after every answer.
    db_session.expire_all()
    for vacancy in db_session.scalars(select(Vacancy)):
        assert 0 <= vacancy.places_taken <= vacancy.places, "no vacancy is overbooked"
        booked = db_session.scalar(select(func.count()).select_from(Placement).join(Offer, Offer.id == Placement.offer_id)
                                   .where(Offer.vacancy_id == vacancy.id))
        assert vacancy.places_taken == booked, "every place taken is a placement, and every placement took one"
    for vacancy_id, _pair in world["singles"]:
        assert db_session.get(Vacancy, vacancy_id).places_taken == 1
    assert db_session.get(Vacancy, world["multi"][0]).places_taken == MULTI_PLACES
    for request in db_session.scalars(select(PlacementRequest)):
        accepted = count(db_session, Offer, Offer.request_id == request.id, Offer.status == "accepted")
        placements = count(db_session, Placement, Placement.request_id == request.id)
        assert accepted <= 1 and placements <= 1, "one accepted offer and one placement per child"
        assert (request.status == "placed") == (placements == 1)
    sister, brother, group_offers = world["siblings"]
    placed = db_session.scalars(select(Placement).where(Placement.request_id.in_((sister, brother)))).all()
    assert len(placed) == 2 and len({p.offer_id for p in placed}) == 1, "the brother and sister placed together"
    assert count(db_session, Offer, Offer.referral_id == world["offer_referrals"]["two_people"]) == 1
    assert count(db_session, Offer, Offer.referral_id == world["offer_referrals"]["double_click"]) == 1
    assert count(db_session, Offer, Offer.request_id == world["offer_both_request"]) == 2
    assert count(db_session, Referral, Referral.request_id == world["refer"]) == 2
    twice = db_session.scalars(select(PlacementAgreement).where(PlacementAgreement.placement_id == world["agreements"][0])).one()
    assert twice.officer_signed_at is not None and twice.locked_at is None
    both = db_session.scalars(select(PlacementAgreement).where(PlacementAgreement.placement_id == world["agreements"][1])).one()
    assert both.officer_signed_at and both.provider_signed_at and both.locked_at, "both signatures kept, and locked"
    assert db_session.get(Provider, world["applicant"]).status == "approved"
    assert count(db_session, AuditEvent, AuditEvent.action == "approve_provider") == 1, "approved once"

    text = log.read_text()
    assert "Traceback" not in text and "Fatal Python error" not in text, text[-3000:]
    assert "was sent SIGSEGV" not in text and "WORKER TIMEOUT" not in text
