"""Small-number suppression for commissioner pages (DESIGN.md §5; the rules in full: docs/market.md).

Counts of children from 1 to the threshold (SUPPRESSION_THRESHOLD, default 7) are shown as "c". Hiding a cell is
not enough when its line's total is shown: the total minus the other cells would give it back. So, on every line of
a cube (a row or column together with its total, and every period made of months):

* **primary**: a count from 1 to the threshold is hidden;
* **differencing**: when the view is narrowed by a filter that cuts across the cube (a need or risk), a count is
  hidden if it differs from the same count without that filter by 1 to the threshold, because comparing the two
  pages would isolate those few children;
* **secondary**: a line whose total is shown must hide either nothing or at least two cells, and the hidden cells
  must add up to more than the threshold, both as counts and as differences from the wider view; a line whose total
  is hidden must hide at least two of its cells (one would be tied to the total). Until every line passes, the
  smallest visible cell of a failing line is hidden too (non-zero ones first; if none is left, its total). When one
  total of an axis lies inside another ("with a budget" inside "all"), the larger is also a line of the smaller
  total and the categories outside it, since subtracting the two would otherwise give those back.

Every filter of the pages (region or one LA, age band, placement type, period) is an axis of the same cube, so every
page and every filter combination shows a slice of one protected cube: comparing region with LA, one age band with
all ages, or one period with another cannot undo the suppression. Zero is shown (it reveals no child).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from portal.market.cube import Cube

SUPPRESSED = "c"

PRIMARY = "primary"
DIFFERENCE = "difference"
SECONDARY = "secondary"


def suppress(count: int, threshold: int) -> int | str:
    """Zero is shown (it reveals no child); 1..threshold is hidden; larger counts are shown."""
    return SUPPRESSED if 0 < count <= threshold else count


def is_small(count: int | float, threshold: int) -> bool:
    return 0 < count <= threshold


@dataclass(frozen=True)
class Protected:
    """A cube with the cells to hide, and why each hidden cell is hidden."""

    cube: Cube
    hidden: np.ndarray
    primary: np.ndarray
    difference: np.ndarray
    threshold: int

    def index(self, coords: Mapping[str, str]) -> tuple[int, ...]:
        return self.cube.index(coords)

    def value(self, coords: Mapping[str, str]) -> int:
        return self.cube.value(coords)

    def is_hidden(self, coords: Mapping[str, str]) -> bool:
        return bool(self.hidden[self.index(coords)])

    def reason(self, coords: Mapping[str, str]) -> str | None:
        """PRIMARY, DIFFERENCE or SECONDARY for a hidden cell; None for a shown one."""
        i = self.index(coords)
        if not self.hidden[i]:
            return None
        if self.primary[i]:
            return PRIMARY
        return DIFFERENCE if self.difference[i] else SECONDARY


def protect(cube: Cube, threshold: int, *, initial: np.ndarray | None = None,
            frozen: np.ndarray | None = None) -> Protected:
    """Decide which cells of `cube` to hide (see the module docstring).

    `cube.companions` are the differences between the wider view and this one (one array per cross-cutting
    filter); they are kept away from 1..threshold like the counts. `initial` cells start hidden (a pattern decided
    on a smaller cube this one extends), and `frozen` cells are never newly hidden, so the smaller cube's pattern
    stays exactly as it was on every page that shows it.
    """
    values = cube.values
    primary = (values >= 1) & (values <= threshold)
    difference = np.zeros_like(primary)
    for companion in cube.companions:
        difference |= (companion >= 1) & (companion <= threshold)
    difference &= ~primary
    hidden = primary | difference
    if initial is not None:
        hidden |= initial
    if threshold > 0:
        movable = ~frozen if frozen is not None else np.ones_like(hidden)
        # A leading axis of length 1 keeps every line's "other coordinates" at least one-dimensional (views, so
        # writing through them writes to `hidden`).
        arrays = tuple(a[np.newaxis] for a in (values,) + tuple(cube.companions))
        # After the first sweep only lines with a newly hidden cell can fail again: each sweep looks at those.
        touched = None
        while True:
            fresh = np.zeros((1,) + hidden.shape, dtype=bool)
            if not _secondary_pass(cube, arrays, hidden[np.newaxis], movable[np.newaxis], threshold, touched, fresh):
                break
            touched = fresh
    return Protected(cube, hidden, primary, difference, threshold)


def relations(axis) -> list[tuple[tuple[int, ...], int]]:
    """The lines of one axis as (member positions, total position): each group over its leaves, and, for a group
    inside another, the larger over the smaller's total and the leaves outside it."""
    n = len(axis.leaves)
    out = [(members, n + g) for g, (_key, members) in enumerate(axis.groups) if members]
    for g, (_key, small) in enumerate(axis.groups):
        for h, (_other, big) in enumerate(axis.groups):
            if g != h and small and set(small) < set(big):
                out.append((tuple(sorted(set(big) - set(small))) + (n + g,), n + h))
    return out


