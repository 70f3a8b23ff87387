"""SQLModel tables of the domain: experiments, protocol versions and sign-offs.

Instants are :class:`experiments.clock.Instant` columns (UTC datetimes in Python,
integer microseconds in SQL). Table classes are persistence only; the wire schemas of
the HTTP API live in ``api/schemas.py`` so the contract can change without a migration.
Leads, assignments and deals live in :mod:`experiments.crm_tables`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from experiments.clock import Instant

__all__ = ["Experiment", "ProtocolVersion", "SignOff"]


class Experiment(SQLModel, table=True):
    """One dispute and where it stands in its lifecycle."""

    __tablename__ = "experiment"

    id: str = Field(primary_key=True, max_length=63)
    title: str = Field(max_length=200)
    status: str = Field(index=True, max_length=16)
    draft_json: str | None = Field(default=None, sa_type=Text)
    current_version: int = 0
    salt: str = Field(max_length=64)
    hash_version: int = 1
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=Instant)
    registered_at: datetime | None = Field(default=None, sa_type=Instant)
    started_at: datetime | None = Field(default=None, sa_type=Instant)
    stopped_at: datetime | None = Field(default=None, sa_type=Instant)
    decided_at: datetime | None = Field(default=None, sa_type=Instant)
    archived_at: datetime | None = Field(default=None, sa_type=Instant)
    stop_reason: str | None = Field(default=None, sa_type=Text)


class ProtocolVersion(SQLModel, table=True):
    """A locked protocol: version 1 is the registered plan, later ones are amendments."""

    __tablename__ = "protocol_version"
    __table_args__ = (UniqueConstraint("experiment_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: str = Field(foreign_key="experiment.id", index=True, max_length=63)
    version: int
    canonical_json: str = Field(sa_type=Text)
    sha256: str = Field(max_length=64)
    reason: str = Field(sa_type=Text)
    author: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=Instant)


class SignOff(SQLModel, table=True):
    """A party's signature on one exact draft (identified by its SHA-256)."""

    __tablename__ = "sign_off"

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: str = Field(foreign_key="experiment.id", index=True, max_length=63)
    party: str = Field(max_length=63)
    signed_by: str = Field(max_length=200)
    protocol_sha256: str = Field(max_length=64)
    signed_at: datetime = Field(sa_type=Instant)
