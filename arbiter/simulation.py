"""A realistic simulated dispute, for the demo and the end-to-end tests.

Leads arrive every day (fewer at weekends), each with a pre-assignment lead score; they
are assigned through Arbiter's own hash assignment. A lead converts with its arm's
probability, shifted by its score (so CUPED has something to work with); a won deal
closes after a gamma-distributed delay (median about two weeks, long tail) with a
lognormal amount (heavy right tail); a lost deal closes too. Deals reach Arbiter only
once closed, through a daily CRM sync that imports them. Broken randomisation can be
simulated by losing a share of one arm's leads before they are recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.engine import Engine

from arbiter import ingest
from arbiter.db import write_session
from experiments.assignment import LeadInput, choose_arm
from experiments.lifecycle import current_protocol, get_experiment

__all__ = ["ArmTruth", "Scenario", "Simulation"]


@dataclass(frozen=True, slots=True)
class ArmTruth:
    """The true behaviour of one arm."""

    conversion: float
    median_amount: float = 4000.0
    amount_sigma: float = 1.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """How leads and deals are generated."""

    truths: Mapping[str, ArmTruth]
    leads_per_weekday: int = 120
    weekend_factor: float = 0.35
    lost_share: float = 0.5
    close_shape: float = 1.2
    close_scale_days: float = 14.0
    score_effect: float = 0.7
    drop_share: Mapping[str, float] = field(default_factory=dict)
    seed: int = 7


class Simulation:
    """Drives one running dispute day by day through Arbiter's own services."""

    def __init__(self, engine: Engine, experiment_id: str, scenario: Scenario, start: datetime):
        self.engine, self.experiment_id, self.scenario, self.start = (
            engine,
            experiment_id,
            scenario,
            start,
        )
        self.rng = np.random.default_rng(scenario.seed)
        self.pending: list[tuple[datetime, dict[str, object]]] = []
        self.counter = 0
        with write_session(engine) as session:
            experiment = get_experiment(session, experiment_id)
            protocol = current_protocol(session, experiment)
            self.salt, self.currency = experiment.salt, protocol.currency
            self.arms = [(a.key, a.weight) for a in protocol.arms]

    def day(self, index: int, on_import: Callable[[int], None] | None = None) -> int:
        """Simulate day ``index`` (0 = the start): new leads, then the CRM sync of every
        deal closed by the end of the day. Returns the number of leads assigned."""
        sc, rng = self.scenario, self.rng
        today = self.start + timedelta(days=index)
        weekend = today.weekday() >= 5
        count = int(rng.poisson(sc.leads_per_weekday * (sc.weekend_factor if weekend else 1.0)))
        leads: list[LeadInput] = []
        scores: list[float] = []
        for _ in range(count):
            self.counter += 1
            external = f"sim-{self.counter:07d}"
            arm = choose_arm(self.salt, external, self.arms)
            if rng.random() < sc.drop_share.get(arm, 0.0):
                continue  # a broken integration loses this lead before it is recorded
            score = float(np.clip(rng.normal(50, 20), 0, 100))
            arrived = today + timedelta(minutes=int(rng.integers(8 * 60, 20 * 60)))
            leads.append(
                LeadInput(
                    external,
                    source_system="simulation",
                    campaign="dispute",
                    first_seen=arrived,
                    attributes={"lead_score": round(score)},
                )
            )
            scores.append(float(round(score)))
        assigned = 0
        if leads:
            with write_session(self.engine) as session:
                outcomes = ingest.assign(
                    session,
                    experiment_id=self.experiment_id,
                    leads=leads,
                    now=today + timedelta(hours=8),
                )
            assigned = len(outcomes)
            for score, outcome in zip(scores, outcomes, strict=True):
                self._deal(outcome.lead_external_id, outcome.arm, outcome.assigned_at, score)
        self._sync(today + timedelta(days=1), on_import)
        return assigned

    def _deal(self, lead: str, arm: str, assigned: datetime, score: float) -> None:
        sc, rng = self.scenario, self.rng
        truth = sc.truths[arm]
        logit = math.log(truth.conversion / (1 - truth.conversion))
        p = 1 / (1 + math.exp(-(logit + sc.score_effect * (score - 50) / 20)))
        created = assigned + timedelta(hours=float(rng.uniform(2, 72)))
        delay = timedelta(days=float(rng.gamma(sc.close_shape, sc.close_scale_days)))
        if rng.random() < p:
            amount = truth.median_amount * math.exp(truth.amount_sigma * float(rng.normal()))
            deal = {"won": True, "amount": f"{amount:.2f}"}
        elif rng.random() < sc.lost_share:
            deal = {"won": False, "amount": f"{truth.median_amount:.2f}"}
        else:
            return
        closed = created + delay
        self.pending.append(
            (
                closed,
                {
                    "deal_id": f"deal-{lead}",
                    "lead_id": lead,
                    "currency": self.currency,
                    "closed": True,
                    "created_at": created.isoformat(),
                    "closed_at": closed.isoformat(),
                    "stage": "won" if deal["won"] else "lost",
                    **deal,
                },
            )
        )

    def _sync(self, until: datetime, on_import: Callable[[int], None] | None) -> None:
        ready = [d for closed, d in self.pending if closed <= until]
        self.pending = [(c, d) for c, d in self.pending if c > until]
        if not ready:
            return
        with write_session(self.engine) as session:
            ingest.import_deal_json(
                session, records=ready, source_system="crm-sync", actor="simulation", now=until
            )
        if on_import is not None:
            on_import(len(ready))
