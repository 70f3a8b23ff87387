"""SQLModel tables of the committee: the hash-chained audit log.

Looks, decisions and API keys join this module as the committee's records grow.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from experiments.clock import Instant

__all__ = ["AuditEvent"]


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
