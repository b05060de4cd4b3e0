"""The referral inbox: only referrals sent to this provider, anonymised, most urgent first, with which settings fit
and why (from the matching core), filtered by setting and urgency."""

import re

from portal.db import db
from tests.factories import create_provider, create_referral, create_request, create_setting, create_user, create_vacancy
from tests.providers.helpers import SECRETS, scene


def _order(page: str) -> list[str]:
    return re.findall(r'data-referral="([0-9a-f]{32})"', page)


def test_inbox_is_anonymised_most_urgent_first_and_shows_what_fits(client, auth, db_session):
    s = scene(urgency="over_5_days", needed_in_days=9)
    today = create_request(s.officer, urgency="today", needed_in_days=0, needs=["therapeutic_support"],
                           first_name="Bea", last_name="Urgent")
    soon = create_request(s.officer, urgency="within_5_days", needed_in_days=2, needs=["therapeutic_support"],
                          first_name="Cal", last_name="Soon")
    closed = create_request(s.officer, urgency="today", needed_in_days=0, status="placed", first_name="Dee")
    refs = [create_referral(r, s.provider).id for r in (today, soon, closed)]
    secrets = [*SECRETS, "Bea", "Urgent", "Cal", "Dee", "CV1 2AB", s.request.child_reference, today.child_reference]
    auth.sign_in(s.staff)  # every role reads the inbox
    page = client.get("/provider/").get_data(as_text=True)
    assert _order(page) == [refs[0], refs[1], s.referral.id, refs[2]]
    assert "Female, age 12" in page and "CV1 2" in page and "From Coventry" in page
    for secret in secrets:
        assert secret not in page, secret
    row = page.split(f'data-referral="{s.referral.id}"')[1].split("</tr>")[0]
    assert "Willow household" in row and "miles" in row
    assert "Rival household" not in page  # another provider's setting never shows


def test_inbox_filters_by_setting_and_urgency(client, auth, db_session):
    s = scene(urgency="over_5_days", needed_in_days=9)
    bsl_home = create_setting(s.provider, name="Signing household", needs_met=["bsl"])
    create_vacancy(bsl_home)
    bsl = create_request(s.officer, urgency="today", needed_in_days=0, needs=["bsl"])
    bsl_referral = create_referral(bsl, s.provider)
    ids = {"bsl_home": bsl_home.id, "willow": s.setting.id, "bsl_ref": bsl_referral.id, "ref": s.referral.id,
           "their": s.other_setting.id}
    auth.sign_in(s.manager)
    assert _order(client.get("/provider/?urgency=today").get_data(as_text=True)) == [ids["bsl_ref"]]
    assert _order(client.get("/provider/?urgency=over_5_days").get_data(as_text=True)) == [ids["ref"]]
    assert _order(client.get(f"/provider/?setting={ids['bsl_home']}").get_data(as_text=True)) == [ids["bsl_ref"]]
    assert _order(client.get(f"/provider/?setting={ids['willow']}").get_data(as_text=True)) == [ids["ref"]]
    page = client.get(f"/provider/?setting={ids['willow']}&urgency=today").get_data(as_text=True)
    assert _order(page) == [] and "No referrals match your filters" in page
    # Another provider's setting id, or nonsense, is refused at its field (the same answer: nothing is revealed).
    for query in (f"setting={ids['their']}", "setting=0123456789abcdef0123456789abcdef"):
        response = client.get(f"/provider/?{query}&urgency=never")
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and _order(page) == [] and "Rival" not in page
        assert "Choose one of your settings" in page and "Choose when the child is needed" in page


def test_referral_page_says_which_settings_fit_and_why_and_which_do_not(client, auth, db_session):
    s = scene()
    cannot = create_setting(s.provider, name="Oak House", kind="residential", needs_met=[], age_min=14)
    create_vacancy(cannot)
    auth.sign_in(s.staff)
    page = client.get(f"/provider/referrals/{s.referral.id}").get_data(as_text=True)
    fits = page.split('data-testid="fits"')[1].split("</ul>\n")[0]
    assert "Willow household" in fits and "Why it fits" in fits and "Oak House" not in fits
    misses = page.split('data-testid="misses"')[1].split("</details>")[0]
    assert "Oak House" in misses and "Willow household" not in misses
    assert "Rival household" not in page
    for secret in (*SECRETS, "CV1 2AB", s.request.child_reference):
        assert secret not in page
    # Staff read only: no offer form, no decline form.
    assert "Make an offer" not in page and "We cannot offer a place" not in page and "read only" in page


def test_a_referral_not_sent_to_you_is_not_found(client, auth, db_session):
    s = scene()
    unsent = create_referral(create_request(s.officer, first_name="Hidden"), s.other)
    ids = (unsent.id, s.referral.id)
    auth.sign_in(s.other_user)
    assert client.get(f"/provider/referrals/{ids[1]}").status_code == 404
    assert client.post(f"/provider/referrals/{ids[1]}/decline", data={"reason": "no_vacancy"}).status_code == 404
    page = client.get("/provider/").get_data(as_text=True)
    assert _order(page) == [ids[0]] and "Hidden" not in page
    assert client.get("/provider/referrals/0123456789abcdef0123456789abcdef").status_code == 404


def test_a_provider_with_no_referrals_sees_that(client, auth, db_session):
    provider = create_provider()
    auth.sign_in(create_user("provider", provider=provider))
    page = client.get("/provider/").get_data(as_text=True)
    assert "No referrals yet" in page
    db.session.rollback()
