"""Shared pieces of the benchmarks: timing, fresh databases, results."""

from __future__ import annotations

import gc
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from arbiter.db import create_db_engine, upgrade_schema
from arbiter.settings import Settings


@dataclass
class Result:
    """One figure measured against its baseline in the same run."""

    name: str
    engine: str
    figure: float
    unit: str
    baseline_name: str
    baseline: float
    higher_is_better: bool
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """Ours over the baseline, as a speed: >1 means faster than the baseline."""
        if self.higher_is_better:
            return self.figure / self.baseline if self.baseline else float("nan")
        return self.baseline / self.figure if self.figure else float("nan")


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of ``runs`` timings of ``work`` (seconds)."""
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def median_of(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


@dataclass
class Database:
    """A fresh, migrated database for one benchmark."""

    url: str
    engine: Engine
    path: Path | None

    def raw(self) -> sqlite3.Connection:
        """A bare sqlite3 connection with the same pragmas as Arbiter's."""
        assert self.path is not None
        con = sqlite3.connect(self.path, isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "synchronous=NORMAL",
            "busy_timeout=30000",
        ):
            con.execute(f"PRAGMA {pragma}")
        return con

    def scan(self, sql: str) -> list[tuple[object, ...]]:
        """Run ``sql`` with the bare driver and fetch every row (a baseline)."""
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            raw.close()


def engines(postgres: str | None, schema: str) -> list[tuple[str, Callable[[], Database]]]:
    """(label, fresh database) for SQLite and, when ``postgres`` is set, PostgreSQL (in
    its own ``schema``)."""
    out: list[tuple[str, Callable[[], Database]]] = [("SQLite", sqlite_database)]
    if postgres:
        out.append(("PostgreSQL", lambda: postgres_database(postgres, schema)))
    return out


def sqlite_database() -> Database:
    """A migrated SQLite file in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="arbiter-bench-"))
    path = folder / "bench.db"
    url = f"sqlite:///{path}"
    engine = create_db_engine(url, Settings(database_url=url, busy_timeout_ms=30_000))
    upgrade_schema(engine)
    return Database(url, engine, path)


def postgres_database(base_url: str, name: str) -> Database:
    """A migrated schema ``name`` (dropped first) in the PostgreSQL database at ``base_url``."""
    from sqlalchemy import create_engine, text

    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    admin.dispose()
    sep = "&" if "?" in base_url else "?"
    url = f"{base_url}{sep}options=-csearch_path%3D{name}"
    engine = create_db_engine(url, Settings(database_url=url, pool_size=4))
    upgrade_schema(engine)
    return Database(url, engine, None)


def postgres_url() -> str | None:
    """The PostgreSQL database for the PostgreSQL figures, if any."""
    return os.environ.get("ARBITER_BENCH_POSTGRES_URL") or os.environ.get(
        "ARBITER_TEST_POSTGRES_URL"
    )
