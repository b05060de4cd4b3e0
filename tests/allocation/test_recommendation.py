"""The allocation in view for officers (issue 13 §3): on each of their open requests, the region's latest
allocation's recommended place and why, or why it found none; never another child's outcome."""

import re

from sqlalchemy import select

from portal.models import AllocationRun, Vacancy
from portal.options import bump_options_version
from portal.requests import queries
from tests.factories import BIRMINGHAM, create_provider, create_request, create_setting, create_user, create_vacancy


def _panel(page: str) -> str:
    found = re.search(r'<div class="govuk-inset-text" data-testid="recommendation".*?</div>', page, re.S)
    assert found, "no recommendation panel"
    return found.group(0)


def _outcome(page: str) -> str:
    return re.search(r'data-testid="recommendation" data-outcome="([a-z_]+)"', page).group(1)


def test_the_officer_sees_the_recommended_place_and_why_or_why_none(client, auth, db_session, runner):
    officer = create_user("officer")
    setting = create_setting(create_provider(), name="Oak Lodge household", postcode="CV2 4GA")
    vacancy = create_vacancy(setting, places=1)
    urgent = create_request(officer, first_name="Urgent", urgency="today", needed_in_days=0)
    later = create_request(officer, first_name="Later", urgency="over_5_days", needed_in_days=10)
    ids = (urgent.id, later.id, vacancy.id)
    auth.sign_in(officer)
    assert 'data-testid="recommendation"' not in client.get(f"/requests/{ids[0]}").get_data(as_text=True)

    assert runner.invoke(args=["allocation", "run", "--time-limit", "5"]).exit_code == 0
    run = db_session.scalar(select(AllocationRun))
    assert {a["request"]: a["option"] for a in run.result["assignments"]} == {ids[0]: ids[2]}

    page = client.get(f"/requests/{ids[0]}").get_data(as_text=True)
    assert _outcome(page) == "placed"
    panel = _panel(page)
    assert f'data-option="{ids[2]}"' in panel and "Oak Lodge household" in panel
    # Why: the same score and reasons as the place's own row in the ranked list.
    row = page.split(f'data-option="{ids[2]}"')[2].split("</tr>")[0]
    assert re.search(r">(-?\d+)</td>", row).group(1) in panel
    assert "Later" not in panel

    page = client.get(f"/requests/{ids[1]}").get_data(as_text=True)
    assert _outcome(page) == "unplaced"
    reason = next(u["reason"] for u in run.result["unplaced"] if u["request"] == ids[1])
    panel = _panel(page)
    assert reason.replace("'", "&#39;") in panel or reason in panel
    assert "Urgent" not in panel and ids[0] not in page

    # A request submitted after the run is not in it, and says so.
    newer = create_request(officer, first_name="Newer")
    assert _outcome(client.get(f"/requests/{newer.id}").get_data(as_text=True)) == "not_in_run"


def test_a_recommended_place_no_longer_open_is_not_offered_as_the_recommendation(client, auth, db_session, runner):
    officer = create_user("officer")
    vacancy = create_vacancy(create_setting(create_provider(), name="Gone household"), places=1)
    child = create_request(officer)
    ids = (child.id, vacancy.id)
    assert runner.invoke(args=["allocation", "run", "--time-limit", "5"]).exit_code == 0
    db_session.get(Vacancy, ids[1]).status = "withdrawn"
    bump_options_version(vacancies=[ids[1]])  # as the provider's withdrawal does
    db_session.commit()
    auth.sign_in(officer)
    page = client.get(f"/requests/{ids[0]}").get_data(as_text=True)
    assert _outcome(page) == "placed"
    assert 'data-testid="recommendation-gone"' in page and "Gone household" not in _panel(page)


def test_another_las_officer_gets_nothing_of_the_run(client, auth, db_session, runner):
    officer = create_user("officer")
    create_vacancy(create_setting(create_provider()), places=1)
    child = create_request(officer, first_name="Mine")
    assert runner.invoke(args=["allocation", "run", "--time-limit", "5"]).exit_code == 0
    other = create_user("officer", la_code=BIRMINGHAM)
    try:
        queries.allocation_recommendation(other, child)
    except Exception as refused:  # the scoped lookup refuses, as every officer query does
        assert getattr(refused, "status", None) == 404 or type(refused).__name__ == "NotFound"
    else:
        raise AssertionError("another LA's officer got this child's recommendation")
    auth.sign_in(other)
    assert client.get(f"/requests/{child.id}").status_code == 404
