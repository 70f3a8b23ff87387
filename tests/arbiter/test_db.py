"""Storage: migrations from empty on each engine, the schema matching the models,
SQLite pragmas, and refusing a schema that is behind the code."""

import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import arbiter.tables  # noqa: F401
import experiments.tables  # noqa: F401
from arbiter.db import (
    WriterBusy,
    create_db_engine,
    ensure_schema,
    schema_revisions,
    upgrade_schema,
    write_session,
    write_session_now,
)
from experiments.errors import SchemaOutOfDate
from tests.conftest import settings_for


def test_migrations_from_empty_create_every_table(db_url):
    engine = create_db_engine(db_url, settings_for(db_url))
    assert schema_revisions(engine)[0] is None
    before, after = upgrade_schema(engine)
    assert before is None
    assert schema_revisions(engine) == (after, after)
    tables = set(inspect(engine).get_table_names())
    assert {"experiment", "protocol_version", "sign_off", "audit_event"} <= tables
    engine.dispose()


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_upgrade_is_idempotent(engine):
    before, after = upgrade_schema(engine)
    assert before == after


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_url):
    engine = create_db_engine(sqlite_url, settings_for(sqlite_url))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _migrated(url):
    engine = create_db_engine(url, settings_for(url))
    upgrade_schema(engine)
    return engine


def test_write_session_now_commits_when_no_one_else_writes(sqlite_url):
    engine = _migrated(sqlite_url)
    with write_session_now(engine) as s:
        s.exec(text("CREATE TABLE probe (x INTEGER)"))
        s.exec(text("INSERT INTO probe VALUES (1)"))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT x FROM probe").scalar() == 1


def test_write_session_now_never_waits_for_a_writer_of_this_process(sqlite_url):
    engine = _migrated(sqlite_url)
    with write_session(engine), pytest.raises(WriterBusy), write_session_now(engine):
        pytest.fail("began while this thread's other session holds the lock")
    with write_session_now(engine) as s:  # the lock was given back
        s.exec(text("SELECT 1"))


def test_write_session_now_never_waits_for_another_process(sqlite_url):
    """A second engine stands for another process: its write lock is SQLite's own."""
    engine, other = _migrated(sqlite_url), _migrated(sqlite_url)
    started = time.monotonic()
    with write_session(other) as busy:
        busy.exec(text("SELECT 1"))  # BEGIN IMMEDIATE has taken the file's write lock
        with pytest.raises(WriterBusy), write_session_now(engine) as s:
            s.exec(text("SELECT 1"))  # the first statement begins the transaction
    assert time.monotonic() - started < 2  # not the 10 s busy timeout
    with write_session_now(engine) as s:  # and the busy timeout is back afterwards
        assert s.exec(text("PRAGMA busy_timeout")).scalar() == 10_000


def test_empty_sqlite_is_created_on_first_use(sqlite_url):
    engine = create_db_engine(sqlite_url, settings_for(sqlite_url))
    ensure_schema(engine)
    current, head = schema_revisions(engine)
    assert current == head


def test_a_schema_behind_the_code_is_refused_with_the_fix(engine):
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(SchemaOutOfDate, match="newer than this Arbiter"):
        ensure_schema(engine)
    _, head = schema_revisions(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
    if head != "0001":
        with pytest.raises(SchemaOutOfDate, match="run `arbiter db upgrade`"):
            ensure_schema(engine)


def test_tables_without_migration_history_are_refused(sqlite_url):
    engine = create_db_engine(sqlite_url, settings_for(sqlite_url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE stray (x INTEGER)"))
    with pytest.raises(SchemaOutOfDate, match="arbiter db upgrade"):
        ensure_schema(engine)
