"""What-if sufficiency over the region's own requests (issue 13 §1): the problems the core's `whatif` runs on.
Reads only; never commits.

Two sets of children are asked about:

* **today's open requests** (searching or with offers), exactly as the daily allocation sees them
  (`portal.options.open_problem`);
* **a replay of the last 12 months**: the requests submitted in each of the last 12 calendar months, whatever
  became of them, each month allocated on its own against today's open options (the region keeps no history of
  every vacancy, so today's provision stands in for the year's). A replayed request is needed from today if its
  date has passed, so that today's vacancies can be for it.

Hypothetical provision comes in as `ProvisionItem`s and becomes options of the core (`OptionSpec`), placed at the
LA's centre (or a postcode's grid point).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timezone

from sqlalchemy import select

from portal import matching
from portal.db import db
from portal.models import PlacementRequest
from portal.options import open_problem, request_spec

REPLAY_MONTHS = 12
# Placement types a commissioner can add: the option kinds of the core, with the provider codes (903) the s22C
# order reads (LA fostering, agency fostering, children's homes, supported accommodation).
PROVISION_KINDS = {
    "la_foster": ("foster", "PR1"),
    "agency_foster": ("foster", "PR4"),
    "residential": ("residential", "PR4"),
    "supported": ("supported", "PR4"),
}


@dataclass(frozen=True)
class ProvisionItem:
    """One item of hypothetical provision."""

    places: int
    kind: str  # a PROVISION_KINDS key
    la: str  # ONS code of the LA it is in
    location: matching.GridPoint
    age_min: int = 0
    age_max: int = 17
    sexes: frozenset[str] = frozenset({"female", "male"})
    needs_met: frozenset[str] = frozenset()
    risks_managed: frozenset[str] = frozenset()
    fee_gbp_week: float | None = None

    def option(self, option_id: str, today: date) -> matching.OptionSpec:
        kind, provider_code = PROVISION_KINDS[self.kind]
        return matching.OptionSpec(
            id=option_id, kind=kind, provider_code=provider_code, la=self.la, location=self.location,
            places=self.places, available_from=today, age_min=self.age_min, age_max=self.age_max,
            sexes=self.sexes, needs_met=self.needs_met, risks_managed=self.risks_managed, ofsted=None,
            fee_gbp_week=self.fee_gbp_week, takes_siblings=True,
        )


def scenario_options(items: Sequence[ProvisionItem], today: date, prefix: str = "whatif") -> tuple:
    return tuple(item.option(f"{prefix}-{i + 1}", today) for i, item in enumerate(items))


def _month_start(day: date, back: int) -> date:
    month = day.month - 1 - back
    return date(day.year + month // 12, month % 12 + 1, 1)


def replay_months(today: date | None = None, months: int = REPLAY_MONTHS) -> list[tuple[date, list]]:
    """The requests submitted in each of the last `months` whole calendar months (oldest first) as the core's
    specs, each needed from today at the earliest. Sibling groups stay units within a month."""
    today = today or date.today()
    first = _month_start(today, months)
    end = _month_start(today, 0)
    rows = db.session.scalars(
        select(PlacementRequest)
        .where(PlacementRequest.submitted_at >= datetime.combine(first, time.min, tzinfo=timezone.utc),
               PlacementRequest.submitted_at < datetime.combine(end, time.min, tzinfo=timezone.utc))
        .order_by(PlacementRequest.submitted_at, PlacementRequest.id)
    ).all()
    by_month: dict[date, list] = {_month_start(first, -k): [] for k in range(months)}
    for req in rows:
        spec = request_spec(req)
        if spec.needed_by < today:
            spec = replace(spec, needed_by=today)
        submitted = req.submitted_at.astimezone(timezone.utc) if req.submitted_at.tzinfo else req.submitted_at
        month = date(submitted.year, submitted.month, 1)
        specs = by_month[month]
        specs.append(replace(spec, arrival_order=len(specs)))
    return list(by_month.items())


@dataclass(frozen=True)
class WhatIfResult:
    """Summaries (the core's SUMMARY) of the baseline and of each scenario, with the delta."""

    baseline: dict
    scenarios: list[dict]


def _summaries(specs, options, scenarios: Sequence[tuple[str, tuple]]) -> tuple[dict, list[dict]]:
    from portal.matching.whatif import Scenario, delta, whatif

    index = matching.OptionIndex.build(options)
    baseline, results = whatif(specs, index, [Scenario(sid, added) for sid, added in scenarios])
    base = baseline.summary(specs)
    out = []
    for scenario, outcome in results:
        summary = outcome.summary(specs)
        out.append({"id": scenario.id, **summary, "delta": delta(summary, base)})
    return base, out


def whatif_open(scenarios: Sequence[tuple[str, Sequence[ProvisionItem]]], today: date | None = None) -> WhatIfResult:
    """Today's open requests, with and without each scenario's provision."""
    today = today or date.today()
    specs, options = open_problem()
    base, out = _summaries(specs, options,
                           [(sid, scenario_options(items, today, f"whatif-{k}"))
                            for k, (sid, items) in enumerate(scenarios)])
    return WhatIfResult(base, out)


def whatif_replay(scenarios: Sequence[tuple[str, Sequence[ProvisionItem]]], today: date | None = None,
                  months: int = REPLAY_MONTHS) -> WhatIfResult:
    """The last `months` months' requests, month by month, with and without each scenario's provision; the
    summaries are the months' added up."""
    from portal.matching.whatif import SUMMARY_FIELDS, delta

    today = today or date.today()
    _open_specs, options = open_problem()
    options = [o for o in options if o.for_request is None]  # today's children's connected persons are not theirs
    added = [(sid, scenario_options(items, today, f"whatif-{k}")) for k, (sid, items) in enumerate(scenarios)]
    total = {key: 0 for key in SUMMARY_FIELDS}
    totals = [{key: 0 for key in SUMMARY_FIELDS} for _ in added]
    for _month, specs in replay_months(today, months):
        if not specs:
            continue
        base, out = _summaries(specs, options, added)
        for key in SUMMARY_FIELDS:
            total[key] += base[key]
            for t, s in zip(totals, out):
                t[key] += s[key]
    for t in (total, *totals):
        t["fee_gbp_week"] = round(t["fee_gbp_week"], 2)
    return WhatIfResult(total, [{"id": sid, **t, "delta": delta(t, total)} for (sid, _), t in zip(added, totals)])
