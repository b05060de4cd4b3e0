"""A NUL byte in every field of every form the portal posts (issue 15 §7), found by walking the app's URL map and
the form classes each view builds: always a 4xx, never a 500, nothing saved, and where the page shows the field
again it says "Remove the control characters from <label>" there. Runs on SQLite and on PostgreSQL (which cannot
store a NUL byte in text at all, so anything that reached it would be a 500)."""

from __future__ import annotations

import hashlib
import html
import inspect
import io
from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import select
from wtforms import FileField, SubmitField

from portal.forms import PortalForm, control_characters_message
from portal.models import WhatIfScenario, metadata
from portal.providers import services as provider_services
from portal.requests.sections import SECTIONS_BY_KEY
from tests.factories import (
    create_connected_person, create_offer, create_provider, create_referral, create_request, create_setting,
    create_user, create_vacancy,
)
from tests.placements.placement_factories import create_offer_placement

NUL = "x\x00y"
# Rows that change on every request whatever is posted (sign-in bookkeeping) or that record the attempt itself.
NOT_INPUT = {"audit_event", "user_session", "sign_in_attempt", "alembic_version"}


def forms_built_by(view) -> set[type[PortalForm]]:
    """The form classes a view builds: those its own code names, or (a view that delegates, like a confirm button's
    `_confirm`) those of the helpers in its module it calls. A helper that renders the page may name other forms the
    page shows; they are not what this view reads."""
    function = inspect.unwrap(view)

    def named(code, namespace):
        forms, helpers = set(), []
        for name in code.co_names:
            obj = namespace.get(name)
            if isinstance(obj, type) and issubclass(obj, PortalForm) and obj is not PortalForm:
                forms.add(obj)
            elif inspect.isfunction(obj) and obj.__module__ == function.__module__:
                helpers.append(obj)
        return forms, helpers

    forms, helpers = named(function.__code__, function.__globals__)
    for helper in helpers if not forms else ():
        forms |= named(helper.__code__, helper.__globals__)[0]
    return forms


def _snapshot(db_session) -> str:
    digest = hashlib.sha256()
    for table in metadata.sorted_tables:
        if table.name in NOT_INPUT:
            continue
        rows = db_session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(f"{table.name}:{[tuple(map(str, row)) for row in rows]}".encode())
    db_session.rollback()
    return digest.hexdigest()


def _world(db_session):
    officer = create_user("officer", name="Olivia Officer")
    provider = create_provider(name="Arden Fostering")
    provider_admin = create_user("provider", provider=provider, provider_role="admin", name="Pat Provider")
    colleague = create_user("provider", provider=provider, provider_role="staff", name="Sam Staff")
    setting = create_setting(provider, name="Willow household")
    vacancy = create_vacancy(setting, places=2)
    req = create_request(officer)
    referral = create_referral(req, provider)
    offer = create_offer(referral, vacancy)
    person = create_connected_person(req)
    placed = create_offer_placement(officer, provider=provider, provider_user=provider_admin)
    pending = create_provider(name="Pending Care", status="pending")
    invited = create_user("provider", provider=provider, provider_role="staff", name="Ivy Invited")
    newcomer = create_user("officer", name="Nina Newcomer")  # has not set up an authenticator app yet
    newcomer.mfa_secret = None
    scenario = WhatIfScenario(name="Two more homes", items=[], results={})
    db_session.add(scenario)
    db_session.commit()
    return {
        "pending": {"auth.security_code": officer.email, "auth.recovery_code": officer.email,
                    "auth.set_up_mfa": newcomer.email},
        # Only what signing in needs: the rows detach when each request closes the session.
        "users": {role: SimpleNamespace(email=user.email) for role, user in
                  {"officer": officer, "provider": provider_admin, "admin": create_user("admin", la_code=None),
                   "commissioner": create_user("commissioner", la_code=None)}.items()},
        "args": {
            "request_id": req.id, "offer_id": offer.id, "referral_id": referral.id, "setting_id": setting.id,
            "vacancy_id": vacancy.id, "user_id": colleague.id, "provider_id": pending.id,
            "placement_id": placed.placement.id, "connected_person_id": person.id, "action": "close",
            "token": provider_services.invite_token(invited), "session_id": "an-unknown-session",
            "notification_id": "an-unknown-notification", "la_token_id": "an-unknown-token",
            "provider_token_id": "an-unknown-token", "scenario_id": scenario.id,
        },
        "setting_id": setting.id,
    }


