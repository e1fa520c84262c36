"""a manager's comments on a visit

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 10:00:00.000000

The integrator re-chains this revision; nothing here depends on the revisions between.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visit_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_visit_comments_visit_id", "visit_comments", ["visit_id"])


def downgrade() -> None:
    op.drop_index("ix_visit_comments_visit_id", table_name="visit_comments")
    op.drop_table("visit_comments")
