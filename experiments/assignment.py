"""Assignment of leads to arms.

By hash: a lead's position u ∈ [0, 1) is a pure function of the experiment's salt and
the lead's external id, versioned so that changing the algorithm can never reshuffle a
running test (the version is stored on the experiment when it is created):

* ``hash-v1``: u = first 8 bytes of SHA-256("{salt}:{lead id}") as a big-endian integer
  / 2⁶⁴; the arm is the first whose cumulative normalised weight exceeds u (arms in
  protocol order). ``tests/experiments/assignment_vectors.json`` pins it.

Imported: pre-made assignments from an external system (CRM campaign membership) keep
their original time and are checked against the protocol's arms.

Either way an assignment is stored once per (experiment, lead): a concurrent request
for the same lead inserts nothing and reads back the stored arm.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from experiments.bulk import chunked, insert_ignore, table_of
from experiments.crm_tables import Assignment, Lead, LeadAttribute
from experiments.errors import InvalidInput, LifecycleError, Problem
from experiments.lifecycle import ALLOWED, current_protocol, get_experiment
from experiments.protocol import Protocol

__all__ = [
    "HASH_VERSIONS",
    "AssignmentOutcome",
    "LeadInput",
    "LeadUpsert",
    "PremadeAssignment",
    "assign_leads",
    "assignment_of",
    "bucket",
    "choose_arm",
    "record_assignments",
    "upsert_leads",
]


def _bucket_v1(salt: str, lead_id: str) -> float:
    digest = hashlib.sha256(f"{salt}:{lead_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


HASH_VERSIONS: dict[int, Callable[[str, str], float]] = {1: _bucket_v1}


def bucket(salt: str, lead_id: str, version: int = 1) -> float:
    """The lead's position in [0, 1) under hash ``version``."""
    try:
        return HASH_VERSIONS[version](salt, lead_id)
    except KeyError:
        raise ValueError(f"unknown assignment hash version {version}") from None


def choose_arm(salt: str, lead_id: str, arms: Sequence[tuple[str, float]], version: int = 1) -> str:
    """The arm for ``lead_id``: weights are normalised and laid out in order on [0, 1)."""
    u = bucket(salt, lead_id, version)
    total = sum(w for _, w in arms)
    cumulative = 0.0
    for key, weight in arms:
        cumulative += weight / total
        if u < cumulative:
            return key
    return arms[-1][0]


AttributeValue = float | int | bool | str | datetime


@dataclass(frozen=True, slots=True)
class LeadInput:
    """A lead as it arrives: its external id, source fields and pre-assignment attributes."""

    external_id: str
    source_system: str = "api"
    campaign: str | None = None
    channel: str | None = None
    landing_page: str | None = None
    origin: str | None = None
    first_seen: datetime | None = None
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AssignmentOutcome:
    """Where a lead landed, and whether this call created the assignment."""

    lead_external_id: str
    arm: str
    assigned_at: datetime
    method: str
    created: bool


def _typed(value: AttributeValue) -> tuple[str, float | None, str | None]:
    if isinstance(value, bool):
        return "bool", 1.0 if value else 0.0, "true" if value else "false"
    if isinstance(value, int | float):
        return "number", float(value), None
    if isinstance(value, datetime):
        return "date", value.timestamp(), value.isoformat()
    return "text", None, str(value)


@dataclass
class LeadUpsert:
    """Ids of the leads by external id, and what the upsert did."""

    ids: dict[str, int]
    inserted: int = 0
    updated: int = 0
    frozen_attributes: list[str] = field(default_factory=list)


SOURCE_FIELDS = ("campaign", "channel", "landing_page", "origin")


