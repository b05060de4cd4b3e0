"""What-if sufficiency over the region's own requests (issue 13 §1): today's open requests and a replay of the last
12 months, with and without hypothetical provision, through the same core as the daily allocation."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from portal import geo, matching
from portal.db import db
from portal.market.whatif import ProvisionItem, replay_months, whatif_open, whatif_replay
from portal.options import open_problem
from tests.factories import (
    BIRMINGHAM, COVENTRY, create_provider, create_request, create_setting, create_user, create_vacancy,
)


def coventry_home(places: int = 1, **changes) -> ProvisionItem:
    point = geo.lookup("CV1 2AB")
    return ProvisionItem(places=places, kind="agency_foster", la=COVENTRY,
                         location=matching.GridPoint(point.easting, point.northing), **changes)


def test_a_place_added_where_children_wait_places_them(db_session):
    officer = create_user("officer", la_code=COVENTRY)
    for name in ("Amara", "Bea", "Cleo"):
        create_request(officer, first_name=name)
    create_request(officer, first_name="Dora", status="placed")  # not open: not asked about
    create_vacancy(create_setting(create_provider(), postcode="CV2 4GA"), places=1)

    result = whatif_open([("two more in Coventry", [coventry_home(2, fee_gbp_week=900.0)]),
                          ("over-16s only", [coventry_home(3, age_min=16, age_max=17)])])

    assert result.baseline["children_placed"] == 1
    two_more, over_16 = result.scenarios
    assert two_more["id"] == "two more in Coventry"
    assert two_more["children_placed"] == 3 and two_more["delta"]["children_placed"] == 2
    assert two_more["delta"]["placed_own_la"] == 2 and two_more["delta"]["placed_within_20_miles"] == 2
    assert two_more["delta"]["fee_gbp_week"] == 1800.0
    assert over_16["delta"] == {"children_placed": 0, "placed_own_la": 0, "placed_within_20_miles": 0,
                                "fee_gbp_week": 0.0}


def test_the_what_if_asks_about_the_same_children_as_the_daily_allocation(db_session):
    officer = create_user("officer", la_code=COVENTRY)
    waiting = create_request(officer, first_name="Amara")
    create_request(officer, first_name="Bea", status="placed")
    specs, _options = open_problem()
    assert [s.id for s in specs] == [waiting.id]
    # The core's specs carry no name and no date of birth: nothing of the child leaves for the what-if.
    assert "Amara" not in repr(specs) and str(waiting.date_of_birth) not in repr(specs)


def _submitted(officer, when: datetime, **changes):
    req = create_request(officer, **changes)
    req.submitted_at = when
    db.session.commit()
    return req


def test_the_replay_takes_each_of_the_last_twelve_whole_months_on_its_own(db_session):
    officer = create_user("officer", la_code=COVENTRY)
    other = create_user("officer", la_code=BIRMINGHAM)
    today = date.today()
    this_month = datetime(today.year, today.month, 1, 9, tzinfo=timezone.utc)
    last_month = (this_month - timedelta(days=1)).replace(day=3)
    a_year_ago = (this_month - timedelta(days=365)).replace(day=2)
    too_old = (this_month - timedelta(days=400)).replace(day=2)
    in_last = [_submitted(officer, last_month, first_name="Amara", status="placed"),
               _submitted(other, last_month, first_name="Bola", status="withdrawn", home_postcode="B1 1AA")]
    oldest = _submitted(officer, a_year_ago, first_name="Cleo", status="placed", needed_in_days=-300)
    _submitted(officer, too_old, first_name="Dora", status="placed")
    _submitted(officer, this_month, first_name="Esme")  # this month is not over: not replayed yet

    months = replay_months(today)
    assert len(months) == 12
    assert [m for m, _ in months] == sorted(m for m, _ in months)
    assert months[-1][0] == date(last_month.year, last_month.month, 1)
    assert {s.id for s in months[-1][1]} == {r.id for r in in_last}  # whatever became of them
    first_month, first_specs = months[0]
    assert [s.id for s in first_specs] == [oldest.id]
    assert first_month == date(a_year_ago.year, a_year_ago.month, 1)
    assert first_specs[0].needed_by == today  # a date passed long ago is needed from today, for today's places
    assert sum(len(s) for _, s in months) == 3


def test_a_replay_adds_up_the_months(db_session):
    officer = create_user("officer", la_code=COVENTRY)
    today = date.today()
    this_month = datetime(today.year, today.month, 1, 9, tzinfo=timezone.utc)
    for back in (1, 2, 3):  # one child in each of the last three months
        when = (this_month - timedelta(days=28 * back + 2)).replace(day=5)
        _submitted(officer, when, status="placed")
    create_vacancy(create_setting(create_provider(), postcode="CV2 4GA"), places=1)  # one place, every month

    result = whatif_replay([("none added", []), ("one more", [coventry_home(1, fee_gbp_week=700.0)])])
    assert result.baseline["children_placed"] == 3  # each month on its own: the one place serves each month
    none_added, one_more = result.scenarios
    assert none_added["delta"]["children_placed"] == 0
    assert one_more["children_placed"] == 3 and one_more["delta"]["children_placed"] == 0
