"""The thinnest whole journey, through the web, on SQLite and PostgreSQL (issue 2, item 9):
officer creates a request -> sees ranked options -> sends the referral -> the provider sees it anonymised and
offers a vacancy -> the officer accepts -> the placement is recorded, the vacancy filled -> the commissioner counts it.
"""

from datetime import date, timedelta

from sqlalchemy import select

from portal.models import Placement, PlacementRequest, Vacancy
from tests.factories import create_provider, create_setting, create_user, create_vacancy
from tests.pages import get_page, post_page
from tests.requests.helpers import child_section, create_request_via_web, date_fields




def test_whole_journey(app, client, auth, db_session):
    officer = create_user("officer", name="Olivia Officer")
    agency = create_provider(name="Arden Fostering", kind="ifa")
    far_agency = create_provider(name="Marches Care", kind="childrens_home")
    household = create_setting(agency, postcode="CV2 4GA", name="Willow household", needs_met=["therapeutic_support"])
    vacancy = create_vacancy(household, places=1)
    # A children's home that cannot meet the need: eligible for nothing, so it must never get the referral.
    home = create_setting(far_agency, postcode="B15 2TT", kind="residential", age_min=8, name="Oak House")
    create_vacancy(home)
    provider_user = create_user("provider", provider=agency, name="Pat Provider")
    other_provider_user = create_user("provider", provider=far_agency)
    commissioner = create_user("commissioner", la_code=None)

    # 1. The officer describes the child.
    auth.sign_in(officer)
    needed_by = date.today() + timedelta(days=2)
    request_id = create_request_via_web(
        client,
        child=child_section(child_reference="COV-1", first_name="Amara", last_name="Okafor", sex="female",
                            **date_fields("date_of_birth", date(needed_by.year - 11, 1, 1))),
        location={"home_postcode": "cv1 2ab", "school_postcode": ""},
        timing={"urgency": "within_5_days", **date_fields("needed_by", needed_by)},
        needs={"support": ["therapeutic_support"], "cultural_needs": "not_known",
               "living_companions": "no_preference", "pets": "unknown"},
        budget={"budget_gbp_week": "900"},
    )
    page = get_page(client, f"/requests/{request_id}")
    req = db_session.scalar(select(PlacementRequest))
    assert req.home_postcode == "CV1 2AB" and req.status == "searching" and req.la_code == officer.la_code

    # 2. Ranked options at once, with reasons; the home that cannot meet the need is excluded, with why.
    matches = page.table_rows("matches-table")
    assert any("Willow household" in cell for row in matches for cell in row)
    assert "Why this rank" in page.text
    assert not any("Oak House" in cell for row in matches for cell in row)
    why_not = get_page(client, f"/requests/{req.id}/not-eligible")
    oak = [row for row in why_not.table_rows("not-eligible") if any("Oak House" in cell for cell in row)]
    assert oak and "Therapeutic support" in " ".join(oak[0])  # the failed rule, in words

    # 3. Send the referral to every eligible provider: only Arden Fostering gets it.
    response = client.post(f"/requests/{req.id}/referrals", data={"send_to": "all"})
    assert response.status_code == 302
    auth.sign_out()

    auth.sign_in(other_provider_user)
    assert "age 11" not in get_page(client, "/provider/").text
    auth.sign_out()

    # 4. The provider sees it anonymised and offers the vacancy.
    auth.sign_in(provider_user)
    inbox = get_page(client, "/provider/")
    assert "Female, age 11" in inbox.text
    [referral_url] = inbox.hrefs(r"^/provider/referrals/[0-9a-f]+$")
    page = get_page(client, referral_url)
    for secret in ("Amara", "Okafor", "CV1 2AB", "COV-1", str(req.date_of_birth.year)):
        assert secret not in page.html, f"{secret} leaked to the provider before acceptance"
    assert "CV1 2" in page.text  # the postcode sector only
    response = client.post(referral_url, data={
        # Starts today, so the commissioner counts it in this period whatever the day of the month.
        "vacancy_id": vacancy.id, "fee_gbp_week": "880", **date_fields("start_date", date.today()),
        "message": "We can meet her at the station.",
    })
    assert response.status_code == 302
    auth.sign_out()

    # 5. The officer accepts the offer.
    auth.sign_in(officer)
    page = get_page(client, f"/requests/{req.id}")
    assert "We can meet her at the station." in page.text and "£880" in page.text
    [accept_url] = page.form_actions(r"/offers/[0-9a-f]+/accept$")
    post_page(client, accept_url, status=302)

    # 6. The placement is recorded with its SSDA903 fields and the vacancy is filled.
    db_session.expire_all()
    placement = db_session.scalar(select(Placement))
    assert placement.placement_type == "U6" and placement.provider_code == "PR4"
    assert placement.inside_la is True and placement.over_20_miles is False
    assert float(placement.distance_miles) < 2
    assert db_session.get(Vacancy, vacancy.id).status == "filled"
    assert db_session.get(PlacementRequest, req.id).status == "placed"
    auth.sign_out()

    # After acceptance the provider sees the child's details needed for the placement.
    auth.sign_in(provider_user)
    assert "Amara Okafor" in get_page(client, referral_url).text
    auth.sign_out()

    # 7. The commissioner's home page counts it (as "c": one placement is a small number).
    auth.sign_in(commissioner)
    page = get_page(client, "/market/")
    assert page.find(attrs={"data-figure": "placements_12_months"}).get_text(strip=True) == "c"
    assert "Amara" not in page.html
    app.config["SUPPRESSION_THRESHOLD"] = 0
    page = get_page(client, "/market/")
    assert page.find(attrs={"data-figure": "placements_12_months"}).get_text(strip=True) == "1"
    assert page.find(attrs={"data-figure": "placements_inside_la"}).get_text(strip=True) == "1"
