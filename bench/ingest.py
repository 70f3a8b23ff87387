"""Import speed: CSV deal rows per second against a bare driver insert of the same rows.

Baseline: the minimal job that lands the same rows in the same migrated table (same
indexes, foreign keys on, same pragmas) with the bare driver: ``csv.reader`` over the file,
one dictionary from lead ids, one ``executemany``, one transaction. Ours: Arbiter's import
(decoding, per-field validation, amounts and dates, duplicate and currency checks, lead
resolution, upsert with history, the batch record) in one transaction.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from arbiter.db import write_session
from bench import fill
from bench.data import deals_csv
from bench.harness import Result, postgres_database, sqlite_database
from experiments.deal_import import import_deals

INSERT = (
    "INSERT INTO deal (source_system, external_id, lead_id, name, amount_micros, currency, "
    "stage, won, closed, created_at, closed_at, version, updated_at, batch_id) VALUES "
)


def _ours(db, data: bytes) -> float:
    start = time.perf_counter()
    with write_session(db.engine) as s:
        report = import_deals(
            s,
            data=data,
            filename="deals.csv",
            fmt="generic",
            actor="bench",
            now=datetime.now(UTC),
            zone=ZoneInfo("UTC"),
        )
    elapsed = time.perf_counter() - start
    assert report.rejected == 0, report.rejection_codes
    return elapsed


def _bare_rows(data: bytes, leads: dict[str, int]) -> list[tuple[object, ...]]:
    """The same rows with the same stored values, by the shortest route: no validation."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    next(reader)
    iso = datetime.fromisoformat
    return [
        (
            "generic",
            r[0],
            leads[r[1]],
            r[9],
            round(float(r[2]) * 1e6),
            r[3],
            r[8],
            r[4] == "true",
            r[5] == "true",
            round(iso(r[6]).timestamp() * 1e6),
            round(iso(r[7]).timestamp() * 1e6),
            1,
            0,
            None,
        )
        for r in reader
    ]


def _bare_sqlite(db, data: bytes) -> float:
    con = db.raw()
    start = time.perf_counter()
    con.execute("BEGIN")
    leads = dict(con.execute("SELECT external_id, id FROM lead"))
    con.executemany(INSERT + "(" + ", ".join("?" * 14) + ")", _bare_rows(data, leads))
    con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def _bare_postgres(db, data: bytes) -> float:
    raw = db.engine.raw_connection()
    try:
        start = time.perf_counter()
        cur = raw.cursor()
        cur.execute("SELECT external_id, id FROM lead")
        leads = dict(cur.fetchall())
        cur.executemany(INSERT + "(" + ", ".join(["%s"] * 14) + ")", _bare_rows(data, leads))
        raw.commit()
        return time.perf_counter() - start
    finally:
        raw.close()


def run(rows: int, postgres: str | None) -> list[Result]:
    """Import ``rows`` deals over rows/5 leads on SQLite (and PostgreSQL if given)."""
    data = deals_csv(rows, max(rows // 5, 1000))
    results = []
    engines = [("SQLite", lambda side: sqlite_database(), _bare_sqlite)]
    if postgres:
        engines.append(
            (
                "PostgreSQL",
                lambda side: postgres_database(postgres, f"bench_import_{side}"),
                _bare_postgres,
            )
        )
    for label, make, bare in engines:
        ours_db, bare_db = make("ours"), make("bare")
        for db in (ours_db, bare_db):
            fill.leads(db.engine, max(rows // 5, 1000), assign=False)
        bare_seconds = bare(bare_db, data)
        ours_seconds = _ours(ours_db, data)
        reimport_seconds = _ours(ours_db, data)
        speed = rows / ours_seconds
        results.append(
            Result(
                name=f"import {rows:,} deal rows from CSV",
                engine=label,
                figure=speed,
                unit="rows/s",
                baseline_name="bare driver executemany of the same rows",
                baseline=rows / bare_seconds,
                higher_is_better=True,
                target="≥ 50,000 rows/s and ≥ 0.5× bare" if label == "SQLite" else "",
                met=(speed >= 50_000 and bare_seconds / ours_seconds >= 0.5)
                if label == "SQLite"
                else None,
                extra={"reimport_rows_per_s": rows / reimport_seconds},
                note=f"re-import (all unchanged): {rows / reimport_seconds:,.0f} rows/s",
            )
        )
        for db in (ours_db, bare_db):
            db.engine.dispose()
    return results
