"""Market pages are built once per data version and kept per process (portal/market/cache.py, issue 16 §4):
a change of data gives fresh figures at once, two app instances on one database agree, a page view or a sign-in
does not move the version, and a kept page holds nothing about a child beyond what the page shows."""

from __future__ import annotations

import dataclasses
import re

from portal.db import Base, db
from portal.market.cache import page_cache
from portal.models import PlacementRequest
from portal.options import get_data_version
from tests.conftest import AuthActions, make_app, outside_test_app_context
from tests.factories import BIRMINGHAM, create_request, create_user
from tests.market.market_data import TODAY, read_page, submitted

PAGES = ("/market/", "/market/demand", "/market/supply", "/market/gaps", "/market/prices", "/market/distance",
         "/market/outcomes", "/market/responses", "/market/shape", "/market/summary")


def requests_figure(client, path: str = "/market/demand") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    return read_page(response.get_data(as_text=True))[1]["requests"]


def main(response) -> str:
    """The page's main content (the header names the person signed in)."""
    html = response.get_data(as_text=True)
    found = re.search(r"<main.*?</main>", html, re.S)
    assert found, "no main element"
    return re.sub(r'name="(csrf_token|form_key)"[^>]*', "", found.group(0))


def add_submitted_request(officer, **changes) -> PlacementRequest:
    return submitted(create_request(officer, **changes), TODAY)


def builds(app) -> int:
    with app.app_context():
        return page_cache().builds


def test_a_page_is_built_once_per_data_version_and_again_after_a_change(app, market, exact, db_session):
    officer = create_user("officer")
    for _ in range(3):
        add_submitted_request(officer)
    assert requests_figure(market) == "3"
    before = builds(app)
    assert requests_figure(market) == "3" and requests_figure(market) == "3"
    assert builds(app) == before, "the same view at the same data version is not built again"

    version = get_data_version()
    add_submitted_request(officer)
    db_session.rollback()
    assert get_data_version() > version, "a committed change to the region's data moves the data version"
    assert requests_figure(market) == "4", "fresh figures at once after a change"
    assert builds(app) == before + 1


def test_the_csv_of_a_table_follows_the_page_after_a_change(market, exact, db_session):
    officer = create_user("officer")
    add_submitted_request(officer)
    first = market.get("/market/demand/by-la.csv").get_data(as_text=True)
    add_submitted_request(officer)
    add_submitted_request(create_user("officer", la_code=BIRMINGHAM))
    second = market.get("/market/demand/by-la.csv").get_data(as_text=True)
    assert first != second
    assert re.search(r"Coventry,2\b", second) and re.search(r"Birmingham,1\b", second), second


def test_views_and_sign_ins_leave_the_data_version_where_it_is(app, client, auth, commissioner, db_session):
    officer = create_user("officer")
    request_id = add_submitted_request(officer).id
    version = get_data_version()
    db_session.rollback()
    auth.sign_in(officer)  # sessions, sign-in counters and the audit trail are not the region's data
    assert client.get(f"/requests/{request_id}").status_code == 200
    assert client.get("/requests/").status_code == 200
    db_session.rollback()
    assert get_data_version() == version


def test_drafting_a_request_leaves_the_data_version_and_submitting_it_moves_it(db_session):
    # The market pages never count drafts, so an officer's drafting must not make every process rebuild them.
    officer = create_user("officer")
    draft = create_request(officer, status="draft")
    version = get_data_version()
    draft.budget_gbp_week = 950
    db_session.commit()
    assert get_data_version() == version
    draft.status = "searching"
    db_session.commit()
    assert get_data_version() == version + 1


def test_two_app_instances_on_one_database_agree(app, database_url, exact, db_session):
    other = make_app(database_url)
    other.config["SUPPRESSION_THRESHOLD"] = 0
    try:
        first, second = app.test_client(), other.test_client()
        AuthActions(first).sign_in(create_user("commissioner", la_code=None))
        AuthActions(second).sign_in(create_user("commissioner", la_code=None))
        officer = create_user("officer")
        add_submitted_request(officer)
        assert requests_figure(first) == requests_figure(second) == "1"
        # Both processes have the page kept; a change made through either is seen by both at once.
        add_submitted_request(officer)
        add_submitted_request(officer)
        assert requests_figure(first) == requests_figure(second) == "3"
        with outside_test_app_context(), other.app_context():
            from tests.factories import create_request as make_request

            person = db.session.get(type(officer), officer.id)
            submitted(make_request(person), TODAY)
        db_session.rollback()
        assert requests_figure(second) == requests_figure(first) == "4"
        for path in PAGES:
            one, two = first.get(path), second.get(path)
            assert one.status_code == two.status_code == 200, path
            assert main(one) == main(two), path
    finally:
        other.extensions["portal_db"][0].dispose()


def _leaves(value, seen: set[int]):
    """Every object reachable from a kept page: dataclass fields, containers, objects' attributes."""
    if id(value) in seen:
        return
    seen.add(id(value))
    yield value
    if isinstance(value, (str, bytes, int, float, bool, type(None))):
        return
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, (list, tuple, set, frozenset)):
        children = list(value)
    elif dataclasses.is_dataclass(value):
        children = [getattr(value, f.name) for f in dataclasses.fields(value)]
    elif hasattr(value, "__dict__"):
        children = list(vars(value).values())
    else:
        children = []
    for child in children:
        yield from _leaves(child, seen)


def test_kept_pages_hold_aggregates_only_never_a_childs_details(app, market, exact, db_session):
    officer = create_user("officer")
    children = [add_submitted_request(officer, first_name="Zebedee", last_name=f"Quartermaine{i}", age=10 + i)
                for i in range(3)]
    for path in PAGES:
        assert market.get(path).status_code == 200, path
    assert market.get("/market/demand/by-month.csv").status_code == 200
    with app.app_context():
        kept = page_cache().values()
    assert kept, "the pages were kept"
    secrets = {"Zebedee", *(c.last_name for c in children), *(c.id for c in children),
               *(c.child_reference for c in children if c.child_reference), *(c.home_postcode for c in children)}
    seen: set[int] = set()
    for page in kept:
        for leaf in _leaves(page, seen):
            assert not isinstance(leaf, Base), f"a database row is kept: {type(leaf).__name__}"
            if isinstance(leaf, str):
                assert not any(secret in leaf for secret in secrets), f"a child's detail is kept: {leaf!r}"
