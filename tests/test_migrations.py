"""The schema comes only from Alembic: upgrade, downgrade and upgrade again; the models match the migrations."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from portal.cli import alembic_config
from portal.models import metadata
from tests.conftest import postgres_only


def test_migrations_match_the_models(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_reference_data_is_loaded(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        codes = set(conn.scalars(text("SELECT code FROM local_authority")))
        version = conn.scalar(text("SELECT version FROM options_version WHERE id = 1"))
    engine.dispose()
    assert len(codes) == 14 and "E08000026" in codes and "E10000028" in codes
    assert version == 0


def test_downgrade_to_base_and_upgrade_again(database_url):
    from alembic import command

    cfg = alembic_config(database_url)
    command.downgrade(cfg, "base")
    engine = create_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    command.upgrade(cfg, "head")
    engine = create_engine(database_url)
    assert "placement_request" in inspect(engine).get_table_names()
    engine.dispose()


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path):
    from portal.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()


@postgres_only  # SQLite's batch copy of the table is covered by the up-and-down test above
def test_free_text_declines_become_another_reason_with_their_words_and_come_back(app, database_url):
    """0014_decline_reasons: a decline from before the fixed list keeps its words as "other"; down again, the
    words (or a listed reason's label) are the free text."""
    from alembic import command

    from portal.db import db
    from tests.factories import create_provider, create_referral, create_request, create_user

    with app.app_context():  # a real referral and provider at head, so the old row's foreign keys hold
        provider = create_provider()
        referral = create_referral(create_request(create_user("officer")), provider)
        ids = {"r": referral.id, "p": provider.id}
        db.session.close()
    app.extensions["portal_db"][0].dispose()
    cfg = alembic_config(database_url)
    engine = create_engine(database_url)
    try:
        command.downgrade(cfg, "0013_api_tokens")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO referral_decline (id, referral_id, provider_id, reason, declined_at) "
                              "VALUES ('d1', :r, :p, 'No bed until March', CURRENT_TIMESTAMP)"), ids)
        command.upgrade(cfg, "head")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT reason, reason_other FROM referral_decline")).one() == (
                "other", "No bed until March")
            conn.execute(text("UPDATE referral_decline SET reason = 'fee', reason_other = NULL"))
        command.downgrade(cfg, "0013_api_tokens")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT reason FROM referral_decline")).scalar() == "The fee"
            conn.execute(text("DELETE FROM referral_decline"))
    finally:
        engine.dispose()
        command.upgrade(cfg, "head")  # whatever happened, the database is left at head for the next test


def test_the_placement_flags_go_on_and_off_a_database_with_placements_in_it(app, database_url):
    """0014_decline_reasons adds (and its downgrade drops) two columns of `placement`, which agreements point at:
    on SQLite that must happen in place, not by copying and dropping the table, or any real database fails."""
    from datetime import date

    from alembic import command

    from portal.db import db
    from portal.models import PlacementAgreement
    from tests.factories import create_request, create_user
    from tests.market.market_data import create_placement

    with app.app_context():
        placement = create_placement(create_request(create_user("officer")), start=date.today(), dol=True)
        db.session.add(PlacementAgreement(placement_id=placement.id))
        db.session.commit()
        placement_id = placement.id
        db.session.close()
    app.extensions["portal_db"][0].dispose()
    cfg = alembic_config(database_url)
    engine = create_engine(database_url)
    try:
        command.downgrade(cfg, "0013_api_tokens")
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT deprivation_of_liberty, unregistered_setting FROM placement WHERE id = :p"),
                                {"p": placement_id}).one() == (False, False)
            assert conn.scalar(text("SELECT COUNT(*) FROM placement_agreement")) == 1
    finally:
        engine.dispose()
        command.upgrade(cfg, "head")
