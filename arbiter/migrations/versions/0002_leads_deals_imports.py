"""Leads and their attributes, assignments, CRM deals with history, import batches.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("source_system", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(500), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True),
        sa.Column("experiment_id", sa.String(63), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_inserted", sa.Integer(), nullable=False),
        sa.Column("rows_updated", sa.Integer(), nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
    )
    op.create_index("ix_import_batch_file_sha256", "import_batch", ["file_sha256"])
    op.create_table(
        "lead",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("external_id", sa.String(200), nullable=False, unique=True),
        sa.Column("source_system", sa.String(32), nullable=False),
        sa.Column("campaign", sa.String(500), nullable=True),
        sa.Column("channel", sa.String(500), nullable=True),
        sa.Column("landing_page", sa.Text(), nullable=True),
        sa.Column("origin", sa.String(500), nullable=True),
        sa.Column("first_seen", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "lead_attribute",
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("lead.id"), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("number", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
    )
    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("experiment_id", sa.String(63), sa.ForeignKey("experiment.id"), nullable=False),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("lead.id"), nullable=False),
        sa.Column("arm_key", sa.String(63), nullable=False),
        sa.Column("assigned_at", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("import_batch.id"), nullable=True),
        sa.UniqueConstraint("experiment_id", "lead_id"),
    )
    op.create_index("ix_assignment_experiment_arm", "assignment", ["experiment_id", "arm_key"])
    op.create_index("ix_assignment_lead_id", "assignment", ["lead_id"])
    op.create_table(
        "deal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_system", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("lead.id"), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("amount_micros", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("stage", sa.String(200), nullable=True),
        sa.Column("won", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("import_batch.id"), nullable=True),
        sa.UniqueConstraint("source_system", "external_id"),
    )
    op.create_index("ix_deal_lead_id", "deal", ["lead_id"])
    op.create_table(
        "deal_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("deal_id", sa.Integer(), sa.ForeignKey("deal.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("amount_micros", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("stage", sa.String(200), nullable=True),
        sa.Column("won", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.Column("valid_until", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("import_batch.id"), nullable=True),
    )
    op.create_index("ix_deal_history_deal_id", "deal_history", ["deal_id"])
    op.create_table(
        "import_rejection",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("import_batch.id"), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(200), nullable=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
    )
    op.create_index("ix_import_rejection_batch_id", "import_rejection", ["batch_id"])
    op.create_index("ix_import_rejection_code", "import_rejection", ["code"])


def downgrade() -> None:
    for table in (
        "import_rejection",
        "deal_history",
        "deal",
        "assignment",
        "lead_attribute",
        "lead",
        "import_batch",
    ):
        op.drop_table(table)
