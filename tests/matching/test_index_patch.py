"""A patched index is the index a rebuild makes (issue 12 §5): every worker brings its index up to date by the
changed options alone, so it must give exactly the answers a fresh build of the same options gives."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.matching import OptionIndex, rank
from portal.matching.rank import _median_params
from portal.matching.scoring import median_param
from tests.matching.builders import make_option, options, requests

PER_OPTION = ("easting", "northing", "kind", "setting_type", "s22c", "capacity", "takes_siblings", "solo_only",
              "has_pets", "stale", "approved", "available", "age_min", "age_max", "sexes", "needs", "risks",
              "ofsted", "fee_pence", "median_param", "cp_stage", "cp_stage_ok", "is_cp")


def assert_same_index(patched: OptionIndex, built: OptionIndex) -> None:
    assert patched.ids == built.ids and patched.options == built.options
    assert patched.position == built.position and patched.medians == built.medians
    for name in PER_OPTION:
        assert np.array_equal(getattr(patched, name), getattr(built, name)), name
    assert np.array_equal(patched.fee, built.fee, equal_nan=True)
    # LA numbers may differ (an LA seen first in a removed option); the LA of every option may not.
    decode = lambda index: [{v: k for k, v in index.la_index.items()}[n] for n in index.la.tolist()]
    assert decode(patched) == decode(built)
    for name in ("cp_for", "languages", "religions"):
        got, want = getattr(patched, name), getattr(built, name)
        assert got.keys() == want.keys(), name
        assert all(np.array_equal(got[k], want[k]) for k in want), name
    assert (patched.sex_bits, patched.need_bits, patched.risk_bits) == (built.sex_bits, built.need_bits,
                                                                        built.risk_bits)


@st.composite
def changes(draw):
    """A region's options before, which of them a change removes, and what it adds (some re-added, changed)."""
    child = draw(requests(rid="R1"))
    before = [draw(options(oid=f"O{i}", request_ids=("R1", "R2"))) for i in range(draw(st.integers(0, 12)))]
    removed = draw(st.sets(st.sampled_from([o.id for o in before]))) if before else set()
    changed = [replace(draw(options(oid=oid, request_ids=("R1", "R2"))))
               for oid in sorted(removed) if draw(st.booleans())]
    new = [draw(options(oid=f"N{i}", request_ids=("R1", "R2"))) for i in range(draw(st.integers(0, 4)))]
    unknown = {"NOPE"} if draw(st.booleans()) else set()
    return child, before, removed | unknown, changed + new


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes())
def test_a_patched_index_is_the_index_a_rebuild_makes(change):
    child, before, removed, added = change
    index = OptionIndex.build(before)
    patched = index.patched(removed, added)
    expected = [o for o in before if o.id not in removed] + added
    built = OptionIndex.build(expected)
    assert_same_index(patched, built)
    got = rank(child, patched, exclusions="all").to_dict()
    assert got == rank(child, built, exclusions="all").to_dict()
    assert got == rank(child, expected, exclusions="all").to_dict()  # the plain list, indexed on the fly


@settings(max_examples=100, deadline=None)
@given(st.lists(options(), min_size=1, max_size=12))
def test_median_parts_at_once_are_the_scalar_reference(opts):
    opts = [replace(o, id=f"O{i}") for i, o in enumerate(opts)]
    index = OptionIndex.build(opts)
    want = [median_param(o.fee_gbp_week, o.kind, index.medians, index.policy) for o in opts]
    assert index.median_param.tolist() == want
    assert _median_params({"fee": index.fee, "kind": index.kind, "fee_pence": index.fee_pence}, index.medians,
                          index.policy).tolist() == want


def test_a_changed_fee_moves_the_regional_median_for_every_option():
    homes = [make_option(id=f"O{i}", fee_gbp_week=fee) for i, fee in enumerate((800.0, 900.0, 1000.0))]
    index = OptionIndex.build(homes)
    assert index.medians == {"foster": 900.0}
    patched = index.patched({"O2"}, [replace(homes[2], fee_gbp_week=2000.0), make_option(id="O3", fee_gbp_week=1900.0)])
    assert patched.medians == {"foster": 1400.0}  # 800, 900, 1900, 2000
    assert_same_index(patched, OptionIndex.build([*homes[:2], replace(homes[2], fee_gbp_week=2000.0),
                                                  make_option(id="O3", fee_gbp_week=1900.0)]))


def test_an_added_option_that_is_already_there_is_refused():
    index = OptionIndex.build([make_option(id="O1")])
    with pytest.raises(ValueError, match="duplicate"):
        index.patched(set(), [make_option(id="O1")])


def test_a_code_outside_the_vocabulary_makes_a_full_build():
    odd = make_option(id="O2", needs_met=frozenset({"falconry"}))
    index = OptionIndex.build([make_option(id="O1")])
    patched = index.patched(set(), [odd])
    assert "falconry" in patched.need_bits
    assert_same_index(patched, OptionIndex.build([make_option(id="O1"), odd]))
    # and removing it again gives the plain tables back
    assert_same_index(patched.patched({"O2"}, []), OptionIndex.build([make_option(id="O1")]))


def test_every_array_of_the_index_is_checked():
    """A new per-option array must be added to PER_OPTION (or compared above), or a patch could forget it."""
    arrays = {f.name for f in fields(OptionIndex) if f.type == "np.ndarray"}
    assert arrays == set(PER_OPTION) | {"fee", "la"}
