"""What a commissioner page is made of (tables of cells, charts drawn from them), and the CSV of a table.

A Cell keeps its number and whether it is hidden; the page and the CSV file both show it through `display` /
`csv_text`, so the file holds exactly what the page shows ("c" for a suppressed count, "x" for not available).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Iterable, Sequence

SUPPRESSED = "c"
NOT_AVAILABLE = "x"
# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Cell:
    """One figure. `kind`: count, percent (0-100), gbp, miles, days, hours, ratio or text."""

    value: int | float | str | None = None
    kind: str = "count"
    hidden: bool = False

    @property
    def number(self) -> float | None:
        """The value to draw, or None when hidden or not available."""
        if self.hidden or self.value is None or self.kind == "text":
            return None
        return float(self.value)

    @property
    def display(self) -> str:
        if self.hidden:
            return SUPPRESSED
        if self.value is None:
            return NOT_AVAILABLE
        v = self.value
        if self.kind == "count":
            return f"{int(v):,}"
        if self.kind == "percent":
            return f"{v:.1f}%"
        if self.kind == "gbp":
            return f"-£{-v:,.0f}" if v < 0 else f"£{v:,.0f}"  # a what-if's saving: "-£455", not "£-455"
        if self.kind in ("miles", "hours"):
            return f"{v:,.1f}"
        if self.kind == "days":
            return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"
        if self.kind == "ratio":
            return f"{v:.2f}"
        return str(v)

    @property
    def csv_text(self) -> str:
        """As on the page, without thousands separators or units, so a spreadsheet reads the numbers."""
        if self.hidden:
            return SUPPRESSED
        if self.value is None:
            return NOT_AVAILABLE
        v = self.value
        if self.kind == "count":
            return str(int(v))
        if self.kind in ("percent", "miles", "hours"):
            return f"{v:.1f}"
        if self.kind == "gbp":
            return f"{v:.0f}"
        if self.kind == "days":
            return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"
        if self.kind == "ratio":
            return f"{v:.2f}"
        return str(v)


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell, ...]
    total: bool = False
    key: str | None = None


@dataclass(frozen=True)
class Chart:
    """Draw column `column` of the table's non-total rows: "bar" (horizontal) or "column" (over time)."""

    kind: str = "bar"
    column: int = 0
    title: str = ""


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    row_header: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    chart: Chart | None = None
    note: str | None = None

    @property
    def body(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if not row.total)

    def chart_points(self) -> list[tuple[str, Cell]]:
        if self.chart is None:
            return []
        return [(row.label, row.cells[self.chart.column]) for row in self.body]


@dataclass(frozen=True)
class Headline:
    key: str
    label: str
    cell: Cell
    note: str | None = None


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    lead: str
    headlines: tuple[Headline, ...] = ()
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()
    applies: dict[str, bool] = field(default_factory=dict)

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)


def neutralise(text: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with an apostrophe, so it stays text."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_document(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A CSV file (RFC 4180, CRLF) with every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(str(h)) for h in header])
    for row in rows:
        writer.writerow([neutralise("" if v is None else str(v)) for v in row])
    return out.getvalue()


def table_csv(table: Table) -> str:
    return csv_document(
        (table.row_header, *table.columns),
        ((row.label, *(cell.csv_text for cell in row.cells)) for row in table.rows),
    )