def _secondary_pass(cube: Cube, arrays: Sequence[np.ndarray], hidden: np.ndarray, movable: np.ndarray,
                    threshold: int, touched: np.ndarray | None, fresh: np.ndarray) -> bool:
    """One sweep over the lines of every axis (only those with a cell in `touched` or `fresh`, after the first);
    cells it hides are also marked in `fresh`. True if anything more was hidden."""
    changed = False
    big = np.iinfo(np.int64).max
    for k, axis in enumerate(cube.axes, start=1):
        h = np.moveaxis(hidden, k, -1)  # a view: writing to it writes to `hidden`
        new = np.moveaxis(fresh, k, -1)
        recent = np.moveaxis(touched, k, -1) if touched is not None else None
        ok_to_hide = np.moveaxis(movable, k, -1)
        moved = [np.moveaxis(a, k, -1) for a in arrays]
        for members_tuple, total in relations(axis):
            members = np.asarray(members_tuple, dtype=np.int64)
            first = members_tuple[0]
            contiguous = members_tuple == tuple(range(first, first + len(members_tuple)))
            sel = slice(first, first + len(members_tuple)) if contiguous else members  # a view when it can be
            total_hidden = h[..., total]
            n_hidden = h[..., sel].sum(axis=-1)
            # Only lines with something hidden can fail, and after the first sweep only those touched since.
            active = (n_hidden > 0) | total_hidden
            if recent is not None:
                active &= (recent[..., sel].any(axis=-1) | recent[..., total] | new[..., sel].any(axis=-1)
                           | new[..., total])
            where = np.nonzero(active)
            if where[0].size == 0:
                continue
            sub_hidden = h[..., sel][where]
            line_total_hidden = total_hidden[where]
            line_n_hidden = n_hidden[where]
            lines = [a[..., sel][where] for a in moved]
            shown_total = ~line_total_hidden
            # A hidden total with one hidden cell ties the two (their difference is the shown cells): that pair
            # would be as good as one unknown in every other line, so a second cell goes too.
            fails = line_total_hidden & (line_n_hidden <= 1) & (lines[0].sum(axis=-1) > 0)
            fails |= shown_total & (line_n_hidden == 1)
            for line in lines:
                hidden_sum = np.where(sub_hidden, line, 0).sum(axis=-1)
                fails |= shown_total & (hidden_sum >= 1) & (hidden_sum <= threshold)
            if not fails.any():
                continue
            # Candidates: visible, movable cells; smallest count first (the usual "next smallest cell"), then those
            # that only carry a difference, then zeros (a hidden zero is as unknown as any other hidden cell).
            values = lines[0]
            any_companion = np.zeros(values.shape, dtype=bool)
            for line in lines[1:]:
                any_companion |= line > 0
            candidate = ~sub_hidden & ok_to_hide[..., sel][where]
            score = np.where(candidate, np.where(values > 0, values, np.where(any_companion, big // 2, big // 2 + 1)),
                             big)
            pick = score.argmin(axis=-1)
            has = score.min(axis=-1) < big
            chosen = fails & has
            if chosen.any():
                at = tuple(w[chosen] for w in where) + (members[pick[chosen]],)
                h[at] = True
                new[at] = True
                changed = True
            fallback = fails & ~has & shown_total & ok_to_hide[..., total][where]
            if fallback.any():
                at = tuple(w[fallback] for w in where) + (np.full(int(fallback.sum()), total),)
                h[at] = True
                new[at] = True
                changed = True
    return changed
