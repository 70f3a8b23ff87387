"""Per-arm aggregation against the bare SQL GROUP BY on the same data.

Baseline: the same two-level GROUP BY written by hand and run with the bare driver.
Ours: :func:`experiments.metrics.aggregate_metric` (query built with SQLAlchemy, bound
parameters, the rows folded into :mod:`stats` summaries).
"""

from __future__ import annotations

from datetime import timedelta

from arbiter.db import read_session
from bench import fill
from bench.data import T0
from bench.harness import Database, Result, best_of, engines
from experiments.clock import DAY_US, to_micros
from experiments.metrics import aggregate_metric
from experiments.protocol import Metric

BARE = """
SELECT arm, COUNT(*), SUM(x), SUM(x * x) FROM (
  SELECT a.arm_key AS arm,
         CAST(COALESCE(SUM(CASE WHEN d.won AND d.currency = 'PLN'
                                 AND d.closed_at >= a.assigned_at
                                 AND d.closed_at <= a.assigned_at + {window}
                                 AND (d.created_at IS NULL OR d.created_at >= a.assigned_at)
                            THEN d.amount_micros ELSE 0 END), 0) AS FLOAT) / 1000000.0 AS x
  FROM assignment a LEFT OUTER JOIN deal d ON d.lead_id = a.lead_id
  WHERE a.experiment_id = 'bench' AND a.assigned_at <= {cutoff}
  GROUP BY a.id, a.arm_key, a.lead_id
) per_lead GROUP BY arm
"""


def run(leads: int, deals: int, postgres: str | None) -> list[Result]:
    """Aggregate revenue per lead over ``leads`` leads and ``deals`` deals."""
    metric = Metric(name="revenue per lead", kind="revenue_per_lead", window_days=30)
    now = T0 + timedelta(days=200)
    cutoff = to_micros(now) - 30 * DAY_US
    sql = BARE.format(window=30 * DAY_US, cutoff=cutoff)
    results = []
    for label, make in engines(postgres, "bench_aggregate"):
        db = make()
        fill.running_experiment(db.engine)
        fill.leads(db.engine, leads)
        fill.deals(db.engine, deals, leads)

        def ours(db: Database = db) -> object:
            with read_session(db.engine) as s:
                return aggregate_metric(
                    s,
                    experiment_id="bench",
                    metric=metric,
                    currency="PLN",
                    arms=["a", "b"],
                    now=now,
                )

        def bare(db: Database = db) -> object:
            return db.scan(sql)

        ours(), bare()  # warm the caches once for both
        bare_seconds = best_of(3, bare)
        ours_seconds = best_of(3, ours)
        results.append(
            Result(
                name=f"per-arm aggregation, {leads:,} leads and {deals:,} deals",
                engine=label,
                figure=ours_seconds,
                unit="s",
                baseline_name="bare SQL GROUP BY",
                baseline=bare_seconds,
                higher_is_better=False,
                target="≤ 1.5× bare",
                met=ours_seconds <= 1.5 * bare_seconds,
            )
        )
        db.engine.dispose()
    return results
