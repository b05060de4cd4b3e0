"""The building blocks of commissioner pages: a dataset counted for one view, and the cells and tables made of it.

Every count of children comes from a cube (cube.py) protected once for all views (suppression.py); each table is
a line of that cube at the view's coordinates, so the page, its CSV files and every other filter combination agree.
Medians and quartiles are shown only for cohorts whose count is shown and larger than the threshold. The pages
themselves are in pages.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from portal.market import dimensions as dim
from portal.market import queries
from portal.market.cube import ALL, Cube, Facts
from portal.market.dimensions import BASE, REGION_TOTAL
from portal.market.filters import MarketFilters, periods, window
from portal.market.suppression import DIFFERENCE, PRIMARY, Protected, protect
from portal.market.tables import Cell, Chart, Row, Table


@dataclass(frozen=True)
class Context:
    """What every page needs besides the filters."""

    threshold: int
    la_codes: tuple[str, ...]
    stale_days: int = 14


class CohortRefused(Exception):
    """The chosen filters narrow a cohort so far that its figures could identify children (shown as 422)."""

    def __init__(self, message: str, widen: Sequence[tuple[str, str]]):
        super().__init__(message)
        self.message = message
        self.widen = list(widen)  # (filter name, words for "without this filter")


# ---------------------------------------------------------------------------------------------------- views

@dataclass
class View:
    """One dataset counted for one view: the grouped facts, the protected cubes, the view's coordinates.

    `names` are the axes every cube of the view has (month, LA, age band, type); `extras` the page's further
    breakdowns, in a fixed order. A cube over some extras is protected with every cube over one extra fewer kept
    exactly as it is (initial and frozen), so a number that two tables of the page share is shown or hidden alike.
    """

    facts: Facts
    f: MarketFilters
    ctx: Context
    what: str
    names: tuple[str, ...] = BASE
    extras: tuple[str, ...] = ()
    coords: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.coords:
            f = self.f
            self.coords = {"month": f.period.key, "la": f.la or REGION_TOTAL, "age": f.age or ALL,
                           "type": f.type or ALL}
        self._cubes: dict[tuple[str, ...], Protected] = {}
        self.base = self.cube()

    def _raw(self, extras: tuple[str, ...]) -> Cube:
        if self.f.need:
            return self.facts.cube(self.names + extras, "need", wider="count")
        return self.facts.cube(self.names + extras, "count")

    def cube(self, *extras: str) -> Protected:
        key = tuple(sorted(set(extras) - set(self.names), key=self.extras.index))
        if key in self._cubes:
            return self._cubes[key]
        raw = self._raw(key)
        if not key:
            protected = protect(raw, self.ctx.threshold)
        else:
            initial = np.zeros(raw.values.shape, dtype=bool)
            frozen = np.zeros(raw.values.shape, dtype=bool)
            for i, extra in enumerate(key):
                smaller = self.cube(*(key[:i] + key[i + 1:]))
                at = (slice(None),) * len(self.names) + tuple(
                    raw.axis(e).position(ALL) if e == extra else slice(None) for e in key)
                initial[at] |= smaller.hidden
                frozen[at] = True
            protected = protect(raw, self.ctx.threshold, initial=initial, frozen=frozen)
        self._cubes[key] = protected
        return protected

    def cell(self, extras: dict[str, str] | None = None, **at: str) -> Cell:
        extras = extras or {}
        prot = self.cube(*extras)
        coords = {**self.coords, **at, **extras}
        return Cell(prot.value(coords), "count", prot.is_hidden(coords))

    def line(self, axis: str, *, group: str | None = None, extras: dict[str, str] | None = None,
             at: dict[str, str] | None = None) -> tuple[list[tuple[str, Cell]], Cell]:
        """The cells of `axis` (members of `group`: by default the region, the period, or all) at the view's
        coordinates, and their total."""
        if group is None:
            group = self.total_key(axis)
        extras = dict(extras or {})
        names = tuple(extras) + ((axis,) if axis not in self.names and axis not in extras else ())
        prot = self.cube(*names)
        coords = {**self.coords, **extras, **(at or {})}
        ax = prot.cube.axis(axis)
        if axis == "month":  # every month of the period, those without records as zeros (see base_axes)
            keys = [m for m in self.f.period.months] if group == self.f.period.key else \
                [ax.leaves[p] for p in ax.group_members(group)]
        else:
            keys = [ax.leaves[p] for p in ax.group_members(group)]
        cells = []
        for key in keys:
            if key not in ax.leaves:
                cells.append((key, Cell(0)))
                continue
            here = {**coords, axis: key}
            cells.append((key, Cell(prot.value(here), "count", prot.is_hidden(here))))
        here = {**coords, axis: group}
        return cells, Cell(prot.value(here), "count", prot.is_hidden(here))

    def total_key(self, axis: str) -> str:
        """The key of an axis's whole total: the region, the view's period, or all."""
        return {"la": REGION_TOTAL, "month": self.f.period.key}.get(axis, ALL)

    def refuse_if_hidden(self) -> None:
        """A narrowed view whose cohort is hidden is refused with the reason (issue 6 §3)."""
        if not self.f.narrowed:
            return
        reason = self.base.reason(self.coords)
        if reason is None:
            return
        n = self.ctx.threshold + 1
        if reason == PRIMARY:
            message = (f"Fewer than {n} {self.what} match these filters, so the figures could identify children. "
                       "Widen the filters to see this page.")
        elif reason == DIFFERENCE:
            message = (f"These filters differ from the same page without the need or risk filter by fewer than {n} "
                       f"{self.what}: comparing the two would single those children out.")
        else:
            message = ("The figures for this combination are hidden, so that small numbers for other areas, ages or "
                       "types cannot be worked out from them.")
        raise CohortRefused(message, _widen_options(self.f))


def _widen_options(f: MarketFilters) -> list[tuple[str, str]]:
    out = []
    if f.la and f.la != f.default_la:
        out.append(("la", "the whole region"))
    if f.type:
        out.append(("type", "all placement types"))
    if f.age:
        out.append(("age", "all ages"))
    if f.need:
        out.append(("need", "any need or risk"))
    return out


def load_view(ds: queries.Dataset, f: MarketFilters, ctx: Context, what: str, extras: Sequence[str] = (), *,
              needs: bool = False, sums: Sequence[str] = (), by_period: bool = False) -> View:
    """Run the dataset's one grouped query for this page and wrap it (see View).

    `by_period`: count by period rather than month, for a dataset no page shows month by month (referrals,
    endings); every page of that dataset must then say so, so that they all share one cube.
    """
    start, end = window(f.today)
    measures: dict = {}
    if needs:
        measures.update(queries.need_measures(ds, f.need))
    for value in sums:
        measures.update(queries.sum_measures(ds, value, f.need))
    on_offer = list(periods(f.today).values()) if by_period else None
    rows = queries.grouped_counts(ds, start, end, extras, need=f.need, measures=list(measures.values()),
                                  periods=on_offer)
    if by_period:
        base = [dim.period_axis(on_offer)] + dim.base_axes(f.today, list(ctx.la_codes), set())[1:]
    else:
        base = dim.base_axes(f.today, list(ctx.la_codes), {row[0] for row in rows})
    axes = base + [dim.extra_axis(e) for e in extras]
    names = ["count"] + (["need"] if f.need else []) + list(measures)
    return View(Facts.from_rows(axes, names, rows), f, ctx, what, extras=tuple(extras))


# -------------------------------------------------------------------------------------------------- cells

def share(part: Cell, whole: Cell) -> Cell:
    """part as a percentage of whole; hidden when either is (a share and its base give the count back)."""
    if part.hidden or whole.hidden:
        return Cell(None, "percent", True)
    if not whole.value:
        return Cell(None, "percent")
    return Cell(100.0 * part.value / whole.value, "percent")


def ratio(numerator: Cell, denominator: Cell) -> Cell:
    if numerator.hidden or denominator.hidden:
        return Cell(None, "ratio", True)
    if not denominator.value:
        return Cell(None, "ratio")
    return Cell(numerator.value / denominator.value, "ratio")


def percentile_cells(result: dict | None, count: Cell, names: Sequence[str], kind: str, threshold: int) -> list[Cell]:
    """Percentiles only over cohorts whose count is shown and larger than the threshold."""
    n = int(result["n"]) if result else 0
    if count.hidden or 0 < n <= threshold:
        return [Cell(None, kind, True) for _ in names]
    if n == 0:
        return [Cell(None, kind) for _ in names]
    return [Cell(result[name], kind) for name in names]


def line_table(key: str, title: str, view: View, axis: str, *, group: str | None = None, extras: dict | None = None,
               row_header: str | None = None, column: str = "Number", with_share: bool = True,
               chart: str | None = "bar", note: str | None = None, total_label: str = "Total",
               skip_zero: bool = False) -> Table:
    """A one-way table: each category's count (and share of the total), then the total. `skip_zero` leaves out
    categories counting no one (a zero reveals nothing, and a long list of them helps no reader)."""
    cells, total = view.line(axis, group=group, extras=extras)
    rows = [Row(dim.label(axis, k), (c, share(c, total)) if with_share else (c,), key=k) for k, c in cells
            if not (skip_zero and c.value == 0)]
    rows.append(Row(total_label, (total, share(total, total)) if with_share else (total,), total=True, key="total"))
    columns = (column, "Share") if with_share else (column,)
    return Table(key, title, row_header or AXIS_HEADERS.get(axis, axis), columns, tuple(rows),
                 Chart("column" if axis == "month" else "bar", 0, title) if chart else None, note)


AXIS_HEADERS = {"month": "Month", "la": "Local authority", "age": "Age band", "type": "Placement type",
                 "need": "Need or risk"}


def axis_allowed(f: MarketFilters, axis: str) -> bool:
    """A breakdown by an axis the view is already narrowed on would be one row: leave it out."""
    return {"la": f.la is None, "age": f.age is None, "type": f.type is None}.get(axis, True)
