"""Looks: the one use case that analyses a running dispute (CLI and API both call it).

A look happens in two transactions:

1. **observe** — in one read transaction, a consistent snapshot (SQLite WAL read
   transaction; PostgreSQL ``REPEATABLE READ``): the per-arm summaries of every metric
   over the mature leads, the assignment counts, the data age, and the stored looks
   before it. Deals arriving meanwhile are either wholly in the snapshot or wholly out.
   :func:`arbiter.verdict.decide` then decides on that snapshot alone;
2. **record** — in one write transaction: the look (append-only), its audit event, and,
   when the look decides the dispute, the decision record, the verdict's audit event and
   the dispute's move to ``decided``. If another look was recorded in between, nothing
   is written and the caller is told to look again.

``run_due_looks`` runs every look whose time has come by the protocol's cadence
(daily/weekly), so one cron line keeps disputes moving.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from arbiter import audit
from arbiter.db import read_session, retry_locked, write_session
from arbiter.rationale import LANGUAGES, rationale
from arbiter.records import build_record
from arbiter.serial import canonical, decision_to_json, digest, look_from_json, look_to_json
from arbiter.tables import DecisionRecord, Look
from arbiter.verdict import LookDecision, LookInput, MetricSnapshot, decide
from experiments import lifecycle
from experiments.bulk import table_of
from experiments.clock import utcnow
from experiments.crm_tables import Assignment, Deal
from experiments.errors import AlreadyExists, LifecycleError
from experiments.metrics import aggregate_metric
from experiments.protocol import Protocol
from experiments.tables import Experiment

__all__ = ["LookOutcome", "list_looks", "observe", "run_due_looks", "run_look"]

CADENCE = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


@dataclass
class Observation:
    """Everything a look saw and decided, before it is recorded."""

    experiment_id: str
    protocol: Protocol
    protocol_version: int
    number: int
    input: LookInput
    decision: LookDecision
    watermarks: dict[str, Any]
    snapshot_sha256: str


@dataclass
class LookOutcome:
    """A recorded look and, if it decided the dispute, its decision record."""

    look: Look
    decision: LookDecision
    rationale: dict[str, str]
    record: DecisionRecord | None

    def as_dict(self, language: str | None = None) -> dict[str, Any]:
        """A JSON-ready view of the look and its decision."""
        data = json.loads(self.look.data)
        return {
            "experiment_id": self.look.experiment_id,
            "look": self.look.number,
            "at": self.look.at.isoformat().replace("+00:00", "Z"),
            "information_fraction": self.look.information_fraction,
            "analysed": self.look.analysed,
            "outcome": self.look.outcome,
            "rule": self.look.rule,
            "snapshot_sha256": self.look.snapshot_sha256,
            "decision": data["decision"],
            "rationale": self.rationale if language is None else self.rationale[language],
            "verdict": None
            if self.record is None
            else {
                "kind": self.record.verdict,
                "winner_arm": self.record.winner_arm,
                "winner_party": self.record.winner_party,
                "rule": self.record.rule,
                "record_sha256": self.record.record_sha256,
            },
        }


def _stored(session: Session, experiment_id: str) -> list[Look]:
    query = select(Look).where(col(Look.experiment_id) == experiment_id).order_by(col(Look.number))
    return list(session.scalars(query))


def _snapshot(
    session: Session, experiment: Experiment, protocol: Protocol, now: datetime, metric_index: str
) -> MetricSnapshot:
    metric = (
        protocol.primary if metric_index == "primary" else protocol.guardrails[int(metric_index)]
    )
    aggregate = aggregate_metric(
        session,
        experiment_id=experiment.id,
        metric=metric,
        currency=protocol.currency,
        arms=[a.key for a in protocol.arms],
        now=now,
    )
    covariates = None
    if metric.covariate is not None:
        covariates = {k: v.covariate for k, v in aggregate.arms.items() if v.covariate is not None}
    return MetricSnapshot(
        arms={k: v.summary for k, v in aggregate.arms.items()},
        covariates=covariates,
        cap=aggregate.cap,
    )


def _watermarks(session: Session, experiment_id: str) -> dict[str, Any]:
    a, d = table_of(Assignment), table_of(Deal)
    assignments = session.execute(
        select(func.count(), func.max(a.c.id), func.max(a.c.assigned_at)).where(
            a.c.experiment_id == experiment_id
        )
    ).one()
    deals = session.execute(
        select(func.count(), func.max(d.c.id), func.max(d.c.updated_at))
        .select_from(d.join(a, a.c.lead_id == d.c.lead_id))
        .where(a.c.experiment_id == experiment_id)
    ).one()
    latest = [v for v in (assignments[2], deals[2]) if v is not None]
    return {
        "assignments": int(assignments[0]),
        "max_assignment_id": assignments[1],
        "deals": int(deals[0]),
        "max_deal_id": deals[1],
        "latest_data": max(latest).isoformat().replace("+00:00", "Z") if latest else None,
    }


def observe(session: Session, experiment_id: str, now: datetime) -> Observation:
    """Read one consistent snapshot and decide on it (nothing is written)."""
    experiment = lifecycle.get_experiment(session, experiment_id)
    if experiment.status != "running":
        raise LifecycleError(
            experiment_id, "run a look on", experiment.status, lifecycle.ALLOWED[experiment.status]
        )
    protocol = lifecycle.current_protocol(session, experiment)
    assert experiment.started_at is not None
    previous = _stored(session, experiment_id)
    history = [look_from_json(json.loads(p.data)["input"]) for p in previous]
    primary = _snapshot(session, experiment, protocol, now, "primary")
    guardrails = {
        str(i): _snapshot(session, experiment, protocol, now, str(i))
        for i in range(len(protocol.guardrails))
    }
    a = table_of(Assignment)
    assigned = dict(
        session.execute(
            select(a.c.arm_key, func.count())
            .where(a.c.experiment_id == experiment_id)
            .group_by(a.c.arm_key)
        ).all()
    )
    watermarks = _watermarks(session, experiment_id)
    elapsed = (now - experiment.started_at).total_seconds() / 86_400
    limits = protocol.limits
    if limits.max_sample:
        fraction = primary.n / limits.max_sample
    elif limits.max_duration_days:
        fraction = elapsed / limits.max_duration_days
    else:
        fraction = 0.0
    analysed_before = [h for h in history if h.analysed]
    last_n = analysed_before[-1].primary.n if analysed_before else 0
    last_fraction = analysed_before[-1].information_fraction if analysed_before else 0.0
    analysed = primary.n > last_n and min(last_fraction, 1.0) < 1.0 and fraction > 0
    latest = watermarks["latest_data"]
    age = (
        None if latest is None else (now - datetime.fromisoformat(latest)).total_seconds() / 86_400
    )
    current = LookInput(
        number=len(previous) + 1,
        at=now,
        information_fraction=fraction,
        analysed=analysed,
        primary=primary,
        guardrails=guardrails,
        assigned={k.key: int(assigned.get(k.key, 0)) for k in protocol.arms},
        elapsed_days=elapsed,
        data_age_days=age,
    )
    decision = decide(protocol, [*history, current])
    snapshot = digest(
        {"experiment": experiment_id, "input": look_to_json(current), "watermarks": watermarks}
    )
    return Observation(
        experiment_id,
        protocol,
        experiment.current_version,
        current.number,
        current,
        decision,
        watermarks,
        snapshot,
    )


def _record(session: Session, observation: Observation, actor: str) -> LookOutcome:
    experiment = lifecycle.get_experiment(session, observation.experiment_id)
    if experiment.status != "running":
        raise LifecycleError(
            experiment.id, "run a look on", experiment.status, lifecycle.ALLOWED[experiment.status]
        )
    count = session.execute(
        select(func.count()).select_from(Look).where(col(Look.experiment_id) == experiment.id)
    ).scalar_one()
    if (
        count != observation.number - 1
        or experiment.current_version != observation.protocol_version
    ):
        raise AlreadyExists(
            f"another look or an amendment of {experiment.id!r} was recorded while this one was "
            "computed; run the look again."
        )
    look_json = look_to_json(observation.input)
    decision_json = decision_to_json(observation.decision)
    texts = {
        lang: rationale(observation.protocol, decision_json, look_json, lang) for lang in LANGUAGES
    }
    look = Look(
        experiment_id=experiment.id,
        number=observation.number,
        at=observation.input.at,
        protocol_version=observation.protocol_version,
        information_fraction=observation.input.information_fraction,
        analysed=observation.input.analysed,
        outcome=observation.decision.outcome,
        rule=observation.decision.rule,
        snapshot_sha256=observation.snapshot_sha256,
        data=canonical(
            {
                "input": look_json,
                "decision": decision_json,
                "rationale": texts,
                "watermarks": observation.watermarks,
            }
        ),
    )
    session.add(look)
    session.flush()
    event = audit.append(
        session,
        actor=actor,
        action="look",
        subject=experiment.id,
        at=observation.input.at,
        payload={
            "number": look.number,
            "outcome": look.outcome,
            "rule": look.rule,
            "snapshot_sha256": look.snapshot_sha256,
        },
    )
    record_row = None
    if observation.decision.is_verdict:
        record = build_record(
            session, experiment.id, decided_at=observation.input.at, audit_head=event.hash
        )
        winner = observation.decision.winner
        record_row = DecisionRecord(
            experiment_id=experiment.id,
            look_number=look.number,
            verdict=observation.decision.outcome,
            winner_arm=winner,
            winner_party=observation.protocol.arm(winner).party if winner else None,
            rule=observation.decision.rule,
            rationale=canonical(texts),
            record=canonical(record),
            record_sha256=digest(record),
            audit_head=event.hash,
            decided_at=observation.input.at,
        )
        session.add(record_row)
        lifecycle.mark_decided(session, experiment_id=experiment.id, now=observation.input.at)
        audit.append(
            session,
            actor=actor,
            action="verdict",
            subject=experiment.id,
            at=observation.input.at,
            payload={
                "verdict": record_row.verdict,
                "winner": winner,
                "rule": record_row.rule,
                "record_sha256": record_row.record_sha256,
            },
        )
        session.flush()
    return LookOutcome(look, observation.decision, texts, record_row)


def run_look(
    engine: Engine, experiment_id: str, *, actor: str, now: datetime | None = None
) -> LookOutcome:
    """Run one look now (or at ``now``) and record it (see the module doc)."""
    moment = now or utcnow()

    def attempt() -> LookOutcome:
        with read_session(engine) as session:
            observation = observe(session, experiment_id, moment)
        with write_session(engine) as session:
            return _record(session, observation, actor)

    return retry_locked(attempt)


def run_due_looks(engine: Engine, *, actor: str, now: datetime | None = None) -> list[LookOutcome]:
    """Run a look for every running dispute whose cadence says one is due."""
    moment = now or utcnow()
    with read_session(engine) as session:
        running = lifecycle.list_experiments(session, status="running", limit=100_000)
        due = []
        for experiment in running:
            protocol = lifecycle.current_protocol(session, experiment)
            last = session.execute(
                select(func.max(Look.at)).where(col(Look.experiment_id) == experiment.id)
            ).scalar_one()
            since = last if last is not None else experiment.started_at
            last_at = since if isinstance(since, datetime) else None
            if last_at is None or moment - last_at >= CADENCE[protocol.design.cadence]:
                due.append(experiment.id)
    return [run_look(engine, experiment_id, actor=actor, now=moment) for experiment_id in due]


def list_looks(session: Session, experiment_id: str) -> list[dict[str, Any]]:
    """Every stored look of a dispute, oldest first."""
    lifecycle.get_experiment(session, experiment_id)
    out = []
    for look in _stored(session, experiment_id):
        data = json.loads(look.data)
        out.append(
            {
                "look": look.number,
                "at": look.at.isoformat().replace("+00:00", "Z"),
                "information_fraction": look.information_fraction,
                "analysed": look.analysed,
                "outcome": look.outcome,
                "rule": look.rule,
                "snapshot_sha256": look.snapshot_sha256,
                "protocol_version": look.protocol_version,
                "decision": data["decision"],
                "rationale": data["rationale"],
            }
        )
    return out
