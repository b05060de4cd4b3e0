"""Settings: add, change, close; postcode validated and mapped to its LA; only the provider's own; staff read."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from portal.models import AuditEvent, Offer, Setting, Vacancy
from portal.options import get_options_version
from tests.factories import create_offer, create_provider, create_referral, create_request, create_setting, create_user, create_vacancy
from tests.providers.helpers import date_fields, fresh, setting_data


def _count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def test_add_a_setting_maps_its_postcode_to_its_la(client, auth, db_session):
    provider = create_provider()
    auth.sign_in(create_user("provider", provider=provider, provider_role="manager"))
    assert client.get("/provider/settings/new").status_code == 200
    version = get_options_version()
    db_session.rollback()
    response = client.post("/provider/settings/new", data=setting_data())
    assert response.status_code == 302
    setting = db_session.scalar(select(Setting))
    assert (setting.provider_id, setting.name, setting.kind, setting.postcode) == (provider.id, "Oak House",
                                                                                    "residential", "CV1 2AB")
    assert setting.la_code == "E08000026" and (setting.easting, setting.northing) == (434134, 278485)
    assert (setting.ofsted_urn, setting.ofsted_rating, setting.inspected_on) == ("SC123456", "good", date(2025, 3, 14))
    assert (setting.registered_places, setting.age_min, setting.age_max) == (4, 8, 17)
    assert setting.needs_met == ["therapeutic_support"] and setting.risks_managed == ["going_missing", "self_harm"]
    assert setting.languages == ["English", "Urdu"] and setting.religions == ["Muslim"]
    assert setting.takes_siblings is True and setting.solo_only is False and setting.has_pets is False
    assert setting.fee_gbp_week == Decimal("4250.50")
    assert get_options_version() == version + 1
    assert db_session.scalar(select(AuditEvent.record_id).where(AuditEvent.action == "create_setting")) == setting.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Coventry" in page and setting.id in page  # the id, for CSV files


def test_setting_form_errors_keep_what_was_typed(client, auth, db_session):
    provider = create_provider()
    auth.sign_in(create_user("provider", provider=provider, provider_role="admin"))
    cases = [
        ({"postcode": "not a postcode"}, "Enter a real postcode"),
        ({"postcode": "ZZ9 9ZZ"}, "We could not find the postcode ZZ9 9ZZ"),
        ({"age_min": "15", "age_max": "9"}, "Oldest age must be the same as or more than the youngest age"),
        ({"kind": "supported", "age_min": "14"}, "Supported accommodation takes young people aged 16 or over"),
        ({"sexes": []}, "Select at least one: female or male"),
        ({**date_fields("inspected_on", None)}, "Enter the date of the inspection that gave this grade"),
        ({**date_fields("inspected_on", date.today() + timedelta(days=2))}, "must be today or in the past"),
        ({"inspected_on": ["31", "2", "2025"]}, "Date of that inspection must be a real date"),
        ({"ofsted_urn": "URN-1"}, "Enter an Ofsted URN in the correct format"),
        ({"fee_gbp_week": "-5"}, "Enter a weekly fee between £0 and £100,000"),
        ({"fee_gbp_week": "lots"}, "Standard weekly fee must be a number"),
        ({"registered_places": "two"}, "Registered places must be a whole number"),
        ({"registered_places": "0"}, "Registered places must be between 1 and 50"),
        ({"solo_only": "y"}, "cannot take brothers and sisters together"),
        ({"needs_met": ["flying"]}, "not one of the choices"),
        ({"name": ""}, "Enter a name for the setting"),
    ]
    for changes, message in cases:
        response = client.post("/provider/settings/new", data=setting_data(**changes))
        page = response.get_data(as_text=True)
        assert response.status_code == 422, changes
        assert message in page.replace("&#39;", "'"), (changes, message)
        if "name" not in changes:
            assert 'value="Oak House"' in page, changes
    assert _count(db_session, Setting) == 0


def test_change_a_setting_including_a_postcode_outside_the_region(client, auth, db_session):
    provider = create_provider()
    setting = create_setting(provider, name="Willow household")
    auth.sign_in(create_user("provider", provider=provider, provider_role="manager"))
    page = client.get(f"/provider/settings/{setting.id}/edit").get_data(as_text=True)
    assert 'value="Willow household"' in page and 'value="CV1 2AB"' in page
    response = client.post(f"/provider/settings/{setting.id}/edit", data=setting_data(
        name="Willow household", kind="foster", postcode="SW1A 1AA", ofsted_urn="", ofsted_rating="none",
        **date_fields("inspected_on", None), has_pets="y"))
    assert response.status_code == 302
    changed = fresh(Setting, setting.id)
    assert changed.la_code == "E09000033" and changed.postcode == "SW1A 1AA" and changed.has_pets is True
    assert changed.ofsted_rating is None and changed.inspected_on is None and changed.ofsted_urn is None
    db_session.rollback()
    assert "Outside the West Midlands" in client.get(f"/provider/settings/{setting.id}").get_data(as_text=True)


def test_closing_a_setting_withdraws_its_vacancies_and_live_offers(client, auth, db_session):
    provider = create_provider()
    setting = create_setting(provider)
    vacancy = create_vacancy(setting)
    offer = create_offer(create_referral(create_request(create_user("officer")), provider), vacancy)
    auth.sign_in(create_user("provider", provider=provider, provider_role="manager"))
    assert client.post(f"/provider/settings/{setting.id}/close").status_code == 302
    assert fresh(Setting, setting.id).active is False
    assert fresh(Vacancy, vacancy.id).status == "withdrawn" and fresh(Offer, offer.id).status == "withdrawn"
    db_session.rollback()
    assert client.post(f"/provider/settings/{setting.id}/reopen").status_code == 302
    assert fresh(Setting, setting.id).active is True


def test_another_providers_setting_is_not_found(client, auth, db_session):
    mine, theirs = create_provider(), create_provider()
    their_setting = create_setting(theirs, name="Their secret home")
    auth.sign_in(create_user("provider", provider=mine, provider_role="admin"))
    assert "Their secret home" not in client.get("/provider/settings").get_data(as_text=True)
    for path in (f"/provider/settings/{their_setting.id}", f"/provider/settings/{their_setting.id}/edit"):
        assert client.get(path).status_code == 404
    assert client.post(f"/provider/settings/{their_setting.id}/edit", data=setting_data()).status_code == 404
    assert client.post(f"/provider/settings/{their_setting.id}/close").status_code == 404
    unchanged = fresh(Setting, their_setting.id)
    assert unchanged.name == "Their secret home" and unchanged.active is True


def test_staff_read_settings_but_cannot_change_them(client, auth, db_session):
    provider = create_provider()
    setting = create_setting(provider, name="Willow household")
    auth.sign_in(create_user("provider", provider=provider, provider_role="staff"))
    page = client.get("/provider/settings").get_data(as_text=True)
    assert "Willow household" in page and "Add a setting" not in page
    assert "Change this setting" not in client.get(f"/provider/settings/{setting.id}").get_data(as_text=True)
    assert client.get("/provider/settings/new").status_code == 403
    assert client.post("/provider/settings/new", data=setting_data()).status_code == 403
    assert client.post(f"/provider/settings/{setting.id}/edit", data=setting_data()).status_code == 403
    assert client.post(f"/provider/settings/{setting.id}/close").status_code == 403
    assert _count(db_session, Setting) == 1 and fresh(Setting, setting.id).name == "Willow household"
