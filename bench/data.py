"""Synthetic CRM data for the benchmarks: leads and deals written as generic CSV, and
experiments populated through Arbiter's own services."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def deals_csv(n: int, leads: int, seed: int = 1) -> bytes:
    """``n`` generic-format deal rows over ``leads`` leads, about 30 % won."""
    rng = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            "deal_id",
            "lead_id",
            "amount",
            "currency",
            "won",
            "closed",
            "created_at",
            "closed_at",
            "stage",
            "name",
        ]
    )
    for i in range(n):
        created = T0 + timedelta(minutes=rng.randint(0, 60 * 24 * 120))
        closed = created + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        won = rng.random() < 0.3
        w.writerow(
            [
                f"D{i}",
                f"L{rng.randrange(leads)}",
                f"{rng.lognormvariate(7, 1):.2f}",
                "PLN",
                "true" if won else "false",
                "true" if won or rng.random() < 0.5 else "false",
                created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                closed.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "won" if won else "open",
                f"deal {i}",
            ]
        )
    return out.getvalue().encode()
