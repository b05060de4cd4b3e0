"""The demand forecast (issue 13 §2): the backtest computed from the series, the page on both databases, the rule
that a series with suppressed months gets no forecast, and who may see it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from portal.market import forecast as fc
from portal.market.filters import month_key
from tests.factories import create_provider, create_request, create_user
from tests.market.market_data import TODAY, read_page, submitted

SEASON = np.array([1.15, 1.0, 1.05, 0.95, 1.0, 1.0, 0.9, 0.75, 1.2, 1.15, 1.05, 0.8])


def test_a_perfectly_seasonal_series_is_forecast_exactly_by_the_seasonal_naive():
    y = np.tile(SEASON * 80, 2)
    tested = fc.backtest(y)
    assert tested.naive_mae == 0 and tested.naive_mape == 0
    assert np.array_equal(tested.naive, y[:12])
    assert tested.model_mae == pytest.approx(float(np.mean(np.abs(y[-12:] - tested.predicted))))
    assert tested.model_mae > 0, "12 months to fit on: no seasonal pattern, so the model cannot match it"


def test_on_a_trend_the_model_beats_the_seasonal_naive():
    y = 50 + 3.0 * np.arange(24)
    tested = fc.backtest(y)
    assert tested.naive_mae == pytest.approx(36.0)  # each month a year later is 12 x 3 requests higher
    assert tested.model_mae < tested.naive_mae / 4
    assert tested.model_mape is not None and tested.model_mape < tested.naive_mape


def test_the_model_follows_the_length_of_the_history():
    rng = np.random.default_rng(7)
    long = np.tile(SEASON * 60, 3) + rng.normal(0, 3, 36)
    assert fc.fit(long).model.startswith("ETS(A,Ad,A)")
    assert fc.fit(long[:30]).model.startswith("ETS(A,N,A)") and fc.fit(long[:30]).seasonal
    short = fc.forecast(long[:18])
    assert short.fit.model.startswith("ETS(A,Ad,N)") and not short.fit.seasonal and short.backtest is None
    with pytest.raises(fc.ForecastUnavailable):
        fc.fit(long[:11])


def test_the_forecast_is_deterministic_with_nested_intervals_clipped_at_zero():
    rng = np.random.default_rng(3)
    y = np.clip(np.tile(SEASON * 4, 2) + rng.normal(0, 2, 24), 0, None)
    one, two = fc.forecast(y), fc.forecast(y)
    assert np.array_equal(one.fit.point, two.fit.point) and np.array_equal(one.fit.upper[95], two.fit.upper[95])
    assert len(one.fit.point) == 12
    assert np.all(one.fit.lower[95] <= one.fit.lower[80]) and np.all(one.fit.lower[80] <= one.fit.point)
    assert np.all(one.fit.point <= one.fit.upper[80]) and np.all(one.fit.upper[80] <= one.fit.upper[95])
    assert np.all(one.fit.lower[95] >= 0)


# ----------------------------------------------------------------------------------------------- the page

def _month_back(n: int) -> date:
    index = TODAY.year * 12 + TODAY.month - 1 - n
    return date(index // 12, index % 12 + 1, 10)


def build_history(per_month) -> dict[str, int]:
    """per_month[i]: requests submitted i + 1 months ago (oldest last). Returns the counts by month key."""
    officer = create_user("officer")
    counts = {}
    for back, n in enumerate(per_month, start=1):
        day = _month_back(back)
        counts[month_key(day)] = n
        for _ in range(n):
            submitted(create_request(officer), day)
    return counts


PATTERN = [2, 1, 3, 2, 1, 1, 0, 1, 3, 2, 2, 1]


def test_the_page_shows_history_forecast_and_a_computed_backtest(market, exact, db_session):
    counts = build_history(PATTERN + [n + 1 for n in PATTERN])  # the last year a little busier: 24 months
    response = market.get("/market/forecast")
    assert response.status_code == 200
    tables, _ = read_page(response.get_data(as_text=True))
    history = {k: v for k, v in tables["history"].items() if k != "total"}
    assert history == {k: [str(n)] for k, n in counts.items()}
    assert len([k for k in tables["forecast"] if k != "total"]) == 12
    months = sorted(counts)
    actual = np.array([counts[m] for m in months[-12:]], dtype=float)
    naive = np.array([counts[m] for m in months[:12]], dtype=float)
    assert tables["backtest"]["seasonal_naive"][0] == f"{np.mean(np.abs(actual - naive)):.2f}"
    expected = fc.backtest([counts[m] for m in months])
    assert tables["backtest"]["model"][0] == f"{expected.model_mae:.2f}"
    assert tables["backtest-months"][months[-1]] == [str(counts[months[-1]]),
                                                     str(round(float(expected.predicted[-1]))),
                                                     str(counts[months[-13]])]
    for key in ("history", "forecast", "backtest"):
        csv = market.get(f"/market/forecast/{key}.csv")
        assert csv.status_code == 200 and csv.mimetype == "text/csv"


def test_a_series_with_suppressed_months_gets_no_forecast(market, db_session):
    build_history(PATTERN * 2)  # every month under the threshold of 7
    response = market.get("/market/forecast")
    html = response.get_data(as_text=True)
    tables, _ = read_page(html)
    assert response.status_code == 200
    assert "forecast" not in tables and "backtest" not in tables
    assert all(v == ["c"] for k, v in tables["history"].items() if v != ["0"])
    assert "No forecast" in html
    assert market.get("/market/forecast/forecast.csv").status_code == 404


def test_a_short_history_is_forecast_without_a_season_or_backtest(market, exact, db_session):
    build_history([3] * 6 + [4] * 8)
    tables, _ = read_page(market.get("/market/forecast").get_data(as_text=True))
    assert "forecast" in tables and "backtest" not in tables


@pytest.mark.parametrize("query", ["type=bogus", "age=9_99", "la=E99999999", "need=nope", "period=60m"])
def test_bad_filters_are_refused(market, db_session, query):
    assert market.get(f"/market/forecast?{query}").status_code == 400


@pytest.mark.parametrize("role", ["officer", "provider"])
def test_officers_and_providers_are_refused(client, auth, db_session, role):
    auth.sign_in(create_user(role, provider=create_provider() if role == "provider" else None))
    assert client.get("/market/forecast").status_code == 403
    assert client.get("/market/forecast/history.csv").status_code == 403
