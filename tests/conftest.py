"""Shared fixtures: a fresh database per test on SQLite and, when
``ARBITER_TEST_POSTGRES_URL`` is set, on PostgreSQL (one schema per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from arbiter.db import create_db_engine, upgrade_schema
from arbiter.settings import Settings, get_settings

POSTGRES_URL = os.environ.get("ARBITER_TEST_POSTGRES_URL")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Property tests never check timing (performance lives in bench/), so no deadline: a
# slow shared machine must not fail them. The "ci" profile (.ci/run) also draws the
# same examples on every run, so a red CI run can be reproduced; locally every run
# explores new ones. HYPOTHESIS_PROFILE picks the profile.
hypothesis_settings.register_profile("arbiter", deadline=None, print_blob=True)
hypothesis_settings.register_profile(
    "ci", parent=hypothesis_settings.get_profile("arbiter"), derandomize=True
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "arbiter"))

needs_postgres = pytest.mark.skipif(
    POSTGRES_URL is None,
    reason="ARBITER_TEST_POSTGRES_URL is not set: start PostgreSQL and export it (.ci/run does)",
)


def settings_for(url: str) -> Settings:
    """Settings for a test database: short busy timeout, small pool."""
    return Settings(database_url=url, busy_timeout_ms=10_000, pool_size=4, secret_key="test")


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'arbiter.db'}"


def new_postgres_schema(schema: str) -> str:
    """Create ``schema`` in the test PostgreSQL database; the URL whose connections use it."""
    assert POSTGRES_URL is not None
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


def drop_postgres_schema(schema: str) -> None:
    """Drop ``schema`` and everything in it."""
    assert POSTGRES_URL is not None
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if POSTGRES_URL is None:
        pytest.skip("ARBITER_TEST_POSTGRES_URL is not set: PostgreSQL tests are skipped")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield new_postgres_schema(schema)
    drop_postgres_schema(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database URL, once per engine."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated, empty database on each engine."""
    eng = create_db_engine(db_url, settings_for(db_url))
    upgrade_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> str:
    """Point the CLI at a fresh SQLite file."""
    monkeypatch.setenv("ARBITER_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    return sqlite_url
