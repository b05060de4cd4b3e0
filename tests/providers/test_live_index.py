"""A live matching index (issue 12 §5): when a vacancy, setting or approval changes, every process brings its
index up to date by the changed rows alone, and what it then ranks with is what a rebuild from the database gives."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from portal.db import utcnow
from portal.matching import OptionIndex
from portal.models import OptionsChange
from portal.options import bump_options_version, current_options
from portal.options.index import PATCH_LIMIT, OptionsCache
from portal.providers import services
from portal.admin import services as admin_services
from portal.retention import prune
from portal.unit_of_work import unit_of_work
from tests.factories import create_provider, create_setting, create_user, create_vacancy
from tests.matching.test_index_patch import assert_same_index


def cache(app) -> OptionsCache:
    return app.extensions["portal_options"]


def check_against_a_rebuild(app) -> None:
    """The process's snapshot holds what a fresh load of the database holds, indexed as a rebuild would."""
    kept = current_options()
    fresh = OptionsCache().get()
    assert kept.version == fresh.version
    assert kept.by_id == fresh.by_id and kept.infos == fresh.infos
    assert_same_index(kept.index, OptionIndex.build(kept.specs))


def details(**changes) -> services.VacancyDetails:
    values = {"places_free": 2, "available_from": date.today() + timedelta(days=1), "available_to": None,
              "fee_gbp_week": Decimal("900"), "status": "open"}
    values.update(changes)
    return services.VacancyDetails(**values)


def test_each_kind_of_change_patches_the_index_to_what_a_rebuild_gives(app, db_session):
    provider = create_provider()
    homes = [create_setting(provider, fee_gbp_week=fee) for fee in ("800", "900", "1000")]
    vacancies = [create_vacancy(home) for home in homes]
    manager = create_user("provider", provider=provider, provider_role="admin")
    pending = create_provider(status="pending")
    create_vacancy(create_setting(pending))
    admin = create_user("admin")
    current_options()  # warm: one build
    assert (cache(app).rebuilds, cache(app).patches) == (1, 0)

    steps = [
        lambda: services.change_vacancy(manager, vacancies[0], details(fee_gbp_week=Decimal("2000")), date.today()),
        lambda: services.add_vacancy(manager, homes[1], details(places_free=1), date.today()),
        lambda: services.withdraw_vacancy(manager, vacancies[2]),
        lambda: services.set_setting_active(manager, homes[1], False),
        lambda: admin_services.decide_provider(admin, pending, approve=True, reason=""),
        lambda: services.set_setting_active(manager, homes[1], True),
    ]
    for n, step in enumerate(steps, start=1):
        with unit_of_work() as work:
            step()
        assert work.ok, (n, work.message)
        db_session.expire_all()
        check_against_a_rebuild(app)
        assert (cache(app).rebuilds, cache(app).patches) == (1, n)
    ids = set(current_options().by_id)
    assert vacancies[0].id in ids and vacancies[2].id not in ids
    assert current_options().by_id[vacancies[0].id].fee_gbp_week == 2000.0
    assert len(ids) == 2  # the changed one and the approved provider's: closing a setting withdrew its two


def test_two_processes_each_patch_and_agree(app, db_session, database_url):
    from tests.conftest import make_app

    other = make_app(database_url)
    try:
        provider = create_provider()
        home = create_setting(provider)
        create_vacancy(home)
        with other.app_context():
            before = current_options().version
        current_options()
        create_vacancy(home, places=3)
        with other.app_context():
            theirs = current_options()
            assert theirs.version == before + 1 and cache(other).patches == 1
        ours = current_options()
        assert ours.by_id == theirs.by_id and cache(app).patches == 1
    finally:
        other.extensions["portal_db"][0].dispose()


def test_a_change_that_names_nothing_or_too_much_rebuilds(app, db_session):
    home = create_setting(create_provider())
    create_vacancy(home)
    current_options()
    bump_options_version()  # the demo loader: anything may have changed
    db_session.commit()
    current_options()
    assert (cache(app).rebuilds, cache(app).patches) == (2, 0)
    bump_options_version(vacancies=[f"v{i}" for i in range(PATCH_LIMIT + 1)])
    db_session.commit()
    current_options()
    assert (cache(app).rebuilds, cache(app).patches) == (3, 0)
    check_against_a_rebuild(app)


def test_changes_pruned_before_a_process_read_them_make_it_rebuild(app, db_session):
    home = create_setting(create_provider())
    create_vacancy(home)
    current_options()
    create_vacancy(home, places=2)
    with unit_of_work():
        pruned = prune(now=utcnow() + timedelta(days=3))
    assert pruned.options_changes == 2
    assert db_session.query(OptionsChange).count() == 0
    snapshot = current_options()
    assert (cache(app).rebuilds, cache(app).patches) == (2, 0)
    assert len(snapshot.specs) == 2
