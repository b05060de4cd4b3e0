"""The region-wide allocation in the portal: run, validated, saved; admin only; aggregates only."""

import re

from sqlalchemy import func, select

from portal.models import AllocationRun
from tests.factories import (
    BIRMINGHAM, create_connected_person, create_provider, create_request, create_setting, create_user, create_vacancy,
)


def test_admin_runs_allocation_and_sees_totals_only(client, auth, db_session):
    officer = create_user("officer")
    provider = create_provider()
    create_vacancy(create_setting(provider, postcode="CV2 4GA"), places=1)
    urgent = create_request(officer, first_name="Urgent", urgency="today", needed_in_days=0)
    create_request(officer, first_name="Later", urgency="over_5_days", needed_in_days=10)
    family = create_request(create_user("officer", la_code=BIRMINGHAM), first_name="Family", home_postcode="B15 2TT")
    create_connected_person(family, postcode="B15 2TT")
    auth.sign_in(create_user("admin", la_code=None))

    assert "has not been run yet" in client.get("/allocation/").get_data(as_text=True)
    response = client.post("/allocation/run")
    assert response.status_code == 302
    run = db_session.scalar(select(AllocationRun))
    # One place: the child needed today gets it (urgency first); the other child with a connected person gets them.
    assignments = {a["request"]: a["option"] for a in run.result["assignments"]}
    assert urgent.id in assignments and family.id in assignments
    assert run.placed_count == 2 and run.unplaced_count == 1 and run.status in ("optimal", "feasible")
    assert run.bound >= run.objective
    page = client.get("/allocation/").get_data(as_text=True)
    assert re.search(r'data-figure="placed">2<', page)
    for name in ("Urgent", "Later", "Family"):
        assert name not in page


def test_only_admins_run_the_allocation(client, auth, db_session):
    auth.sign_in(create_user("commissioner", la_code=None))
    assert client.get("/allocation/").status_code == 403
    assert client.post("/allocation/run").status_code == 403
    auth.sign_out()
    auth.sign_in(create_user("officer"))
    assert client.post("/allocation/run").status_code == 403
    assert db_session.scalar(select(func.count()).select_from(AllocationRun)) == 0


def test_cli_runs_and_saves(runner, db_session):
    officer = create_user("officer")
    create_vacancy(create_setting(create_provider()))
    create_request(officer)
    result = runner.invoke(args=["allocation", "run", "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 children placed" in result.output
    assert db_session.scalar(select(func.count()).select_from(AllocationRun)) == 1
