"""payments keep their method and receipt photo; a contact without result keeps a note

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-03 10:00:00.000000

The integrator re-chains this revision; nothing here depends on the revisions between.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("receivable_payments") as batch:
        batch.add_column(sa.Column("method", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("receipt_file_id", sa.String(length=200), nullable=True))
    with op.batch_alter_table("collection_contacts") as batch:
        batch.add_column(sa.Column("note", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("collection_contacts") as batch:
        batch.drop_column("note")
    with op.batch_alter_table("receivable_payments") as batch:
        batch.drop_column("receipt_file_id")
        batch.drop_column("method")
