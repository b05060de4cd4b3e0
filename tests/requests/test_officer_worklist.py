"""The officer's "needs you now" on the requests list (issue 17 §5): offers to decide, agreements to sign and
placements starting soon, each only of the officer's own local authority; and, once an offer is accepted, the
provider's agreement to sign on the provider's side."""

from portal.db import db
from portal.providers.queries import provider_needs_you_now
from portal.requests.queries import officer_needs_you_now
from tests.factories import (
    BIRMINGHAM, create_offer, create_provider, create_referral, create_request, create_setting, create_user,
    create_vacancy,
)


def test_needs_you_now_for_the_officer_is_their_own_las_only(client, auth, db_session):
    officer = create_user("officer")
    theirs = create_user("officer", la_code=BIRMINGHAM)
    provider = create_provider(name="Arden Fostering")
    provider_user = create_user("provider", provider=provider)
    setting = create_setting(provider, name="Willow household")
    waiting = create_request(officer, first_name="Wendy")
    create_offer(create_referral(waiting, provider), create_vacancy(setting))
    accepted = create_request(officer, first_name="Ada")
    to_accept = create_offer(create_referral(accepted, provider), create_vacancy(setting))
    elsewhere = create_request(theirs, first_name="Brum")
    create_offer(create_referral(elsewhere, provider), create_vacancy(setting))
    ids = (accepted.id, to_accept.id, officer.id, theirs.id, provider_user.id)
    empty = officer_needs_you_now(officer)
    assert (empty.offers, empty.agreements, empty.starting) == (2, 0, 0)
    auth.sign_in(officer)
    assert client.post(f"/requests/{ids[0]}/offers/{ids[1]}/accept").status_code == 302
    db.session.expire_all()
    mine = officer_needs_you_now(db.session.get(type(officer), ids[2]))
    assert mine.offers == 1 and mine.offer_request_count == 1  # the accepted request's offer is no longer waiting
    assert [item.request.first_name for item in mine.offer_requests] == ["Wendy"]
    assert mine.agreements == 1 and [item.request.first_name for item in mine.agreement_items] == ["Ada"]
    assert mine.starting == 1 and [item.request.first_name for item in mine.starting_items] == ["Ada"]
    brum = officer_needs_you_now(db.session.get(type(officer), ids[3]))
    assert (brum.offers, brum.agreements, brum.starting) == (1, 0, 0)
    assert [item.request.first_name for item in brum.offer_requests] == ["Brum"]
    page = client.get("/requests/").get_data(as_text=True)
    assert 'data-testid="now-offers"' in page and 'data-testid="now-agreements"' in page
    assert "Wendy" in page and "Brum" not in page
    # The provider has the agreement to sign too (and the two offers still waiting for a decision).
    work = provider_needs_you_now(db.session.get(type(officer), ids[4]), stale_vacancies=0)
    assert work.agreements_count == 1 and work.offers_awaiting == 2
    other = create_user("provider", provider=create_provider(name="Marches Care"))
    assert provider_needs_you_now(other, stale_vacancies=0).total == 0
    db.session.rollback()
