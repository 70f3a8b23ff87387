"""Portable bulk SQL: insert-or-ignore, executemany through the driver, chunking.

Everything here uses bound parameters only; the driver's own ``executemany`` is used for
large batches because SQLAlchemy's per-row parameter processing would dominate an import
of a million rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

__all__ = [
    "chunked",
    "executemany",
    "insert_ignore",
    "insert_ignore_returning",
    "placeholders",
    "table_of",
]

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel table class."""
    table = getattr(model, "__table__")  # noqa: B009 - set by SQLModel's metaclass
    assert isinstance(table, Table)
    return table


def insert_ignore(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], conflict: Sequence[str]
) -> None:
    """INSERT rows, skipping those that collide on the unique columns ``conflict``."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = sqlite if dialect == "sqlite" else postgresql
    statement = module.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    session.execute(statement, list(rows))


def insert_ignore_returning(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Like :func:`insert_ignore`, returning the ``returning`` columns (as the driver
    gives them) of the rows this statement inserted, so the caller learns which rows were
    new without reading them back: ``INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING
    RETURNING …`` (SQLite ≥ 3.35 and PostgreSQL).

    The statement goes to the driver directly, with the columns' own bind processing
    applied to the values: single-lead assignments run this on every request, and
    SQLAlchemy's statement machinery would cost several times the database's own work.
    Table and column names come from the table definition; every value is a bound
    parameter.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect
    columns = list(rows[0])
    convert = [table.c[name].type.bind_processor(dialect) for name in columns]
    quote = dialect.identifier_preparer.quote

    def names(selected: Sequence[str]) -> str:  # known columns only, quoted
        return ", ".join(quote(table.c[name].name) for name in selected)

    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    row_marks = "(" + ", ".join([mark] * len(columns)) + ")"
    head = f"INSERT INTO {quote(table.name)} ({names(columns)}) VALUES "  # noqa: S608
    tail = f" ON CONFLICT ({names(conflict)}) DO NOTHING RETURNING {names(returning)}"
    out: list[tuple[Any, ...]] = []
    connection = session.connection()
    for chunk in chunked(rows, MAX_PARAMETERS // len(columns)):
        values: list[Any] = []
        for row in chunk:
            for name, process in zip(columns, convert, strict=True):
                value = row[name]
                values.append(value if process is None or value is None else process(value))
        sql = head + ", ".join([row_marks] * len(chunk)) + tail
        out.extend(tuple(r) for r in connection.exec_driver_sql(sql, tuple(values)))
    return out


MAX_PARAMETERS = 30_000
"""Bound parameters per statement, below SQLite's limit (32,766) and PostgreSQL's (65,535)."""


def placeholders(session: Session, count: int) -> str:
    """``?, ?, …`` or ``%s, %s, …`` for the driver's parameter style."""
    mark = "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * count)


def executemany(session: Session, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run one parameterised statement for many rows on the session's own connection
    (so it stays inside the session's transaction)."""
    if rows:
        session.connection().exec_driver_sql(sql, list(rows))
