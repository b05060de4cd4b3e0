"""k-anonymity by generalisation, then suppression: the algorithm behind the data extract (issue 15 §9).

Pure: the standard library only. The caller (portal/market/extract.py) gives every record's quasi-identifiers
already worked out at each level of their hierarchy, and who the record is about; this module chooses the levels
and the records to drop.

    records    record i has, for quasi-identifier q, the value values[i][q][level] (level 0 the most precise)
    people     person[i]: who record i is about (one child can have several records)
    partition  records with different partition keys are never in one class (the local authority, which the
               extract never generalises), so each partition is anonymised on its own and with its own levels

For each partition:
  1. Start with every quasi-identifier at its most general level.
  2. The equivalence classes are the groups of records with the same values on every quasi-identifier. A record
     is *at risk* if its class holds fewer than k different people.
  3. Top-down specialisation: try lowering each quasi-identifier by one level. Among the steps that leave at most
     `budget` (a share) of the partition's records at risk, take the one giving the most classes of at least k
     people (the most detail kept), then the fewest records at risk, then the quasi-identifier listed first.
     Repeat until no step down stays within the budget.
  4. Suppress (drop) every record still at risk. Dropping whole classes cannot shrink another class, so every
     class left holds at least k people: the guarantee, whatever the greedy walk chose.

Counting people rather than records makes the guarantee k different children, not k rows that might all be one
child. The levels are chosen per partition, so a large local authority keeps months and postcode districts while
a small one may only show quarters and postcode areas; each value says its own precision.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Hashable, Sequence


@dataclass(frozen=True)
class QuasiIdentifier:
    """One quasi-identifier and the names of its levels, most precise first (`levels[0]`)."""

    name: str
    levels: tuple[str, ...]

    @property
    def top(self) -> int:
        return len(self.levels) - 1


@dataclass(frozen=True)
class Partition:
    """What the algorithm chose for one partition."""

    key: Hashable
    levels: tuple[int, ...]  # per quasi-identifier, the level used
    records: int
    suppressed: int


@dataclass(frozen=True)
class Anonymised:
    """The records to keep (indices into the input, in input order), and the choice made per partition."""

    kept: tuple[int, ...]
    suppressed: int
    partitions: tuple[Partition, ...]
    k: int


def _at_risk(indices: Sequence[int], values, people, levels: Sequence[int], k: int) -> list[int]:
    classes: dict[tuple, set] = defaultdict(set)
    members: dict[tuple, list[int]] = defaultdict(list)
    for i in indices:
        key = tuple(values[i][q][level] for q, level in enumerate(levels))
        classes[key].add(people[i])
        members[key].append(i)
    return [i for key, who in classes.items() if len(who) < k for i in members[key]]


def _safe_classes(indices: Sequence[int], values, people, levels: Sequence[int], k: int) -> tuple[int, int]:
    """(classes of at least k people, records at risk) for one choice of levels."""
    classes: dict[tuple, set] = defaultdict(set)
    sizes: dict[tuple, int] = defaultdict(int)
    for i in indices:
        key = tuple(values[i][q][level] for q, level in enumerate(levels))
        classes[key].add(people[i])
        sizes[key] += 1
    safe = sum(1 for who in classes.values() if len(who) >= k)
    return safe, sum(sizes[key] for key, who in classes.items() if len(who) < k)


def anonymise(values: Sequence[Sequence[Sequence[str]]], people: Sequence[Hashable],
              partition: Sequence[Hashable], qis: Sequence[QuasiIdentifier], *, k: int,
              budget: float = 0.05) -> Anonymised:
    """Choose generalisation levels per partition and the records to suppress so that every equivalence class
    holds at least `k` different people (see the module docstring). `budget` is the share of a partition's
    records a specialisation may leave at risk (to be suppressed)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for i, key in enumerate(partition):
        groups[key].append(i)
    suppressed: set[int] = set()
    chosen: list[Partition] = []
    for key in sorted(groups, key=str):
        indices = groups[key]
        allowed = budget * len(indices)
        levels = [qi.top for qi in qis]
        while True:
            best: tuple[int, int, int] | None = None  # (safe classes, -at risk, -q): larger is better
            for q in range(len(qis)):
                if levels[q] == 0:
                    continue
                trial = [*levels[:q], levels[q] - 1, *levels[q + 1:]]
                safe, risky = _safe_classes(indices, values, people, trial, k)
                if risky <= allowed and (best is None or (safe, -risky, -q) > best):
                    best = (safe, -risky, -q)
            if best is None:
                break  # no step down keeps the records at risk within the budget
            levels[-best[2]] -= 1
        risky = _at_risk(indices, values, people, levels, k)
        suppressed.update(risky)
        chosen.append(Partition(key, tuple(levels), len(indices), len(risky)))
    kept = tuple(i for i in range(len(values)) if i not in suppressed)
    return Anonymised(kept, len(suppressed), tuple(chosen), k)


def equivalence_classes(rows: Sequence[dict], columns: Sequence[str]) -> dict[tuple, int]:
    """How many rows share each combination of `columns`: the check a reviewer runs on a released file."""
    sizes: dict[tuple, int] = defaultdict(int)
    for row in rows:
        sizes[tuple(row[c] for c in columns)] += 1
    return dict(sizes)
