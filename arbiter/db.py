"""Engines, transactions and schema migrations.

SQLite (the embedded default) runs in WAL mode with a busy timeout, foreign keys on and
``synchronous=NORMAL``. pysqlite's implicit transaction handling is switched off and
transactions are begun explicitly (SQLAlchemy's documented recipe), so that a read
transaction really is one snapshot and a write transaction takes the write lock up front
(``BEGIN IMMEDIATE``) instead of failing half-way when another writer got there first.
PostgreSQL is selected by URL and pooled; reads that must be one consistent snapshot use
``REPEATABLE READ``.

Within one process, SQLite writers also queue on a lock of their own before ``BEGIN
IMMEDIATE``: SQLite's busy handler waits by sleeping in growing steps, so threads of one
server contending for the write lock would otherwise idle for tens of milliseconds each;
the busy timeout still arbitrates between processes. (A plain lock, not a re-entrant
one: the HTTP layer may finish a transaction on another thread than began it; a thread
opening a second write session inside its first would deadlock on SQLite's own lock
anyway.) :func:`write_session_now` is the variant for an event loop, which must never
wait: it takes both locks only if they are free this instant and raises
:class:`WriterBusy` otherwise.

The schema is owned by Alembic migrations (``arbiter/migrations``): :func:`ensure_schema`
refuses a database that is behind or ahead of the code, naming the command that fixes
it, and creates the schema on an empty SQLite file so the quickstart needs no extra step.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from arbiter.settings import Settings, get_settings
from experiments.errors import SchemaOutOfDate

__all__ = [
    "WriterBusy",
    "create_db_engine",
    "ensure_schema",
    "is_locked",
    "is_sqlite",
    "open_database",
    "read_session",
    "retry_locked",
    "schema_revisions",
    "upgrade_schema",
    "write_session",
    "write_session_now",
]

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")


def is_sqlite(engine: Engine) -> bool:
    """True for the embedded SQLite engine."""
    return engine.dialect.name == "sqlite"


def create_db_engine(url: str | None = None, settings: Settings | None = None) -> Engine:
    """An engine for ``url`` (default: ``ARBITER_DATABASE_URL``) configured as above."""
    settings = settings or get_settings()
    url = url or settings.database_url
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": settings.busy_timeout_ms / 1000, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(settings.busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            options = connection.get_execution_options()
            if not options.get("arbiter_write", False):
                connection.exec_driver_sql("BEGIN")
            elif not options.get("arbiter_now", False):
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                _begin_now(connection, settings.busy_timeout_ms)

        return engine
    return create_engine(
        url, pool_size=settings.pool_size, max_overflow=settings.pool_size, pool_pre_ping=True
    )


class WriterBusy(Exception):
    """Another writer holds SQLite's write lock at this instant (see
    :func:`write_session_now`); nothing was done."""


def _begin_now(connection: Connection, busy_timeout_ms: int) -> None:
    connection.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as exc:
        if is_locked(exc):
            raise WriterBusy from exc
        raise
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


def is_locked(exc: OperationalError) -> bool:
    """True for a lock or serialisation conflict (worth retrying), not another failure."""
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return (
        "database is locked" in text or "deadlock detected" in text or "could not serialize" in text
    )


def retry_locked(operation: Callable[[], T], *, attempts: int = 8, base_delay: float = 0.05) -> T:
    """Run ``operation`` again when the database reports a lock or serialisation conflict.

    The busy timeout already makes SQLite wait; this covers the rare lock that outlasts it
    and PostgreSQL serialisation failures, so that "database is locked" never reaches a user
    while the lock is merely contended. The last failure is re-raised.
    """
    for attempt in range(attempts):
        try:
            return operation()
        except OperationalError as exc:
            if not is_locked(exc) or attempt == attempts - 1:
                raise
            delay = base_delay * (2**attempt)
            log.warning("database busy, retrying in %.2fs (%d/%d)", delay, attempt + 1, attempts)
            time.sleep(delay)
    raise AssertionError("unreachable")


_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def _writer_lock(engine: Engine) -> threading.Lock:
    with _WRITERS_LOCK:
        lock = _WRITERS.get(engine)
        if lock is None:
            lock = _WRITERS[engine] = threading.Lock()
        return lock


@contextmanager
def _committed(bind: Engine) -> Iterator[Session]:
    """A session on ``bind`` that commits when the block succeeds and rolls back if not."""
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction takes the write lock up front and commits on success."""
    if not is_sqlite(engine):
        with _committed(engine) as session:
            yield session
        return
    with _writer_lock(engine), _committed(engine.execution_options(arbiter_write=True)) as session:
        yield session


@contextmanager
def write_session_now(engine: Engine) -> Iterator[Session]:
    """A SQLite write session begun only if no other writer holds the lock at this
    instant — neither a thread of this process nor another process; otherwise
    :class:`WriterBusy` is raised before anything is done. For short transactions on an
    event loop, where waiting for a lock would stall every other request."""
    if not is_sqlite(engine):
        raise ValueError("write_session_now is for SQLite; use write_session")
    lock = _writer_lock(engine)
    if not lock.acquire(blocking=False):
        raise WriterBusy
    try:
        with _committed(engine.execution_options(arbiter_write=True, arbiter_now=True)) as session:
            yield session
    finally:
        lock.release()


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session whose reads all see one consistent snapshot of the database."""
    bind = (
        engine if is_sqlite(engine) else engine.execution_options(isolation_level="REPEATABLE READ")
    )
    with Session(bind, expire_on_commit=False) as session:
        yield session  # closing ends the transaction without expiring loaded objects


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def schema_revisions(engine: Engine) -> tuple[str | None, str]:
    """(revision the database is at, revision the code needs)."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(_config(connection)).get_current_head()
        connection.rollback()
    assert head is not None
    return current, head


def upgrade_schema(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to the code's revision; returns (before, after)."""
    before, head = schema_revisions(engine)
    with engine.begin() as connection:
        command.upgrade(_config(connection), "head")
    return before, head


def _redacted(engine: Engine) -> str:
    return make_url(str(engine.url)).render_as_string(hide_password=True)


def ensure_schema(engine: Engine, *, create_if_empty: bool = True) -> None:
    """Refuse a schema that does not match the code; create it on an empty SQLite file."""
    current, head = schema_revisions(engine)
    if current == head:
        return
    if current is None:
        tables = inspect(engine).get_table_names()
        if not tables and create_if_empty and is_sqlite(engine):
            upgrade_schema(engine)
            return
        raise SchemaOutOfDate(
            f"the database at {_redacted(engine)} has no Arbiter schema yet: "
            "run `arbiter db upgrade`."
        )
    with engine.connect() as connection:
        known = {
            rev.revision
            for rev in ScriptDirectory.from_config(_config(connection)).walk_revisions()
        }
    if current not in known:
        raise SchemaOutOfDate(
            f"the database schema is at revision {current}, newer than this Arbiter knows: "
            "upgrade Arbiter itself."
        )
    raise SchemaOutOfDate(
        f"the database schema is at revision {current} but this Arbiter needs {head}: "
        "run `arbiter db upgrade`."
    )


def open_database(settings: Settings | None = None, *, url: str | None = None) -> Engine:
    """An engine whose schema is known to match the code (see :func:`ensure_schema`)."""
    engine = create_db_engine(url, settings)
    ensure_schema(engine)
    return engine
