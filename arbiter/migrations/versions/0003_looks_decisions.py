"""Looks and decisions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "look",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("experiment_id", sa.String(63), sa.ForeignKey("experiment.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("protocol_version", sa.Integer(), nullable=False),
        sa.Column("information_fraction", sa.Float(), nullable=False),
        sa.Column("analysed", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("snapshot_sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.UniqueConstraint("experiment_id", "number"),
    )
    op.create_index("ix_look_experiment_id", "look", ["experiment_id"])
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.String(63),
            sa.ForeignKey("experiment.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("look_number", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("winner_arm", sa.String(63), nullable=True),
        sa.Column("winner_party", sa.String(63), nullable=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("record_sha256", sa.String(64), nullable=False),
        sa.Column("audit_head", sa.String(64), nullable=False),
        sa.Column("decided_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_decision_verdict", "decision", ["verdict"])


def downgrade() -> None:
    op.drop_table("decision")
    op.drop_table("look")
