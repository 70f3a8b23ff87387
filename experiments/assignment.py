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
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlmodel import Session, col, select

from experiments.bulk import chunked, insert_ignore, insert_ignore_returning, table_of
from experiments.crm_tables import Assignment, Lead, LeadAttribute
from experiments.errors import InvalidInput, LifecycleError, NotFound, Problem
from experiments.lifecycle import ALLOWED
from experiments.protocol import parse_protocol

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
    """Insert new leads and refresh the source fields of known ones (in bulk): one
    insert-or-ignore per chunk says which leads are new, and only the others are read.

    Source fields only ever gain information (an empty value never erases a known one).
    Attributes are pre-assignment data: they may be set or changed until the lead's first
    assignment and are frozen afterwards, so that a CUPED covariate can never absorb an
    effect of the treatment; attempted changes are reported, not applied.
    """
    result = LeadUpsert(ids={})
    table = table_of(Lead)
    for chunk in chunked(leads, 2000):
        inserted = insert_ignore_returning(
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
                for lead in chunk
            ],
            ["external_id"],
            ["external_id", "id"],
        )
        result.ids.update({external: int(lead_id) for external, lead_id in inserted})
        result.inserted += len(inserted)
        known = [lead for lead in chunk if lead.external_id not in result.ids]
        if known:
            _refresh_sources(session, known, result, now)
        _upsert_attributes(session, chunk, result)
    return result


def _refresh_sources(
    session: Session, leads: Sequence[LeadInput], result: LeadUpsert, now: datetime
) -> None:
    """Source fields of leads stored before: fill in what is new, note their ids."""
    query = select(Lead).where(col(Lead.external_id).in_([lead.external_id for lead in leads]))
    rows = {row.external_id: row for row in session.exec(query)}
    for lead in leads:
        row = rows[lead.external_id]
        assert row.id is not None
        result.ids[lead.external_id] = row.id
        changes = {
            name: getattr(lead, name)
            for name in SOURCE_FIELDS
            if getattr(lead, name) not in (None, "") and getattr(lead, name) != getattr(row, name)
        }
        if changes:
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = now
            session.add(row)
            result.updated += 1
    session.flush()


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


@dataclass(frozen=True, slots=True)
class _Running:
    arms: tuple[tuple[str, float], ...]
    salt: str
    hash_version: int


@lru_cache(maxsize=256)
def _arm_weights(locked_json: str) -> tuple[tuple[str, float], ...]:
    """(key, weight) of each arm of a locked protocol version, parsed once per version
    (a locked version never changes, so its text is a safe cache key)."""
    protocol = parse_protocol(json.loads(locked_json))
    return tuple((arm.key, arm.weight) for arm in protocol.arms)


_RUNNING = (
    "SELECT e.status, e.salt, e.hash_version, p.canonical_json FROM experiment AS e "
    "LEFT JOIN protocol_version AS p "
    "ON p.experiment_id = e.id AND p.version = e.current_version WHERE e.id = {mark}"
)
"""One constant statement, straight to the driver: a single-lead assignment should
spend its time in the database, not in building and compiling statements."""


def _running(session: Session, experiment_id: str) -> _Running:
    """The arms, salt and hash version of a running experiment, in one query; an
    experiment in any other state refuses assignments."""
    mark = "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"
    row = session.connection().exec_driver_sql(_RUNNING.format(mark=mark), (experiment_id,)).first()
    if row is None:
        raise NotFound("experiment", experiment_id)
    status, salt, version, locked_json = row
    if status != "running" or locked_json is None:
        raise LifecycleError(experiment_id, "assign leads to", status, ALLOWED[status])
    return _Running(_arm_weights(locked_json), salt, version)


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
    running = _running(session, experiment_id)
    ids = known_ids if known_ids is not None else upsert_leads(session, leads, now=now).ids
    lead_ids = [ids[lead.external_id] for lead in leads]
    method = f"hash-v{running.hash_version}"
    rows = [
        {
            "experiment_id": experiment_id,
            "lead_id": lead_id,
            "arm_key": choose_arm(
                running.salt, lead.external_id, running.arms, running.hash_version
            ),
            "assigned_at": now,
            "method": method,
            "batch_id": batch_id,
        }
        for lead, lead_id in zip(leads, lead_ids, strict=True)
    ]
    created = {
        lead_id
        for (lead_id,) in insert_ignore_returning(
            session, table_of(Assignment), rows, ["experiment_id", "lead_id"], ["lead_id"]
        )
    }
    earlier = _stored(session, experiment_id, [i for i in lead_ids if i not in created])
    outcomes = []
    for lead, lead_id, row in zip(leads, lead_ids, rows, strict=True):
        stored = earlier.get(lead_id)
        if stored is None:
            outcome = AssignmentOutcome(lead.external_id, str(row["arm_key"]), now, method, True)
        else:
            outcome = AssignmentOutcome(
                lead.external_id, stored.arm_key, stored.assigned_at, stored.method, False
            )
        outcomes.append(outcome)
    return outcomes


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
    keys = [key for key, _ in _running(session, experiment_id).arms]
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
