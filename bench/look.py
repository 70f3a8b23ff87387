"""A full look at growing sizes, against the bare SQL scan it cannot avoid.

Ours: :func:`arbiter.looks.observe` — everything a look computes (one consistent
snapshot: the primary metric and the guardrail per lead, assigned counts per arm, the
watermarks; then the health checks, the sequential design at the actual information
fraction, the guardrails and the verdict rules), without the few rows a look writes.
Baseline: the bare two-level GROUP BY of the primary metric alone (the scan every look
needs at least once). The statistics — :func:`arbiter.verdict.decide` on the
summaries — are timed on their own: they work on per-arm sums, so their cost must not
grow with the number of leads.
"""

from __future__ import annotations

from datetime import timedelta

from arbiter.db import read_session
from arbiter.looks import observe
from arbiter.verdict import decide
from bench import fill
from bench.aggregate import BARE
from bench.data import T0
from bench.harness import Database, Result, best_of, engines
from experiments.clock import DAY_US, to_micros


def run(sizes: tuple[int, ...], postgres: str | None) -> list[Result]:
    """One row per size and engine."""
    now = T0 + timedelta(days=200)
    sql = BARE.format(window=30 * DAY_US, cutoff=to_micros(now) - 30 * DAY_US)
    results = []
    for label, make in engines(postgres, "bench_look"):
        for leads in sizes:
            db = make()
            fill.running_experiment(db.engine)
            fill.leads(db.engine, leads)
            fill.deals(db.engine, leads // 10, leads)

            def ours(db: Database = db) -> object:
                with read_session(db.engine) as s:
                    return observe(s, "bench", now)

            def bare(db: Database = db) -> object:
                return db.scan(sql)

            observation = ours()
            bare()
            bare_seconds = best_of(3, bare)
            ours_seconds = best_of(3, ours)
            stats_seconds = best_of(5, lambda o=observation: decide(o.protocol, [o.input]))
            results.append(
                Result(
                    f"full look, {leads:,} leads and {leads // 10:,} deals",
                    label,
                    ours_seconds,
                    "s",
                    "bare SQL GROUP BY of the primary metric",
                    bare_seconds,
                    False,
                    "dominated by the scan; statistics O(arms)",
                    stats_seconds < 0.1 * ours_seconds or stats_seconds < 0.01,
                    f"{ours_seconds / leads * 1e6:.2f} µs per lead; of which statistics and "
                    f"verdict rules {stats_seconds * 1000:.1f} ms; the look scans twice "
                    "(primary metric and guardrail) plus the counts per arm",
                )
            )
            db.engine.dispose()
    return results
