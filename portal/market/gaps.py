"""Sufficiency gaps: open placement requests that no open vacancy in the region can meet, and the rule that fails.

Each open request is ranked by the matching core (portal.matching, through the glue's option index) against every
open vacancy in the region. A request with no eligible option is a gap. Its *blocking rule* is the hard rule
(DESIGN.md §4) that stops the nearest misses: among the vacancies that fail exactly one rule for this child, the rule
that fails most often ("relax this one rule and a place opens"); if every vacancy fails two or more rules, the rule
that fails for the most vacancies. Connected persons are not counted: gaps are about the market's provision.

Ranking a thousand requests against ten thousand vacancies takes about a second, so each web process remembers the
result per request (keyed by the request's last change) for as long as the options version and the day stay the same,
and ranks again only the requests that changed.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Iterable

from flask import current_app
from sqlalchemy import select

from portal import matching
from portal.db import db
from portal.market.queries import OPEN_STATUSES
from portal.matching.eligibility import CHECKS
from portal.options import current_options, request_spec, sibling_specs
from portal.models import PlacementRequest

# The hard rules a gap can be blocked by (connected-person checks never apply: only vacancies are ranked here).
RULES: dict[str, str] = {
    "suitability": "Type of setting: the child's plan rules this type out (rule 1)",
    "age": "Age range of the setting (rule 2)",
    "under_16": "Supported accommodation is for 16 and 17 year olds (rule 2)",
    "sex": "Sex of children the setting takes (rule 3)",
    "places": "Places for the whole sibling group (rule 4)",
    "needs": "Needs the setting can meet (rule 5)",
    "risks": "Risks the setting can manage (rule 5)",
    "availability": "Available by the date needed (rule 6)",
    "approval": "Provider not approved (rule 6)",
    "ofsted": "Rated Inadequate (rule 6)",
    "pets": "Pets (rule 7)",
    "solo": "Solo placement recommended (rule 7)",
    "avoid_la": "Areas the child's plan rules out (rule 7)",
    "no_options": "No open vacancy in the region at all",
}
HAS_OPTIONS = "has_options"

# The sentences of portal.matching.eligibility, by check. tests/market/test_gaps.py makes every *_reason
# function's sentence go through `classify`, so a change of wording in the core fails a test, not a page.
_PATTERNS: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(pattern), check) for pattern, check in (
        (r"^This connected person was put forward for another child", "cp_other_child"),
        (r"^This connected person is at the stage", "cp_stage"),
        (r" is marked unsuitable for this child$", "suitability"),
        (r"^Age \d+ is outside the setting's age range", "age"),
        (r"^Supported accommodation is for young people aged", "under_16"),
        (r"^This setting does not take sibling groups", "places"),
        (r"^This setting takes one child only", "places"),
        (r"^No free places$", "places"),
        (r"^\d+ free places?; the sibling group needs", "places"),
        (r"^This setting does not take ", "sex"),
        (r"^Needs not met: ", "needs"),
        (r"^Risks not managed: ", "risks"),
        (r"^Not available until ", "availability"),
        (r"^The provider is not approved$", "approval"),
        (r"^Rated Inadequate by Ofsted$", "ofsted"),
        (r"^The child (must|cannot) live with pets", "pets"),
        (r"^A solo placement is recommended", "solo"),
        (r"^The child's plan rules out placements in this local authority", "avoid_la"),
    )
)


# A sibling group's reasons name the child they are about first ("Girl aged 3: Needs not met: ..."; the core's
# member_labels): the rule is the same as for a child alone.
_MEMBER_PREFIX = re.compile(r"^(?:Girl|Boy|Child) aged \d+(?: \([a-z0-9]+\))?: ")


@lru_cache(maxsize=16384)
def classify(sentence: str) -> str:
    """The check (portal.matching.eligibility.CHECKS) a reason sentence reports."""
    sentence = _MEMBER_PREFIX.sub("", sentence, count=1)
    for pattern, check in _PATTERNS:
        if pattern.search(sentence):
            return check
    raise ValueError(f"a reason the market pages do not know: {sentence!r}")


def blocking_rule(exclusions: Iterable[matching.Exclusion]) -> str:
    """The rule that stops the nearest misses (see the module docstring); "no_options" when there are none."""
    single: Counter[str] = Counter()
    failing: Counter[str] = Counter()
    # Ten thousand vacancies fail for a few hundred distinct lists of reasons: read each list once.
    for reasons, times in Counter(exclusion.reasons for exclusion in exclusions).items():
        checks = {classify(reason) for reason in reasons}
        for check in checks:
            failing[check] += times
        if len(checks) == 1:
            single[next(iter(checks))] += times
    counts = single or failing
    if not counts:
        return "no_options"
    order = {check: i for i, check in enumerate(CHECKS)}
    return min(counts, key=lambda check: (-counts[check], order.get(check, len(order))))


@dataclass(frozen=True)
class OpenRequestFact:
    """What the gap tables count about one open request: never shown on its own."""

    la: str
    age_years: int
    type_sought: str
    needs: frozenset[str]
    eligible: bool
    rule: str | None


def _type_sought(req: PlacementRequest) -> str:
    # The same order as queries.request_type_sought (s22C: foster care first).
    kinds = (("foster", req.suitability_foster), ("residential", req.suitability_residential),
             ("supported", req.suitability_supported))
    for level in ("preferred", "suitable"):
        for kind, value in kinds:
            if value == level:
                return kind
    return "other"


def _assess(req: PlacementRequest, index: matching.OptionIndex) -> OpenRequestFact:
    spec = request_spec(req)
    siblings = sibling_specs(req)
    eligible = matching.eligible_count(spec, index, siblings=siblings)
    rule = None
    if eligible == 0:
        explained = matching.rank(spec, index, siblings=siblings, limit=0, exclusions="all")
        rule = blocking_rule(explained.excluded)
    return OpenRequestFact(
        la=req.la_code, age_years=req.age_on(req.needed_by), type_sought=_type_sought(req),
        needs=frozenset(req.needs or ()) | frozenset(req.risks or ()), eligible=eligible > 0, rule=rule,
    )


class _GapMemo:
    """Per process: request id -> (its updated_at, its fact), for one (database, options version, day)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._facts: dict[str, tuple[datetime, OpenRequestFact]] = {}

    def facts(self, key: tuple, rows: list[tuple[str, datetime]], assess) -> list[OpenRequestFact]:
        with self._lock:
            if key != self._key:
                self._key, self._facts = key, {}
            known = dict(self._facts)
        stale = [rid for rid, updated in rows if rid not in known or known[rid][0] != updated]
        fresh = assess(stale) if stale else {}
        with self._lock:
            if key == self._key:
                self._facts = {rid: (updated, fresh[rid] if rid in fresh else known[rid][1]) for rid, updated in rows}
        return [fresh[rid] if rid in fresh else known[rid][1] for rid, _ in rows]

    def clear(self) -> None:
        with self._lock:
            self._key, self._facts = None, {}


def gap_memo() -> _GapMemo:
    """This app's memo of open-request assessments (on app.extensions, like the options index)."""
    return current_app.extensions.setdefault("portal_gap_memo", _GapMemo())


def open_request_facts() -> list[OpenRequestFact]:
    """Every open (submitted, still looking) request in the region, assessed against the region's open vacancies."""
    snapshot = current_options()
    index = snapshot.index
    key = (snapshot.version, snapshot.day)  # the memo is this app's, so its database is implied
    rows = [
        (rid, updated) for rid, updated in db.session.execute(
            select(PlacementRequest.id, PlacementRequest.updated_at)
            .where(PlacementRequest.status.in_(OPEN_STATUSES), PlacementRequest.needed_by.is_not(None),
                   PlacementRequest.home_easting.is_not(None))
            .order_by(PlacementRequest.id)
        )
    ]

    def assess(ids: list[str]) -> dict[str, OpenRequestFact]:
        out = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for req in db.session.scalars(select(PlacementRequest).where(PlacementRequest.id.in_(chunk))):
                out[req.id] = _assess(req, index)
        return out

    return gap_memo().facts(key, rows, assess)
