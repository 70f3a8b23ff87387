"""Settings from ``ARBITER_*`` environment variables, read once by :func:`get_settings`.

| variable | default | meaning |
| --- | --- | --- |
| ``ARBITER_DATABASE_URL`` | ``sqlite:///arbiter.db`` | SQLAlchemy URL (PostgreSQL: |
| | | ``postgresql+psycopg://…``) |
| ``ARBITER_TIMEZONE`` | ``UTC`` | IANA zone in which CRM dates without an offset are read |
| ``ARBITER_BUSY_TIMEOUT_MS`` | ``30000`` | how long SQLite waits for a lock before giving up |
| ``ARBITER_POOL_SIZE`` | ``10`` | PostgreSQL connections kept per process |
| ``ARBITER_MAX_BODY_BYTES`` | ``26214400`` | largest HTTP request body accepted (25 MiB) |
| ``ARBITER_SECRET_KEY`` | random per start | signs dashboard session cookies |
| ``ARBITER_LOG_LEVEL`` | ``INFO`` | Python logging level |
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from experiments.errors import InvalidInput, Problem

__all__ = ["Settings", "get_settings", "read_settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated settings of one process."""

    database_url: str = "sqlite:///arbiter.db"
    timezone: str = "UTC"
    busy_timeout_ms: int = 30_000
    pool_size: int = 10
    max_body_bytes: int = 25 * 1024 * 1024
    secret_key: str = ""
    log_level: str = "INFO"

    @property
    def zone(self) -> ZoneInfo:
        """The configured zone for naive CRM dates."""
        return ZoneInfo(self.timezone)


def _int(env: Mapping[str, str], name: str, default: int, low: int, problems: list[Problem]) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        problems.append(Problem(name, f"must be an integer, got {raw!r}"))
        return default
    if value < low:
        problems.append(Problem(name, f"must be at least {low}, got {value}"))
    return value


def read_settings(env: Mapping[str, str]) -> Settings:
    """Build settings from a mapping of environment variables, refusing bad values."""
    problems: list[Problem] = []
    url = env.get("ARBITER_DATABASE_URL") or "sqlite:///arbiter.db"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if not (url.startswith("sqlite") or url.startswith("postgresql+psycopg://")):
        problems.append(
            Problem(
                "ARBITER_DATABASE_URL",
                "must be a sqlite:/// path or a postgresql+psycopg:// URL",
            )
        )
    zone = env.get("ARBITER_TIMEZONE") or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem("ARBITER_TIMEZONE", f"{zone!r} is not an IANA time zone"))
    level = (env.get("ARBITER_LOG_LEVEL") or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        problems.append(Problem("ARBITER_LOG_LEVEL", f"unknown level {level!r}"))
    settings = Settings(
        database_url=url,
        timezone=zone,
        busy_timeout_ms=_int(env, "ARBITER_BUSY_TIMEOUT_MS", 30_000, 0, problems),
        pool_size=_int(env, "ARBITER_POOL_SIZE", 10, 1, problems),
        max_body_bytes=_int(env, "ARBITER_MAX_BODY_BYTES", 25 * 1024 * 1024, 1024, problems),
        secret_key=env.get("ARBITER_SECRET_KEY") or secrets.token_urlsafe(32),
        log_level=level,
    )
    if problems:
        raise InvalidInput("the ARBITER_* settings are not valid", problems)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read from the environment once."""
    return read_settings(os.environ)