def _posts(app, world):
    """(role or None, url, form class) for every POST endpoint that takes a form; a section per task-list key."""
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "POST" not in rule.methods:
            continue
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "required_roles", None)
        role = roles[0] if roles else None
        if rule.endpoint == "requests.new":
            forms = [(SECTIONS_BY_KEY["child"].form, {})]
        elif rule.endpoint == "requests.section":
            forms = [(section.form, {"key": key}) for key, section in SECTIONS_BY_KEY.items()]
        else:
            forms = [(form, {}) for form in sorted(forms_built_by(view), key=lambda f: f.__name__)]
        for form, extra in forms:
            values = {arg: extra.get(arg, world["args"].get(arg)) for arg in rule.arguments}
            assert None not in values.values(), (rule.rule, values)
            with app.test_request_context():
                from flask import url_for

                url = url_for(rule.endpoint, **values)
            out.append((rule.endpoint, role, url, form))
    return out


def _field_names(app, form_class) -> list[tuple[str, str, type]]:
    with app.test_request_context(method="POST"):
        form = form_class(formdata=None, meta={"csrf": False})
        return [(field.name, field.label.text, type(field)) for field in form]


def _csv_with_a_control_character(setting_id: str) -> tuple[io.BytesIO, str]:
    body = ("setting_id,setting_name,places,available_from,fee_gbp_week\r\n"
            f"{setting_id},Willow\x07 household,1,{(date.today() + timedelta(days=1)).isoformat()},800\r\n")
    return io.BytesIO(body.encode()), "vacancies.csv"


def test_a_nul_byte_in_any_field_of_any_form_is_refused_and_saves_nothing(app, client, auth, db_session):
    world = _world(db_session)
    posts = _posts(app, world)
    endpoints = {endpoint for endpoint, *_ in posts}
    # The walk found the forms people use (if a view is refactored so it no longer does, this says so).
    assert {"requests.new", "requests.section", "requests.connected_persons", "requests.siblings", "requests.index",
            "providers.make_offer", "providers.new_setting", "providers.register", "providers.upload_vacancies",
            "providers.invite_user", "placements.sign", "placements.end", "admin.decide_provider",
            "auth.sign_in"} <= endpoints
    signed_in_as = None
    tried = shown = 0
    for endpoint, role, url, form_class in sorted(posts, key=lambda p: (p[1] or "", p[0])):
        if role != signed_in_as:
            auth.sign_out()
            if role is not None:
                auth.sign_in(world["users"][role])
            signed_in_as = role
            if role == "provider":  # a provider's first view of a referral is recorded once: not input
                client.get(f"/provider/referrals/{world['args']['referral_id']}")
        for name, label, kind in _field_names(app, form_class):
            if name == "csrf_token":
                continue
            before = _snapshot(db_session)
            if endpoint in world["pending"]:  # the security-code steps answer only a sign-in half done
                auth.sign_out()
                signed_in_as = None
                assert client.post("/sign-in", data={"email": world["pending"][endpoint],
                                                     "password": "password"}).status_code == 302
                before = _snapshot(db_session)
            if issubclass(kind, FileField):
                response = client.post(url, data={name: _csv_with_a_control_character(world["setting_id"])},
                                       content_type="multipart/form-data")
            else:
                response = client.post(url, data={name: NUL, "action": "draft"})
            tried += 1
            where = f"{endpoint} {url} field {name}"
            assert response.status_code < 500, where
            if not issubclass(kind, SubmitField):
                assert 400 <= response.status_code < 500, (where, response.status_code)
            assert _snapshot(db_session) == before, f"{where}: something was saved"
            page = html.unescape(response.get_data(as_text=True))
            if issubclass(kind, FileField):
                assert "Remove the control characters from the setting_name column" in page, where
            elif not issubclass(kind, SubmitField) and f'name="{name}"' in page and "govuk-error-summary" in page:
                # The form was shown again with its errors: the field's error is this one. (Some buttons answer a
                # tampered post with the page and a general message instead; the status and the snapshot hold.)
                assert control_characters_message(label) in page, where
                shown += 1
    assert tried > 100 and shown > 60, (tried, shown)


def test_the_walk_finds_the_forms_a_view_builds(app):
    from portal.providers.forms import ConfirmForm, OfferForm
    from portal.requests.forms import ConnectedPersonForm

    assert forms_built_by(app.view_functions["requests.connected_persons"]) == {ConnectedPersonForm}
    assert forms_built_by(app.view_functions["providers.make_offer"]) == {OfferForm}  # not the page's other forms
    assert forms_built_by(app.view_functions["providers.confirm_vacancy"]) == {ConfirmForm}  # through _confirm()

