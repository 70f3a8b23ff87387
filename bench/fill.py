"""Populating a benchmark database fast and directly (setup, not measured)."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine

from arbiter import disputes
from arbiter.db import write_session
from bench.data import T0
from experiments.clock import to_micros
from experiments.protocol import parse_protocol

PROTOCOL = {
    "id": "bench",
    "title": "Benchmark dispute",
    "question": "Which arm brings more revenue?",
    "parties": ["marketing", "sales"],
    "currency": "PLN",
    "arms": [
        {"key": "a", "name": "A", "party": "marketing"},
        {"key": "b", "name": "B", "party": "sales"},
    ],
    "primary": {"name": "revenue per lead", "kind": "revenue_per_lead", "window_days": 30},
    "guardrails": [{"name": "conversion", "kind": "conversion", "window_days": 30, "margin": 0.01}],
    "mde": {"value": 0.05, "kind": "relative"},
    "limits": {"max_sample": 2_000_000, "min_duration_days": 0},
}


def running_experiment(engine: Engine) -> None:
    """Register and start the benchmark dispute."""
    with write_session(engine) as s:
        disputes.register_protocol(
            s,
            protocol=parse_protocol(PROTOCOL),
            actor="bench",
            sign_as=["marketing", "sales"],
            now=T0,
        )
        disputes.start_dispute(s, experiment_id="bench", actor="bench", now=T0)


def leads(engine: Engine, n: int, *, assign: bool = True, seed: int = 3) -> None:
    """``n`` leads L0…, with a lead score, each assigned over 90 days (if ``assign``)."""
    rng = random.Random(seed)
    start = to_micros(T0)
    day = 86_400_000_000
    with engine.begin() as conn:
        dialect = conn.dialect.paramstyle
        mark = "?" if dialect == "qmark" else "%s"
        batch = 20_000
        for first in range(0, n, batch):
            ids = range(first, min(first + batch, n))
            conn.exec_driver_sql(
                f"INSERT INTO lead (id, external_id, source_system, first_seen, updated_at) "
                f"VALUES ({mark}, {mark}, 'generic', {mark}, {mark})",
                [(i + 1, f"L{i}", start, start) for i in ids],
            )
            conn.exec_driver_sql(
                f"INSERT INTO lead_attribute (lead_id, name, kind, number) "
                f"VALUES ({mark}, 'score', 'number', {mark})",
                [(i + 1, float(rng.randint(0, 100))) for i in ids],
            )
            if assign:
                conn.exec_driver_sql(
                    "INSERT INTO assignment (experiment_id, lead_id, arm_key, assigned_at, method) "
                    f"VALUES ('bench', {mark}, {mark}, {mark}, 'hash-v1')",
                    [
                        (i + 1, "a" if rng.random() < 0.5 else "b", start + rng.randrange(90 * day))
                        for i in ids
                    ],
                )
        if conn.dialect.name == "postgresql":
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('lead', 'id'), "
                    "(SELECT MAX(id) FROM lead))"
                )
            )
            conn.execute(text("ANALYZE"))


def deals(engine: Engine, n: int, leads_count: int, *, seed: int = 5) -> None:
    """``n`` deals spread over the first ``leads_count`` leads, about half won."""
    rng = random.Random(seed)
    start = to_micros(T0)
    day = 86_400_000_000
    with engine.begin() as conn:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        rows = []
        for i in range(n):
            created = start + rng.randrange(120 * day)
            won = rng.random() < 0.5
            rows.append(
                (
                    f"D{i}",
                    rng.randrange(leads_count) + 1,
                    int(rng.lognormvariate(7, 1) * 1e6),
                    won,
                    True,
                    created,
                    created + rng.randrange(40 * day),
                    start,
                )
            )
        conn.exec_driver_sql(
            "INSERT INTO deal (source_system, external_id, lead_id, amount_micros, currency, won, "
            f"closed, created_at, closed_at, version, updated_at) VALUES ('generic', {mark}, "
            f"{mark}, {mark}, 'PLN', {mark}, {mark}, {mark}, {mark}, 1, {mark})",
            rows,
        )
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))


def days_after_start(days: int) -> timedelta:
    """A convenience for 'now' in looks and aggregations."""
    return timedelta(days=days)
