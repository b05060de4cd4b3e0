"""The commissioners' what-if pages (issue 13 §1): scenarios built, saved, run, compared and exported through the
pages, held to the allocation (adding nothing changes nothing; an exact-fit place places one more) and to
small-number suppression on the page and in every CSV file. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from portal.market import scenarios
from portal.market.whatif import whatif_open
from portal.models import AuditEvent, WhatIfScenario
from tests.factories import BIRMINGHAM, COVENTRY, create_provider, create_request, create_setting, create_user, create_vacancy
from tests.market.market_data import read_page
from tests.pages import Page

BASE = "/market/whatif"


def item(k: int = 0, **values) -> dict:
    """The form fields of item k (an agency foster place in Coventry for any child, by default)."""
    fields = {"places": "1", "kind": "agency_foster", "la": COVENTRY, "postcode": "", "age_min": "0",
              "age_max": "17", "sexes": ["female", "male"], "fee_gbp_week": "900"}
    fields.update(values)
    return {f"items-{k}-{name}": value for name, value in fields.items()}


def post_scenario(client, name: str, *items: dict, status: int = 302, action: str = "save"):
    data = {"name": name, "action": action}
    for fields in items:
        data.update(fields)
    response = client.post(f"{BASE}/new", data=data)
    assert response.status_code == status, Page(response.get_data(as_text=True)).errors
    return response


def saved(client, name: str, *items: dict) -> str:
    location = post_scenario(client, name, *items).headers["Location"]
    return location.rsplit("/", 1)[-1]


def run(client, scenario_id: str, on: str = "open") -> Page:
    response = client.post(f"{BASE}/{scenario_id}/run", data={"run": on})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get(f"{BASE}/{scenario_id}")
    assert page.status_code == 200
    return Page(page.get_data(as_text=True))


def figures(page: Page, run_on: str = "open") -> dict:
    section = page.soup.find(id=f"run-{run_on}")
    tables, _ = read_page(str(section))
    return tables


def count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def waiting_children(n: int, **changes):
    officer = create_user("officer", la_code=COVENTRY)
    return [create_request(officer, first_name=f"Child{k}", **changes) for k in range(n)]


# ------------------------------------------------------------------------------------------------ who gets in

@pytest.mark.parametrize("role", ["officer", "provider"])
def test_officers_and_providers_are_refused_every_what_if_page(client, auth, db_session, role):
    user = create_user(role, la_code=COVENTRY) if role == "officer" else create_user(
        "provider", provider=create_provider(), provider_role="admin")
    scenario = WhatIfScenario(name="Theirs", items=[], results={})
    db_session.add(scenario)
    db_session.commit()
    auth.sign_in(user)
    for path in (BASE, f"{BASE}/new", f"{BASE}/{scenario.id}", f"{BASE}/{scenario.id}.csv?run=open",
                 f"{BASE}/compare?scenario={scenario.id}&scenario={scenario.id}", f"{BASE}/proposals"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"{BASE}/new", data={"name": "Mine", **item()}).status_code == 403
    assert client.post(f"{BASE}/{scenario.id}/run", data={"run": "open"}).status_code == 403
    assert count(db_session, WhatIfScenario) == 1
    assert db_session.get(WhatIfScenario, scenario.id).results == {}


# ------------------------------------------------------------------------------------------------ the form

def test_bad_items_are_refused_with_what_was_typed_kept_and_nothing_saved(market, db_session):
    response = post_scenario(market, "Two homes", item(0, places="0", postcode="CV1 2AB", la=BIRMINGHAM),
                             item(1, places="two", kind="spaceship", la="", postcode="ZZ9 9ZZ", age_min="12",
                                  age_max="9", fee_gbp_week="=1+1"), status=422)
    page = Page(response.get_data(as_text=True))
    errors = " | ".join(page.errors)
    assert "Number of places must be between 1 and 200" in errors
    assert "CV1 2AB is not in Birmingham" in errors
    assert "Number of places must be a whole number, like 2" in errors
    assert "Not a valid choice" in errors or "Choose a placement type" in errors
    assert "Oldest age must be the same as or more than the youngest age" in errors
    assert "Weekly fee (optional) must be a number" in errors
    assert page.value("name") == "Two homes"
    assert page.value("items-1-places") == "two" and page.value("items-1-postcode") == "ZZ9 9ZZ"
    assert page.value("items-1-fee_gbp_week") == "=1+1"
    assert count(db_session, WhatIfScenario) == 0


def test_a_postcode_outside_the_region_and_no_place_at_all_are_refused(market, db_session):
    response = post_scenario(market, "", item(0, la="", postcode="SW1A 1AA"), item(1, la="", postcode=""),
                             status=422)
    errors = Page(response.get_data(as_text=True)).errors
    assert "Enter a name for the scenario" in errors
    assert "Enter a postcode in the West Midlands" in errors
    assert "Choose a local authority or enter a postcode" in errors
    assert count(db_session, WhatIfScenario) == 0


def test_items_are_added_and_removed_without_losing_what_was_typed(market, db_session):
    response = post_scenario(market, "Draft", item(0, places="3"), item(1, places="5", la=BIRMINGHAM),
                             status=200, action="add")
    page = Page(response.get_data(as_text=True))
    assert page.value("name") == "Draft"
    assert page.value("items-0-places") == "3" and page.value("items-1-places") == "5"
    assert page.soup.find(attrs={"name": "items-2-places"}) is not None  # the new blank row
    response = post_scenario(market, "Draft", item(0, places="3"), item(1, places="5", la=BIRMINGHAM),
                             item(2, places="7"), status=200, action="remove-1")
    page = Page(response.get_data(as_text=True))
    assert page.value("items-0-places") == "3" and page.value("items-2-places") == "7"
    assert page.soup.find(attrs={"name": "items-1-places"}) is None
    assert count(db_session, WhatIfScenario) == 0  # adding and removing rows saves nothing


def test_a_saved_scenario_keeps_its_items_by_la_and_by_postcode(market, db_session):
    scenario_id = saved(market, "Homes", item(0, places="2", kind="residential", age_min="10", age_max="15",
                                              needs_met=["therapeutic_support"], fee_gbp_week="£4,250.50"),
                        item(1, la="", postcode="b1 1aa", kind="la_foster"))
    scenario = db_session.get(WhatIfScenario, scenario_id)
    first, second = scenario.items
    assert (first["places"], first["kind"], first["la"], first["postcode"]) == (2, "residential", COVENTRY, None)
    assert first["needs_met"] == ["therapeutic_support"] and first["fee_gbp_week"] == 4250.5
    assert (second["la"], second["postcode"], second["fee_gbp_week"]) == (BIRMINGHAM, "B1 1AA", 900.0)
    page = Page(market.get(f"{BASE}/{scenario_id}").get_data(as_text=True))
    assert "2 places; Children's home; Coventry; ages 10 to 15" in page.text
    assert "Birmingham (B1 1AA)" in page.text
    assert "Not run yet" in page.text


def test_running_needs_a_choice_and_saves_nothing_without_one(market, db_session):
    scenario_id = saved(market, "Homes", item())
    response = market.post(f"{BASE}/{scenario_id}/run", data={"run": "yesterday"})
    assert response.status_code == 422
    assert db_session.get(WhatIfScenario, scenario_id).results == {}
    assert market.post(f"{BASE}/not-a-scenario/run", data={"run": "open"}).status_code == 404
    assert market.get(f"{BASE}/not-a-scenario").status_code == 404


# ------------------------------------------------------------------------------------------ held to the allocation

def test_adding_nothing_changes_nothing_through_the_page(market, db_session, exact):
    waiting_children(3)
    create_vacancy(create_setting(create_provider(), postcode="CV2 4GA"), places=1)
    # An item no child can use (a place for under-ones, and every child here is 12).
    scenario_id = saved(market, "Nothing useful", item(age_min="0", age_max="0"))
    tables = figures(run(market, scenario_id))
    summary = tables["summary"]
    for key in ("asked", "placed", "own_la", "within_20", "fee_pence"):
        without, with_, difference = summary[key]
        assert without == with_ and difference in ("0", "£0"), (key, summary[key])
    assert summary["asked"][0] == "3" and summary["placed"][0] == "1"
    assert all(row[2] in ("0", "£0") for table in tables.values() for row in table.values())


def test_a_place_that_exactly_fits_an_unplaced_child_places_one_more_through_the_page(market, db_session, exact):
    officer = create_user("officer", la_code=COVENTRY)
    create_request(officer, first_name="Amara", age=12)
    create_request(officer, first_name="Bea", age=15, needs=["therapeutic_support"], risks=["going_missing"])
    create_vacancy(create_setting(create_provider(), postcode="CV2 4GA"), places=1)  # Amara's
    fits_bea = item(age_min="15", age_max="15", sexes=["female"], needs_met=["therapeutic_support"],
                    risks_managed=["going_missing"], fee_gbp_week="1000")
    scenario_id = saved(market, "A place for Bea", fits_bea)
    tables = figures(run(market, scenario_id))
    assert tables["summary"]["placed"] == ["1", "2", "1"]
    assert tables["summary"]["own_la"][2] == "1" and tables["summary"]["within_20"][2] == "1"
    assert tables["summary"]["fee_pence"][2] == "£1,000"
    assert tables["by-need"]["therapeutic_support"] == ["0", "1", "1"]
    assert tables["s22c"]["other_foster"][2] == "1"
    assert tables["by-la-placed"][COVENTRY] == ["1", "2", "1"]
    # The page's figures are the core's own (portal.market.whatif, the CLI's summaries).
    core = whatif_open([("bea", [scenarios.provision_item(r)
                                 for r in db_session.get(WhatIfScenario, scenario_id).items])])
    assert core.scenarios[0]["delta"]["children_placed"] == 1
    stored = db_session.get(WhatIfScenario, scenario_id).results["open"]
    assert stored["options_version"] >= 0 and stored["computed_at"]


def test_the_replay_is_queued_from_the_page_and_run_by_the_jobs(app, market, db_session, exact):
    waiting_children(1)
    scenario_id = saved(market, "One more", item())
    page = run(market, scenario_id, "open")
    assert "Not run yet" in page.soup.find(id="run-replay").get_text()
    page = run(market, scenario_id, "replay")
    assert page.soup.find(attrs={"data-testid": "queued-replay"}) is not None
    assert "replay" not in db_session.get(WhatIfScenario, scenario_id).results  # nothing computed in the request
    assert scenarios.list_queued() == [(scenario_id, "replay")]
    result = app.test_cli_runner().invoke(args=["market", "whatif-run", "--queued"])
    assert result.exit_code == 0, result.output
    assert "One more: Replay of the last 12 months computed in" in result.output
    db_session.expire_all()
    assert scenarios.list_queued() == []
    page = Page(market.get(f"{BASE}/{scenario_id}").get_data(as_text=True))
    assert page.soup.find(attrs={"data-testid": "queued-replay"}) is None
    assert figures(page, "replay")["summary"]["asked"][0] == "0"  # nothing was submitted in a past month
    assert figures(page, "open")["summary"]["placed"] == ["0", "1", "1"]  # the open run is still there
    assert app.test_cli_runner().invoke(args=["market", "whatif-run"]).exit_code != 0  # one, or --queued


# ------------------------------------------------------------------------------------------------ suppression

def test_small_numbers_are_hidden_on_the_page_and_in_the_csv(market, db_session):
    waiting_children(3)
    scenario_id = saved(market, "=HYPERLINK(\"x\")", item(places="2"))
    tables = figures(run(market, scenario_id))
    # 3 children asked about, 0 placed without, 2 with: all small, all hidden (the 0 placed too: with the 3 asked
    # about hidden, it would give away the 3 not placed).
    assert tables["summary"]["asked"][:2] == ["c", "c"]
    assert tables["summary"]["placed"] == ["c", "c", "c"]
    assert tables["summary"]["fee_pence"] == ["c", "c", "c"]
    assert tables["by-la-placed"][COVENTRY] == ["c", "c", "c"]
    body = market.get(f"{BASE}/{scenario_id}.csv?run=open")
    assert body.status_code == 200 and body.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(body.get_data(as_text=True))))
    assert rows[0][:4] == ["Scenario", "Run on", "Table", "Row"]
    assert all(row[0] == "'=HYPERLINK(\"x\")" for row in rows[1:])  # the name cannot run as a formula
    placed = next(row for row in rows if row[2].startswith("Summary") and row[3] == "Children placed")
    assert placed[4:] == ["c", "c", "c"]
    assert "2" not in [cell for row in rows[1:] for cell in row[4:]]
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "export_whatif_csv")) == 1


def test_a_difference_of_a_few_children_is_hidden_even_when_the_totals_are_not(market, db_session):
    waiting_children(20)
    create_vacancy(create_setting(create_provider(), postcode="CV2 4GA", registered_places=9), places=9)
    scenario_id = saved(market, "Two more", item(places="2"))
    summary = figures(run(market, scenario_id))["summary"]
    assert summary["asked"][:2] == ["20", "20"]
    assert summary["placed"][0] == "9"  # and 11 not placed: both shown
    # 11 placed with the provision would give the 2 newly placed children back by subtraction: hidden.
    assert summary["placed"][1:] == ["c", "c"]


def test_a_few_children_not_placed_are_not_given_away_by_subtraction(market, db_session):
    waiting_children(12)
    create_vacancy(create_setting(create_provider(), postcode="CV2 4GA", registered_places=9), places=9)
    scenario_id = saved(market, "Nothing", item(age_min="0", age_max="0"))
    summary = figures(run(market, scenario_id))["summary"]
    # 12 asked about and 9 placed would say 3 children were not placed: one of the two is hidden.
    assert "c" in (summary["asked"][0], summary["placed"][0])


def test_an_la_commissioner_sees_their_own_la_and_the_region(client, auth, db_session, exact):
    waiting_children(2)
    scenario_id = saved_as_region(client, auth, db_session)
    auth.sign_out()
    auth.sign_in(create_user("commissioner", la_code=BIRMINGHAM))
    tables = figures(Page(client.get(f"{BASE}/{scenario_id}").get_data(as_text=True)))
    assert set(tables["by-la-placed"]) == {BIRMINGHAM, "region"}
    assert tables["summary"]["asked"][0] == "0"  # Birmingham's own children: none


def saved_as_region(client, auth, db_session) -> str:
    auth.sign_in(create_user("commissioner", la_code=None))
    scenario_id = saved(client, "Regional", item())
    run(client, scenario_id)
    return scenario_id


# ------------------------------------------------------------------------------------------------ comparing

def test_two_scenarios_compared_side_by_side_and_as_csv(market, db_session, exact):
    waiting_children(3)
    one = saved(market, "One place", item(places="1"))
    two = saved(market, "Two places", item(places="2", fee_gbp_week="1000"))
    run(market, one)
    run(market, two)
    response = market.get(f"{BASE}/compare?scenario={one}&scenario={two}&run=open")
    assert response.status_code == 200
    tables, _ = read_page(response.get_data(as_text=True))
    assert tables["comparison"]["placed"] == ["0", "1", "1", "0", "2", "2"]
    assert tables["comparison"]["fee_pence"] == ["£0", "£900", "£900", "£0", "£2,000", "£2,000"]
    body = market.get(f"{BASE}/compare.csv?scenario={one}&scenario={two}&run=open")
    rows = list(csv.reader(io.StringIO(body.get_data(as_text=True))))
    assert rows[0][1:4] == ["One place: without", "One place: with", "One place: difference"]
    assert next(r for r in rows if r[0] == "Children placed")[1:] == ["0", "1", "1", "0", "2", "2"]


@pytest.mark.parametrize("query", ["scenario={one}", "scenario={one}&scenario=nope", "scenario={one}&scenario={one}",
                                   "scenario={one}&scenario={two}&run=tomorrow"])
def test_a_bad_comparison_is_a_400_page(market, db_session, query):
    one = saved(market, "One", item())
    two = saved(market, "Two", item())
    url = f"{BASE}/compare?" + query.format(one=one, two=two)
    assert market.get(url).status_code == 400
    assert market.get(url.replace("/compare?", "/compare.csv?")).status_code == 400


def test_a_scenario_not_run_yet_shows_x_in_a_comparison(market, db_session, exact):
    waiting_children(1)
    one = saved(market, "Run", item())
    two = saved(market, "Not run", item())
    run(market, one)
    tables, _ = read_page(market.get(f"{BASE}/compare?scenario={one}&scenario={two}").get_data(as_text=True))
    assert tables["comparison"]["placed"][3:] == ["x", "x", "x"]
    assert market.get(f"{BASE}/{two}.csv?run=open").status_code == 400


# ------------------------------------------------------------------------------------------------ proposals

def test_proposals_score_the_short_cells_and_say_the_bound(market, db_session, exact):
    officer = create_user("officer", la_code=COVENTRY)
    for k in range(3):
        create_request(officer, first_name=f"Teen{k}", age=15)  # 10 to 15, foster care, Coventry: no vacancy
    create_request(create_user("officer", la_code=BIRMINGHAM), first_name="Baby", age=0, home_postcode="B1 1AA")
    page = Page(market.get(f"{BASE}/proposals").get_data(as_text=True))
    assert "2 type, local authority and age band combinations are short today" in page.text
    assert f"At most {scenarios.PROPOSAL_LIMIT} candidates are scored" in page.text
    tables, _ = read_page(page.html)
    rows = tables["proposals"]
    assert len(rows) == 2
    coventry = rows[f"la_foster-{COVENTRY}-10_15"]
    assert coventry == ["3", "3", "1.00"]
    assert list(rows)[0] in (f"la_foster-{COVENTRY}-10_15", f"la_foster-{BIRMINGHAM}-under_1")


def test_proposals_hide_small_gaps(market, db_session):
    officer = create_user("officer", la_code=COVENTRY)
    create_request(officer, first_name="Teen", age=15, needs=["therapeutic_support"])
    page = Page(market.get(f"{BASE}/proposals").get_data(as_text=True))
    tables, _ = read_page(page.html)
    assert tables["proposals"][f"la_foster-{COVENTRY}-10_15"] == ["c", "c", "c"]
    assert "Therapeutic support" not in page.text.split("What each candidate adds")[-1]


def test_the_hub_runs_a_large_scenario_from_the_command_line(app, market, db_session, exact):
    waiting_children(2)
    scenario_id = saved(market, "From the command line", item())
    result = app.test_cli_runner().invoke(args=["market", "whatif-run", scenario_id, "--run", "open"])
    assert result.exit_code == 0, result.output
    assert "From the command line: Today's open requests computed in" in result.output
    tables = figures(Page(market.get(f"{BASE}/{scenario_id}").get_data(as_text=True)))
    assert tables["summary"]["placed"] == ["0", "1", "1"]
    missing = app.test_cli_runner().invoke(args=["market", "whatif-run", "nope"])
    assert missing.exit_code != 0 and "no scenario 'nope'" in missing.output


def test_a_control_character_in_an_item_is_a_field_error_and_saves_nothing(market, db_session):
    response = post_scenario(market, "Homes", item(postcode="CV1\x002AB", la=""), status=422)
    page = Page(response.get_data(as_text=True))
    assert "Remove the control characters from Or a postcode" in page.errors
    assert count(db_session, WhatIfScenario) == 0


def test_a_comparison_hides_small_numbers_on_the_page_and_in_its_csv(market, db_session):
    waiting_children(3)
    one = saved(market, "One", item(places="1"))
    two = saved(market, "Two", item(places="2"))
    run(market, one)
    run(market, two)
    tables, _ = read_page(market.get(f"{BASE}/compare?scenario={one}&scenario={two}").get_data(as_text=True))
    assert tables["comparison"]["placed"] == ["c"] * 6
    rows = list(csv.reader(io.StringIO(
        market.get(f"{BASE}/compare.csv?scenario={one}&scenario={two}").get_data(as_text=True))))
    assert next(r for r in rows if r[0] == "Children placed")[1:] == ["c"] * 6
    assert next(r for r in rows if r[0] == "Children asked about")[1:] == ["c"] * 6


def test_a_saving_reads_as_minus_pounds():
    from portal.market.tables import Cell

    assert Cell(-455.0, "gbp").display == "-£455" and Cell(455.0, "gbp").display == "£455"
    assert Cell(-455.0, "gbp").csv_text == "-455"


def test_proposals_are_solved_once_per_data_version(market, db_session, exact, monkeypatch):
    officer = create_user("officer", la_code=COVENTRY)
    create_request(officer, first_name="Teen", age=15)
    solves = []
    real = scenarios._run
    monkeypatch.setattr(scenarios, "_run", lambda *args: solves.append(1) or real(*args))
    first, _ = read_page(market.get(f"{BASE}/proposals").get_data(as_text=True))
    again, _ = read_page(market.get(f"{BASE}/proposals").get_data(as_text=True))
    assert again == first and len(solves) == 1
    create_request(officer, first_name="Another", age=4)  # the region's data moved: scored again
    tables, _ = read_page(market.get(f"{BASE}/proposals").get_data(as_text=True))
    assert len(solves) == 2 and len(tables["proposals"]) == 2
