"""approval requests get a human number; steps can be transferred; CC recipients

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-04 10:00:00.000000

The integrator re-chains this revision; nothing here depends on the revisions between.
Existing requests get their numbers in order of submission, per team and year (UTC year of
``created_at``), and the counters continue from there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.add_column(
            sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch.create_unique_constraint("uq_approval_requests_number", ["team_id", "number"])
    with op.batch_alter_table("approval_steps") as batch:
        batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_approval_steps_assignee_id_users", "users", ["assignee_id"], ["id"]
        )
    op.create_table(
        "approval_counters",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"]),
        sa.PrimaryKeyConstraint("team_id", "year"),
    )
    op.create_table(
        "approval_cc",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["approval_requests.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "user_id", name="uq_approval_cc_user"),
    )
    op.create_index("ix_approval_cc_request_id", "approval_cc", ["request_id"])
    op.create_index("ix_approval_cc_user_id", "approval_cc", ["user_id"])
    _number_existing()


def _number_existing() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, team_id, created_at FROM approval_requests ORDER BY created_at, id")
    ).all()
    last: dict[tuple[int, int], int] = {}
    for request_id, team_id, created_at in rows:
        year = int(str(created_at)[:4])
        last[(team_id, year)] = last.get((team_id, year), 0) + 1
        bind.execute(
            sa.text("UPDATE approval_requests SET number = :number WHERE id = :id"),
            {"number": f"{year}-{last[(team_id, year)]:04d}", "id": request_id},
        )
    for (team_id, year), count in last.items():
        bind.execute(
            sa.text("INSERT INTO approval_counters (team_id, year, last) VALUES (:t, :y, :n)"),
            {"t": team_id, "y": year, "n": count},
        )


def downgrade() -> None:
    op.drop_index("ix_approval_cc_user_id", table_name="approval_cc")
    op.drop_index("ix_approval_cc_request_id", table_name="approval_cc")
    op.drop_table("approval_cc")
    op.drop_table("approval_counters")
    with op.batch_alter_table("approval_steps") as batch:
        batch.drop_constraint("fk_approval_steps_assignee_id_users", type_="foreignkey")
        batch.drop_column("assignee_id")
    with op.batch_alter_table("approval_requests") as batch:
        batch.drop_constraint("uq_approval_requests_number", type_="unique")
        batch.drop_column("number")
