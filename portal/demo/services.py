"""Build the demo West Midlands region: providers, settings, vacancies, children, and a year of history.

Deterministic: the same seed and scale give the same rows (ids, names, postcodes, fees), because every random
choice comes from a `random.Random` seeded from the seed and the step's name, never the global generator, and
nothing iterates over a set. Only dates move: they are relative to the day the loader runs.

Services add and flush, never commit (STYLE.md habit 2): the `flask demo load` command commits once. The big
tables go in with bulk inserts (`session.execute(insert(Model), rows)`), so the `region` scale loads in seconds.

The shape follows the real region where we know it: about 22% of children placed over 20 miles from home and
most inside their own LA (DESIGN.md §1); the s22C order (family and friends, then the LA's own foster carers,
then agencies, then homes); SSDA903 placement types, provider codes and end reasons; and the Placements Data
Standard's urgency bands, needs and risks (portal.matching.vocabulary).
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate, product

import numpy as np
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from portal import geo
from portal.models import (
    SETTING_KIND_FOR_PROVIDER,
    ConnectedPerson,
    Offer,
    Placement,
    PlacementRequest,
    Provider,
    ReEntryLink,
    Referral,
    ReferralDecline,
    Setting,
    SiblingGroup,
    User,
    Vacancy,
)
from portal.auth.passwords import hash_password
from portal.db import utcnow
from portal.demo import people
from portal.matching import vocabulary as vocab
from portal.requests.sections import SECTIONS
from portal.placement_records import (
    deprivation_of_liberty_recorded,
    education_continuity_at,
    placement_type_for,
    provider_code_for,
    unregistered_setting,
)

__all__ = ["SCALES", "DemoSummary", "Scale", "delete_demo_data", "existing_data", "load_demo"]


# ============================================================================================= sizes

@dataclass(frozen=True)
class Scale:
    """How big a demo region is. Settings = the four household/home counts (plus three pending providers' ones)."""

    name: str
    ifas: int  # approved independent fostering agencies, the demo one included
    home_operators: int  # approved children's home operators, the demo one included
    supported_providers: int  # approved supported accommodation providers, the demo one included
    ifa_households: int
    la_households: int  # households of the 14 LAs' own fostering services
    homes: int
    supported_services: int
    open_vacancies: int
    open_requests: int
    past_placements: int  # children placed in the last 12 months
    postcodes_per_la: int  # size of each LA's postcode sample

    @property
    def settings(self) -> int:
        return self.ifa_households + self.la_households + self.homes + self.supported_services


SCALES: dict[str, Scale] = {
    # For tests: every kind of row, every LA, all the demo people, in a second or two.
    "small": Scale("small", 3, 3, 2, 18, 20, 12, 8, 40, 20, 150, 300),
    # About the real region (issue 2): ~1,500 settings, 300 open requests, 8,000 placements a year.
    "region": Scale("region", 40, 90, 30, 520, 420, 380, 180, 750, 300, 8000, 2500),
    # For benchmarks: 10,000 open vacancies and 1,000 open requests.
    "large": Scale("large", 80, 260, 100, 4400, 2800, 3000, 1800, 10000, 1000, 10000, 4000),
}

# Shares the demo aims at (documented where they come from).
OUTSIDE_REGION_SHARE = 0.09  # settings over the region's border
FAR_SHARE = 0.22  # children placed in a setting more than 20 miles from home (DESIGN.md §1: about 22%)
INSIDE_SHARE = 0.75  # of the nearer placements, those inside the child's own LA when one fits
SIBLING_SHARE = 1 / 8  # children in a sibling group (issue 2)
CONNECTED_SHARE = 1 / 5  # children with a connected person put forward (issue 2)
CLOSED_SHARE = 0.07  # past requests closed without a placement (the child went home, or no longer needed one)
STALE_SHARE = 0.10  # open vacancies not confirmed for over 14 days
HIGH_COST_SHARE = 0.04  # children's homes in the high-cost tail (£10,000 a week and more)
# Children placed who had been in care before (issue 11 §7; in Coventry 14% of children in care had been): of the
# children placed alone whose request came late enough in the year for an earlier placement in it, this share had
# one, which makes about one child in seven of all those placed.
RE_ENTRY_CHANCE = 0.21
RE_ENTRY_CONFIRMED_SHARE = 0.9  # past requests whose officer confirmed the earlier placement (the rest unanswered)
OPEN_RE_ENTRY_CONFIRMED_SHARE = 0.4  # open requests: officers have not looked at most of them yet
NEW_REFERENCE_SHARE = 0.15  # the child had another reference then: found by name and date of birth
# Why a child's earlier placement ended with them leaving care (SSDA903 reasons; returns home the most common).
LEFT_CARE_WEIGHTS = {"E4A": 48, "E13": 20, "E8": 12, "E41": 10, "E45": 6, "E11": 4}
URGENCY_WEIGHTS = {"today": 20, "within_5_days": 35, "over_5_days": 45}
# Ages of children needing a placement (0-17), skewed to 10-15 as issue 2 asks.
AGE_WEIGHTS = (4, 2, 2, 2, 2, 2, 2, 3, 3, 3, 5, 6, 7, 9, 10, 10, 7, 4)
OFSTED_WEIGHTS = {"outstanding": 17, "good": 63, "requires_improvement": 15, "inadequate": 5}

NEED_WEIGHTS = {
    "esol": 6, "bsl": 2, "makaton": 3, "home_adaptation": 3, "additional_supervision": 20,
    "therapeutic_support": 25, "respite_worker": 6, "school_transport": 20, "deprivation_of_liberty": 2,
}
RISK_WEIGHTS = {
    "self_harm": 14, "sexual_exploitation": 10, "criminal_exploitation": 14, "drug_alcohol": 12,
    "eating_disorder": 3, "going_missing": 20, "others_physical": 12, "others_sexual": 3, "others_fire": 2,
    "others_animals": 2, "others_criminal": 5,
}
FOSTER_NEEDS = {"school_transport": 30, "additional_supervision": 20, "therapeutic_support": 20,
                "respite_worker": 15, "esol": 8, "makaton": 4, "home_adaptation": 3, "bsl": 2}
FOSTER_RISKS = {"going_missing": 25, "self_harm": 20, "others_physical": 15, "drug_alcohol": 12,
                "sexual_exploitation": 10, "criminal_exploitation": 10, "eating_disorder": 5, "others_animals": 3}
SUPPORTED_NEEDS = {"esol": 25, "additional_supervision": 20, "therapeutic_support": 10, "respite_worker": 5}
SUPPORTED_RISKS = {"going_missing": 20, "drug_alcohol": 20, "criminal_exploitation": 15, "self_harm": 15,
                   "sexual_exploitation": 10, "others_physical": 10}
# The demo providers meet broad needs, so a newcomer signed in as officer.coventry sees them in the matches.
DEMO_IFA_NEEDS = ["additional_supervision", "esol", "makaton", "respite_worker", "school_transport",
                  "therapeutic_support"]
DEMO_IFA_RISKS = ["criminal_exploitation", "drug_alcohol", "going_missing", "others_physical",
                  "self_harm", "sexual_exploitation"]
DEMO_SUPPORTED_NEEDS = ["additional_supervision", "esol", "therapeutic_support"]
DEMO_SUPPORTED_RISKS = ["criminal_exploitation", "drug_alcohol", "going_missing", "self_harm"]

_KIND_INDEX = {"foster": 0, "residential": 1, "supported": 2}
_NEED_BIT = {key: 1 << i for i, key in enumerate(vocab.NEEDS)}
_RISK_BIT = {key: 1 << i for i, key in enumerate(vocab.RISKS)}
_SEX_BIT = {"female": 1, "male": 2}


# ============================================================================================= small helpers

def _rng(seed: int, step: str) -> random.Random:
    """A generator for one step: steps stay independent, and a str seed hashes the same in every process."""
    return random.Random(f"wm-demo:{seed}:{step}")


class _Ids:
    """Deterministic 32-hex ids in the shape of portal.db.new_id (opaque; the same seed gives the same ids)."""

    def __init__(self, seed: int) -> None:
        self._rng = _rng(seed, "ids")

    def __call__(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _sample_weighted(rng: random.Random, weights: dict[str, float], k: int) -> list[str]:
    """k distinct keys, drawn by weight (sorted, as the portal stores vocabulary lists)."""
    pool = dict(weights)
    chosen: list[str] = []
    while pool and len(chosen) < k:
        key = _pick(rng, pool)
        chosen.append(key)
        del pool[key]
    return sorted(chosen)


def _split(total: int, weights: Sequence[float], minimums: Sequence[int] | None = None) -> list[int]:
    """Share `total` out by weight (largest remainder), giving each at least its minimum."""
    mins = list(minimums) if minimums is not None else [0] * len(weights)
    rest = max(0, total - sum(mins))
    raw = [rest * w / sum(weights) for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: rest - sum(counts)]:
        counts[i] += 1
    return [m + c for m, c in zip(mins, counts)]


def _money(value: float, step: int = 5) -> Decimal:
    """A weekly fee rounded to a whole `step` of pounds, as providers quote them."""
    return Decimal(round(value / step) * step).quantize(Decimal("0.01"))


def _at(day: date, rng: random.Random, first_hour: int = 8, last_hour: int = 18) -> datetime:
    """A time in working hours on `day`, in UTC."""
    minute = rng.randrange((last_hour - first_hour) * 60)
    return datetime(day.year, day.month, day.day, first_hour, tzinfo=UTC) + timedelta(minutes=minute)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _date_of_birth(rng: random.Random, age: int, on: date, latest: date) -> date:
    """A birthday that makes the child exactly `age` on `on` (and no later than `latest`)."""
    first = _years_before(on, age + 1) + timedelta(days=1)
    last = min(_years_before(on, age), latest)
    return first + timedelta(days=rng.randrange(max(1, (last - first).days + 1)))


def _stamp(row: dict, created: datetime, updated: datetime | None = None) -> dict:
    row["created_at"] = created
    row["updated_at"] = updated or created
    return row


# ============================================================================================= the world

@dataclass
class _Provider:
    """What the generator needs to know about a provider while building the rest."""

    id: str
    key: str | None
    name: str
    kind: str
    provider_code: str
    la_code: str | None
    status: str
    base_la: str
    weight: float
    ofsted_urn: str | None = None
    ofsted_rating: str | None = None
    inspected_on: date | None = None
    settings: list[int] = field(default_factory=list)

    @property
    def setting_kind(self) -> str:
        return SETTING_KIND_FOR_PROVIDER[self.kind]


@dataclass
class _Pools:
    """Real postcodes: a sample per LA (with grid arrays for 'near here') and some just outside the region."""

    by_la: dict[str, list[geo.PostcodeInfo]]
    grid: dict[str, tuple[np.ndarray, np.ndarray]]
    outside: list[geo.PostcodeInfo]

    def near(self, rng: random.Random, la_code: str, easting: int, northing: int, k: int = 40) -> geo.PostcodeInfo:
        """A postcode of the LA among the k nearest to a point (not the point's own postcode)."""
        east, north = self.grid[la_code]
        d2 = (east - easting) ** 2 + (north - northing) ** 2
        d2 = np.where(d2 == 0, np.iinfo(np.int64).max, d2)
        k = min(k, len(d2) - 1)
        nearest = np.sort(np.argpartition(d2, k)[:k])
        return self.by_la[la_code][int(nearest[rng.randrange(len(nearest))])]


@dataclass
class _World:
    """Everything built so far: rows per table, and the lookups later steps need."""

    seed: int
    scale: Scale
    today: date
    now: datetime
    ids: _Ids
    pools: _Pools
    providers: list[_Provider] = field(default_factory=list)
    officers: dict[str, str] = field(default_factory=dict)  # LA code -> officer user id
    provider_users: dict[str, str] = field(default_factory=dict)  # provider id -> demo user id
    rows: dict[type, list[dict]] = field(default_factory=dict)
    serials: dict[str, int] = field(default_factory=dict)  # child reference counter per LA and year
    _by_kind: dict[str, list[_Provider]] = field(default_factory=dict)

    def rng(self, step: str) -> random.Random:
        return _rng(self.seed, step)

    def add(self, model: type, row: dict) -> dict:
        self.rows.setdefault(model, []).append(row)
        return row

    def table(self, model: type) -> list[dict]:
        return self.rows.setdefault(model, [])

    def provider(self, key: str) -> _Provider:
        return next(p for p in self.providers if p.key == key)

    def approved_by_kind(self) -> dict[str, list[_Provider]]:
        """Approved providers with settings, by the kind of setting they run (computed once)."""
        if not self._by_kind:
            for kind in _KIND_INDEX:
                self._by_kind[kind] = [p for p in self.providers
                                       if p.status == "approved" and p.setting_kind == kind and p.settings]
        return self._by_kind


def _postcode_pools(scale: Scale) -> _Pools:
    by_la = {la.code: geo.postcodes_in_la(la.code, limit=scale.postcodes_per_la) for la in people.REGION}
    grid = {
        code: (np.array([p.easting for p in pcs], dtype=np.int64), np.array([p.northing for p in pcs], dtype=np.int64))
        for code, pcs in by_la.items()
    }
    outside = [p for p in geo.postcodes_in_areas(people.NEIGHBOURING_AREAS, limit=3000) if not p.in_west_midlands]
    return _Pools(by_la, grid, outside)


# ============================================================================================= providers

def _ofsted(rng: random.Random, today: date, *, urn_digits: int = 6, prefix: str = "SC") -> tuple[str, str, date]:
    urn = f"{prefix}{rng.randrange(10 ** (urn_digits - 1), 10 ** urn_digits)}"
    return urn, _pick(rng, OFSTED_WEIGHTS), today - timedelta(days=rng.randint(30, 900))


def _provider_row(world: _World, rng: random.Random, p: _Provider, contract: str, contact: str,
                  status_reason: str | None = None) -> dict:
    slug = "".join(ch for ch in p.name.lower().replace(" ", ".") if ch.isalnum() or ch == ".")
    if p.status == "pending":
        created = world.now - timedelta(days=rng.randint(1, 10), minutes=rng.randrange(600))
        approved_at = None
    else:
        approved_at = world.now - timedelta(days=rng.randint(60, 1500), minutes=rng.randrange(600))
        created = approved_at - timedelta(days=rng.randint(2, 30))
    return _stamp({
        "id": p.id, "name": p.name, "kind": p.kind, "provider_code": p.provider_code, "contract": contract,
        "status": p.status, "status_reason": status_reason, "la_code": p.la_code, "contact_name": contact,
        "contact_email": f"referrals.{slug}@{people.DEMO_DOMAIN}",
        "contact_phone": f"0121 496 0{rng.randrange(1000):03d}",
        "approved_at": approved_at if p.status == "approved" else None, "ofsted_urns": [],
    }, created, approved_at or created)


def _contact_name(rng: random.Random) -> str:
    return f"{rng.choice(people.ADULT_FIRST_NAMES)} {rng.choice(people.SURNAMES)}"


def _invented_names(rng: random.Random, kind: str, count: int) -> list[str]:
    names = [f"{word} {ending}" for word, ending in product(people.NAME_WORDS, people.PROVIDER_ENDINGS[kind])]
    return rng.sample(names, count)


def make_providers(world: _World) -> None:
    """The demo people's providers, every LA's own fostering service, invented agencies and operators, and the
    pending and rejected registrations the administrator deals with."""
    rng = world.rng("providers")
    contacts: dict[str, str] = {}
    for person in people.demo_people():  # the first person listed for a provider is its contact
        if person.provider:
            contacts.setdefault(person.provider, person.name)
    las = people.REGION

    def add(p: _Provider, contract: str, contact: str, reason: str | None = None) -> None:
        if p.kind != "la_fostering":  # registered with Ofsted before asking to join the portal
            p.ofsted_urn, p.ofsted_rating, p.inspected_on = _ofsted(rng, world.today)
        if p.key and p.ofsted_rating == "inadequate":  # the demo people's and the LAs' own: always matchable
            p.ofsted_rating = "requires_improvement"
        world.providers.append(p)
        world.add(Provider, _provider_row(world, rng, p, contract, contact, reason))

    for demo in (people.DEMO_IFA, people.DEMO_HOME, people.DEMO_SUPPORTED):
        add(_Provider(world.ids(), demo.key, demo.name, demo.kind, demo.provider_code, None, "approved",
                      demo.base_la, 3.0), demo.contract, contacts[demo.key])
    for la in las:
        p = _Provider(world.ids(), f"la_fostering:{la.code}", people.la_fostering_name(la.name), "la_fostering",
                      "PR1", la.code, "approved", la.code, 1.0)
        # An LA fostering service is inspected with the LA's children's services (ILACS).
        p.ofsted_urn, p.ofsted_rating, p.inspected_on = _ofsted(rng, world.today, urn_digits=6, prefix="8")
        add(p, "framework", contacts.get(p.key) or _contact_name(rng))
    kinds = (("ifa", world.scale.ifas, 0.75), ("childrens_home", world.scale.home_operators, 0.85),
             ("supported_accommodation", world.scale.supported_providers, 0.6))
    for kind, count, private_share in kinds:
        for name in _invented_names(rng, kind, count - 1):
            code = "PR4" if rng.random() < private_share else "PR5"
            base = rng.choices([la.code for la in las], weights=[la.weight for la in las])[0]
            weight = min(8.0, rng.paretovariate(1.4))  # a few large groups, many small ones
            add(_Provider(world.ids(), None, name, kind, code, None, "approved", base, weight),
                "framework" if rng.random() < 0.65 else "spot", _contact_name(rng))
    for demo in (*people.PENDING_PROVIDERS, people.REJECTED_PROVIDER):
        add(_Provider(world.ids(), demo.key, demo.name, demo.kind, demo.provider_code, None, demo.status,
                      demo.base_la, 1.0), demo.contract, _contact_name(rng), demo.status_reason)


# ============================================================================================= settings

def _setting_counts(world: _World) -> list[tuple[_Provider, int]]:
    """How many settings each provider runs (the demo ones get a generous share; every LA has households)."""
    s = world.scale
    plan: list[tuple[_Provider, int]] = []
    floors = {"ifa": max(10, s.ifa_households // 9), "home": max(4, s.homes // 30),
              "supported": max(3, s.supported_services // 20)}
    totals = {"ifa": s.ifa_households, "childrens_home": s.homes, "supported_accommodation": s.supported_services}
    demo_key = {"ifa": "ifa", "childrens_home": "home", "supported_accommodation": "supported"}
    for kind, total in totals.items():
        demo = world.provider(demo_key[kind])
        others = [p for p in world.providers if p.kind == kind and p.key is None]
        plan.append((demo, floors[demo.key]))
        plan.extend(zip(others, _split(total - floors[demo.key], [p.weight for p in others], [1] * len(others))))
    services = [world.provider(f"la_fostering:{la.code}") for la in people.REGION]
    minimums = [3 if p.la_code == people.COVENTRY else 1 for p in services]
    plan.extend(zip(services, _split(s.la_households, [la.weight for la in people.REGION], minimums)))
    plan.extend((p, 1) for p in world.providers if p.status == "pending")
    return plan


def _demo_location(rng: random.Random, key: str) -> str:
    weights = {
        "ifa": {people.COVENTRY: 50, people.BIRMINGHAM: 30, people.SOLIHULL: 10, people.WARWICKSHIRE: 10},
        "home": {people.BIRMINGHAM: 40, people.COVENTRY: 30, people.SANDWELL: 15, people.SOLIHULL: 15},
        "supported": {people.BIRMINGHAM: 60, people.COVENTRY: 40},
    }[key]
    return _pick(rng, weights)


def _setting_place(world: _World, rng: random.Random, p: _Provider, number: int) -> geo.PostcodeInfo:
    if p.key in ("ifa", "home", "supported"):
        la_code = _demo_location(rng, p.key)
    elif p.kind == "la_fostering":
        # An LA's carers live in the LA (the first always); a few elsewhere in the region.
        la_code = p.la_code if number == 1 or rng.random() < 0.95 else rng.choice(people.REGION).code
    elif rng.random() < 0.55:
        la_code = p.base_la
    else:
        la_code = rng.choices([la.code for la in people.REGION], weights=[la.weight for la in people.REGION])[0]
    return rng.choice(world.pools.by_la[la_code])


def _foster_details(rng: random.Random, p: _Provider) -> dict:
    ages = rng.choices([(0, 17), (0, 10), (5, 17), (11, 17)], weights=[60, 15, 15, 10])[0]
    places = rng.choices([1, 2, 3], weights=[45, 40, 15])[0]
    sexes = rng.choices([["female", "male"], ["female"], ["male"]], weights=[92, 5, 3])[0]
    if p.key == "ifa":
        ages, places, sexes = (0, 17), rng.choice([1, 2, 2, 3]), ["female", "male"]
        needs = sorted(rng.sample(DEMO_IFA_NEEDS, rng.randint(4, len(DEMO_IFA_NEEDS))))
        risks = sorted(rng.sample(DEMO_IFA_RISKS, rng.randint(4, len(DEMO_IFA_RISKS))))
    else:
        needs = _sample_weighted(rng, FOSTER_NEEDS, rng.choices([0, 1, 2, 3, 4], weights=[20, 30, 30, 12, 8])[0])
        risks = _sample_weighted(rng, FOSTER_RISKS, rng.choices([0, 1, 2, 3], weights=[35, 30, 22, 13])[0])
    low, high = (400, 600) if p.kind == "la_fostering" else (750, 1000)
    return {
        "kind": "foster", "age_min": ages[0], "age_max": ages[1], "registered_places": places, "sexes": sexes,
        "needs_met": needs, "risks_managed": risks, "has_pets": rng.random() < 0.35,
        "takes_siblings": places > 1 and rng.random() < 0.85, "solo_only": False,
        "fee_gbp_week": _money(rng.triangular(low, high, low + (high - low) * 0.4)),
        "ofsted_urn": p.ofsted_urn, "ofsted_rating": p.ofsted_rating, "inspected_on": p.inspected_on,
    }


def _home_details(rng: random.Random, p: _Provider, today: date, high_cost: bool) -> dict:
    specialist = rng.random() < 0.2  # disability, deprivation of liberty, complex trauma
    solo = rng.random() < 0.06
    ages = rng.choices([(8, 17), (10, 17), (11, 17), (12, 17)], weights=[35, 15, 40, 10])[0]
    places = 2 if solo else rng.choices([2, 3, 4, 5, 6], weights=[15, 25, 30, 18, 12])[0]
    needs = _sample_weighted(rng, NEED_WEIGHTS, rng.randint(5, 8) if specialist else rng.randint(2, 6))
    risks = _sample_weighted(rng, RISK_WEIGHTS, rng.randint(7, 11) if specialist else rng.randint(4, 9))
    sexes = rng.choices([["female", "male"], ["female"], ["male"]], weights=[85, 7, 8])[0]
    if solo or high_cost:  # solo homes and the high-cost tail: complex needs, two or three staff to one child
        fee = _money(rng.uniform(7500, 12000) if solo and not high_cost else rng.uniform(10000, 16000), 50)
    else:
        fee = _money(rng.triangular(3500, 7000, 4800), 25)
    urn, rating, inspected = _ofsted(rng, today)
    if p.key == "home":
        ages, sexes = rng.choice([(8, 17), (11, 17)]), ["female", "male"]
        risks = sorted(set(risks) | set(DEMO_IFA_RISKS))
        rating = "good" if rating == "inadequate" else rating
    return {
        "kind": "residential", "age_min": ages[0], "age_max": ages[1], "registered_places": places, "sexes": sexes,
        "needs_met": needs, "risks_managed": risks, "has_pets": rng.random() < 0.08,
        "takes_siblings": not solo and rng.random() < 0.6, "solo_only": solo, "fee_gbp_week": fee,
        "ofsted_urn": urn, "ofsted_rating": rating, "inspected_on": inspected,
    }


def _supported_details(rng: random.Random, p: _Provider, today: date) -> dict:
    if p.key == "supported":
        needs, risks = list(DEMO_SUPPORTED_NEEDS), list(DEMO_SUPPORTED_RISKS)
    else:
        needs = _sample_weighted(rng, SUPPORTED_NEEDS, rng.randint(0, 3))
        risks = _sample_weighted(rng, SUPPORTED_RISKS, rng.randint(1, 4))
    # Supported accommodation has been registered with Ofsted only since 2023: many are not yet inspected.
    urn, rating, inspected = _ofsted(rng, today, urn_digits=7, prefix="")
    if rng.random() < 0.3:
        rating, inspected = None, None
        # A few of those not yet inspected are not registered either (operating while their application is
        # decided): placements there are flagged as unregistered. Drawn from the URN, so nothing else moves.
        if p.key != "supported" and random.Random(urn).random() < 0.25:
            urn = None
    places = rng.randint(2, 8)
    sexes = rng.choices([["female", "male"], ["female"], ["male"]], weights=[80, 10, 10])[0]
    if p.key == "supported":
        sexes, rating = ["female", "male"], "good" if rating == "inadequate" else rating
    return {
        "kind": "supported", "age_min": 16, "age_max": 17, "registered_places": places, "sexes": sexes,
        "needs_met": needs, "risks_managed": risks, "has_pets": rng.random() < 0.03,
        "takes_siblings": rng.random() < 0.5, "solo_only": rng.random() < 0.05,
        "fee_gbp_week": _money(rng.triangular(1200, 3000, 1800), 25),
        "ofsted_urn": urn, "ofsted_rating": rating, "inspected_on": inspected,
    }


def _abbreviation(name: str) -> str:
    return "".join(word[0] for word in name.replace("'", "").split() if word[0].isalpha()).upper()


def _setting_name(rng: random.Random, p: _Provider, number: int) -> str:
    if p.setting_kind == "foster":
        return f"{rng.choice(people.SURNAMES)} household ({_abbreviation(p.name)} {number:03d})"
    endings = people.HOME_ENDINGS if p.setting_kind == "residential" else people.SUPPORTED_ENDINGS
    return f"{rng.choice(people.HOUSE_WORDS)} {rng.choice(endings)}"


def make_settings(world: _World) -> None:
    """Homes, supported accommodation and fostering households at real postcodes, about one in eleven outside
    the region; age ranges, places, needs and risks met, Ofsted and weekly fees by kind."""
    rng = world.rng("settings")
    plan = _setting_counts(world)
    home_count = sum(n for p, n in plan if p.kind == "childrens_home")
    high_cost = set(rng.sample(range(home_count), max(1, round(home_count * HIGH_COST_SHARE))))
    homes_seen = 0
    for p, count in plan:
        for number in range(1, count + 1):
            if p.setting_kind == "foster":
                details = _foster_details(rng, p)
            elif p.setting_kind == "residential":
                details = _home_details(rng, p, world.today, homes_seen in high_cost)
                homes_seen += 1
            else:
                details = _supported_details(rng, p, world.today)
            place = _setting_place(world, rng, p, number)
            p.settings.append(len(world.table(Setting)))
            created = world.now - timedelta(days=rng.randint(20, 700))
            world.add(Setting, _stamp({
                "id": world.ids(), "provider_id": p.id, "name": _setting_name(rng, p, number),
                "postcode": place.postcode, "la_code": place.la_code, "easting": place.easting,
                "northing": place.northing, "languages": _some(rng, people.LANGUAGES, 0.12),
                "religions": _some(rng, people.RELIGIONS, 0.1), "active": True, **details,
            }, created))
    _move_some_outside(world, rng)
    _registered_urns(world)


def _registered_urns(world: _World) -> None:
    """The Ofsted URNs each provider gave at registration: its agency's, or those of its homes."""
    settings = world.table(Setting)
    for p, row in zip(world.providers, world.table(Provider)):
        row["ofsted_urns"] = sorted({settings[i]["ofsted_urn"] for i in p.settings if settings[i]["ofsted_urn"]})


def _some(rng: random.Random, words: Sequence[str], share: float) -> list[str]:
    return sorted(rng.sample(list(words), rng.randint(1, 2))) if rng.random() < share else []


def _move_some_outside(world: _World, rng: random.Random) -> None:
    """Put about 9% of settings just over the region's border (never an LA's own households or a demo one's)."""
    settings = world.table(Setting)
    movable = [i for p in world.providers if p.key is None for i in p.settings]
    for i in sorted(rng.sample(movable, min(len(movable), round(len(settings) * OUTSIDE_REGION_SHARE)))):
        place = rng.choice(world.pools.outside)
        settings[i].update(postcode=place.postcode, la_code=place.la_code, easting=place.easting,
                           northing=place.northing)


# ============================================================================================= the settings as arrays

class _SettingTable:
    """The settings as numpy arrays, so 'which settings can take this child' is a few vector operations."""

    def __init__(self, world: _World) -> None:
        rows = world.table(Setting)
        owner = {i: p for p in world.providers for i in p.settings}
        self.providers = [owner[i] for i in range(len(rows))]
        self.kind = np.array([_KIND_INDEX[r["kind"]] for r in rows], dtype=np.int8)
        self.age_min = np.array([r["age_min"] for r in rows], dtype=np.int8)
        self.age_max = np.array([r["age_max"] for r in rows], dtype=np.int8)
        self.sexes = np.array([sum(_SEX_BIT[s] for s in r["sexes"]) for r in rows], dtype=np.int8)
        self.needs = np.array([sum(_NEED_BIT[k] for k in r["needs_met"]) for r in rows], dtype=np.int64)
        self.risks = np.array([sum(_RISK_BIT[k] for k in r["risks_managed"]) for r in rows], dtype=np.int64)
        self.places = np.array([r["registered_places"] for r in rows], dtype=np.int16)
        self.solo = np.array([r["solo_only"] for r in rows], dtype=bool)
        self.siblings = np.array([r["takes_siblings"] for r in rows], dtype=bool)
        self.pets = np.array([r["has_pets"] for r in rows], dtype=bool)
        self.east = np.array([r["easting"] for r in rows], dtype=np.float64)
        self.north = np.array([r["northing"] for r in rows], dtype=np.float64)
        self.la = np.array([r["la_code"] for r in rows])
        # The LA whose own fostering service runs the setting ("" for everyone else): s22C's second choice.
        self.la_service = np.array([p.la_code if p.kind == "la_fostering" else "" for p in self.providers])
        self.usable = np.array(
            [p.status == "approved" and r["ofsted_rating"] != "inadequate" for p, r in zip(self.providers, rows)]
        )
        # Open vacancies, filled in by make_open_vacancies: row index, available-from day number, free places.
        self.vacancy = np.full(len(rows), -1, dtype=np.int64)
        self.available = np.zeros(len(rows), dtype=np.int64)
        self.free = np.zeros(len(rows), dtype=np.int16)

    def fits(self, case: _Case, kinds: Sequence[str], *, open_only: bool = False) -> np.ndarray:
        """Settings that meet the hard rules for every child of the case (DESIGN.md §4, rules 1-7)."""
        ages = [c["age"] for c in case.children]
        size = len(case.children) if case.together else 1
        mask = self.usable & np.isin(self.kind, [_KIND_INDEX[k] for k in kinds])
        mask &= (self.age_min <= min(ages)) & (self.age_max >= max(ages))
        if min(ages) < 16:
            mask &= self.kind != _KIND_INDEX["supported"]
        for child in case.children:
            sex, needs, risks = _SEX_BIT[child["sex"]], child["needs_mask"], child["risks_mask"]
            mask &= ((self.sexes & sex) == sex) & ((self.needs & needs) == needs) & ((self.risks & risks) == risks)
        if case.pets == "no":
            mask &= ~self.pets
        elif case.pets == "must":
            mask &= self.pets
        if case.solo:
            mask &= self.solo
        if size > 1:
            mask &= self.siblings & ~self.solo & (self.places >= size)
        if open_only:
            mask &= (self.vacancy >= 0) & (self.available <= case.needed_by.toordinal()) & (self.free >= size)
        return mask

    def miles(self, idx: np.ndarray, east: float, north: float) -> np.ndarray:
        return np.hypot(self.east[idx] - east, self.north[idx] - north) / geo.METRES_PER_MILE

    def choose(self, rng: random.Random, mask: np.ndarray, case: _Case) -> int | None:
        """One setting: about FAR_SHARE over 20 miles; of the rest, most inside the child's own LA."""
        idx = np.flatnonzero(mask)
        if not idx.size:
            return None
        near = self.miles(idx, case.home.easting, case.home.northing) <= 20
        if rng.random() < FAR_SHARE and not near.all():
            pool = idx[~near]
        elif near.any():
            inside = near & (self.la[idx] == case.la_code)
            pool = idx[inside] if inside.any() and rng.random() < INSIDE_SHARE else idx[near]
        else:
            pool = idx
        return int(pool[rng.randrange(len(pool))])


# ============================================================================================= people

def make_people(world: _World) -> None:
    """The demo sign-ins (people.demo_people), all with the one demo password, hashed once (argon2id is slow on
    purpose), and enrolled in MFA with their fixed demo secrets."""
    rng = world.rng("people")
    password_hash = hash_password(people.DEMO_PASSWORD)
    by_key = {p.key: p for p in world.providers if p.key}
    for person in people.demo_people():
        provider = by_key[person.provider] if person.provider else None
        user_id = world.ids()
        if person.role == "officer":
            world.officers[person.la_code] = user_id
        if provider is not None:
            world.provider_users.setdefault(provider.id, user_id)
        world.add(User, _stamp({
            "id": user_id, "email": person.email, "name": person.name, "password_hash": password_hash,
            "role": person.role, "la_code": person.la_code, "provider_id": provider.id if provider else None,
            "provider_role": person.provider_role, "active": True, "last_sign_in_at": None,
            "password_changed_at": world.now, "mfa_secret": people.demo_mfa_secret(person.email),
            "mfa_enrolled_at": world.now, "mfa_last_step": None,
            "extract_access": getattr(person, "extract_access", False),
        }, world.now - timedelta(days=rng.randint(30, 400))))


# ============================================================================================= open vacancies

def make_open_vacancies(world: _World, table: _SettingTable) -> None:
    """Open vacancies: every demo provider's setting first, then others at random. Most confirmed in the last
    fortnight; about one in ten not confirmed for longer (stale, issue 5)."""
    rng = world.rng("vacancies")
    settings = world.table(Setting)
    demo = [i for key in ("ifa", "home", "supported", f"la_fostering:{people.COVENTRY}")
            for i in world.provider(key).settings]
    demo_set = set(demo)
    others = [i for i in range(len(settings)) if table.usable[i] and i not in demo_set]
    wanted = max(0, world.scale.open_vacancies - len(demo))
    chosen = demo + sorted(rng.sample(others, min(wanted, len(others))))
    stale = set(rng.sample(range(len(chosen)), round(len(chosen) * STALE_SHARE)))
    for n, i in enumerate(chosen):
        setting = settings[i]
        is_demo = n < len(demo)
        places = min(setting["registered_places"], rng.choices([1, 2, 3], weights=[70, 22, 8])[0])
        if is_demo or rng.random() < 0.5:
            available = world.today - timedelta(days=rng.randint(0, 20))
        else:
            available = world.today + timedelta(days=rng.randint(1, 30))
        age_days = rng.uniform(15, 60) if n in stale else rng.uniform(0, 12)
        confirmed = world.now - timedelta(days=age_days)
        row = world.add(Vacancy, _stamp({
            "id": world.ids(), "setting_id": setting["id"], "places": places, "places_taken": 0,
            "available_from": available,
            "available_to": available + timedelta(days=rng.randint(30, 120)) if rng.random() < 0.1 else None,
            "fee_gbp_week": _money(float(setting["fee_gbp_week"]) * rng.uniform(0.97, 1.05)),
            "status": "open", "confirmed_at": confirmed, "closed_at": None,
        }, confirmed - timedelta(days=rng.uniform(0, 20)), confirmed))
        table.vacancy[i] = len(world.table(Vacancy)) - 1
        table.available[i] = available.toordinal()
        table.free[i] = row["places"]


# ============================================================================================= children

@dataclass
class _Case:
    """One child, or brothers and sisters referred together: the request rows and what matching needs."""

    la_code: str
    home: geo.PostcodeInfo
    urgency: str
    needed_by: date
    created: datetime
    children: list[dict]  # each {"row": request row, "age", "sex", "needs_mask", "risks_mask"}
    together: bool = True
    pets: str = "unknown"
    solo: bool = False
    size: int = 1

    @property
    def rows(self) -> list[dict]:
        return [c["row"] for c in self.children]


def _age(rng: random.Random) -> int:
    return rng.choices(range(18), weights=AGE_WEIGHTS)[0]


def _suitability(rng: random.Random, age: int) -> dict[str, str]:
    """Placements Data Standard PlacementRecommendation: foster for young children, homes for many teenagers,
    supported accommodation only at 16 and 17."""
    if age < 10:
        s = {"foster": "preferred", "residential": "suitable" if rng.random() < 0.15 else "unsuitable",
             "supported": "unsuitable"}
    elif age < 14:
        foster = "preferred" if rng.random() < 0.65 else "suitable"
        residential = "preferred" if foster == "suitable" else rng.choice(["suitable", "suitable", "unsuitable"])
        s = {"foster": foster, "residential": residential, "supported": "unsuitable"}
    elif age < 16:
        foster = "preferred" if rng.random() < 0.4 else "suitable"
        residential = "preferred" if foster == "suitable" and rng.random() < 0.6 else "suitable"
        s = {"foster": foster, "residential": residential, "supported": "unsuitable"}
    else:
        s = {"foster": rng.choices(["preferred", "suitable", "unsuitable"], weights=[20, 60, 20])[0],
             "residential": rng.choices(["preferred", "suitable", "unsuitable"], weights=[15, 60, 25])[0],
             "supported": rng.choices(["preferred", "suitable", "unsuitable"], weights=[45, 45, 10])[0]}
    if all(v == "unsuitable" for v in s.values()):
        s["foster"] = "suitable"
    return s


def _needs_and_risks(rng: random.Random, age: int) -> tuple[list[str], list[str]]:
    needs: list[str] = []
    if rng.random() >= 0.55:
        weights = {k: w for k, w in NEED_WEIGHTS.items() if age >= 4 or k != "school_transport"}
        needs = _sample_weighted(rng, weights, rng.choices([1, 2, 3], weights=[60, 30, 10])[0])
    none_share = 0.9 if age < 10 else 0.55 if age < 14 else 0.4
    risks: list[str] = []
    if rng.random() >= none_share:
        risks = _sample_weighted(rng, RISK_WEIGHTS, rng.choices([1, 2, 3], weights=[50, 35, 15])[0])
    return needs, risks


def _child_reference(world: _World, la_code: str, year: int) -> str:
    key = f"{la_code}:{year}"
    world.serials[key] = world.serials.get(key, 100) + 1
    return f"{people.REGION_BY_CODE[la_code].prefix}-{year}-{world.serials[key]:05d}"


def _child(world: _World, rng: random.Random, case: _Case, surname: str, age: int, status: str) -> dict:
    """One child's placement request row, consistent with the case (age on the needed-by date, urgency)."""
    sex = "male" if rng.random() < 0.56 else "female"
    needs, risks = _needs_and_risks(rng, age)
    suitability = _suitability(rng, age)
    latest = min(case.created.date(), world.today) - timedelta(days=14)
    school = world.pools.near(rng, case.la_code, case.home.easting, case.home.northing, 80) \
        if age >= 4 and rng.random() < 0.45 else None
    family = world.pools.near(rng, case.la_code, case.home.easting, case.home.northing) \
        if rng.random() < 0.1 else None
    language = "English" if rng.random() < 0.85 else rng.choice(people.LANGUAGES)
    budget = None
    if rng.random() < 0.3:
        typical = {"foster": 950, "residential": 6500, "supported": 2600}
        best = max(suitability, key=lambda k: (suitability[k] == "preferred", suitability[k] == "suitable"))
        budget = _money(typical[best] * rng.uniform(0.9, 1.3), 50)
    row = {
        "id": world.ids(), "la_code": case.la_code, "created_by_id": world.officers[case.la_code],
        "status": status, "child_reference": _child_reference(world, case.la_code, case.created.year),
        "first_name": rng.choice(people.BOYS_NAMES if sex == "male" else people.GIRLS_NAMES),
        "last_name": surname, "date_of_birth": _date_of_birth(rng, age, case.needed_by, latest), "sex": sex,
        "gender": None, "ethnicity": rng.choices(*zip(*people.ETHNICITIES))[0],
        "religion": rng.choice(people.RELIGIONS) if rng.random() < 0.3 else None, "first_language": language,
        "legal_status": "L1" if case.urgency == "today" and rng.random() < 0.3
        else rng.choices(["C2", "C1", "V2"], weights=[50, 20, 30])[0],
        "home_postcode": case.home.postcode, "home_easting": case.home.easting,
        "home_northing": case.home.northing, "school_postcode": school.postcode if school else None,
        "school_easting": school.easting if school else None, "school_northing": school.northing if school else None,
        "keep_school": school is not None and rng.random() < 0.6,
        "family_postcode": family.postcode if family else None, "family_easting": family.easting if family else None,
        "family_northing": family.northing if family else None, "avoid_las": [], "urgency": case.urgency,
        "needed_by": case.needed_by, "suitability_foster": suitability["foster"],
        "suitability_residential": suitability["residential"], "suitability_supported": suitability["supported"],
        "needs": needs, "risks": risks, "risk_other": None, "risk_to_others_other": None,
        "cultural_needs": rng.choices(["not_known", "not_required", "required"], weights=[50, 35, 15])[0],
        "living_companions": _companions(rng, age, case),
        "pets": case.pets, "additional_support_other": None, "budget_gbp_week": budget, "notes": None,
        "sibling_group_id": None, "submitted_at": None if status == "draft" else case.created, "closed_at": None,
        # The task list: a submitted request has every section done; a draft only its first few.
        "completed_sections": [section.key for section in SECTIONS][: rng.randint(1, 4) if status == "draft" else None],
    }
    world.add(PlacementRequest, _stamp(row, case.created))
    return {"row": row, "age": age, "sex": sex, "needs_mask": sum(_NEED_BIT[k] for k in needs),
            "risks_mask": sum(_RISK_BIT[k] for k in risks)}


def _companions(rng: random.Random, age: int, case: _Case) -> str:
    """Who the child can live alongside (Placements Data Standard livingCompanions)."""
    if case.solo:
        return "solo"
    if case.size > 1 or age < 8:  # brothers and sisters, and young children, live with others
        return "no_preference"
    return rng.choices(["no_preference", "with_others", "older_only", "younger_only"], weights=[70, 10, 8, 12])[0]


def _new_case(world: _World, rng: random.Random, la_code: str, size: int, urgency: str, needed_by: date,
              created: datetime, status: str) -> _Case:
    home = rng.choice(world.pools.by_la[la_code])
    case = _Case(la_code, home, urgency, needed_by, created, [],
                 together=size == 1 or rng.random() < 0.85,
                 pets=rng.choices(["unknown", "can", "no", "must"], weights=[50, 37, 12, 1])[0], size=size)
    surname = rng.choice(people.SURNAMES)
    first_age = _age(rng)
    case.solo = size == 1 and first_age >= 12 and rng.random() < 0.06
    for n in range(size):
        age = first_age if n == 0 else max(0, min(17, first_age + rng.choice([-6, -4, -3, -2, -1, 1, 2, 3])))
        case.children.append(_child(world, rng, case, surname, age, status))
    if size > 1:
        group_id = world.ids()
        world.add(SiblingGroup, _stamp({"id": group_id, "la_code": la_code, "together": case.together}, created))
        for row in case.rows:
            row["sibling_group_id"] = group_id
    return case


def _case_sizes(rng: random.Random, children: int) -> list[int]:
    """Case sizes adding up to `children`, with about one child in eight in a sibling group of 2 or 3."""
    grouped = round(children * SIBLING_SHARE)
    sizes: list[int] = []
    while grouped >= 2:
        size = 3 if grouped >= 3 and grouped != 4 and rng.random() < 0.35 else 2
        sizes.append(size)
        grouped -= size
    sizes += [1] * (children - sum(sizes))
    rng.shuffle(sizes)
    return sizes


def _connected_person(world: _World, rng: random.Random, case: _Case, child: dict, stage: str) -> dict:
    """A relative or friend living near the child's home (s22C(6)(a)), found at a family group conference."""
    relationship = rng.choices(*zip(*people.RELATIONSHIPS))[0]
    family_name = child["row"]["last_name"] if relationship != "family friend" and rng.random() < 0.6 \
        else rng.choice(people.SURNAMES)
    if relationship in people.WOMEN_RELATIONSHIPS:
        first = rng.choice(people.WOMENS_NAMES)
    elif relationship in people.MEN_RELATIONSHIPS:
        first = rng.choice(people.MENS_NAMES)
    elif relationship == "grandparents":
        first = f"{rng.choice(people.WOMENS_NAMES)} and {rng.choice(people.MENS_NAMES)}"
    else:
        first = rng.choice(people.ADULT_FIRST_NAMES)
    name = f"{first} {family_name}"
    place = world.pools.near(rng, case.la_code, case.home.easting, case.home.northing, 150) \
        if rng.random() < 0.85 else rng.choice(world.pools.by_la[rng.choice(people.REGION).code])
    return world.add(ConnectedPerson, _stamp({
        "id": world.ids(), "request_id": child["row"]["id"], "name": name, "relationship_to_child": relationship,
        "postcode": place.postcode, "la_code": place.la_code, "easting": place.easting, "northing": place.northing,
        "stage": stage, "capacity": 1 if rng.random() < 0.8 else 2,
        "source": rng.choice(people.CONNECTED_PERSON_SOURCES),
    }, child["row"]["created_at"]))


# ============================================================================================= referrals and offers

def _referral(world: _World, child: dict, provider: _Provider, sent: datetime, status: str,
              reason: str | None = None, viewed: bool = True) -> dict:
    """A referral; a declined one comes with the provider's "we cannot offer" answer and its reason."""
    referral = world.add(Referral, _stamp({
        "id": world.ids(), "request_id": child["row"]["id"], "provider_id": provider.id,
        "sent_by_id": child["row"]["created_by_id"], "sent_at": sent, "status": status, "outcome_reason": reason,
        "first_viewed_at": sent + timedelta(hours=3) if viewed or status == "declined" else None,
    }, sent))
    if status == "declined":
        # A generator of its own (seeded by the referral), so the reasons leave the rest of the region unchanged.
        pick = random.Random(referral["id"])
        codes, weights = zip(*people.PROVIDER_DECLINE_REASONS[provider.kind])
        code = pick.choices(codes, weights=weights)[0]
        world.add(ReferralDecline, {
            "id": world.ids(), "referral_id": referral["id"], "provider_id": provider.id,
            "reason": code, "reason_other": pick.choice(people.PROVIDER_DECLINE_OTHER) if code == "other" else None,
            "declined_by_id": world.provider_users.get(provider.id),
            "declined_at": min(world.now, sent + timedelta(hours=5)),
        })
    return referral


def _offer(world: _World, child: dict, referral: dict, provider: _Provider, vacancy: dict, start: date,
           made: datetime, status: str, reason: str | None = None, decided: datetime | None = None) -> dict:
    return world.add(Offer, _stamp({
        "id": world.ids(), "referral_id": referral["id"], "request_id": child["row"]["id"],
        "provider_id": provider.id, "vacancy_id": vacancy["id"], "fee_gbp_week": vacancy["fee_gbp_week"],
        "start_date": start, "message": f"We can offer a place from {start:%d %B %Y}.", "status": status,
        "decision_reason": reason, "decided_at": decided, "created_by_id": world.provider_users.get(provider.id),
    }, made, decided or made))


def _providers_for(table: _SettingTable, mask: np.ndarray, case: _Case) -> list[tuple[_Provider, int]]:
    """Providers with a fitting setting, nearest first, each with its nearest fitting setting."""
    idx = np.flatnonzero(mask)
    order = idx[np.argsort(table.miles(idx, case.home.easting, case.home.northing), kind="stable")]
    seen: dict[str, tuple[_Provider, int]] = {}
    for i in order.tolist():
        seen.setdefault(table.providers[i].id, (table.providers[i], i))
    return list(seen.values())


def _allowed_kinds(case: _Case) -> list[str]:
    """The setting types no child of the case is unsuitable for (hard rule 1)."""
    kinds = [k for k in ("foster", "residential", "supported")
             if all(c["row"][f"suitability_{k}"] != "unsuitable" for c in case.children)]
    return kinds or ["foster"]


# ============================================================================================= open requests

def make_open_requests(world: _World, table: _SettingTable) -> list[_Case]:
    """Open placement requests (searching, offers, draft), a few showcase ones in Coventry for the demo people,
    sibling groups (about 1 in 8 children) and connected persons (about 1 in 5)."""
    rng = world.rng("open-requests")
    n = world.scale.open_requests
    minimums = [5 if la.code == people.COVENTRY else 1 for la in people.REGION]
    quotas = dict(zip([la.code for la in people.REGION], _split(n, [la.weight for la in people.REGION], minimums)))
    cases = _showcase_cases(world, rng, table)
    quotas[people.COVENTRY] -= sum(len(c.children) for c in cases)
    for size in _case_sizes(rng, n - sum(len(c.children) for c in cases)):
        fits = [code for code, left in quotas.items() if left >= size] or list(quotas)
        la_code = rng.choices(fits, weights=[quotas[c] for c in fits])[0]
        quotas[la_code] -= size
        cases.append(_open_case(world, rng, table, la_code, size))
    _open_connected_persons(world, rng, cases)
    return cases


def _open_dates(world: _World, rng: random.Random, urgency: str) -> tuple[date, datetime]:
    if urgency == "today":
        return world.today, world.now - timedelta(hours=rng.uniform(0.5, 20))
    if urgency == "within_5_days":
        return world.today + timedelta(days=rng.randint(1, 4)), world.now - timedelta(hours=rng.uniform(1, 72))
    return world.today + timedelta(days=rng.randint(6, 42)), world.now - timedelta(hours=rng.uniform(2, 600))


def _open_case(world: _World, rng: random.Random, table: _SettingTable, la_code: str, size: int) -> _Case:
    urgency = _pick(rng, URGENCY_WEIGHTS)
    needed_by, created = _open_dates(world, rng, urgency)
    status = rng.choices(["searching", "offers", "draft"], weights=[55, 30, 15])[0]
    case = _new_case(world, rng, la_code, size, urgency, needed_by, created, status)
    if status != "draft" and (status == "offers" or rng.random() < 0.6):
        _refer_open_case(world, rng, table, case, offers=rng.randint(1, 2) if status == "offers" else 0)
    return case


def _refer_open_case(world: _World, rng: random.Random, table: _SettingTable, case: _Case, offers: int,
                     must: Sequence[_Provider] = ()) -> None:
    """Send the case to providers with a fitting open vacancy (`must` first, the demo providers when they fit,
    then some of the nearest); the first `offers` of them (or a random few) have made an offer."""
    fitting = _providers_for(table, table.fits(case, _allowed_kinds(case), open_only=True), case)
    if not fitting:
        for row in case.rows:  # nobody can take this child at the moment: the sufficiency gap
            row["status"] = "searching"
        return
    must_ids = [p.id for p in must]
    chosen = sorted((f for f in fitting if f[0].id in must_ids), key=lambda f: must_ids.index(f[0].id))
    taken = {f[0].id for f in chosen}
    for f in fitting:
        if f[0].key in ("ifa", "home", "supported") and f[0].id not in taken and rng.random() < 0.85:
            chosen.append(f)
            taken.add(f[0].id)
    near = [f for f in fitting[:10] if f[0].id not in taken]
    chosen += rng.sample(near, min(len(near), max(0, rng.randint(2, 4) - len(chosen))))
    offering = chosen[:offers] if must else rng.sample(chosen, min(offers, len(chosen)))
    offering_ids = {provider.id for provider, _ in offering}
    sent = min(world.now, case.created + timedelta(hours=rng.uniform(0.2, 4)))
    for provider, i in chosen:
        offered = provider.id in offering_ids
        declined = not offered and provider.id not in must_ids and rng.random() < 0.12
        for child in case.children:
            status = "offered" if offered else "declined" if declined else "sent"
            referral = _referral(world, child, provider, sent, status, viewed=offered or rng.random() < 0.5)
            if offered:
                vacancy = world.table(Vacancy)[int(table.vacancy[i])]
                start = max(case.needed_by, vacancy["available_from"])
                _offer(world, child, referral, provider, vacancy, start, _between(rng, sent, world.now),
                       rng.choices(["made", "shortlisted"], weights=[75, 25])[0])
    for row in case.rows:
        row["status"] = "offers" if offering_ids else "searching"


def _showcase_cases(world: _World, rng: random.Random, table: _SettingTable) -> list[_Case]:
    """Coventry children the demo people meet first: officer.coventry sees them matched, and each demo provider
    has a referral waiting for an offer (one child already has two offers to compare)."""
    demo = {key: world.provider(key) for key in ("ifa", "home", "supported")}
    cov_service = world.provider(f"la_fostering:{people.COVENTRY}")
    scripts = [
        (9, {"foster": "preferred", "residential": "unsuitable", "supported": "unsuitable"},
         ["school_transport"], [], [demo["ifa"], cov_service], 0),
        (12, {"foster": "preferred", "residential": "suitable", "supported": "unsuitable"},
         ["therapeutic_support"], ["going_missing"], [demo["ifa"], cov_service], 2),
        (14, {"foster": "suitable", "residential": "preferred", "supported": "unsuitable"},
         [], ["criminal_exploitation", "going_missing"], [demo["home"]], 0),
        (17, {"foster": "unsuitable", "residential": "suitable", "supported": "preferred"},
         ["esol"], ["drug_alcohol"], [demo["supported"]], 0),
    ]
    cases = []
    for age, suitability, needs, risks, providers, offers in scripts:
        created = world.now - timedelta(hours=rng.uniform(2, 48))
        case = _new_case(world, rng, people.COVENTRY, 0, "over_5_days", world.today + timedelta(days=10),
                         created, "searching")
        case.pets, case.together, case.size = "can", True, 1
        child = _child(world, rng, case, rng.choice(people.SURNAMES), age, "searching")
        child["row"].update(needs=needs, risks=risks, pets="can", living_companions="no_preference",
                            **{f"suitability_{k}": v for k, v in suitability.items()})
        child["needs_mask"] = sum(_NEED_BIT[k] for k in needs)
        child["risks_mask"] = sum(_RISK_BIT[k] for k in risks)
        case.children.append(child)
        _refer_open_case(world, rng, table, case, offers, must=providers)
        cases.append(case)
    return cases


def _open_connected_persons(world: _World, rng: random.Random, cases: list[_Case]) -> None:
    children = [(case, child) for case in cases for child in case.children]
    for case, child in sorted(rng.sample(children, round(len(children) * CONNECTED_SHARE)),
                              key=lambda pair: pair[1]["row"]["id"]):
        for _ in range(1 if rng.random() < 0.85 else 2):
            stage = _pick(rng, {"identified": 35, "viability": 30, "temporary_approval": 20, "approved": 15})
            _connected_person(world, rng, case, child, stage)


# ============================================================================================= history

def make_history(world: _World, table: _SettingTable) -> None:
    """Twelve months of past requests, referrals, offers and placements (placed or closed), so commissioners'
    pages have a history. Children are placed with family (about 1 in 7), with their LA's own carers, with
    agencies or in homes; about a fifth over 20 miles; some placements have ended. About one child in seven placed
    had been in care earlier in the year (a re-entry: `_earlier_time_in_care`)."""
    rng = world.rng("history")
    back = world.rng("re-entry")
    seasons = _Seasons(world.rng("season"), world.today - timedelta(days=365), world.today - timedelta(days=2))
    las = people.REGION
    placed = 0
    while placed < world.scale.past_placements:
        size = rng.choices([1, 2, 3], weights=[94.4, 3.8, 1.8])[0]  # about 1 child in 8 in a sibling group
        la_code = rng.choices([la.code for la in las], weights=[la.weight for la in las])[0]
        urgency = _pick(rng, URGENCY_WEIGHTS)
        rng.randint(2, 365)  # the start day used to come from here: drawn, so the rest of the region is as before
        lead = {"today": 0, "within_5_days": rng.randint(1, 4), "over_5_days": rng.randint(6, 35)}[urgency]
        start = seasons.start(lead)
        created = _at(start - timedelta(days=lead), rng)
        case = _new_case(world, rng, la_code, size, urgency, start, created, "placed")
        placed += _past_outcome(world, rng, table, case, start)
        if case.size == 1 and case.rows[0]["status"] == "placed" and back.random() < RE_ENTRY_CHANCE:
            placed += _earlier_time_in_care(world, back, table, case, RE_ENTRY_CONFIRMED_SHARE)


# Synthetic seasonality of requests (docs/market.md): more at the start of the autumn term and in January, fewer in
# August and December. Made up for the demonstration, shaped like the school-year pattern LAs describe; not data.
SEASONAL_DEMAND = {1: 1.2, 2: 1.0, 3: 1.05, 4: 0.95, 5: 1.0, 6: 1.0, 7: 0.9, 8: 0.7, 9: 1.25, 10: 1.15, 11: 1.05,
                   12: 0.75}


class _Seasons:
    """Start days from `first` to `last` for requests made `lead` days before, weighted by the SEASONAL_DEMAND of
    the month the request is made in (the month the forecast counts)."""

    def __init__(self, rng: random.Random, first: date, last: date) -> None:
        self.rng = rng
        self.days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        self._weights: dict[int, list[float]] = {}

    def start(self, lead: int) -> date:
        if lead not in self._weights:
            self._weights[lead] = list(accumulate(SEASONAL_DEMAND[(d - timedelta(days=lead)).month]
                                                  for d in self.days))
        return self.rng.choices(self.days, cum_weights=self._weights[lead])[0]


def make_older_demand(world: _World, table: _SettingTable) -> None:
    """The year before the history (13 to 24 months back): as many children's requests as the last year's placements,
    with the same seasonal pattern, so the demand forecast has two years to learn from. These are requests only,
    each closed without a placement (with the referrals it had declined or closed): the demo does not make
    placements more than a year old, so the placement pages still start 12 months back (docs/market.md)."""
    rng = world.rng("older-demand")
    index = world.today.year * 12 + world.today.month - 1 - 24
    earliest = date(index // 12, index % 12 + 1, 1)  # the 1st of the month two years back: whole months only
    first, last = earliest, world.today - timedelta(days=366)
    seasons = _Seasons(rng, first, last)
    children = 0
    while children < world.scale.past_placements:
        size = rng.choices([1, 2, 3], weights=[94.4, 3.8, 1.8])[0]
        la_code = rng.choices([la.code for la in people.REGION], weights=[la.weight for la in people.REGION])[0]
        urgency = _pick(rng, URGENCY_WEIGHTS)
        lead = {"today": 0, "within_5_days": rng.randint(1, 4), "over_5_days": rng.randint(6, 35)}[urgency]
        start = seasons.start(lead)
        if start - timedelta(days=lead) < earliest:
            continue  # made before the two years: draw again
        created = _at(start - timedelta(days=lead), rng)
        case = _new_case(world, rng, la_code, size, urgency, start, created, "placed")
        _close_case(world, rng, case, start)
        children += size


def _earlier_time_in_care(world: _World, rng: random.Random, table: _SettingTable, case: _Case,
                          confirmed_share: float) -> int:
    """The child of a single-child case was in care earlier in the year: an earlier request and placement of the
    same child (same LA, name, date of birth and, mostly, reference), ended with the child leaving care at least a
    week before this request; the officer confirmed the link (`confirmed_share` of the time). Returns the children
    placed (0 when the request came too early in the year for an earlier placement in it)."""
    window_start = world.today - timedelta(days=365)
    room = (case.created.date() - window_start).days
    if room < 75:
        return 0
    child = case.children[0]
    row = child["row"]
    first = window_start + timedelta(days=rng.randint(0, room - 75))
    last_end = case.created.date() - timedelta(days=7)
    ended = first + timedelta(days=rng.randint(14, min(240, (last_end - first).days)))
    created = _at(first - timedelta(days=rng.randint(0, 20)), rng)
    earlier = _Case(case.la_code, case.home, _pick(rng, URGENCY_WEIGHTS), first, created, [], pets=case.pets)
    dob = row["date_of_birth"]
    age = first.year - dob.year - ((first.month, first.day) < (dob.month, dob.day))
    then = _child(world, rng, earlier, row["last_name"], age, "placed")
    new_reference = rng.random() < NEW_REFERENCE_SHARE
    then["row"].update(first_name=row["first_name"], date_of_birth=dob, sex=row["sex"],
                       ethnicity=row["ethnicity"], religion=row["religion"], first_language=row["first_language"],
                       **({} if new_reference else {"child_reference": row["child_reference"]}))
    then["sex"] = row["sex"]
    earlier.children.append(then)
    _place_in_setting(world, rng, table, earlier, first)  # a single child is always placed somewhere
    placement = world.table(Placement)[-1]
    placement.update(end_date=ended, end_reason=_pick(rng, LEFT_CARE_WEIGHTS if age < 8 else
                                                      {k: w for k, w in LEFT_CARE_WEIGHTS.items() if k != "E11"}))
    if rng.random() < confirmed_share:
        world.add(ReEntryLink, {
            "id": world.ids(), "request_id": row["id"], "placement_id": placement["id"], "status": "confirmed",
            "found_by": "name_and_date_of_birth" if new_reference else "child_reference",
            "name_score": Decimal("100.0") if new_reference else None, "decided_by_id": row["created_by_id"],
            "decided_at": min(world.now, case.created + timedelta(hours=rng.uniform(0.1, 2))),
        })
    return 1


def make_open_re_entries(world: _World, table: _SettingTable, cases: list[_Case]) -> None:
    """Open requests for children who were in care earlier in the year, most not yet checked by the officer; the
    first Coventry showcase child among them, so the demo officer meets the "may have been in care before" notice."""
    rng = world.rng("open-re-entry")
    singles = [case for case in cases if len(case.children) == 1]
    showcase = singles[0]
    for case in singles:
        if case is showcase or rng.random() < RE_ENTRY_CHANCE * 0.7:
            _earlier_time_in_care(world, rng, table, case, 0.0 if case is showcase else OPEN_RE_ENTRY_CONFIRMED_SHARE)


def _past_outcome(world: _World, rng: random.Random, table: _SettingTable, case: _Case, start: date) -> int:
    """Decide and record what happened to a past case; returns the number of children placed."""
    if rng.random() < CLOSED_SHARE:
        _close_case(world, rng, case, start)
        return 0
    if case.size == 1 and rng.random() < CONNECTED_SHARE:
        child = case.children[0]
        if rng.random() < 0.7:  # s22C(6)(a): family and friends first
            person = _connected_person(world, rng, case, child, rng.choice(["approved", "temporary_approval"]))
            _place_with_family(world, rng, case, child, person, start)
            return 1
        _connected_person(world, rng, case, child, rng.choice(["identified", "viability"]))
    if case.together and _place_in_setting(world, rng, table, case, start):
        return case.size
    for child in case.children:  # apart, by plan or because no setting could take them all
        alone = _Case(case.la_code, case.home, case.urgency, case.needed_by, case.created, [child],
                      pets=case.pets, solo=case.solo)
        _place_in_setting(world, rng, table, alone, start)
    return case.size


def _pick_setting(rng: random.Random, table: _SettingTable, case: _Case) -> int | None:
    """A setting that meets the hard rules, in the s22C spirit: the LA's own foster carers for about half the
    children fostered, else agencies and homes. None when brothers and sisters cannot be placed together."""
    kinds = _allowed_kinds(case)
    weights = [5 if case.children[0]["row"][f"suitability_{k}"] == "preferred" else 1 for k in kinds]
    kind = rng.choices(kinds, weights=weights)[0]
    for tries in ([kind], kinds, ["foster", "residential", "supported"]):
        mask = table.fits(case, tries)
        if "foster" in tries and rng.random() < 0.5:
            own = mask & (table.la_service == case.la_code)
            mask = own if own.any() else mask
        chosen = table.choose(rng, mask, case)
        if chosen is not None:
            return chosen
    if len(case.children) > 1:
        return None
    # Nothing meets every recorded need: the child went where a place was, and the record keeps what it met.
    child = case.children[0]
    loose = _Case(case.la_code, case.home, case.urgency, case.needed_by, case.created,
                  [{**child, "needs_mask": 0, "risks_mask": 0}])
    chosen = table.choose(rng, table.fits(loose, ["foster", "residential", "supported"]), case)
    if chosen is None:
        chosen = table.choose(rng, table.usable.copy(), case)
    child["row"]["needs"] = [k for k in child["row"]["needs"] if k in _setting_keys(table, chosen, "needs")]
    child["row"]["risks"] = [k for k in child["row"]["risks"] if k in _setting_keys(table, chosen, "risks")]
    return chosen


def _setting_keys(table: _SettingTable, i: int, which: str) -> list[str]:
    """The needs met or risks managed of setting i, from the bit masks."""
    bits = _NEED_BIT if which == "needs" else _RISK_BIT
    mask = int((table.needs if which == "needs" else table.risks)[i])
    return [k for k, bit in bits.items() if mask & bit]


def _other_providers(rng: random.Random, world: _World, kind: str, exclude: str) -> list[_Provider]:
    """One to four other approved providers running settings of this kind (the rest of a referral round)."""
    pool = world.approved_by_kind()[kind]
    count = rng.choices([1, 2, 3, 4], weights=[30, 35, 25, 10])[0]
    chosen = rng.sample(pool, min(len(pool), count + 1))
    return [p for p in chosen if p.id != exclude][:count]


def _between(rng: random.Random, first: datetime, last: datetime) -> datetime:
    """A moment between two others (always one draw, so later choices do not depend on the clock)."""
    fraction = rng.uniform(0.2, 0.9)
    return first + (last - first) * fraction if last > first else first


def _past_vacancy(world: _World, rng: random.Random, setting: dict, places: int, available: date,
                  closed: datetime, status: str) -> dict:
    confirmed = _at(available - timedelta(days=rng.randint(0, 10)), rng)
    return world.add(Vacancy, _stamp({
        "id": world.ids(), "setting_id": setting["id"], "places": places,
        "places_taken": places if status == "filled" else 0, "available_from": available, "available_to": None,
        "fee_gbp_week": _money(float(setting["fee_gbp_week"]) * rng.uniform(0.97, 1.05)), "status": status,
        "confirmed_at": confirmed, "closed_at": closed,
    }, confirmed - timedelta(days=rng.randint(0, 14)), closed))


def _place_in_setting(world: _World, rng: random.Random, table: _SettingTable, case: _Case, start: date) -> bool:
    """Referrals to a few providers, offers from some, one accepted: a filled vacancy and a Placement per child.
    False (and nothing recorded) when no setting could take the children together."""
    i = _pick_setting(rng, table, case)
    if i is None:
        return False
    setting, provider = world.table(Setting)[i], table.providers[i]
    sent = case.created + timedelta(hours=rng.uniform(0.2, 3))
    decided = max(sent + timedelta(hours=3), _at(start, rng, 8, 12))
    vacancy = _past_vacancy(world, rng, setting, len(case.children), start - timedelta(days=rng.randint(0, 20)),
                            decided, "filled")
    others = _other_providers(rng, world, setting["kind"], provider.id)
    other_offers = {p.id: _other_offer_plan(rng) for p in others if rng.random() < 0.4}
    for child in case.children:
        referral = _referral(world, child, provider, sent, "offered")
        offer = _offer(world, child, referral, provider, vacancy, start, _between(rng, sent, decided), "accepted",
                       decided=decided)
        for other in others:
            _other_referral(world, rng, child, other, sent, decided, start, other_offers.get(other.id))
        _placement(world, rng, case, child, start, setting=setting, provider=provider, offer=offer)
    for row in case.rows:
        row.update(status="placed", closed_at=decided, updated_at=decided)
    return True


def _other_offer_plan(rng: random.Random) -> tuple[str, str]:
    """What became of an offer that was not taken up, with the reason the provider or officer gave."""
    status = rng.choices(["not_chosen", "declined", "withdrawn"], weights=[65, 20, 15])[0]
    reason = {"not_chosen": "Another offer was accepted for this child",
              "declined": rng.choice(people.DECLINE_REASONS),
              "withdrawn": rng.choice(people.WITHDRAW_REASONS)}[status]
    return status, reason


def _other_referral(world: _World, rng: random.Random, child: dict, provider: _Provider, sent: datetime,
                    decided: datetime, start: date, plan: tuple[str, str] | None) -> None:
    if plan is None:
        declined = rng.random() < 0.35
        _referral(world, child, provider, sent, "declined" if declined else "closed",
                  None if declined else "The child has been placed elsewhere")
        return
    referral = _referral(world, child, provider, sent, "offered", "The child has been placed elsewhere")
    setting = world.table(Setting)[rng.choice(provider.settings)]
    vacancy = _past_vacancy(world, rng, setting, 1, start - timedelta(days=rng.randint(0, 10)), decided,
                            rng.choice(["filled", "withdrawn"]))
    status, reason = plan
    _offer(world, child, referral, provider, vacancy, start + timedelta(days=rng.randint(0, 7)),
           _between(rng, sent, decided), status, reason, decided=decided)


def _place_with_family(world: _World, rng: random.Random, case: _Case, child: dict, person: dict,
                       start: date) -> None:
    """A connected-person placement (SSDA903 U1/U3, PR1): no provider, setting or offer."""
    decided = _at(start, rng, 8, 12)
    _placement(world, rng, case, child, start, person=person)
    child["row"].update(status="placed", closed_at=decided, updated_at=decided)


def _placement(world: _World, rng: random.Random, case: _Case, child: dict, start: date, *,
               setting: dict | None = None, provider: _Provider | None = None, offer: dict | None = None,
               person: dict | None = None) -> None:
    """The Placement row with its 903 fields: type, provider code, distance, inside the LA, over 20 miles."""
    where = setting or person
    miles = geo.distance_miles(case.home.easting, case.home.northing, where["easting"], where["northing"])
    long_term = rng.random() < 0.2
    if person is not None:
        placement_type, code, cost = ("U1" if long_term else "U3"), "PR1", _money(rng.uniform(250, 350))
    else:
        placement_type = placement_type_for(setting["kind"], long_term)
        code, cost = provider_code_for(provider, case.la_code), offer["fee_gbp_week"]
    end_date, end_reason = _placement_end(rng, world.today, start, child["age"])
    world.add(Placement, _stamp({
        "id": world.ids(), "request_id": child["row"]["id"], "offer_id": offer["id"] if offer else None,
        "connected_person_id": person["id"] if person else None, "setting_id": setting["id"] if setting else None,
        "provider_id": provider.id if provider else None, "la_code": case.la_code, "start_date": start,
        "end_date": end_date, "end_reason": end_reason, "placement_type": placement_type, "provider_code": code,
        "weekly_cost_gbp": cost, "distance_miles": Decimal(str(miles)), "inside_la": where["la_code"] == case.la_code,
        "over_20_miles": miles > 20, "siblings_placed_together": len(case.children) - 1 if setting else 0,
        # Placements Data Standard educationContinuity, worked out as the portal does when a placement is made.
        "education_continuity": education_continuity_at(
            child["row"]["school_easting"], child["row"]["school_northing"], child["row"]["keep_school"],
            where["easting"], where["northing"]),
        # Issue 13 §4: as the portal records them: the order from the request's needs, the registration from the
        # setting (a few supported accommodation services have no URN yet: see _supported_details).
        "deprivation_of_liberty": deprivation_of_liberty_recorded(child["row"]["needs"]),
        "unregistered_setting": bool(setting) and unregistered_setting(setting["kind"], setting["ofsted_urn"]),
        "recorded_by_id": world.officers[case.la_code],
    }, _at(start, rng, 12, 18)))


def _placement_end(rng: random.Random, today: date, start: date, age: int) -> tuple[date | None, str | None]:
    """About a third of placements older than a fortnight have ended; returns home are E4A and E13."""
    days = (today - start).days
    if days < 14 or rng.random() >= 0.35:
        return None, None
    reasons = {"CARPL": 35, "E4A": 20, "E13": 10, "E8": 8, "X1": 12, "E41": 5, "E45": 5}
    if age < 8:
        reasons["E11"] = 5
    return start + timedelta(days=rng.randint(7, days)), _pick(rng, reasons)


def _close_case(world: _World, rng: random.Random, case: _Case, start: date) -> None:
    """A request closed without a placement: the child stayed home, or the plan changed."""
    closed = _at(start, rng)
    sent = case.created + timedelta(hours=rng.uniform(0.2, 3))
    kind = _allowed_kinds(case)[0]
    for child in case.children:
        for provider in _other_providers(rng, world, kind, ""):
            _referral(world, child, provider, sent, rng.choice(["declined", "closed"]),
                      "The request was closed: the child no longer needs a placement")
        child["row"].update(status="closed", closed_at=closed, updated_at=closed,
                            notes="Closed: the child returned home before a placement was needed")


# ============================================================================================= the whole region

@dataclass(frozen=True)
class DemoSummary:
    """What a load created, for the command's summary line."""

    scale: str
    seed: int
    counts: dict[str, int]


# Reference data that migrations insert and a demo load never touches.
REFERENCE_TABLES = frozenset({"local_authority", "options_version", "data_version", "alembic_version"})


def _tables_parents_first() -> list:
    """Every table of the schema in foreign-key order (parents first), as SQLAlchemy sorts them."""
    from portal.models import metadata  # every model, so new tables are deleted too

    return list(metadata.sorted_tables)


def existing_data(session: Session) -> dict[str, int]:
    """Rows already in the tables a demo load would fill (providers, people, requests); empty when none."""
    counts = {model.__tablename__: session.scalar(select(func.count()).select_from(model))
              for model in (Provider, User, PlacementRequest)}
    return {name: n for name, n in counts.items() if n}


def delete_demo_data(session: Session) -> None:
    """Delete everything but the reference data (local authorities, options version), children first.

    The audit trail is append-only: its triggers refuse every DELETE. Replacing a demo database is the one place
    that empties it on purpose, so the triggers are set aside for this transaction only (and put back in it).
    """
    with _audit_triggers_set_aside(session):
        for table in reversed(_tables_parents_first()):
            if table.name not in REFERENCE_TABLES:
                session.execute(table.delete())
        session.flush()


@contextmanager
def _audit_triggers_set_aside(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        yield
        session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))
        return
    triggers = session.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")).all()
    for name, _sql in triggers:
        session.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _name, sql in triggers:
        session.execute(text(sql))


def _counts(world: _World) -> dict[str, int]:
    requests = world.table(PlacementRequest)
    open_statuses = {"draft", "searching", "offers"}
    return {
        "providers": len(world.table(Provider)),
        "settings": len(world.table(Setting)),
        "open vacancies": sum(1 for v in world.table(Vacancy) if v["status"] == "open"),
        "people": len(world.table(User)),
        "open requests": sum(1 for r in requests if r["status"] in open_statuses),
        "past requests": sum(1 for r in requests if r["status"] not in open_statuses),
        "sibling groups": len(world.table(SiblingGroup)),
        "connected persons": len(world.table(ConnectedPerson)),
        "referrals": len(world.table(Referral)),
        "offers": len(world.table(Offer)),
        "placements": len(world.table(Placement)),
        "re-entries confirmed": sum(1 for link in world.table(ReEntryLink) if link["status"] == "confirmed"),
    }


def load_demo(session: Session, *, seed: int = 2026, scale: str = "region", today: date | None = None,
              now: datetime | None = None) -> DemoSummary:
    """Build the demo region into `session` (bulk inserts, flushed, not committed) and say what was made."""
    size = SCALES[scale]
    now = now or utcnow()
    world = _World(seed, size, today or date.today(), now, _Ids(seed), _postcode_pools(size))
    make_providers(world)
    make_settings(world)
    make_people(world)
    table = _SettingTable(world)
    make_open_vacancies(world, table)
    open_cases = make_open_requests(world, table)
    make_history(world, table)
    make_older_demand(world, table)
    make_open_re_entries(world, table, open_cases)
    _insert(session, world)
    return DemoSummary(scale, seed, _counts(world))


def _insert(session: Session, world: _World) -> None:
    order = {table.name: n for n, table in enumerate(_tables_parents_first())}
    for model in sorted(world.rows, key=lambda m: order[m.__tablename__]):
        if world.rows[model]:
            # render_nulls: without it the ORM leaves None values out of each row's parameters, so rows with
            # different None columns cannot share one executemany batch (about one statement per row).
            session.execute(insert(model).execution_options(render_nulls=True), world.rows[model])
    session.flush()


