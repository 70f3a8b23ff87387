"""SQLModel tables of the committee: the hash-chained audit log, looks and decisions.

Looks and decisions are append-only: no code path updates or deletes them, and each
one is chained into the audit log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from experiments.clock import Instant

__all__ = ["ApiKey", "AuditEvent", "DecisionRecord", "Look"]


class AuditEvent(SQLModel, table=True):
    """One append-only audit entry; ``hash`` covers its content and ``prev_hash``."""

    __tablename__ = "audit_event"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_type=Instant)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64, index=True)
    subject: str = Field(max_length=200, index=True)
    payload: str = Field(sa_type=Text)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class Look(SQLModel, table=True):
    """One interim analysis: what it saw (summaries), what it computed, what it decided."""

    __tablename__ = "look"
    __table_args__ = (UniqueConstraint("experiment_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: str = Field(foreign_key="experiment.id", max_length=63, index=True)
    number: int
    at: datetime = Field(sa_type=Instant)
    protocol_version: int
    information_fraction: float
    analysed: bool
    outcome: str = Field(max_length=32)
    rule: str = Field(max_length=64)
    snapshot_sha256: str = Field(max_length=64)
    data: str = Field(sa_type=Text)


class DecisionRecord(SQLModel, table=True):
    """The verdict of a dispute and the self-contained record that recomputes it."""

    __tablename__ = "decision"

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: str = Field(foreign_key="experiment.id", max_length=63, unique=True)
    look_number: int
    verdict: str = Field(max_length=32, index=True)
    winner_arm: str | None = Field(default=None, max_length=63)
    winner_party: str | None = Field(default=None, max_length=63)
    rule: str = Field(max_length=64)
    rationale: str = Field(sa_type=Text)
    record: str = Field(sa_type=Text)
    record_sha256: str = Field(max_length=64)
    audit_head: str = Field(max_length=64)
    decided_at: datetime = Field(sa_type=Instant)


class ApiKey(SQLModel, table=True):
    """An API key: its public prefix, the SHA-256 of its secret, its role and party."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=16)  # committee | team | analyst | ingest
    party: str | None = Field(default=None, max_length=63)
    prefix: str = Field(max_length=16, unique=True)
    secret_sha256: str = Field(max_length=64)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=Instant)
    revoked_at: datetime | None = Field(default=None, sa_type=Instant)
