"""visits are checked in and out; deletions are soft and attributed; the last location shared

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 09:00:00.000000

The integrator re-chains this revision; nothing here depends on 0009.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        for name in ("location_set_here", "is_open", "auto_closed", "short_visit"):
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )
        batch_op.add_column(
            sa.Column("checked_out_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("deleted_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_visits_deleted_by_id_users", "users", ["deleted_by_id"], ["id"]
        )
    op.create_table(
        "rep_locations",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("rep_locations")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_constraint("fk_visits_deleted_by_id_users", type_="foreignkey")
        for name in (
            "deleted_by_id", "checked_out_at", "short_visit", "auto_closed", "is_open",
            "location_set_here",
        ):  # fmt: skip
            batch_op.drop_column(name)
