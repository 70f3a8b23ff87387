"""SQLModel tables of the funnel: leads, their typed attributes, assignments, CRM deals
with their history, and import batches with their rejected rows.

Money is stored as integer micro-units (``amount_micros`` = amount × 10⁶, the Google Ads
convention) so sums in SQL are exact; :class:`~decimal.Decimal` at the edges, float only
inside the statistics.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from experiments.clock import Instant

__all__ = [
    "Assignment",
    "Deal",
    "DealHistory",
    "ImportBatch",
    "ImportRejection",
    "Lead",
    "LeadAttribute",
]


class Lead(SQLModel, table=True):
    """The randomised unit: one CRM contact/lead, identified by its external id."""

    __tablename__ = "lead"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=200, unique=True)
    source_system: str = Field(max_length=32)
    campaign: str | None = Field(default=None, max_length=500)
    channel: str | None = Field(default=None, max_length=500)
    landing_page: str | None = Field(default=None, sa_type=Text)
    origin: str | None = Field(default=None, max_length=500)
    first_seen: datetime = Field(sa_type=Instant)
    updated_at: datetime = Field(sa_type=Instant)


class LeadAttribute(SQLModel, table=True):
    """One typed pre-assignment attribute of a lead (lead score, company size, …)."""

    __tablename__ = "lead_attribute"

    lead_id: int = Field(foreign_key="lead.id", primary_key=True)
    name: str = Field(max_length=100, primary_key=True)
    kind: str = Field(max_length=8)  # number | text | bool | date
    number: float | None = None
    text: str | None = Field(default=None, sa_type=Text)


class Assignment(SQLModel, table=True):
    """A lead's arm in one experiment, stored once, with the time it was assigned."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("experiment_id", "lead_id"),
        Index("ix_assignment_experiment_arm", "experiment_id", "arm_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: str = Field(foreign_key="experiment.id", max_length=63)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    arm_key: str = Field(max_length=63)
    assigned_at: datetime = Field(sa_type=Instant)
    method: str = Field(max_length=16)  # "hash-v1", "hash-v2", ... or "imported"
    batch_id: int | None = Field(default=None, foreign_key="import_batch.id")


class Deal(SQLModel, table=True):
    """The current version of one CRM opportunity (upserted by source system + id)."""

    __tablename__ = "deal"
    __table_args__ = (UniqueConstraint("source_system", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source_system: str = Field(max_length=32)
    external_id: str = Field(max_length=200)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    name: str | None = Field(default=None, sa_type=Text)
    amount_micros: int | None = Field(default=None, sa_type=BigInteger)
    currency: str | None = Field(default=None, max_length=3)
    stage: str | None = Field(default=None, max_length=200)
    won: bool = False
    closed: bool = False
    created_at: datetime | None = Field(default=None, sa_type=Instant)
    closed_at: datetime | None = Field(default=None, sa_type=Instant)
    version: int = 1
    updated_at: datetime = Field(sa_type=Instant)
    batch_id: int | None = Field(default=None, foreign_key="import_batch.id")


class DealHistory(SQLModel, table=True):
    """An earlier version of a deal, kept when an import changed it."""

    __tablename__ = "deal_history"

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", index=True)
    version: int
    lead_id: int
    name: str | None = Field(default=None, sa_type=Text)
    amount_micros: int | None = Field(default=None, sa_type=BigInteger)
    currency: str | None = Field(default=None, max_length=3)
    stage: str | None = Field(default=None, max_length=200)
    won: bool = False
    closed: bool = False
    created_at: datetime | None = Field(default=None, sa_type=Instant)
    closed_at: datetime | None = Field(default=None, sa_type=Instant)
    valid_until: datetime = Field(sa_type=Instant)
    batch_id: int | None = Field(default=None, foreign_key="import_batch.id")


class ImportBatch(SQLModel, table=True):
    """One import: the file's SHA-256, what happened to its rows, and who sent it."""

    __tablename__ = "import_batch"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # leads | deals | assignments
    format: str = Field(max_length=16)
    source_system: str = Field(max_length=32)
    filename: str = Field(max_length=500)
    file_sha256: str = Field(max_length=64, index=True)
    idempotency_key: str | None = Field(default=None, max_length=200, unique=True)
    experiment_id: str | None = Field(default=None, max_length=63)
    actor: str = Field(max_length=200)
    started_at: datetime = Field(sa_type=Instant)
    finished_at: datetime | None = Field(default=None, sa_type=Instant)
    rows_total: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0


class ImportRejection(SQLModel, table=True):
    """A row an import refused: where it was, which column, why, and the raw text."""

    __tablename__ = "import_rejection"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="import_batch.id", index=True)
    line: int
    column: str | None = Field(default=None, max_length=200)
    code: str = Field(max_length=32, index=True)
    reason: str = Field(sa_type=Text)
    raw: str = Field(sa_type=Text)
