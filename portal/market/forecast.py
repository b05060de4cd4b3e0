"""Demand forecast: a monthly series of requests in, a 12-month forecast with intervals and its backtest out.

Pure: numbers in, numbers out (no database, no Flask). The model is statsmodels' exponential smoothing in state
space form (ETSModel, additive errors), so its prediction intervals are analytic and the same every time (no
simulation, no random state). Which model depends on how much history there is (docs/market.md):

    at least 36 months   ETS(A,Ad,A): level, damped trend and a 12-month additive seasonal pattern
    24 to 35 months      ETS(A,N,A):  level and a 12-month additive seasonal pattern (too short to trust a trend)
    12 to 23 months      ETS(A,Ad,N): level and damped trend, no seasonal pattern (fewer than two years of each
                         month); the page says so
    fewer than 12        no forecast

The backtest fits the same rule on all but the last 12 months, forecasts those 12 and compares the mean absolute
error (and the mean absolute percentage error when no month of the 12 is zero) with the seasonal naive forecast:
each month as the same month a year before. It needs 24 months (12 to fit on, and a year before each month tested).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

HORIZON = 12
SEASON = 12
MIN_MONTHS = 12  # fewer than this: no forecast
SEASONAL_MONTHS = 24  # a seasonal pattern needs two of each month
TREND_WITH_SEASON_MONTHS = 36
LEVELS = (80, 95)


class ForecastUnavailable(Exception):
    """The series cannot be forecast (too short); the message says why, for the page."""


@dataclass(frozen=True)
class Fit:
    """A fitted model's name in words and its forecast: point and interval bounds per level, clipped at zero."""

    model: str
    seasonal: bool
    point: np.ndarray
    lower: dict[int, np.ndarray]
    upper: dict[int, np.ndarray]


@dataclass(frozen=True)
class Backtest:
    """The last 12 months held out: what happened, the model's forecast, the seasonal naive forecast, the errors."""

    model: str
    actual: np.ndarray
    predicted: np.ndarray
    naive: np.ndarray
    model_mae: float
    naive_mae: float
    model_mape: float | None
    naive_mape: float | None


@dataclass(frozen=True)
class Forecast:
    fit: Fit
    backtest: Backtest | None  # None when the history is shorter than 24 months


def _spec(n: int) -> tuple[str, dict]:
    if n >= TREND_WITH_SEASON_MONTHS:
        return ("ETS(A,Ad,A): level, damped trend and a 12-month seasonal pattern",
                {"trend": "add", "damped_trend": True, "seasonal": "add", "seasonal_periods": SEASON})
    if n >= SEASONAL_MONTHS:
        return ("ETS(A,N,A): level and a 12-month seasonal pattern",
                {"trend": None, "seasonal": "add", "seasonal_periods": SEASON})
    return ("ETS(A,Ad,N): level and damped trend, no seasonal pattern (under 24 months of history)",
            {"trend": "add", "damped_trend": True, "seasonal": None})


