"""Fuzzy matching of people, with rapidfuzz: it suggests, a person decides.

* `match_connected_person`: is a named relative or friend already a registered foster carer? (name and postcode)
* `find_duplicate_requests`: is this child already referred? (same LA, same date of birth, similar name)

Names are compared after `normalise_name` (accents, case, punctuation and titles removed; word order ignored by
the scorer). Thresholds come from the policy: `fuzzy_suggest_threshold` (0-100) is the least similarity worth
showing, `fuzzy_strong_threshold` marks a suggestion "strong". Nothing here links records by itself, whatever the
score: the portal shows the suggestions to an officer, who confirms or dismisses them. Reasons never repeat the
names (they are personal data).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from .policy import DEFAULT_POLICY, Policy
from .types import CarerRecord, ChildRecord, Suggestion

__all__ = ["find_duplicate_requests", "match_connected_person", "normalise_name", "normalise_postcode"]

_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "master", "sir", "dame", "rev", "prof"})
_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
_NOT_LETTERS = re.compile(r"[^a-z0-9]+")


def normalise_name(name: str) -> str:
    """Lower-case ASCII words without titles: "Mrs Siân O'Brien-Smith" -> "sian obrien smith"."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _APOSTROPHES.sub("", text)
    words = [w for w in _NOT_LETTERS.sub(" ", text).split() if w not in _TITLES]
    return " ".join(words)


def normalise_postcode(postcode: str | None) -> str:
    """Upper case without spaces ("cv1 2ab" -> "CV12AB"); empty for None."""
    return re.sub(r"\s+", "", postcode or "").upper()


def _district(postcode: str) -> str:
    """The outward code of a normalised postcode (everything but the last three characters)."""
    return postcode[:-3] if len(postcode) >= 5 else ""


def _strength(score: float, policy: Policy) -> str:
    return "strong" if score >= policy.fuzzy_strong_threshold else "possible"


def match_connected_person(name: str, postcode: str | None, carers: Sequence[CarerRecord],
                           policy: Policy = DEFAULT_POLICY) -> list[Suggestion]:
    """Registered carers who may be the named connected person, best first (suggestions to confirm).

    Score: name similarity (token sort ratio of the normalised names) plus `fuzzy_same_postcode_bonus` for the same
    postcode or `fuzzy_same_district_bonus` for the same postcode district, capped at 100. Only carers whose name
    similarity alone reaches `fuzzy_suggest_threshold` are suggested: a shared postcode never makes a suggestion
    by itself.
    """
    wanted = normalise_name(name)
    if not wanted or not carers:
        return []
    names = [normalise_name(c.name) for c in carers]
    hits = process.extract(wanted, names, scorer=fuzz.token_sort_ratio,
                           score_cutoff=policy.fuzzy_suggest_threshold, limit=None)
    code = normalise_postcode(postcode)
    out = []
    for _, similarity, i in hits:
        carer = carers[i]
        reasons = [f"Name {similarity:.0f}% similar"]
        score = float(similarity)
        theirs = normalise_postcode(carer.postcode)
        if code and theirs == code:
            score += policy.fuzzy_same_postcode_bonus
            reasons.append("Same postcode")
        elif code and theirs and _district(theirs) == _district(code):
            score += policy.fuzzy_same_district_bonus
            reasons.append(f"Same postcode district ({_district(code)})")
        score = round(min(score, 100.0), 1)
        out.append(Suggestion(carer.id, score, _strength(score, policy), tuple(reasons)))
    out.sort(key=lambda s: (-s.score, s.id))
    return out


def find_duplicate_requests(candidate: ChildRecord, existing: Sequence[ChildRecord],
                            policy: Policy = DEFAULT_POLICY) -> list[Suggestion]:
    """Existing requests that may be the same child: same LA, same date of birth and a similar name."""
    pool = [r for r in existing if r.id != candidate.id and r.la == candidate.la
            and r.date_of_birth == candidate.date_of_birth]
    wanted = normalise_name(candidate.name)
    if not pool or not wanted:
        return []
    hits = process.extract(wanted, [normalise_name(r.name) for r in pool], scorer=fuzz.token_sort_ratio,
                           score_cutoff=policy.fuzzy_suggest_threshold, limit=None)
    out = [Suggestion(pool[i].id, round(float(similarity), 1), _strength(similarity, policy),
                      ("Same local authority and date of birth", f"Name {similarity:.0f}% similar"))
           for _, similarity, i in hits]
    out.sort(key=lambda s: (-s.score, s.id))
    return out
