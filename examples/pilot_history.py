"""Write a seeded history for the pilot dispute of the API walkthrough (docs/api.md).

    python examples/pilot_history.py [--out DIR] [--leads N] [--seed S]

writes the bodies of ``POST /v1/leads`` and ``POST /v1/deals`` for two CRM syncs:
``leads-1.json``/``deals-1.json`` (the first half of the leads) and
``leads-2.json``/``deals-2.json`` (the second half). The leads were assigned over five
weeks ending ten days ago, so their 7-day windows have closed; each has a pre-assignment
lead score, and the arms alternate in a shuffled order. The deals are what a CRM would
report for them: cold calls win more often than webinars, with lognormal amounts. The
numbers are simulated, not real data.
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

EXPERIMENT = "pilot-follow-up"
CONVERSION = {"webinar": 0.14, "cold-call": 0.21}
MEDIAN_AMOUNT = 1800.0


def history(leads: int, seed: int, now: datetime) -> tuple[list[dict[str, Any]], ...]:
    """The lead and deal records (JSON-ready) of ``leads`` simulated leads, in the order
    they were assigned."""
    rng = np.random.default_rng(seed)
    arms = np.array(["webinar", "cold-call"])[rng.permutation(leads) % 2]
    first = now - timedelta(days=45)
    offsets = np.sort(rng.integers(0, 35 * 24 * 60, size=leads))
    lead_rows, deal_rows = [], []
    for i, (arm, minutes) in enumerate(zip(arms, offsets, strict=True)):
        assigned = first + timedelta(minutes=int(minutes))
        score = int(np.clip(rng.normal(50, 20), 0, 100))
        lead_id = f"crm-{i:05d}"
        lead_rows.append(
            {
                "lead_id": lead_id,
                "arm": str(arm),
                "campaign": "pilot",
                "assigned_at": assigned.isoformat(),
                "attributes": {"lead_score": score},
            }
        )
        logit = math.log(CONVERSION[arm] / (1 - CONVERSION[arm])) + 0.6 * (score - 50) / 20
        won = bool(rng.random() < 1 / (1 + math.exp(-logit)))
        if not won and rng.random() < 0.6:
            continue  # most lost leads never become a deal in the CRM
        created = assigned + timedelta(hours=float(rng.uniform(1, 48)))
        closed = created + timedelta(days=float(rng.uniform(0, 4)))
        amount = MEDIAN_AMOUNT * math.exp(0.6 * float(rng.normal())) if won else MEDIAN_AMOUNT
        deal_rows.append(
            {
                "deal_id": f"opp-{i:05d}",
                "lead_id": lead_id,
                "amount": f"{amount:.2f}",
                "currency": "PLN",
                "won": won,
                "closed": True,
                "created_at": created.isoformat(),
                "closed_at": closed.isoformat(),
            }
        )
    return lead_rows, deal_rows


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the pilot dispute's CRM history.")
    parser.add_argument("--out", type=Path, default=Path("."))
    parser.add_argument("--leads", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    leads, deals = history(args.leads, args.seed, now)
    half = len(leads) // 2
    parts = {1: {f"crm-{i:05d}" for i in range(half)}}
    args.out.mkdir(parents=True, exist_ok=True)
    for part in (1, 2):

        def mine(lead_id: str, part: int = part) -> bool:
            return (lead_id in parts[1]) == (part == 1)

        body = {"experiment_id": EXPERIMENT, "leads": [r for r in leads if mine(r["lead_id"])]}
        (args.out / f"leads-{part}.json").write_text(json.dumps(body, indent=1))
        sync = {"deals": [d for d in deals if mine(d["lead_id"])]}
        (args.out / f"deals-{part}.json").write_text(json.dumps(sync, indent=1))
        print(f"sync {part}: {len(body['leads'])} leads and {len(sync['deals'])} deals")


if __name__ == "__main__":
    main()
