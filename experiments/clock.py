"""Time inside Arbiter: timezone-aware UTC datetimes in Python, integer microseconds
since the Unix epoch in the database.

Integer instants make the attribution window a plain ``assigned_at + window`` in SQL on
SQLite and PostgreSQL alike, and keep comparisons exact; :class:`Instant` converts at the
column boundary so that no naive datetime ever reaches the database or leaves it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["DAY_US", "EPOCH", "Instant", "from_micros", "to_micros", "utcnow"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch; refuses naive datetimes."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a naive datetime reached the database layer: {moment!r}")
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    """The UTC datetime of an integer instant."""
    return EPOCH + timedelta(microseconds=int(value))


class Instant(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime stored as BIGINT microseconds since the epoch."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        return None if value is None else to_micros(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_micros(int(value))
