"""The schema comes only from Alembic: upgrade, downgrade and upgrade again; the models match the migrations."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from portal.cli import alembic_config
from portal.models import metadata


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
