"""The k-anonymity algorithm on its own (portal/market/anonymity.py): whatever the data, every class left holds
at least k different people, partitions never mix, and it generalises no more than it needs to."""

from __future__ import annotations

import random

import pytest

from portal.market.anonymity import QuasiIdentifier, anonymise, equivalence_classes

QIS = (QuasiIdentifier("place", ("district", "area", "all")), QuasiIdentifier("month", ("month", "year")))


def _record(rng: random.Random) -> list[tuple[str, ...]]:
    district = f"B{rng.randint(1, 40)}"
    month = f"2025-{rng.randint(1, 12):02d}"
    return [(district, district[:1] + str(int(district[1:]) // 10), "all"), (month, "2025")]


def _classes(values, people, partition, result, levels_by_key):
    classes: dict[tuple, set] = {}
    for i in result.kept:
        levels = levels_by_key[partition[i]]
        key = (partition[i], *(values[i][q][level] for q, level in enumerate(levels)))
        classes.setdefault(key, set()).add(people[i])
    return classes


@pytest.mark.parametrize("seed", range(8))
def test_every_class_left_holds_k_different_people(seed):
    rng = random.Random(seed)
    n = rng.randint(20, 400)
    values = [_record(rng) for _ in range(n)]
    # Some people have several records: k counts people, not rows.
    people = [f"child{rng.randint(0, n * 2 // 3)}" for _ in range(n)]
    partition = [rng.choice("AB") for _ in range(n)]
    result = anonymise(values, people, partition, QIS, k=8)
    chosen = {p.key: p.levels for p in result.partitions}
    classes = _classes(values, people, partition, result, chosen)
    assert all(len(who) >= 8 for who in classes.values())
    assert result.suppressed == n - len(result.kept) == sum(p.suppressed for p in result.partitions)
    for p in result.partitions:
        assert p.suppressed <= p.records


def test_eight_records_of_one_child_are_not_a_class_of_eight():
    values = [[("B1", "B0", "all"), ("2025-01", "2025")]] * 8
    result = anonymise(values, ["same child"] * 8, ["A"] * 8, QIS, k=8)
    assert result.kept == () and result.suppressed == 8


def test_a_big_enough_uniform_group_keeps_full_detail():
    values = [[("B1", "B0", "all"), ("2025-01", "2025")] for _ in range(10)]
    result = anonymise(values, [f"c{i}" for i in range(10)], ["A"] * 10, QIS, k=8)
    assert result.partitions[0].levels == (0, 0) and len(result.kept) == 10


def test_it_generalises_only_what_it_must():
    """Two districts of the same area, 8 children each, in two months: the months can stay; the districts can
    stay too. With 4 children per district, the districts must become the area."""
    def group(district, per):
        return [[(district, "B0", "all"), (month, "2025")] for month in ("2025-01", "2025-02") for _ in range(per)]

    values = group("B1", 8) + group("B2", 8)
    result = anonymise(values, [f"c{i}" for i in range(len(values))], ["A"] * len(values), QIS, k=8)
    assert result.partitions[0].levels == (0, 0) and result.suppressed == 0
    values = group("B1", 4) + group("B2", 4)
    result = anonymise(values, [f"c{i}" for i in range(len(values))], ["A"] * len(values), QIS, k=8, budget=0)
    levels = result.partitions[0].levels
    assert result.suppressed == 0 and levels in {(1, 0), (0, 1)}, "one step up is enough"


def test_partitions_never_share_a_class_and_a_tiny_one_is_suppressed():
    values = [[("B1", "B0", "all"), ("2025-01", "2025")] for _ in range(13)]
    partition = ["big"] * 10 + ["tiny"] * 3
    result = anonymise(values, [f"c{i}" for i in range(13)], partition, QIS, k=8)
    assert result.kept == tuple(range(10)) and result.suppressed == 3


def test_k_must_be_positive():
    with pytest.raises(ValueError):
        anonymise([], [], [], QIS, k=0)


def test_equivalence_classes_counts_rows_per_combination():
    rows = [{"a": "1", "b": "x"}, {"a": "1", "b": "x"}, {"a": "2", "b": "x"}]
    assert equivalence_classes(rows, ("a", "b")) == {("1", "x"): 2, ("2", "x"): 1}