def upsert_leads(session: Session, leads: Sequence[LeadInput], *, now: datetime) -> LeadUpsert:
    """Insert new leads and refresh the source fields of known ones (in bulk).

    Source fields only ever gain information (an empty value never erases a known one).
    Attributes are pre-assignment data: they may be set or changed until the lead's first
    assignment and are frozen afterwards, so that a CUPED covariate can never absorb an
    effect of the treatment; attempted changes are reported, not applied.
    """
    result = LeadUpsert(ids={})
    table = table_of(Lead)
    for chunk in chunked(leads, 2000):
        external = [lead.external_id for lead in chunk]
        known = {
            row.external_id: row
            for row in session.exec(select(Lead).where(col(Lead.external_id).in_(external)))
        }
        fresh = [lead for lead in chunk if lead.external_id not in known]
        insert_ignore(
            session,
            table,
            [
                {
                    "external_id": lead.external_id,
                    "source_system": lead.source_system,
                    "campaign": lead.campaign,
                    "channel": lead.channel,
                    "landing_page": lead.landing_page,
                    "origin": lead.origin,
                    "first_seen": lead.first_seen or now,
                    "updated_at": now,
                }
                for lead in fresh
            ],
            ["external_id"],
        )
        result.inserted += len(fresh)
        for lead in chunk:
            row = known.get(lead.external_id)
            if row is None:
                continue
            changes = {
                name: getattr(lead, name)
                for name in SOURCE_FIELDS
                if getattr(lead, name) not in (None, "")
                and getattr(lead, name) != getattr(row, name)
            }
            if changes:
                for name, value in changes.items():
                    setattr(row, name, value)
                row.updated_at = now
                session.add(row)
                result.updated += 1
        session.flush()
        ids = dict(
            session.exec(
                select(Lead.external_id, Lead.id).where(col(Lead.external_id).in_(external))
            ).all()
        )
        result.ids.update({k: int(v) for k, v in ids.items() if v is not None})
        _upsert_attributes(session, chunk, result)
    return result


def _upsert_attributes(session: Session, chunk: Sequence[LeadInput], result: LeadUpsert) -> None:
    wanted = [(lead, name, value) for lead in chunk for name, value in lead.attributes.items()]
    if not wanted:
        return
    lead_ids = sorted({result.ids[lead.external_id] for lead, _, _ in wanted})
    assigned = set(
        session.exec(select(Assignment.lead_id).where(col(Assignment.lead_id).in_(lead_ids))).all()
    )
    existing = {
        (a.lead_id, a.name): a
        for a in session.exec(select(LeadAttribute).where(col(LeadAttribute.lead_id).in_(lead_ids)))
    }
    for lead, name, value in wanted:
        lead_id = result.ids[lead.external_id]
        kind, number, text = _typed(value)
        current = existing.get((lead_id, name))
        if current is not None and (current.kind, current.number, current.text) == (
            kind,
            number,
            text,
        ):
            continue
        if lead_id in assigned:
            result.frozen_attributes.append(f"{lead.external_id}.{name}")
            continue
        if current is None:
            current = LeadAttribute(lead_id=lead_id, name=name, kind=kind)
            existing[(lead_id, name)] = current
        current.kind, current.number, current.text = kind, number, text
        session.add(current)
    session.flush()


def _running_protocol(session: Session, experiment_id: str) -> tuple[Protocol, str, int]:
    experiment = get_experiment(session, experiment_id)
    if experiment.status != "running":
        raise LifecycleError(
            experiment_id, "assign leads to", experiment.status, ALLOWED[experiment.status]
        )
    return current_protocol(session, experiment), experiment.salt, experiment.hash_version


def _stored(session: Session, experiment_id: str, lead_ids: Sequence[int]) -> dict[int, Assignment]:
    out: dict[int, Assignment] = {}
    for chunk in chunked(lead_ids, 2000):
        query = select(Assignment).where(
            Assignment.experiment_id == experiment_id, col(Assignment.lead_id).in_(chunk)
        )
        out.update({a.lead_id: a for a in session.exec(query)})
    return out


