"""Bulk update of vacancies by CSV: all or nothing. A file with any bad row saves nothing, reports every bad row
and field, and never touches another provider's data."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.db import db
from portal.models import Offer, Vacancy
from portal.options import get_options_version
from tests.factories import create_offer, create_provider, create_referral, create_request, create_setting, create_user, create_vacancy
from tests.providers.helpers import fresh

TOMORROW = (date.today() + timedelta(days=1)).isoformat()
HEADER = ["vacancy_id", "setting_id", "ofsted_urn", "setting_name", "places", "available_from", "available_to",
          "fee_gbp_week", "status"]


def upload(client, data: bytes, name: str = "vacancies.csv"):
    return client.post("/provider/vacancies/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def rows_to_csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return out.getvalue().encode("utf-8")


def snapshot() -> list[tuple]:
    db.session.expire_all()
    rows = db.session.execute(select(Vacancy.id, Vacancy.setting_id, Vacancy.places, Vacancy.available_from,
                                     Vacancy.fee_gbp_week, Vacancy.status, Vacancy.confirmed_at)
                              .order_by(Vacancy.id)).all()
    db.session.rollback()
    return [tuple(r) for r in rows]


def _provider_with_homes():
    provider = create_provider(name="Arden Care")
    oak = create_setting(provider, name="Oak House", kind="residential")
    oak.ofsted_urn = "SC111111"
    ash = create_setting(provider, name="Ash House", kind="residential")
    ash.ofsted_urn = "SC222222"
    db.session.commit()
    return provider, oak, ash


def test_download_edit_and_upload_adds_changes_and_withdraws(client, auth, db_session):
    provider, oak, ash = _provider_with_homes()
    keep = create_vacancy(oak, places=1, fee_gbp_week="800")
    gone = create_vacancy(ash, places=2)
    offer = create_offer(create_referral(create_request(create_user("officer")), provider), gone)
    ids = {"oak": oak.id, "ash": ash.id, "keep": keep.id, "gone": gone.id, "offer": offer.id}
    auth.sign_in(create_user("provider", provider=provider, provider_role="manager"))
    response = client.get("/provider/vacancies.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    exported = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert {r["vacancy_id"] for r in exported} == {ids["keep"], ids["gone"]}
    for row in exported:
        if row["vacancy_id"] == ids["keep"]:
            row["places"], row["fee_gbp_week"] = "3", "£925.00"
        else:
            row["status"] = "withdrawn"
    exported.append({"setting_id": "", "ofsted_urn": "sc 222222", "places": "1", "available_from": TOMORROW,
                     "fee_gbp_week": "1100"})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(exported)
    version = get_options_version()
    db_session.rollback()

    response = upload(client, out.getvalue().encode("utf-8"))
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 vacancy added, 1 changed and confirmed, 1 withdrawn" in page
    changed = fresh(Vacancy, ids["keep"])
    assert (changed.places, changed.fee_gbp_week, changed.status) == (3, Decimal("925.00"), "open")
    assert fresh(Vacancy, ids["gone"]).status == "withdrawn" and fresh(Offer, ids["offer"]).status == "withdrawn"
    added = db_session.scalar(select(Vacancy).where(Vacancy.id.not_in([ids["keep"], ids["gone"]])))
    assert (added.setting_id, added.places, added.fee_gbp_week) == (ids["ash"], 1, Decimal("1100.00"))
    assert get_options_version() > version


def test_a_file_with_every_kind_of_bad_row_saves_nothing_and_reports_each(client, auth, db_session):
    provider, oak, ash = _provider_with_homes()
    theirs = create_provider(name="Rival Care")
    their_setting = create_setting(theirs, name="Rival House")
    their_setting.ofsted_urn = "SC999999"
    db.session.commit()
    their_vacancy = create_vacancy(their_setting)
    mine = create_vacancy(oak, places=1)
    filled = create_vacancy(ash, status="filled")
    shared = create_setting(provider, name="Elm House")
    shared.ofsted_urn = "SC111111"  # the same URN as Oak House
    db.session.commit()
    ids = {n: o.id for n, o in {"oak": oak, "ash": ash, "their_setting": their_setting, "their_vacancy": their_vacancy,
                                "mine": mine, "filled": filled}.items()}
    user = create_user("provider", provider=provider, provider_role="admin")
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    rows = [
        ["", ids["oak"], "", "", "2", TOMORROW, "", "900", ""],  # 2: good
        [ids["mine"], "", "", "", "2", TOMORROW, "", "950", ""],  # 3: good
        ["", "c" * 32, "", "", "1", TOMORROW, "", "900", ""],  # 4: unknown setting id
        ["", "", "SC000001", "", "1", TOMORROW, "", "900", ""],  # 5: unknown URN
        ["", ids["their_setting"], "", "", "1", TOMORROW, "", "900", ""],  # 6: another provider's setting
        ["", "", "SC999999", "", "1", TOMORROW, "", "900", ""],  # 7: another provider's URN
        [ids["their_vacancy"], "", "", "", "1", TOMORROW, "", "1", ""],  # 8: another provider's vacancy
        ["", ids["oak"], "", "", "1", "2030-13-01", "", "900", ""],  # 9: bad date
        ["", ids["oak"], "", "", "-2", TOMORROW, "", "900", ""],  # 10: negative places
        ["", ids["oak"], "", "", "1", TOMORROW, "", "about 900", ""],  # 11: non-numeric fee
        ["", ids["oak"], "", "", "2", TOMORROW, "", "900", ""],  # 12: duplicate of row 2
        ["", ids["oak"], "", "", "1", yesterday, "", "900", ""],  # 13: a new vacancy in the past
        [ids["filled"], "", "", "", "1", TOMORROW, "", "900", ""],  # 14: filled: cannot change
        ["", "", "SC111111", "", "1", TOMORROW, "", "900", ""],  # 15: URN of two settings
        [ids["mine"], ids["ash"], "", "", "1", TOMORROW, "", "900", ""],  # 16: vacancy moved setting; repeats row 3
    ]
    response = upload(client, b"")  # not signed in yet: sent to sign in
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    auth.sign_in(user)
    before = snapshot()
    response = upload(client, rows_to_csv(rows))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing has been saved" in page and 'data-testid="csv-problems"' in page
    table = page.split('data-testid="csv-problems"')[1].split("</table>")[0]
    reported = {int(r) for r in __import__("re").findall(r'<td class="govuk-table__cell">(\d+)</td>', table)}
    assert reported == set(range(4, 17)), reported
    # Another provider's setting, URN or vacancy reads exactly like an unknown one: its existence is not revealed.
    assert f"There is no setting {'c' * 32} among your settings" in table
    assert f"There is no setting {ids['their_setting']} among your settings" in table
    assert "None of your settings has the Ofsted URN SC999999" in table
    assert f"There is no vacancy {ids['their_vacancy']} among your vacancies" in table
    assert "Rival" not in page
    assert "is filled and cannot be changed" in table and "give the setting_id instead" in table
    assert "must be today or in the future" in table
    assert snapshot() == before


def test_bad_files_say_why_and_save_nothing(app, client, auth, db_session):
    provider, oak, _ash = _provider_with_homes()
    create_vacancy(oak)
    oak_id = oak.id
    user = create_user("provider", provider=provider, provider_role="manager")
    before = snapshot()
    auth.sign_in(user)
    assert client.get("/provider/vacancies/upload").status_code == 200
    response = client.post("/provider/vacancies/upload", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Select a CSV file" in response.get_data(as_text=True)
    for data, message in [
        (b"", "The file is empty"),
        (b"places,available_from\n1,2030-01-01\n", "The file has no &#39;fee_gbp_week&#39; column"),
        (b"PK\x03\x04" + b"\x00" * 64, "Excel workbook"),
        (b"\x00\x01\x02binary", "it contains binary data"),
        ("setting_id,places,available_from,fee_gbp_week\n,1,2030-01-01,£900\n".encode("cp1252"), "not saved as UTF-8"),
    ]:
        response = upload(client, data)
        assert response.status_code == 422, message
        assert message in response.get_data(as_text=True), message
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = upload(client, rows_to_csv([["", oak_id, "", "", "1", TOMORROW, "", "900", ""]] * 100))
    assert response.status_code == 413 and "The file must be smaller" in response.get_data(as_text=True)
    assert snapshot() == before
