"""Vacancies: add, change, withdraw, confirm still available; stale after VACANCY_STALE_DAYS and ranked lower."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from portal.db import db, utcnow
from portal.models import Offer, PlacementRequest, Vacancy
from portal.options import get_options_version
from portal.requests.matching import rank_request
from tests.factories import create_offer, create_provider, create_referral, create_request, create_setting, create_user, create_vacancy
from tests.providers.helpers import date_fields, fresh, vacancy_data


def _make_stale(vacancy_id: str, days: int = 20) -> None:
    db.session.execute(update(Vacancy).where(Vacancy.id == vacancy_id)
                       .values(confirmed_at=utcnow() - timedelta(days=days)))
    db.session.commit()


def test_add_a_vacancy_prefilled_from_the_setting(client, auth, db_session):
    provider = create_provider()
    setting = create_setting(provider, name="Willow household", fee_gbp_week="875")
    auth.sign_in(create_user("provider", provider=provider, provider_role="manager"))
    page = client.get(f"/provider/vacancies/new?setting={setting.id}").get_data(as_text=True)
    assert 'value="875.00"' in page and "selected" in page.split(setting.id)[1][:30]
    version = get_options_version()
    db_session.rollback()
    response = client.post("/provider/vacancies/new", data={"setting_id": setting.id, **vacancy_data(
        **date_fields("available_to", date.today() + timedelta(days=60)))})
    assert response.status_code == 302
    vacancy = db_session.scalar(select(Vacancy))
    assert (vacancy.setting_id, vacancy.places, vacancy.places_taken, vacancy.status) == (setting.id, 2, 0, "open")
    assert vacancy.fee_gbp_week == Decimal("900") and vacancy.confirmed_at is not None
    assert vacancy.available_to == date.today() + timedelta(days=60)
    assert get_options_version() == version + 1
    assert "Willow household" in client.get("/provider/vacancies").get_data(as_text=True)


def test_vacancy_form_errors(client, auth, db_session):
    provider = create_provider()
    setting = create_setting(provider)
    auth.sign_in(create_user("provider", provider=provider, provider_role="admin"))
    cases = [
        ({"places": "0"}, "Places must be between 1 and 50"),
        ({"places": "-1"}, "Places must be between 1 and 50"),
        ({"places": "a few"}, "Places free must be a whole number"),
        ({"fee_gbp_week": "cheap"}, "Weekly fee must be a number"),
        ({"fee_gbp_week": "-100"}, "Enter a weekly fee between £0 and £100,000"),
        ({**date_fields("available_from", date.today() - timedelta(days=1))}, "must be today or in the future"),
        ({"available_from": ["30", "2", "2027"]}, "Available from must be a real date"),
        ({**date_fields("available_to", date.today())}, "The end date must be the same as or after"),
        ({"setting_id": ""}, "Select the setting with the vacancy"),
        ({"status": "filled"}, "Not a valid choice"),
    ]
    for changes, message in cases:
        response = client.post("/provider/vacancies/new", data={"setting_id": setting.id, **vacancy_data(**changes)})
        assert response.status_code == 422, changes
        assert message in response.get_data(as_text=True), (changes, message)
    assert db_session.scalar(select(func.count()).select_from(Vacancy)) == 0


def test_change_a_vacancy_keeps_places_already_taken(client, auth, db_session):
    provider = create_provider()
    vacancy = create_vacancy(create_setting(provider), places=3)
    db.session.execute(update(Vacancy).where(Vacancy.id == vacancy.id).values(places_taken=1))
    db.session.commit()
    _make_stale(vacancy.id)
    auth.sign_in(create_user("provider", provider=provider, provider_role="manager"))
    page = client.get(f"/provider/vacancies/{vacancy.id}/edit").get_data(as_text=True)
    assert 'name="places" type="text" value="2"' in page and "1 already taken" in page
    response = client.post(f"/provider/vacancies/{vacancy.id}/edit", data=vacancy_data(places="4", fee_gbp_week="990",
                                                                                      status="held"))
    assert response.status_code == 302
    changed = fresh(Vacancy, vacancy.id)
    assert (changed.places, changed.places_taken, changed.status) == (5, 1, "held")
    assert changed.fee_gbp_week == Decimal("990") and changed.confirmed_at > utcnow() - timedelta(minutes=1)


def test_a_filled_or_withdrawn_vacancy_cannot_be_changed(client, auth, db_session):
    provider = create_provider()
    setting = create_setting(provider)
    filled = create_vacancy(setting, status="filled")
    auth.sign_in(create_user("provider", provider=provider, provider_role="manager"))
    response = client.post(f"/provider/vacancies/{filled.id}/edit", data=vacancy_data())
    assert response.status_code == 422 and "filled or withdrawn" in response.get_data(as_text=True)
    response = client.post(f"/provider/vacancies/{filled.id}/withdraw")
    assert response.status_code == 409 and "already been filled or withdrawn" in response.get_data(as_text=True)
    assert fresh(Vacancy, filled.id).status == "filled"


def test_withdraw_a_vacancy_withdraws_live_offers_of_it(client, auth, db_session):
    provider = create_provider()
    vacancy = create_vacancy(create_setting(provider))
    offer = create_offer(create_referral(create_request(create_user("officer")), provider), vacancy)
    auth.sign_in(create_user("provider", provider=provider, provider_role="manager"))
    assert client.get(f"/provider/vacancies/{vacancy.id}/withdraw").status_code == 200
    version = get_options_version()
    db_session.rollback()
    assert client.post(f"/provider/vacancies/{vacancy.id}/withdraw").status_code == 302
    assert fresh(Vacancy, vacancy.id).status == "withdrawn" and fresh(Offer, offer.id).status == "withdrawn"
    assert get_options_version() > version


def test_stale_vacancies_are_shown_ask_to_be_confirmed_and_rank_lower(client, auth, db_session):
    officer = create_user("officer")
    provider = create_provider()
    setting = create_setting(provider, name="Willow household")
    stale_id = create_vacancy(setting).id
    fresh_id = create_vacancy(create_setting(provider, name="Ash household")).id
    _make_stale(stale_id, days=15)
    req_id = create_request(officer).id
    ranking = rank_request(fresh(PlacementRequest, req_id))
    by_option = {m.option: m for m in ranking.result.matches}
    assert "stale_vacancy" in by_option[stale_id].flags and "stale_vacancy" not in by_option[fresh_id].flags
    assert by_option[stale_id].score < by_option[fresh_id].score
    db_session.rollback()

    auth.sign_in(create_user("provider", provider=provider, provider_role="manager"))
    for path in ("/provider/vacancies", "/provider/", "/provider/dashboard"):
        page = client.get(path).get_data(as_text=True)
        assert 'data-testid="stale-banner"' in page, path
    page = client.get("/provider/vacancies").get_data(as_text=True)
    assert "Not confirmed for 15 days" in page
    assert client.post(f"/provider/vacancies/{stale_id}/confirm").status_code == 302
    assert fresh(Vacancy, stale_id).confirmed_at > utcnow() - timedelta(minutes=1)
    db_session.rollback()
    assert 'data-testid="stale-banner"' not in client.get("/provider/vacancies").get_data(as_text=True)
    assert "stale_vacancy" not in {m.option: m for m in rank_request(fresh(PlacementRequest, req_id)).result.matches}[
        stale_id].flags


def test_confirming_a_vacancy_moves_the_options_version_only_when_it_was_stale(client, auth, db_session):
    # Matching reads a confirmation only as stale or not: re-confirming a fresh vacancy must not make every process
    # rebuild its matching index (under load, providers confirm often), but confirming a stale one must.
    provider = create_provider()
    vacancy_id = create_vacancy(create_setting(provider)).id
    auth.sign_in(create_user("provider", provider=provider, provider_role="manager"))
    version = get_options_version()
    db_session.rollback()
    assert client.post(f"/provider/vacancies/{vacancy_id}/confirm").status_code == 302
    assert fresh(Vacancy, vacancy_id).confirmed_at > utcnow() - timedelta(minutes=1)
    assert get_options_version() == version
    _make_stale(vacancy_id, days=15)
    db_session.rollback()
    assert client.post(f"/provider/vacancies/{vacancy_id}/confirm").status_code == 302
    assert get_options_version() == version + 1


def test_confirm_all_confirms_every_open_and_held_vacancy(client, auth, db_session):
    provider = create_provider()
    setting = create_setting(provider)
    first, second = create_vacancy(setting), create_vacancy(setting, status="held")
    for vacancy in (first, second):
        _make_stale(vacancy.id, days=30)
    auth.sign_in(create_user("provider", provider=provider, provider_role="admin"))
    response = client.post("/provider/vacancies/confirm-all", data={"next": "/provider/dashboard"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/provider/dashboard")
    for vacancy in (first, second):
        assert fresh(Vacancy, vacancy.id).confirmed_at > utcnow() - timedelta(minutes=1)


def test_another_providers_vacancy_cannot_be_reached(client, auth, db_session):
    mine, theirs = create_provider(), create_provider()
    my_setting = create_setting(mine)
    their_setting = create_setting(theirs)
    their_vacancy = create_vacancy(their_setting, fee_gbp_week="700")
    _make_stale(their_vacancy.id)
    auth.sign_in(create_user("provider", provider=mine, provider_role="admin"))
    assert their_vacancy.id not in client.get("/provider/vacancies").get_data(as_text=True)
    assert client.get(f"/provider/vacancies/{their_vacancy.id}/edit").status_code == 404
    assert client.post(f"/provider/vacancies/{their_vacancy.id}/edit", data=vacancy_data()).status_code == 404
    assert client.post(f"/provider/vacancies/{their_vacancy.id}/withdraw").status_code == 404
    assert client.post(f"/provider/vacancies/{their_vacancy.id}/confirm").status_code == 404
    # An edited setting_id naming another provider's setting adds nothing there.
    response = client.post("/provider/vacancies/new", data={"setting_id": their_setting.id, **vacancy_data()})
    assert response.status_code == 404
    assert client.post("/provider/vacancies/confirm-all").status_code == 302
    after = fresh(Vacancy, their_vacancy.id)
    assert (after.status, after.fee_gbp_week, after.confirmed_at < utcnow() - timedelta(days=10)) == (
        "open", Decimal("700"), True)
    assert db_session.scalar(select(func.count()).select_from(Vacancy)) == 1
    assert my_setting.id not in after.setting_id


def test_staff_cannot_change_vacancies(client, auth, db_session):
    provider = create_provider()
    setting = create_setting(provider)
    vacancy = create_vacancy(setting)
    auth.sign_in(create_user("provider", provider=provider, provider_role="staff"))
    page = client.get("/provider/vacancies").get_data(as_text=True)
    assert "Add a vacancy" not in page and "Withdraw" not in page
    assert client.get("/provider/vacancies.csv").status_code == 200
    for path, data in ((f"/provider/vacancies/{vacancy.id}/edit", vacancy_data()),
                       (f"/provider/vacancies/{vacancy.id}/withdraw", {}),
                       (f"/provider/vacancies/{vacancy.id}/confirm", {}),
                       ("/provider/vacancies/confirm-all", {}),
                       ("/provider/vacancies/new", {"setting_id": setting.id, **vacancy_data()}),
                       ("/provider/vacancies/upload", {})):
        assert client.post(path, data=data).status_code == 403, path
    assert fresh(Vacancy, vacancy.id).status == "open"
    assert db_session.scalar(select(func.count()).select_from(Vacancy)) == 1
