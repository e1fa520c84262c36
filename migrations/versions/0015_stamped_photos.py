"""visit photos keep a copy stamped by the server

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 10:00:00.000000

The integrator re-chains this revision; nothing here depends on the revisions between.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visit_attachments") as batch:
        batch.add_column(sa.Column("original_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("stamp_text", sa.String(length=600), nullable=True))
        batch.add_column(sa.Column("stamped", sa.LargeBinary(), nullable=True))
        batch.add_column(
            sa.Column("stamped_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("visit_attachments") as batch:
        batch.drop_column("stamped_at")
        batch.drop_column("stamped")
        batch.drop_column("stamp_text")
        batch.drop_column("original_sha256")
