"""SQL expressions the commissioner queries need that SQLite and PostgreSQL spell differently.

Each is a small SQLAlchemy construct compiled per dialect, so queries.py stays one query for both databases:
`month_of` (YYYY-MM), `age_years` (whole years between two dates), `days_between`, `hours_between`, `has_code`
(a code in a JSON list column), and `percentiles`: PostgreSQL has percentile_cont, SQLite has not, so both count
rows per distinct value in the database and read the ranks off the running counts.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from itertools import accumulate
from typing import Sequence

from sqlalchemy import Float, Integer, String, Text, cast, func, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.functions import FunctionElement

# Fractions as (numerator, denominator) so the rank arithmetic stays in integers on both databases.
FRACTIONS: dict[str, tuple[int, int]] = {"p25": (1, 4), "median": (1, 2), "p75": (3, 4), "p90": (9, 10)}


class month_of(FunctionElement):  # noqa: N801 - reads as SQL
    """'YYYY-MM' of a date or timestamp (timestamps in UTC, as stored)."""

    type = String()
    name = "month_of"
    inherit_cache = True


@compiles(month_of)
def _month_of_sqlite(element, compiler, **kw):
    return "strftime('%Y-%m', " + compiler.process(element.clauses, **kw) + ")"


@compiles(month_of, "postgresql")
def _month_of_postgresql(element, compiler, **kw):
    return "to_char(" + compiler.process(element.clauses, **kw) + ", 'YYYY-MM')"


class age_years(FunctionElement):  # noqa: N801
    """Whole years from the first argument (a date of birth) to the second (the date that matters)."""

    type = Integer()
    name = "age_years"
    inherit_cache = True


@compiles(age_years)
def _age_years_sqlite(element, compiler, **kw):
    # YYYYMMDD as integers: their difference divided by 10,000 is the whole years (and costs a third of comparing
    # years and then month-days, which matters when a cube groups every record by age band).
    dob, on = (compiler.process(c, **kw) for c in element.clauses)
    return (f"((CAST(strftime('%Y%m%d', {on}) AS INTEGER)"
            f" - CAST(strftime('%Y%m%d', {dob}) AS INTEGER)) / 10000)")


@compiles(age_years, "postgresql")
def _age_years_postgresql(element, compiler, **kw):
    dob, on = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(date_part('year', age(CAST({on} AS DATE), CAST({dob} AS DATE))) AS INTEGER)"


class days_between(FunctionElement):  # noqa: N801
    """Whole days from the date of the second argument to the date of the first."""

    type = Integer()
    name = "days_between"
    inherit_cache = True


@compiles(days_between)
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday(date({later})) - julianday(date({earlier})) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"


class hours_between(FunctionElement):  # noqa: N801
    """Hours (with fractions) from the second timestamp to the first."""

    type = Float()
    name = "hours_between"
    inherit_cache = True


@compiles(hours_between)
def _hours_between_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 24.0)"


@compiles(hours_between, "postgresql")
def _hours_between_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600.0)"


def as_date(day) -> ColumnElement:
    """A date constant (a bound parameter: ISO text on SQLite, a date on PostgreSQL; days_between reads both).

    Not CAST(... AS DATE): SQLite gives that NUMERIC affinity and turns '2026-11-23' into 2026."""
    from sqlalchemy import Date, literal

    return literal(day, Date)


def has_code(json_list_column, code: str) -> ColumnElement[bool]:
    """True when the JSON list column holds `code`. Codes are vocabulary keys ([a-z0-9_]), so the quoted form
    cannot match part of another code; both databases keep the list as the text SQLAlchemy wrote."""
    return cast(json_list_column, Text).like(f'%"{code}"%')


def age_band(age: ColumnElement[int]) -> ColumnElement[str]:
    """The DfE looked-after children age band of an age in years (keys of filters.AGE_BANDS).

    A simple CASE (CASE age WHEN 0 ...) computes the age once per row; the searched form would compute it for each
    band it tries, which doubles the time of every cube query.
    """
    from sqlalchemy import case, literal_column

    bands = {0: "under_1", **{a: "1_4" for a in range(1, 5)}, **{a: "5_9" for a in range(5, 10)},
             **{a: "10_15" for a in range(10, 16)}}
    return case({literal_column(str(a)): literal_column(f"'{b}'") for a, b in bands.items()}, value=age,
                else_=literal_column("'16_plus'"))


def percentiles(stmt: Select, value: ColumnElement, groups: Sequence[ColumnElement] = (),
                fractions: Sequence[str] = ("p25", "median", "p75"), *,
                overall: bool = False) -> dict[tuple, dict[str, float | int]]:
    """Percentiles (percentile_cont's linear interpolation) of `value` over the rows of `stmt`, per `groups`.

    `stmt` is a select carrying the FROM and WHERE (its columns are ignored). PostgreSQL has percentile_cont and
    SQLite has not, so both databases do the same portable thing: count the rows per group and value (GROUP BY),
    which brings back one row per distinct value (fees, miles and days repeat a lot), and read the two ranks either
    side of each percentile off the running counts. With `overall`, the percentiles over all the rows come too,
    under the key (). Returns {group key tuple: {"n": rows, fraction: value}}; callers decide whether n is large
    enough to show (see reports.py).
    """
    from portal.db import db

    width = len(groups)
    keys = [g.label(f"g{i}") for i, g in enumerate(groups)]
    stmt = (
        stmt.with_only_columns(*keys, value.label("v"), func.count())
        .where(value.is_not(None))
        .group_by(*[text(str(i)) for i in range(1, width + 2)])
    )
    histograms: dict[tuple, dict[float, int]] = defaultdict(lambda: defaultdict(int))
    for row in db.session.connection().execute(stmt):
        v, n = float(row[width]), int(row[width + 1])
        histograms[tuple(row[:width])][v] += n
        if overall and width:
            histograms[()][v] += n
    return {key: _from_histogram(counts, fractions) for key, counts in histograms.items()}


def _from_histogram(counts: dict[float, int], fractions: Sequence[str]) -> dict[str, float | int]:
    values = sorted(counts)
    running = list(accumulate(counts[v] for v in values))  # running[i]: rows with a value up to values[i]
    size = running[-1]
    out: dict[str, float | int] = {"n": size}

    def at_rank(rank: int) -> float:  # the value of the rank-th smallest row (1-based)
        return values[bisect_left(running, rank)]

    for name in fractions:
        a, b = FRACTIONS[name]
        lower = 1 + (a * (size - 1)) // b
        part = (a * (size - 1)) % b / b
        low = at_rank(lower)
        out[name] = low + part * (at_rank(lower + 1) - low) if part else low
    return out
