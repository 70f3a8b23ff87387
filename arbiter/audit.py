"""The append-only, hash-chained audit log.

Every registration, sign-off, amendment, start/stop, import batch, look and verdict
appends one event. Each event's hash is SHA-256 over the canonical JSON of
``[seq, at, actor, action, subject, payload, prev_hash]``, and ``prev_hash`` is the hash
of the event before it (a chain in the manner of Haber & Stornetta 1991, "How to
time-stamp a digital document"). Editing, deleting, inserting or reordering any event
therefore breaks the chain at that event, and :func:`verify` names it.

A chain cannot by itself reveal that its newest events were cut off; :func:`verify`
reports the head hash so that it can be written down outside the database (a decision
record embeds the head at the time of the verdict, and verification checks that every
head a decision recorded is still in the chain).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from arbiter.tables import AuditEvent
from experiments.clock import to_micros, utcnow

__all__ = ["GENESIS", "AuditReport", "append", "event_hash", "head", "verify"]

GENESIS = "0" * 64
_LOCK_KEY = 0x417262697465  # PostgreSQL advisory lock serialising appends ("Arbite")


def _canonical(value: Any) -> str:
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=str,
    )


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    payload: str,
    prev_hash: str,
) -> str:
    """SHA-256 of the canonical JSON of the event's fields and its predecessor's hash."""
    material = _canonical([seq, to_micros(at), actor, action, subject, payload, prev_hash])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def head(session: Session) -> AuditEvent | None:
    """The newest event, or None for an empty log."""
    return session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)).first()


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    payload: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (which must be a write transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = head(session)
    seq = 1 if last is None else last.seq + 1
    prev = GENESIS if last is None else last.hash
    moment = at or utcnow()
    body = _canonical(dict(payload or {}))
    event = AuditEvent(
        seq=seq,
        at=moment,
        actor=actor,
        action=action,
        subject=subject,
        payload=body,
        prev_hash=prev,
        hash=event_hash(
            seq=seq,
            at=moment,
            actor=actor,
            action=action,
            subject=subject,
            payload=body,
            prev_hash=prev,
        ),
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What :func:`verify` found."""

    events: int
    head_hash: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems


def verify(session: Session, *, anchors: Iterable[str] = ()) -> AuditReport:
    """Recompute the chain and name every event that was edited, deleted, inserted or moved.

    ``anchors`` are head hashes recorded elsewhere (decision records); each must still be
    in the chain, otherwise events were cut from its end.
    """
    problems: list[str] = []
    expected_seq = 1
    prev = GENESIS
    count = 0
    seen: set[str] = set()
    query = select(AuditEvent).order_by(col(AuditEvent.seq)).execution_options(yield_per=2000)
    for event in session.exec(query):
        count += 1
        if event.seq != expected_seq:
            problems.append(
                f"events {expected_seq}..{event.seq - 1} are missing (deleted)"
                if event.seq > expected_seq
                else f"event {event.seq} is out of order"
            )
        if event.prev_hash != prev:
            problems.append(
                f"event {event.seq} ({event.action} {event.subject}) does not follow the event "
                "before it: an event was deleted, inserted or reordered here"
            )
        recomputed = event_hash(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            payload=event.payload,
            prev_hash=event.prev_hash,
        )
        if recomputed != event.hash:
            problems.append(
                f"event {event.seq} ({event.action} {event.subject}) was edited: its content "
                "no longer matches its hash"
            )
        seen.add(event.hash)
        prev = event.hash
        expected_seq = event.seq + 1
    for anchor in anchors:
        if anchor and anchor not in seen:
            problems.append(
                f"the chain no longer contains head {anchor[:12]}… recorded by a decision: "
                "events were removed from its end"
            )
    return AuditReport(count, prev, problems)
