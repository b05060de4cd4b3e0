"""One-time form keys (issue 16 §2): a double click or a browser retry saves once and returns the first result;
the same key with other answers is refused (422); a submission that failed lets its key go."""

from __future__ import annotations

import re
import threading
from datetime import date

from sqlalchemy import func, select

from portal.models import FormSubmission, Offer, PlacementRequest
from tests.conftest import signed_in_clients
from tests.factories import create_offer, create_provider, create_referral, create_request, create_setting, create_user, create_vacancy
from tests.requests.helpers import date_fields

CHILD = {"child_reference": "COV-77", "first_name": "Amara", "last_name": "Okafor", "sex": "female",
         **date_fields("date_of_birth", date(2015, 4, 1))}


def form_key(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="form_key"[^>]*value="([^"]+)"', page).group(1)


def drafts(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(PlacementRequest))


def test_the_same_form_sent_twice_saves_once_and_answers_with_the_first_result(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    key = form_key(client, "/requests/new")
    first = client.post("/requests/new", data={**CHILD, "form_key": key})
    assert first.status_code == 302
    again = client.post("/requests/new", data={**CHILD, "form_key": key})
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert drafts(db_session) == 1


def test_the_same_key_with_other_answers_is_refused_and_saves_nothing(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    key = form_key(client, "/requests/new")
    assert client.post("/requests/new", data={**CHILD, "form_key": key}).status_code == 302
    other = client.post("/requests/new", data={**CHILD, "first_name": "Zara", "form_key": key})
    assert other.status_code == 422 and "already sent" in other.get_data(as_text=True)
    assert drafts(db_session) == 1


def test_a_submission_that_failed_lets_its_key_go(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    key = form_key(client, "/requests/new")
    bad = client.post("/requests/new", data={**CHILD, "last_name": "", "form_key": key})
    assert bad.status_code == 422 and key in bad.get_data(as_text=True)  # the page keeps the key it was given
    assert db_session.scalar(select(func.count()).select_from(FormSubmission)) == 0
    assert client.post("/requests/new", data={**CHILD, "form_key": key}).status_code == 302
    assert drafts(db_session) == 1


def test_a_malformed_key_is_refused(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    assert client.post("/requests/new", data={**CHILD, "form_key": "x' OR 1=1"}).status_code == 400
    assert drafts(db_session) == 0


def test_a_double_click_racing_itself_creates_one_draft(app, db_session):
    """Four posts of one form at the same moment (a double click, a retry): one draft, and every answer leads to it."""
    officer = create_user("officer")
    clients = signed_in_clients(app, officer, 4)
    key = form_key(clients[0], "/requests/new")
    barrier = threading.Barrier(4)
    answers: list = [None] * 4

    def click(i):
        barrier.wait()
        response = clients[i].post("/requests/new", data={**CHILD, "form_key": key})
        answers[i] = (response.status_code, response.headers.get("Location"))

    threads = [threading.Thread(target=click, args=(i,)) for i in range(4)]
    [t.start() for t in threads]
    [t.join(timeout=60) for t in threads]
    assert drafts(db_session) == 1
    assert {status for status, _ in answers} <= {302, 303}, answers
    assert len({location for _, location in answers}) == 1, answers


def test_a_double_clicked_offer_is_made_once(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    provider = create_provider()
    vacancy = create_vacancy(create_setting(provider))
    referral = create_referral(req, provider)
    auth.sign_in(create_user("provider", provider=provider))
    url = f"/provider/referrals/{referral.id}"
    key = form_key(client, url)
    data = {"vacancy_id": vacancy.id, "fee_gbp_week": "850", "form_key": key}
    assert client.post(url, data=data).status_code == 302
    assert client.post(url, data=data).status_code == 303
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Offer)) == 1


def test_one_pages_shared_button_key_serves_each_address_once(client, auth, db_session):
    """A page draws one key for its row buttons (withdraw this offer, withdraw that one): each address is its own
    submission, so both offers are withdrawn."""
    officer = create_user("officer")
    provider = create_provider()
    offers = []
    for n in range(2):
        req = create_request(officer, first_name=f"Child{n}")
        offers.append(create_offer(create_referral(req, provider), create_vacancy(create_setting(provider))))
    auth.sign_in(create_user("provider", provider=provider))
    key = form_key(client, f"/provider/referrals/{offers[0].referral_id}")
    for offer in offers:
        assert client.post(f"/provider/offers/{offer.id}/withdraw", data={"form_key": key}).status_code == 302
    db_session.expire_all()
    assert {db_session.get(Offer, o.id).status for o in offers} == {"withdrawn"}


def test_the_key_table_holds_no_answers(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    key = form_key(client, "/requests/new")
    client.post("/requests/new", data={**CHILD, "form_key": key})
    row = db_session.scalar(select(FormSubmission))
    stored = " ".join(str(v) for v in (row.key_hash, row.fingerprint, row.endpoint, row.outcome_url))
    for secret in ("Amara", "Okafor", "COV-77", "2015", key):
        assert secret not in stored
