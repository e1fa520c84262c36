"""receivables remember the day they were last reminded at a new step

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:00:00.000000

The dunning ladder moves a document up at most one step per interval, counted from this day.
Documents reminded before the upgrade have none: their next step is not held back.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("receivables") as batch:
        batch.add_column(sa.Column("reminded_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("receivables") as batch:
        batch.drop_column("reminded_on")
