"""The what-if scenarios' figures (portal/market/scenarios.py): the same as the core's summaries, and protected on
every line whatever the counts (issue 13 §1)."""

from __future__ import annotations

import random

import pytest

from portal.market import scenarios
from portal.market.whatif import whatif_open
from portal.matching import vocabulary as vocab
from tests.factories import (
    BIRMINGHAM, COVENTRY, create_provider, create_request, create_setting, create_user, create_vacancy,
)

LAS = (BIRMINGHAM, COVENTRY, "E08000027", "E08000028")
THRESHOLD = 7


def test_the_tables_add_up_to_the_cores_summaries(db_session):
    rng = random.Random(13)
    homes = {BIRMINGHAM: "B1 1AA", COVENTRY: "CV1 2AB"}
    for la, postcode in homes.items():
        officer = create_user("officer", la_code=la)
        for k in range(12):
            create_request(officer, first_name=f"C{la[-2:]}{k}", age=rng.randint(8, 16), home_postcode=postcode,
                           needs=rng.sample(["therapeutic_support", "additional_supervision"], rng.randint(0, 1)),
                           sex=rng.choice(["female", "male"]))
    for postcode in ("CV2 4GA", "B1 1AA"):
        create_vacancy(create_setting(create_provider(), postcode=postcode, registered_places=4), places=4)
    record = scenarios.item_record(places=5, kind="residential", la=COVENTRY, postcode=None,
                                   easting=scenarios.la_centre(COVENTRY)[1], northing=scenarios.la_centre(COVENTRY)[2],
                                   age_min=10, age_max=17, sexes=vocab.SEXES, needs_met=["therapeutic_support"],
                                   risks_managed=(), fee_gbp_week=4000.0)
    result = scenarios.compute([record], "open")
    core = whatif_open([("s", [scenarios.provision_item(record)])])
    fig = scenarios.Figures.build(result, scenarios.Scope(0, LAS))
    pairs = (("placed", "children_placed"), ("own_la", "placed_own_la"), ("within_20", "placed_within_20_miles"))
    for mine, theirs in pairs:
        without, with_, difference = fig.line(mine, "region")
        assert without.value == core.baseline[theirs] and with_.value == core.scenarios[0][theirs]
        assert difference.value == core.scenarios[0]["delta"][theirs]
    without, with_, _ = fig.line(scenarios.FEE, "region")
    assert without.value == core.baseline["fee_gbp_week"] and with_.value == core.scenarios[0]["fee_gbp_week"]
    # The s22C categories add up to children placed; the LAs add up to the region.
    for side in (0, 1):
        assert sum(fig.line(f"s22c:{k}", "region")[side].value for k in scenarios.S22C_ORDER) == \
            fig.line("placed", "region")[side].value
        assert sum(fig.line("placed", la)[side].value for la in LAS) == fig.line("placed", "region")[side].value
    assert core.scenarios[0]["delta"]["children_placed"] > 0  # the item was of use: the test compares something


def _random_result(rng: random.Random) -> dict:
    cells = []
    for la in LAS:
        asked = rng.choice([0, rng.randint(1, 9), rng.randint(10, 60)])
        base = rng.randint(0, asked)
        with_ = rng.randint(base, asked)
        split_b = [0] * len(scenarios.S22C_ORDER)
        split_w = [0] * len(scenarios.S22C_ORDER)
        for _ in range(base):
            split_b[rng.randrange(len(split_b))] += 1
        split_w[:] = split_b
        for _ in range(with_ - base):
            split_w[rng.randrange(len(split_w))] += 1
        own_b, own_w = rng.randint(0, base), None
        own_w = rng.randint(own_b, own_b + with_ - base)
        near_b = rng.randint(0, base)
        near_w = rng.randint(near_b, near_b + with_ - base)
        rows = {"asked": (asked, asked), "placed": (base, with_), "own_la": (own_b, own_w),
                "within_20": (near_b, near_w), scenarios.FEE: (base * 90000, with_ * 90000)}
        rows.update({f"s22c:{k}": (split_b[i], split_w[i]) for i, k in enumerate(scenarios.S22C_ORDER)})
        cells += [[la, "all", measure, b, w] for measure, (b, w) in rows.items()]
    return {"cells": cells}


@pytest.mark.parametrize("seed", range(40))
def test_no_shown_figure_gives_away_a_few_children(seed):
    rng = random.Random(seed)
    fig = scenarios.Figures.build(_random_result(rng), scenarios.Scope(THRESHOLD, LAS))
    for measure in ("asked", "placed", "own_la", "within_20", *(f"s22c:{k}" for k in scenarios.S22C_ORDER)):
        lines = {where: fig.line(measure, where) for where in (*LAS, "region")}
        for where, (without, with_, difference) in lines.items():
            for cell in (without, with_):
                assert cell.hidden or not 0 < cell.value <= THRESHOLD, (measure, where, cell)
            # A difference is shown only with both its figures, and never of a few children.
            assert difference.hidden == (without.hidden or with_.hidden)
            assert difference.hidden or not 0 < abs(difference.value) <= THRESHOLD, (measure, where)
        for side in (0, 1):
            # Along the LAs and their region: a shown total never leaves one hidden cell alone, nor a few children
            # between the hidden ones (hidden zeros, hidden for another line's sake, add up to no child).
            hidden = [lines[la][side] for la in LAS if lines[la][side].hidden]
            if not lines["region"][side].hidden and hidden:
                assert len(hidden) >= 2, (measure, side, hidden)
                assert not 0 < sum(c.value for c in hidden) <= THRESHOLD, (measure, side, hidden)
    # A fee is shown only where its children are.
    for where in (*LAS, "region"):
        for side in (0, 1):
            assert fig.line(scenarios.FEE, where)[side].hidden == fig.line("placed", where)[side].hidden