def assign_leads(
    session: Session,
    *,
    experiment_id: str,
    leads: Sequence[LeadInput],
    now: datetime,
    batch_id: int | None = None,
    known_ids: Mapping[str, int] | None = None,
) -> list[AssignmentOutcome]:
    """Assign leads of a running experiment by hash (bulk). A lead that already has an
    assignment keeps it; the outcome says whether this call created it. ``known_ids``
    skips the lead upsert when the caller has just done it."""
    protocol, salt, version = _running_protocol(session, experiment_id)
    arms = [(a.key, a.weight) for a in protocol.arms]
    ids = known_ids if known_ids is not None else upsert_leads(session, leads, now=now).ids
    lead_ids = [ids[lead.external_id] for lead in leads]
    before = _stored(session, experiment_id, lead_ids)
    method = f"hash-v{version}"
    insert_ignore(
        session,
        table_of(Assignment),
        [
            {
                "experiment_id": experiment_id,
                "lead_id": lead_id,
                "arm_key": choose_arm(salt, lead.external_id, arms, version),
                "assigned_at": now,
                "method": method,
                "batch_id": batch_id,
            }
            for lead, lead_id in zip(leads, lead_ids, strict=True)
            if lead_id not in before
        ],
        ["experiment_id", "lead_id"],
    )
    after = _stored(session, experiment_id, lead_ids)
    return [
        AssignmentOutcome(
            lead.external_id,
            after[lead_id].arm_key,
            after[lead_id].assigned_at,
            after[lead_id].method,
            lead_id not in before,
        )
        for lead, lead_id in zip(leads, lead_ids, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class PremadeAssignment:
    """An assignment made elsewhere (e.g. CRM campaign membership)."""

    lead: LeadInput
    arm: str
    assigned_at: datetime


def record_assignments(
    session: Session,
    *,
    experiment_id: str,
    rows: Sequence[PremadeAssignment],
    now: datetime,
    batch_id: int | None = None,
    known_ids: Mapping[str, int] | None = None,
) -> list[AssignmentOutcome | Problem]:
    """Record pre-made assignments, one outcome or problem per row (in order).

    A row is refused when its arm is not one of the protocol's arms, its time lies in
    the future, or the lead already has a different assignment in this experiment.
    """
    protocol, _, _ = _running_protocol(session, experiment_id)
    keys = [a.key for a in protocol.arms]
    ids = (
        known_ids
        if known_ids is not None
        else upsert_leads(session, [r.lead for r in rows], now=now).ids
    )
    lead_ids = [ids[r.lead.external_id] for r in rows]
    before = _stored(session, experiment_id, lead_ids)
    pending: list[dict[str, object]] = []
    out: list[AssignmentOutcome | Problem] = []
    claimed: dict[int, str] = {}
    for row, lead_id in zip(rows, lead_ids, strict=True):
        if row.arm not in keys:
            out.append(
                Problem("arm", f"{row.arm!r} is not an arm of {experiment_id} ({', '.join(keys)})")
            )
            continue
        if row.assigned_at > now:
            out.append(Problem("assigned_at", "lies in the future"))
            continue
        stored = before.get(lead_id)
        if stored is not None:
            if stored.arm_key != row.arm:
                out.append(
                    Problem(
                        "arm",
                        f"lead {row.lead.external_id!r} is already in arm "
                        f"{stored.arm_key!r}; an assignment is stored once",
                    )
                )
            else:
                out.append(
                    AssignmentOutcome(
                        row.lead.external_id,
                        stored.arm_key,
                        stored.assigned_at,
                        stored.method,
                        False,
                    )
                )
            continue
        if lead_id in claimed and claimed[lead_id] != row.arm:
            out.append(
                Problem("arm", f"lead {row.lead.external_id!r} appears twice with different arms")
            )
            continue
        claimed[lead_id] = row.arm
        pending.append(
            {
                "experiment_id": experiment_id,
                "lead_id": lead_id,
                "arm_key": row.arm,
                "assigned_at": row.assigned_at,
                "method": "imported",
                "batch_id": batch_id,
            }
        )
        out.append(
            AssignmentOutcome(row.lead.external_id, row.arm, row.assigned_at, "imported", True)
        )
    insert_ignore(
        session,
        table_of(Assignment),
        pending,
        ["experiment_id", "lead_id"],
    )
    return out


def assignment_of(session: Session, experiment_id: str, external_id: str) -> Assignment | None:
    """The stored assignment of one lead, if any."""
    query = (
        select(Assignment)
        .join(Lead, col(Lead.id) == col(Assignment.lead_id))
        .where(Assignment.experiment_id == experiment_id, Lead.external_id == external_id)
    )
    return session.exec(query).first()


def require_problems_free(outcomes: Sequence[AssignmentOutcome | Problem]) -> None:
    """Raise if any pre-made assignment was refused (for callers that need all or none)."""
    problems = [p for p in outcomes if isinstance(p, Problem)]
    if problems:
        raise InvalidInput("some assignments were refused", problems)
