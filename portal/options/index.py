"""The per-process index of the region's open options, kept on the app (`app.extensions["portal_options"]`).

The region's open vacancies are turned into an OptionIndex once per process. When the options version moves (a
vacancy, setting or approval changed) the snapshot is brought up to date by the changed rows alone; it is rebuilt
when the day changes (ages, availability, staleness) or a change cannot say what it touched. Each
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
from sqlalchemy import ColumnElement, false, or_, select, true

from portal import matching
from portal.db import db, utcnow
from portal.geo import postcode_sector
from portal.models import Provider, Setting, Vacancy
from portal.options.versions import get_options_version, options_changes


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


def _load_open_options(today: date, changed: Changed | None = None
                       ) -> tuple[list[matching.OptionSpec], dict[str, OptionInfo]]:
    """Every open vacancy at an approved provider's active setting, one option each (a single query); with
    `changed`, only those among the changed vacancies, settings and providers."""
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
        .where(changed.where() if changed is not None else true())
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


# More changed rows than this since a process's snapshot, and it rebuilds instead (a bulk upload, the demo).
PATCH_LIMIT = 500


@dataclass(frozen=True)
class Changed:
    """The vacancies, settings and providers that options versions changed (portal.options.versions)."""

    vacancies: frozenset[str]
    settings: frozenset[str]
    providers: frozenset[str]

    @classmethod
    def of(cls, pairs: list[tuple[str, str | None]]) -> Changed | None:
        """None when anything may have changed: rebuild."""
        if any(scope == "all" for scope, _id in pairs) or len(pairs) > PATCH_LIMIT:
            return None
        ids = lambda name: frozenset(i for scope, i in pairs if scope == name and i)
        return cls(ids("vacancy"), ids("setting"), ids("provider"))

    def where(self) -> ColumnElement[bool]:
        parts = [column.in_(sorted(ids)) for column, ids in ((Vacancy.id, self.vacancies),
                 (Setting.id, self.settings), (Provider.id, self.providers)) if ids]
        return or_(*parts) if parts else false()

    def touches(self, spec: matching.OptionSpec) -> bool:
        return (spec.id in self.vacancies or spec.setting_id in self.settings
                or spec.provider_id in self.providers)


def _snapshot(specs: list[matching.OptionSpec] | tuple[matching.OptionSpec, ...], infos: dict[str, OptionInfo],
              index: matching.OptionIndex, version: int, day: date, providers: ProviderIndexes
              ) -> OptionsSnapshot:
    return OptionsSnapshot(index=index, specs=tuple(specs), infos=infos, version=version, day=day,
                           by_id={s.id: s for s in specs}, providers=providers)


class OptionsCache:
    """One OptionsSnapshot per app and process, per (options version, day). Thread-safe.

    When the version moves on the same day, the snapshot is brought up to date by the changed rows alone (issue
    12 §5): the versions' changes name the vacancies, settings and providers they touched; those options are
    reloaded (one query) and the index is patched (`OptionIndex.patched`, the same index a rebuild makes). A
    change naming nothing, or more than PATCH_LIMIT rows, or a new day, rebuilds from the database.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: OptionsSnapshot | None = None
        self.rebuilds = 0  # for the tests and benchmarks: how the snapshots were made
        self.patches = 0
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
                patched = None
                if snapshot is not None and snapshot.day == key[1] and key[0] > snapshot.version:
                    patched = self._patched(snapshot, key[0])
                if patched is None:
                    specs, infos = _load_open_options(key[1])
                    patched = _snapshot(specs, infos, matching.OptionIndex.build(specs), key[0], key[1],
                                        self._providers)
                    self.rebuilds += 1
                else:
                    self.patches += 1
                snapshot = self._snapshot = patched
            return snapshot

    @staticmethod
    def _patched(snapshot: OptionsSnapshot, version: int) -> OptionsSnapshot | None:
        changed = Changed.of(options_changes(snapshot.version, version))
        if changed is None:
            return None
        fresh, fresh_infos = _load_open_options(snapshot.day, changed)
        removed = {spec.id for spec in snapshot.specs if changed.touches(spec)}
        fresh_ids = {spec.id for spec in fresh}
        # An option still open comes back in `fresh` (at the end, as the patched index puts it).
        specs = [spec for spec in snapshot.specs if spec.id not in removed and spec.id not in fresh_ids] + fresh
        infos = {oid: info for oid, info in snapshot.infos.items() if oid not in removed and oid not in fresh_ids}
        infos.update(fresh_infos)
        index = snapshot.index.patched(removed | fresh_ids, fresh)
        return _snapshot(specs, infos, index, version, snapshot.day, snapshot.providers)

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
