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

__all__ = ["chunked", "executemany", "insert_ignore", "placeholders", "table_of"]

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


def placeholders(session: Session, count: int) -> str:
    """``?, ?, …`` or ``%s, %s, …`` for the driver's parameter style."""
    mark = "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * count)


def executemany(session: Session, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run one parameterised statement for many rows on the session's own connection
    (so it stays inside the session's transaction)."""
    if rows:
        session.connection().exec_driver_sql(sql, list(rows))