def fit(history: Sequence[float], horizon: int = HORIZON) -> Fit:
    """Fit the model the history's length allows and forecast `horizon` months with 80% and 95% intervals."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = np.asarray(history, dtype=float)
    if len(y) < MIN_MONTHS:
        raise ForecastUnavailable(f"A forecast needs at least {MIN_MONTHS} months of history; there are {len(y)}.")
    name, spec = _spec(len(y))
    if np.ptp(y) == 0:  # a constant series: nothing to estimate, the forecast is the constant with no spread
        point = np.full(horizon, y[-1])
        return Fit("The same figure every month (the history does not vary)", False, point,
                   {level: point.copy() for level in LEVELS}, {level: point.copy() for level in LEVELS})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter from the optimiser; the fit is still its best
        result = ETSModel(pd.Series(y), error="add", initialization_method="estimated", **spec).fit(disp=False, maxiter=500)
        prediction = result.get_prediction(start=len(y), end=len(y) + horizon - 1)
        frames = {level: prediction.summary_frame(alpha=1 - level / 100) for level in LEVELS}
    point = np.clip(np.asarray(frames[LEVELS[0]]["mean"], dtype=float), 0, None)
    lower = {level: np.clip(np.asarray(frame["pi_lower"], dtype=float), 0, None) for level, frame in frames.items()}
    upper = {level: np.clip(np.asarray(frame["pi_upper"], dtype=float), 0, None) for level, frame in frames.items()}
    return Fit(name, spec["seasonal"] is not None, point, lower, upper)


def seasonal_naive(history: Sequence[float], horizon: int = HORIZON) -> np.ndarray:
    """Each month forecast as the same month of the last year of the history."""
    y = np.asarray(history, dtype=float)
    if len(y) < SEASON:
        raise ForecastUnavailable("The seasonal naive forecast needs a year of history.")
    last_year = y[-SEASON:]
    return np.array([last_year[i % SEASON] for i in range(horizon)])


def _mape(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    """Mean absolute percentage error, or None when a month is zero (a percentage of nothing means nothing)."""
    if np.any(actual <= 0):
        return None
    return float(np.mean(np.abs(actual - predicted) / actual) * 100)


def backtest(history: Sequence[float], horizon: int = HORIZON) -> Backtest:
    """Fit on all but the last `horizon` months, forecast them, and score the model and the seasonal naive."""
    y = np.asarray(history, dtype=float)
    if len(y) < MIN_MONTHS + horizon or len(y) < SEASON + horizon:
        raise ForecastUnavailable(f"A backtest needs at least {max(MIN_MONTHS, SEASON) + horizon} months of "
                                  f"history; there are {len(y)}.")
    train, actual = y[:-horizon], y[-horizon:]
    model = fit(train, horizon)
    naive = seasonal_naive(train, horizon)
    return Backtest(model.model, actual, model.point, naive,
                    float(np.mean(np.abs(actual - model.point))), float(np.mean(np.abs(actual - naive))),
                    _mape(actual, model.point), _mape(actual, naive))


def forecast(history: Sequence[float], horizon: int = HORIZON) -> Forecast:
    """The forecast from the whole history and, when there are 24 months or more, its backtest."""
    y = np.asarray(history, dtype=float)
    made = fit(y, horizon)
    try:
        tested = backtest(y, horizon)
    except ForecastUnavailable:
        tested = None
    return Forecast(made, tested)


# ------------------------------------------------------------------------------------------------- the page

def page(f, ctx):
    """The "forecast" market page: the protected monthly history of requests for the view, the forecast and its
    backtest (registered in pages.PAGES). Only figures the page shows go into the model: if any month of the
    history is suppressed, or most months count no one, there is no forecast and the page says why."""
    from portal.market import queries
    from portal.market.filters import month_key, month_label, periods
    from portal.market.reports import load_view
    from portal.market.tables import Cell, Chart, Page, Row, Table

    view = load_view(queries.requests_dataset(), f, ctx, "placement requests")
    view.refuse_if_hidden()
    this_month = month_key(f.today)
    months: list[tuple[str, Cell]] = []
    for period in sorted(periods(f.today).values(), key=lambda p: p.start):
        cells, _ = view.line("month", group=period.key)
        months += [(key, cell) for key, cell in cells if key < this_month]  # whole months only
    recorded = list(months)
    while months and not months[0][1].hidden and not months[0][1].value:
        months.pop(0)  # before the portal's first request: not history
    if not months:
        months = recorded[-12:]  # no request on record yet: the last 12 months show it (and the CSV has its rows)
    history = Table("history", "Requests by month: the history the forecast is made from", "Month", ("Requests",),
                    tuple(Row(month_label(k), (c,), key=k) for k, c in months),
                    Chart("column", 0, "Requests by month"),
                    "Whole months only: this month is not over yet.")
    notes = [f"Every area, type, age and need filter applies; the period filter does not: the forecast uses every "
             f"whole month on record (up to {sum(1 for _ in months)} here).",
             "Synthetic demo data has a seasonal pattern made up for the demonstration; see docs/market.md."]
    refusal = _refusal(months, ctx.threshold)
    if refusal is None:
        try:
            made = forecast([c.value for _, c in months])
        except ForecastUnavailable as error:
            refusal = str(error)
    if refusal is not None:
        return Page("forecast", "Demand forecast", "Monthly placement requests for the view and, when the history "
                    "allows, a forecast of the next 12 months.", tables=(history,),
                    notes=(f"No forecast: {refusal}", *notes))
    first = _next_month(months[-1][0])
    ahead = [_add(first, i) for i in range(HORIZON)]
    fit_ = made.fit
    rows = tuple(Row(month_label(k), (Cell(round(float(fit_.point[i]))),
                                      Cell(round(float(fit_.lower[80][i]))), Cell(round(float(fit_.upper[80][i]))),
                                      Cell(round(float(fit_.lower[95][i]))), Cell(round(float(fit_.upper[95][i])))),
                     key=k) for i, k in enumerate(ahead))
    total = Row("Next 12 months", (Cell(round(float(fit_.point.sum()))), Cell(None), Cell(None), Cell(None),
                                   Cell(None)), total=True, key="total")
    tables = [history, Table(
        "forecast", f"Forecast requests for the next 12 months: {fit_.model}", "Month",
        ("Forecast", "80% interval: low", "80% interval: high", "95% interval: low", "95% interval: high"),
        rows + (total,), Chart("column", 0, "Forecast requests by month"),
        "Rounded to whole requests; intervals below zero are shown as zero. An interval is where the model expects "
        "the month's count to fall 80 or 95 times in 100 if the future behaves like the past."
        + ("" if fit_.seasonal else " Fewer than 24 months of history: no seasonal pattern is modelled."))]
    tested = made.backtest
    if tested is None:
        notes.insert(0, "No backtest: it needs at least 24 months of history (12 to fit and a year before each "
                        "month tested).")
    else:
        held = [k for k, _ in months[-HORIZON:]]

        def pct(value):
            return Cell(value, "percent") if value is not None else Cell(None, "percent")

        tables.append(Table(
            "backtest", "Backtest: the last 12 months forecast from the months before them", "Forecast",
            ("Mean absolute error (requests a month)", "Mean absolute percentage error"),
            (Row(f"This page's model, fitted on the earlier months: {tested.model}",
                 (Cell(tested.model_mae, "ratio"), pct(tested.model_mape)), key="model"),
             Row("Seasonal naive: each month as the same month a year before",
                 (Cell(tested.naive_mae, "ratio"), pct(tested.naive_mape)), key="seasonal_naive")),
            None,
            f"Computed when the page was built, from {month_label(held[0])} to {month_label(held[-1])}. A lower "
            "error is better; the percentage error is not shown (x) when a month held out counted no requests."))
        tables.append(Table(
            "backtest-months", "Backtest month by month", "Month", ("Requests", "Model", "Seasonal naive"),
            tuple(Row(month_label(k), (Cell(int(tested.actual[i])), Cell(round(float(tested.predicted[i]))),
                                       Cell(int(tested.naive[i]))), key=k) for i, k in enumerate(held)),
            None))
    return Page("forecast", "Demand forecast",
                "Monthly placement requests for the view, a forecast of the next 12 months with 80% and 95% "
                "prediction intervals, and how well the same method forecast the last 12 months.",
                tables=tuple(tables), notes=tuple(notes))


MOSTLY = 0.5  # share of months that may count no one before a series is too sparse to forecast


def _refusal(months, threshold: int) -> str | None:
    """Why the series is not forecast, or None. The model only ever sees figures the page shows."""
    if len(months) < MIN_MONTHS:
        return (f"there are {len(months)} whole months of requests on record for this view; a forecast needs "
                f"{MIN_MONTHS}.")
    hidden = sum(1 for _, c in months if c.hidden)
    if hidden:
        return (f"{hidden} of the {len(months)} months have {threshold} requests or fewer (or are hidden so that "
                "they cannot be worked out), so a forecast from them could reveal small numbers. Widen the filters.")
    empty = sum(1 for _, c in months if not c.value)
    if empty > MOSTLY * len(months):
        return f"{empty} of the {len(months)} months have no requests: too few to forecast. Widen the filters."
    return None


def _add(key: str, months: int) -> str:
    year, month = map(int, key.split("-"))
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _next_month(key: str) -> str:
    return _add(key, 1)
