"""Experiments, locked protocol versions, sign-offs and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "experiment",
        sa.Column("id", sa.String(63), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("draft_json", sa.Text(), nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("hash_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("registered_at", sa.BigInteger(), nullable=True),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("stopped_at", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("archived_at", sa.BigInteger(), nullable=True),
        sa.Column("stop_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_experiment_status", "experiment", ["status"])
    op.create_table(
        "protocol_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("experiment_id", sa.String(63), sa.ForeignKey("experiment.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("canonical_json", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("experiment_id", "version"),
    )
    op.create_index("ix_protocol_version_experiment_id", "protocol_version", ["experiment_id"])
    op.create_table(
        "sign_off",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("experiment_id", sa.String(63), sa.ForeignKey("experiment.id"), nullable=False),
        sa.Column("party", sa.String(63), nullable=False),
        sa.Column("signed_by", sa.String(200), nullable=False),
        sa.Column("protocol_sha256", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_sign_off_experiment_id", "sign_off", ["experiment_id"])
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_audit_event_action", "audit_event", ["action"])
    op.create_index("ix_audit_event_subject", "audit_event", ["subject"])


def downgrade() -> None:
    op.drop_table("audit_event")
    op.drop_table("sign_off")
    op.drop_table("protocol_version")
    op.drop_table("experiment")
