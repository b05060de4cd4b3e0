"""The per-process index of the region's open options, kept on the app (`app.extensions["portal_options"]`).

The region's open vacancies are turned into an OptionIndex once per process and rebuilt only when the options
version moves (a vacancy, setting or approval changed) or the day changes (ages, availability, staleness). Each
caller gets an immutable `OptionsSnapshot`: the index, the specs and what pages show about each option, and the
version it was built from, so anything that acts on a ranking can rely on the snapshot it ranked with.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from flask import Flask, current_app
from sqlalchemy import select

from portal import matching
from portal.db import db, utcnow
from portal.geo import postcode_sector
from portal.models import Provider, Setting, Vacancy
from portal.options.versions import get_options_version


@dataclass(frozen=True)
class OptionInfo:
    """What the pages show about an option beside its score (ids, names, fee, rating)."""

    option_id: str
    kind: str
    provider_id: str | None
    provider_name: str
    setting_id: str | None
    setting_name: str
    la_code: str
    fee_gbp_week: float | None
    ofsted: str | None
    postcode_sector: str
    places_free: int
    available_from: date


@dataclass(frozen=True)
class ProviderOptions:
    """One provider's open options as an index of their own, scored against the region's median fees: ranking a
    referral against it costs what the provider's options cost, whatever the size of the region, and gives every
    option the score it has in the region's ranking (a score depends on the option and the child, and on the
    other options only through the regional medians, which are pinned here).

    `memo` is for callers that keep results computed from this index (the inbox's fits): it lives as long as the
    index, which is replaced when the provider's options, the regional medians or the day change.
    """

    index: matching.OptionIndex
    option_ids: tuple[str, ...]
    memo: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class OptionsSnapshot:
    """The region's open options at one options version, as the matching core and the pages read them."""

    index: matching.OptionIndex
    specs: tuple[matching.OptionSpec, ...]
    infos: Mapping[str, OptionInfo]
    version: int
    day: date
    by_id: Mapping[str, matching.OptionSpec]
    # Per provider, its own options' index (built on first use; see ProviderOptions), shared with the cache.
    providers: ProviderIndexes = field(default=None, compare=False, repr=False)

    def provider_option_ids(self, provider_id: str) -> list[str]:
        """The ids of one provider's open options."""
        return [spec.id for spec in self.specs if spec.provider_id == provider_id]

    def provider_options(self, provider_id: str) -> ProviderOptions:
        """One provider's open options, indexed on their own and scored against the regional medians."""
        return self.providers.get(self, provider_id)


class ProviderIndexes:
    """The per-provider indexes of one process. A provider's index is kept across options versions while its
    options, the regional medians and the day are the same (another provider's new vacancy moves the version but
    changes nothing this provider's referrals are scored against), so what callers memoised on it survives."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # provider id -> (what its index was built from, the index, the snapshot it was last checked against);
        # snapshots are held weakly, so an old one is freed once no request uses it
        self._by_provider: dict[str, tuple[tuple, ProviderOptions, weakref.ref]] = {}
        self._grouped: tuple[weakref.ref, dict[str, list[matching.OptionSpec]]] | None = None

    def get(self, snapshot: OptionsSnapshot, provider_id: str) -> ProviderOptions:
        found = self._by_provider.get(provider_id)
        if found is not None and found[2]() is snapshot:
            return found[1]
        mine = tuple(self._specs_of(snapshot).get(provider_id, ()))
        medians = tuple(sorted(snapshot.index.medians.items()))
        key = (mine, medians, snapshot.day, snapshot.index.policy)
        if found is not None and found[0] == key:
            built = found[1]
        else:
            policy = replace(snapshot.index.policy, regional_median_fee_gbp_week=medians)
            built = ProviderOptions(matching.OptionIndex.build(mine, policy), tuple(spec.id for spec in mine))
        with self._lock:
            self._by_provider[provider_id] = (key, built, weakref.ref(snapshot))
        return built

    def _specs_of(self, snapshot: OptionsSnapshot) -> dict[str, list[matching.OptionSpec]]:
        """The snapshot's options by provider, in the snapshot's order (grouped once per snapshot)."""
        grouped = self._grouped
        if grouped is not None and grouped[0]() is snapshot:
            return grouped[1]
        by_provider: dict[str, list[matching.OptionSpec]] = {}
        for spec in snapshot.specs:
            if spec.provider_id is not None:
                by_provider.setdefault(spec.provider_id, []).append(spec)
        with self._lock:
            self._grouped = (weakref.ref(snapshot), by_provider)  # only the newest snapshot's grouping is kept
        return by_provider


def _load_open_options(today: date) -> tuple[list[matching.OptionSpec], dict[str, OptionInfo]]:
    """Every open vacancy at an approved provider's active setting, one option each (a single query)."""
    stale_days = current_app.config["VACANCY_STALE_DAYS"]
    stale_before = utcnow() - timedelta(days=stale_days)
    # Plain column rows, not ORM objects: ten thousand vacancies load in a fraction of the time.
    rows = db.session.execute(
        select(
            Vacancy.id, Vacancy.places, Vacancy.places_taken, Vacancy.available_from, Vacancy.fee_gbp_week,
            Vacancy.confirmed_at, Vacancy.created_at,
            Setting.id.label("setting_id"), Setting.name, Setting.kind, Setting.postcode, Setting.la_code,
            Setting.easting, Setting.northing, Setting.age_min, Setting.age_max, Setting.sexes, Setting.needs_met,
            Setting.risks_managed, Setting.ofsted_rating, Setting.languages, Setting.religions, Setting.has_pets,
            Setting.takes_siblings, Setting.solo_only,
            Provider.id.label("provider_id"), Provider.name.label("provider_name"), Provider.provider_code,
        )
        .join(Setting, Setting.id == Vacancy.setting_id)
        .join(Provider, Provider.id == Setting.provider_id)
        .where(Vacancy.status == "open", Setting.active.is_(True), Provider.status == "approved")
    ).all()
    specs: list[matching.OptionSpec] = []
    infos: dict[str, OptionInfo] = {}
    for row in rows:
        confirmed = row.confirmed_at or row.created_at
        if confirmed.tzinfo is None:  # SQLite returns naive UTC through column selects of UTCDateTime
            confirmed = confirmed.replace(tzinfo=stale_before.tzinfo)
        places_free = row.places - row.places_taken
        fee = float(row.fee_gbp_week)
        specs.append(matching.OptionSpec(
            id=row.id,
            kind=row.kind,
            for_request=None,
            provider_code=row.provider_code,
            provider_approved=True,
            la=row.la_code,
            location=matching.GridPoint(row.easting, row.northing),
            places=places_free,
            available_from=row.available_from,
            age_min=row.age_min,
            age_max=row.age_max,
            sexes=frozenset(row.sexes),
            needs_met=frozenset(row.needs_met),
            risks_managed=frozenset(row.risks_managed),
            ofsted=row.ofsted_rating,
            fee_gbp_week=fee,
            languages=frozenset(row.languages),
            religions=frozenset(row.religions),
            has_pets=row.has_pets,
            takes_siblings=row.takes_siblings,
            solo_only=row.solo_only,
            stale=confirmed < stale_before,
            provider_id=row.provider_id,
            setting_id=row.setting_id,
        ))
        infos[row.id] = OptionInfo(
            option_id=row.id, kind=row.kind, provider_id=row.provider_id, provider_name=row.provider_name,
            setting_id=row.setting_id, setting_name=row.name, la_code=row.la_code, fee_gbp_week=fee,
            ofsted=row.ofsted_rating, postcode_sector=postcode_sector(row.postcode), places_free=places_free,
            available_from=row.available_from,
        )
    return specs, infos


class OptionsCache:
    """One OptionsSnapshot per app and process, per (options version, day). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: OptionsSnapshot | None = None
        self._providers = ProviderIndexes()

    def get(self) -> OptionsSnapshot:
        key = (get_options_version(), date.today())
        snapshot = self._snapshot
        if snapshot is not None and (snapshot.version, snapshot.day) == key:
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None or (snapshot.version, snapshot.day) != key:
                # No gc.collect() / gc.freeze() / gc.unfreeze() here (there were, issue 16 §3): this runs in
                # whichever request thread sees the new version first, and those act on the whole process: a full
                # collection running every thread's finalizers (pooled database connections among them) from
                # here, and a freeze that kept the other threads' in-flight objects out of the collector until
                # the next rebuild. The worker's start-up objects are frozen once, before it serves anyone
                # (gunicorn.conf.py post_worker_init); ranking pauses the collector while it builds its results.
                specs, infos = _load_open_options(key[1])
                snapshot = OptionsSnapshot(index=matching.OptionIndex.build(specs), specs=tuple(specs), infos=infos,
                                           version=key[0], day=key[1], by_id={s.id: s for s in specs},
                                           providers=self._providers)
                self._snapshot = snapshot
            return snapshot

    def clear(self) -> None:
        """Forget the snapshot (the next call rebuilds it); for benchmarks that time a cold build."""
        with self._lock:
            self._snapshot = None


def init_app(app: Flask) -> None:
    from portal.options.versions import track_data_changes

    app.extensions["portal_options"] = OptionsCache()
    track_data_changes(app.extensions["portal_db"][1])


def current_options() -> OptionsSnapshot:
    """The current app's snapshot of the region's open options, rebuilt if the options version moved."""
    return current_app.extensions["portal_options"].get()
