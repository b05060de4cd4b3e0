"""Count cubes: the numbers behind every commissioner table, with all their totals, as one NumPy array.

A cube has one axis per dimension (month, local authority, age band, placement type, and whatever the table
breaks down by). Each axis has *leaves* (the categories every counted record falls into exactly one of) and
*groups* (totals over some of the leaves: "all ages", "West Midlands", or a period made of months). The array holds
the leaves and the groups side by side, so the total of every line is itself a cell, and suppression
(suppression.py) can protect every table a page or a filter can show at once: a filtered view is just a slice.

Pure: NumPy only, no SQL and no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

ALL = "all"


@dataclass(frozen=True)
class Axis:
    """One dimension: its leaves and the totals (groups) drawn over them."""

    name: str
    leaves: tuple[str, ...]
    groups: tuple[tuple[str, tuple[int, ...]], ...] = ()

    @classmethod
    def with_total(cls, name: str, leaves: Sequence[str], total: str = ALL) -> Axis:
        return cls(name, tuple(leaves), ((total, tuple(range(len(leaves)))),))

    @classmethod
    def leaves_only(cls, name: str, leaves: Sequence[str]) -> Axis:
        """An axis whose categories overlap (a child can have several needs): no total can be drawn."""
        return cls(name, tuple(leaves), ())

    @property
    def keys(self) -> tuple[str, ...]:
        return self.leaves + tuple(key for key, _ in self.groups)

    @property
    def size(self) -> int:
        return len(self.leaves) + len(self.groups)

    def position(self, key: str) -> int:
        try:
            return self._positions[key]
        except KeyError:
            raise KeyError(f"axis {self.name!r} has no category {key!r}") from None

    def group_members(self, key: str) -> tuple[int, ...]:
        for group, members in self.groups:
            if group == key:
                return members
        raise KeyError(f"axis {self.name!r} has no total {key!r}")

    def __post_init__(self) -> None:
        object.__setattr__(self, "_positions", {key: i for i, key in enumerate(self.keys)})
        if len(self._positions) != self.size:
            raise ValueError(f"axis {self.name!r}: duplicate keys")


@dataclass(frozen=True)
class Cube:
    """Counts over `axes` (leaves and totals). `companions` are further arrays of the same shape (see suppression)."""

    axes: tuple[Axis, ...]
    values: np.ndarray
    companions: tuple[np.ndarray, ...] = ()

    @classmethod
    def from_rows(cls, axes: Sequence[Axis], rows: Iterable[Sequence], measures: int = 1) -> Cube:
        """Build from grouped rows: the leaf key on each axis, then `measures` counts.

        The first measure is the cube's values; any further ones become arrays of the same shape (returned as
        companions, which callers usually turn into differences). Totals are then summed from the leaves.
        """
        axes = tuple(axes)
        shape = tuple(axis.size for axis in axes)
        arrays = [np.zeros(shape, dtype=np.int64) for _ in range(measures)]
        n = len(axes)
        lookups = [axis._positions for axis in axes]
        for row in rows:
            try:
                index = tuple(lookup[row[i]] for i, lookup in enumerate(lookups))
            except KeyError as err:
                raise ValueError(f"a grouped row has a category outside the cube: {err.args[0]!r}") from None
            for m in range(measures):
                arrays[m][index] += int(row[n + m] or 0)
        for array in arrays:
            fill_totals(array, axes)
        return cls(axes, arrays[0], tuple(arrays[1:]))

    def axis(self, name: str) -> Axis:
        for axis in self.axes:
            if axis.name == name:
                return axis
        raise KeyError(f"no axis {name!r}")

    def index(self, coords: Mapping[str, str]) -> tuple[int, ...]:
        """The array position of the cell at `coords` (every axis named)."""
        missing = [axis.name for axis in self.axes if axis.name not in coords]
        if missing:
            raise KeyError(f"coordinates missing for {', '.join(missing)}")
        return tuple(axis.position(coords[axis.name]) for axis in self.axes)

    def value(self, coords: Mapping[str, str]) -> int:
        return int(self.values[self.index(coords)])


def fill_totals(array: np.ndarray, axes: Sequence[Axis]) -> None:
    """Write every group total from its leaves, axis by axis (so totals of totals come out right)."""
    n_leaves = [len(axis.leaves) for axis in axes]
    for k, axis in enumerate(axes):
        moved = np.moveaxis(array, k, -1)
        for g, (_key, members) in enumerate(axis.groups):
            moved[..., n_leaves[k] + g] = moved[..., list(members)].sum(axis=-1)


@dataclass(frozen=True)
class Facts:
    """Grouped rows from the database held as integer codes per column, to sum into cubes over any of the columns.

    One query per dataset and page brings back every breakdown the page needs; each table's cube then sums over the
    columns it does not show (NumPy, no loop over the rows in Python beyond reading them once).
    """

    axes: dict[str, Axis]
    codes: dict[str, np.ndarray]
    measures: dict[str, np.ndarray]

    @classmethod
    def from_rows(cls, axes: Sequence[Axis], measure_names: Sequence[str], rows: Sequence[Sequence]) -> Facts:
        n = len(axes)
        columns = list(zip(*rows)) if rows else [()] * (n + len(measure_names))
        codes = {}
        for i, axis in enumerate(axes):
            lookup = axis._positions
            try:
                codes[axis.name] = np.fromiter((lookup[v] for v in columns[i]), dtype=np.int64, count=len(rows))
            except KeyError as err:
                raise ValueError(f"axis {axis.name!r}: category {err.args[0]!r} outside the cube") from None
        measures = {
            name: np.fromiter((int(v or 0) for v in columns[n + j]), dtype=np.int64, count=len(rows))
            for j, name in enumerate(measure_names)
        }
        return cls({axis.name: axis for axis in axes}, codes, measures)

    def cube(self, names: Sequence[str], measure: str = "count", wider: str | None = None) -> Cube:
        """The cube over axes `names` of `measure`; with `wider`, its difference from `measure` as a companion."""
        axes = tuple(self.axes[name] for name in names)
        index = tuple(self.codes[name] for name in names)
        arrays = [self._sum(axes, index, self.measures[measure])]
        if wider is not None:
            arrays.append(self._sum(axes, index, self.measures[wider]) - arrays[0])
        return Cube(axes, arrays[0], tuple(arrays[1:]))

    @staticmethod
    def _sum(axes: tuple[Axis, ...], index: tuple[np.ndarray, ...], weights: np.ndarray) -> np.ndarray:
        array = np.zeros(tuple(axis.size for axis in axes), dtype=np.int64)
        np.add.at(array, index, weights)
        fill_totals(array, axes)
        return array
