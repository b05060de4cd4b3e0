"""Fuzzy matching suggests people for an officer to confirm; thresholds come from the policy."""

from __future__ import annotations

from datetime import date

from portal.matching import (
    CarerRecord,
    ChildRecord,
    Policy,
    find_duplicate_requests,
    match_connected_person,
)
from portal.matching.fuzzy import normalise_name, normalise_postcode

CARERS = [
    CarerRecord("c1", "Mrs Siân O'Brien-Smith", "CV1 2AB"),
    CarerRecord("c2", "Sian Obrien Smith", "B15 2TT"),
    CarerRecord("c3", "John Smith", "CV1 2AB"),
    CarerRecord("c4", "Margaret Okonkwo", None),
]


def test_normalisation_removes_accents_case_punctuation_and_titles():
    assert normalise_name("Mrs Siân O'Brien-Smith") == "sian obrien smith"
    assert normalise_name("  DR.  José   Álvarez ") == "jose alvarez"
    assert normalise_postcode(" cv1  2ab") == "CV12AB"


def test_a_named_connected_person_is_suggested_not_decided():
    found = match_connected_person("Sian O'Brien Smith", "cv1 2ab", CARERS)
    assert [s.id for s in found] == ["c1", "c2"]
    assert found[0].reasons == ("Name 100% similar", "Same postcode")
    assert found[0].strength == "strong" and found[0].score == 100.0
    assert found[1].reasons == ("Name 100% similar",)


def test_word_order_and_small_typos_still_match_but_other_people_do_not():
    close = match_connected_person("Okonkwo, Margret", None, CARERS)
    assert [s.id for s in close] == ["c4"] and close[0].strength == "strong" and close[0].score == 96.8
    loose = match_connected_person("Okonkow, Margrit", None, CARERS)
    assert [s.id for s in loose] == ["c4"] and loose[0].strength == "possible"
    assert match_connected_person("Mary Jones", "CV1 2AB", CARERS) == []  # a shared postcode alone is not enough


def test_thresholds_come_from_the_policy():
    strict = Policy.from_overrides({"fuzzy_suggest_threshold": 99.0, "fuzzy_strong_threshold": 99.5})
    assert match_connected_person("Okonkow, Margrit", None, CARERS, strict) == []
    district = match_connected_person("John Smith", "CV1 9ZZ", CARERS)
    assert district[0].id == "c3" and "Same postcode district (CV1)" in district[0].reasons


def test_probable_duplicate_requests_need_the_same_la_and_date_of_birth():
    dob = date(2014, 5, 1)
    existing = [
        ChildRecord("r1", "E08000026", "Kayden Smyth", dob),
        ChildRecord("r2", "E08000025", "Kayden Smith", dob),  # another LA
        ChildRecord("r3", "E08000026", "Kayden Smith", date(2014, 5, 2)),  # another date of birth
        ChildRecord("r4", "E08000026", "Amira Khan", dob),
    ]
    found = find_duplicate_requests(ChildRecord("new", "E08000026", "Kaden Smith", dob), existing)
    assert [s.id for s in found] == ["r1"]
    assert found[0].reasons[0] == "Same local authority and date of birth"
    assert find_duplicate_requests(existing[0], existing) == []  # never itself
