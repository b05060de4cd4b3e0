"""The integration API's rules (issue 14 "Done when"), on both databases: scoping, anonymisation, tokens,
idempotency, errors as problem+json naming the field."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from portal.db import utcnow
from portal.models import ApiToken, AuditEvent, Offer, PlacementRequest
from tests.api.helpers import bearer, token_for
from tests.factories import (BIRMINGHAM, create_offer, create_provider, create_referral, create_request,
                             create_setting, create_user, create_vacancy)

PROBLEM = "application/problem+json"


def _new_request_body(**child):
    needed = date.today() + timedelta(days=4)
    return {
        "child": {"child_reference": "API-1", "first_name": "Ada", "last_name": "Lovelace",
                  "date_of_birth": date(needed.year - 11, 2, 3).isoformat(), "sex": "female", **child},
        "location": {"home_postcode": "CV1 2AB"},
        "timing": {"urgency": "within_5_days", "needed_by": needed.isoformat()},
        "suitability": {"suitability_foster": "preferred", "suitability_residential": "suitable",
                        "suitability_supported": "unsuitable"},
        "submit": True,
    }


def test_one_las_token_cannot_read_another_las_requests(client, db_session):
    coventry, birmingham = create_user("officer"), create_user("officer", la_code=BIRMINGHAM)
    theirs = create_request(birmingham, first_name="Hidden")
    ours = create_request(coventry)
    token = token_for(coventry, "requests:read")
    listed = client.get("/api/v1/requests", headers=bearer(token))
    assert listed.status_code == 200
    ids = [item["id"] for item in listed.get_json()["items"]]
    assert ours.id in ids and theirs.id not in ids
    for path in (f"/api/v1/requests/{theirs.id}", f"/api/v1/requests/{theirs.id}/matches",
                 f"/api/v1/requests/{theirs.id}/offers", f"/api/v1/requests/{theirs.id}/referrals"):
        response = client.get(path, headers=bearer(token))
        assert response.status_code == 404, path
        assert response.content_type == PROBLEM
        assert "Hidden" not in response.get_data(as_text=True)
    refused = db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.record_id == theirs.id, AuditEvent.outcome == "refused"))
    assert refused >= 4


def test_reading_a_childs_record_is_audited_and_has_an_etag(client, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    token = token_for(officer, "requests:read")
    first = client.get(f"/api/v1/requests/{req.id}", headers=bearer(token))
    assert first.status_code == 200
    body = first.get_json()
    assert body["child"]["first_name"] == "Amara" and body["status"] == "searching"
    again = client.get(f"/api/v1/requests/{req.id}", headers={**bearer(token), "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    views = db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.record_id == req.id, AuditEvent.action == "api_view", AuditEvent.user_id == officer.id))
    assert views == 2


def test_a_providers_token_sees_only_anonymised_referrals_sent_to_it(client, db_session):
    officer = create_user("officer")
    mine, other = create_provider(), create_provider()
    user = create_user("provider", provider=mine)
    sent = create_request(officer, first_name="Zebedee", last_name="Quartermaine")
    not_sent = create_request(officer, first_name="Unsent")
    referral = create_referral(sent, mine)
    elsewhere = create_referral(not_sent, other)
    token = token_for(user, "referrals:read")
    listed = client.get("/api/v1/referrals", headers=bearer(token))
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert [item["id"] for item in items] == [referral.id]
    text = listed.get_data(as_text=True)
    for secret in ("Zebedee", "Quartermaine", sent.child_reference, sent.home_postcode,
                   sent.date_of_birth.isoformat()):
        assert secret not in text
    assert items[0]["postcode_sector"] == "CV1 2" and items[0]["age_when_needed"] == 12
    assert client.get(f"/api/v1/referrals/{elsewhere.id}", headers=bearer(token)).status_code == 404
    # An LA's scope is not a provider's: their token cannot read requests at all.
    assert client.get(f"/api/v1/requests/{sent.id}", headers=bearer(token)).status_code == 403


def test_revoked_expired_and_malformed_tokens_are_refused_with_401(client, db_session):
    officer = create_user("officer")
    live = token_for(officer, "requests:read")
    assert client.get("/api/v1/requests", headers=bearer(live)).status_code == 200
    row = db_session.scalar(select(ApiToken))
    assert row.last_used_at is not None and live not in (row.token_hash, row.prefix)
    expired = token_for(officer, "requests:read", days=1)
    db_session.scalar(select(ApiToken).where(ApiToken.id != row.id)).expires_at = utcnow() - timedelta(seconds=1)
    row.revoked_at = utcnow()
    db_session.commit()
    for headers in (bearer(live), bearer(expired), bearer("wmp_nope"), {"Authorization": "Basic abc"}, {}):
        response = client.get("/api/v1/requests", headers=headers)
        assert response.status_code == 401, headers
        assert response.content_type == PROBLEM and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_without_the_scope_is_refused_with_403(client, db_session):
    officer = create_user("officer")
    token = token_for(officer, "requests:read")
    response = client.post("/api/v1/requests", json=_new_request_body(), headers=bearer(token))
    assert response.status_code == 403 and response.content_type == PROBLEM
    assert "requests:write" in response.get_json()["detail"]


def test_create_a_request_and_read_its_matches(client, db_session):
    officer = create_user("officer")
    provider = create_provider()
    create_vacancy(create_setting(provider, postcode="CV2 4GA"))
    token = token_for(officer, "requests:read", "requests:write")
    created = client.post("/api/v1/requests", json=_new_request_body(), headers=bearer(token))
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["status"] == "searching" and created.headers["Location"].endswith(body["id"])
    matches = client.get(f"/api/v1/requests/{body['id']}/matches", headers=bearer(token))
    assert matches.status_code == 200
    items = matches.get_json()["items"]
    assert items and items[0]["rank"] == 1 and items[0]["reasons"]
    assert sum(part["points"] for part in items[0]["reasons"]) == items[0]["score"]


def test_a_replayed_idempotency_key_creates_nothing_twice(client, db_session):
    officer = create_user("officer")
    token = token_for(officer, "requests:write")
    headers = {**bearer(token), "Idempotency-Key": "create-ada-1"}
    first = client.post("/api/v1/requests", json=_new_request_body(), headers=headers)
    again = client.post("/api/v1/requests", json=_new_request_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert db_session.scalar(select(func.count()).select_from(PlacementRequest)) == 1
    other = client.post("/api/v1/requests", json=_new_request_body(first_name="Grace"), headers=headers)
    assert other.status_code == 422 and other.get_json()["field"] == "Idempotency-Key"
    assert db_session.scalar(select(func.count()).select_from(PlacementRequest)) == 1


def test_bad_input_is_a_4xx_problem_naming_the_field(client, db_session):
    officer = create_user("officer")
    token = token_for(officer, "requests:write")
    cases = [
        (_new_request_body(sex="robot"), "child.sex"),
        (_new_request_body(date_of_birth="2012-02-31"), "child.date_of_birth"),
        ({**_new_request_body(), "location": {"home_postcode": "not a postcode"}}, "location.home_postcode"),
        ({**_new_request_body(), "colour": "blue"}, "colour"),
        (_new_request_body(first_name="A\x00B"), "child.first_name"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/requests", json=body, headers=bearer(token))
        assert 400 <= response.status_code < 500, (field, response.status_code)
        assert response.content_type == PROBLEM
        problem = response.get_json()
        assert problem["field"] == field or field in [e["field"] for e in problem.get("errors", [])], problem
    not_json = client.post("/api/v1/requests", data="{", content_type="application/json", headers=bearer(token))
    assert 400 <= not_json.status_code < 500 and not_json.content_type == PROBLEM
    assert db_session.scalar(select(func.count()).select_from(PlacementRequest)) == 0


def test_provider_makes_and_withdraws_an_offer_and_upserts_vacancies(client, db_session):
    officer = create_user("officer")
    provider = create_provider()
    user = create_user("provider", provider=provider)
    setting = create_setting(provider, postcode="CV2 4GA")
    vacancy = create_vacancy(setting)
    req = create_request(officer)
    referral = create_referral(req, provider)
    token = token_for(user, "offers:write", "vacancies:write")
    made = client.post(f"/api/v1/referrals/{referral.id}/offers", json={"vacancy_id": vacancy.id},
                       headers=bearer(token))
    assert made.status_code == 201, made.get_data(as_text=True)
    offer_id = made.get_json()["id"]
    withdrawn = client.post(f"/api/v1/offers/{offer_id}/withdraw", headers=bearer(token))
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert db_session.get(Offer, offer_id).status == "withdrawn"
    good = {"setting_id": setting.id, "places": 2, "available_from": date.today().isoformat(), "fee_gbp_week": "900"}
    bad = {"setting_id": setting.id, "places": 0, "available_from": "31/02/2026", "fee_gbp_week": "lots"}
    rejected = client.post("/api/v1/vacancies/bulk", json={"vacancies": [good, bad]}, headers=bearer(token))
    assert rejected.status_code == 422 and rejected.content_type == PROBLEM
    fields = {e["field"] for e in rejected.get_json()["errors"]}
    assert {"vacancies.1.places", "vacancies.1.available_from", "vacancies.1.fee_gbp_week"} <= fields
    saved = client.post("/api/v1/vacancies/bulk", json={"vacancies": [good]}, headers=bearer(token))
    assert saved.status_code == 200 and saved.get_json() == {"added": 1, "changed": 0, "withdrawn": 0}


def test_the_command_line_prints_a_token_once(app, runner, db_session, client):
    officer = create_user("officer")
    result = runner.invoke(args=["api-token", "create", "--email", officer.email, "--scope", "requests:read"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    assert token.startswith("wmp_")
    assert client.get("/api/v1/requests", headers=bearer(token)).status_code == 200
    wrong = runner.invoke(args=["api-token", "create", "--email", officer.email, "--scope", "offers:write"])
    assert wrong.exit_code != 0 and "offers:write" in wrong.output


def test_the_document_and_reference_page_are_served(client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    spec = document.get_json()
    assert spec["openapi"].startswith("3.1") and "/api/v1/requests/{request_id}/matches" in spec["paths"]
    page = client.get("/api/v1/")
    assert page.status_code == 200 and "/api/v1/requests" in page.get_data(as_text=True)


def test_a_token_past_its_rate_limit_gets_429_with_retry_after(app, client, db_session):
    app.config["API_RATE_LIMIT"] = 3
    officer = create_user("officer")
    token, other = token_for(officer, "requests:read"), token_for(officer, "requests:read")
    answers = [client.get("/api/v1/requests", headers=bearer(token)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = client.get("/api/v1/requests", headers=bearer(token))
    assert limited.content_type == PROBLEM and int(limited.headers["Retry-After"]) >= 1
    assert client.get("/api/v1/requests", headers=bearer(other)).status_code == 200  # per token


def test_update_a_request_by_section_with_the_forms_checks(client, db_session):
    officer = create_user("officer")
    token = token_for(officer, "requests:read", "requests:write")
    body = _new_request_body()
    body.pop("submit")
    created = client.post("/api/v1/requests", json=body, headers=bearer(token)).get_json()
    assert created["status"] == "draft"
    bad = client.patch(f"/api/v1/requests/{created['id']}", json={"timing": {
        "urgency": "today", "needed_by": (date.today() - timedelta(days=1)).isoformat()}}, headers=bearer(token))
    assert bad.status_code == 422 and bad.get_json()["field"] == "timing.needed_by"
    changed = client.patch(f"/api/v1/requests/{created['id']}", json={
        "needs": {"communication": ["bsl"], "pets": "no"}, "risks": {"risks_to_child": ["going_missing"]},
        "submit": True}, headers=bearer(token))
    assert changed.status_code == 200, changed.get_data(as_text=True)
    out = changed.get_json()
    assert out["status"] == "searching" and out["needs"]["communication"] == ["bsl"]
    assert out["risks"]["risks_to_child"] == ["going_missing"]


def test_idempotency_keys_are_pruned_after_a_day(app, client, db_session, runner):
    from portal.models import ApiIdempotencyKey

    officer = create_user("officer")
    token = token_for(officer, "requests:write")
    client.post("/api/v1/requests", json=_new_request_body(), headers={**bearer(token), "Idempotency-Key": "k-1"})
    key = db_session.scalar(select(ApiIdempotencyKey))
    key.created_at = utcnow() - timedelta(hours=25)
    db_session.commit()
    assert runner.invoke(args=["retention", "prune"]).exit_code == 0
    assert db_session.scalar(select(func.count()).select_from(ApiIdempotencyKey)) == 0


def test_odd_ids_and_parameters_are_4xx_problems_never_5xx(client, db_session):
    officer = create_user("officer")
    provider = create_provider()
    provider_user = create_user("provider", provider=provider)
    la = token_for(officer, "requests:read", "requests:write", "placements:read")
    prov = token_for(provider_user, "referrals:read", "offers:write")
    for odd in ("%00", "x" * 300, "%C3%A9t%C3%A9", "..%2F..", "%FF"):
        for path, token in ((f"/api/v1/requests/{odd}", la), (f"/api/v1/requests/{odd}/matches", la),
                            (f"/api/v1/requests/{odd}/placement", la), (f"/api/v1/referrals/{odd}", prov)):
            response = client.get(path, headers=bearer(token))
            assert 400 <= response.status_code < 500 and response.content_type == PROBLEM, (path, response.status_code)
        response = client.post(f"/api/v1/offers/{odd}/withdraw", headers=bearer(prov))
        assert 400 <= response.status_code < 500, (odd, response.status_code)
    for query in ("limit=0", "limit=abc", "cursor=%00", "cursor=!!!", "limit=101", "colour=blue"):
        response = client.get(f"/api/v1/requests?{query}", headers=bearer(la))
        assert response.status_code in (200, 400, 422) and (response.status_code == 200 or
                                                             response.content_type == PROBLEM), query
    response = client.post("/api/v1/requests", data=b"\xff\xfe", content_type="application/json", headers=bearer(la))
    assert 400 <= response.status_code < 500 and response.content_type == PROBLEM


def test_api_posts_need_no_csrf_token_but_the_web_forms_still_do(app, client, db_session):
    app.config["WTF_CSRF_ENABLED"] = True
    officer = create_user("officer")
    token = token_for(officer, "requests:write")
    created = client.post("/api/v1/requests", json=_new_request_body(), headers=bearer(token))
    assert created.status_code == 201, created.get_data(as_text=True)
    assert client.post("/sign-in", data={"email": officer.email, "password": "password"}).status_code == 400
