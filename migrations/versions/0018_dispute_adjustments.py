"""a valid dispute ends in a credit note or a write-off (receivable_adjustments), and a
dispute records how it ended

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-04 10:00:00.000000

The integrator re-chains this revision; nothing here depends on the revisions between.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("receivable_disputes") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
    op.create_table(
        "receivable_adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receivable_id", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approval_request_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("applied_by_id", sa.Integer(), nullable=True),
        sa.Column("applied_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("applied_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["receivable_id"], ["receivables.id"]),
        sa.ForeignKeyConstraint(["dispute_id"], ["receivable_disputes.id"]),
        sa.ForeignKeyConstraint(["approval_request_id"], ["approval_requests.id"]),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["applied_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("receivable_adjustments") as batch:
        batch.create_index(
            batch.f("ix_receivable_adjustments_receivable_id"), ["receivable_id"], unique=False
        )
        batch.create_index(
            batch.f("ix_receivable_adjustments_approval_request_id"),
            ["approval_request_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("receivable_adjustments") as batch:
        batch.drop_index(batch.f("ix_receivable_adjustments_approval_request_id"))
        batch.drop_index(batch.f("ix_receivable_adjustments_receivable_id"))
    op.drop_table("receivable_adjustments")
    with op.batch_alter_table("receivable_disputes") as batch:
        batch.drop_column("outcome")
