"""customers keep the photo of their business card

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00.000000

The integrator re-chains this revision; nothing here depends on the revisions between.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("card_file_id", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("card_file_id")
