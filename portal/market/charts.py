"""Chart geometry for server-side SVG (no JavaScript, no CDN): the figures of a table as bars, columns or ranges.

Presentation only: templates/macros/charts.html draws what these functions lay out. A hidden figure ("c") or one not
available ("x") gets no bar, just its mark, so a chart never shows more than its table.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.market.tables import Cell, Table

# Drawn at about the width of half the page, so the words come out at their written size; labels sit on their own
# line above each bar, so long labels never squeeze the bars.
WIDTH = 460
BAR_SPACE = WIDTH - 80  # room for the value after the longest bar


@dataclass(frozen=True)
class Mark:
    label: str
    text: str
    x: float
    y: float
    width: float
    height: float
    drawn: bool
    tick: float | None = None  # the median's x in a range chart


def _scale(values: list[float]) -> float:
    top = max((v for v in values if v is not None), default=0.0)
    return top if top > 0 else 1.0


def bars(table: Table) -> dict:
    """Horizontal bars, one per row of the table's body, for the chart's column."""
    points = table.chart_points()
    top = _scale([cell.number for _, cell in points])
    marks = []
    for i, (label, cell) in enumerate(points):
        y = 10 + i * 42
        width = (cell.number or 0) / top * BAR_SPACE
        marks.append(Mark(label, cell.display, 0, y + 18, max(width, 0), 16, cell.number is not None))
    return {"width": WIDTH, "height": 14 + len(points) * 42, "marks": marks}


def columns(table: Table) -> dict:
    """Vertical columns over time (months), for the chart's column."""
    points = table.chart_points()
    top = _scale([cell.number for _, cell in points])
    plot_top, plot_height, left = 24, 170, 8
    step = (WIDTH - 2 * left) / max(len(points), 1)
    marks = []
    for i, (label, cell) in enumerate(points):
        height = (cell.number or 0) / top * plot_height
        short = f"{label[:3]} {label[-2:]}" if len(label) > 6 else label
        marks.append(Mark(short, cell.display, left + i * step + step * 0.15, plot_top + plot_height - height,
                          step * 0.7, height, cell.number is not None))
    return {"width": WIDTH, "height": plot_top + plot_height + 40, "baseline": plot_top + plot_height,
            "marks": marks}


def ranges(table: Table) -> dict:
    """Lower quartile to upper quartile as a bar with the median as a tick (columns: n, p25, median, p75)."""
    rows = [row for row in table.rows if not row.total] + [row for row in table.rows if row.total]
    top = _scale([row.cells[3].number for row in rows])
    marks = []
    for i, row in enumerate(rows):
        low, median, high = row.cells[1], row.cells[2], row.cells[3]
        y = 10 + i * 42
        drawn = all(c.number is not None for c in (low, median, high))
        x = (low.number or 0) / top * BAR_SPACE
        width = ((high.number or 0) - (low.number or 0)) / top * BAR_SPACE
        marks.append(Mark(row.label, _range_text(low, median, high), x, y + 18, max(width, 1.5), 16, drawn,
                          (median.number or 0) / top * BAR_SPACE))
    return {"width": WIDTH, "height": 14 + len(rows) * 42, "marks": marks}


def _range_text(low: Cell, median: Cell, high: Cell) -> str:
    if median.number is None:
        return median.display
    return f"{median.display} (quartiles {low.display} to {high.display})"


LAYOUTS = {"bar": bars, "column": columns, "range": ranges}


def layout(table: Table) -> dict:
    return LAYOUTS[table.chart.kind](table)
