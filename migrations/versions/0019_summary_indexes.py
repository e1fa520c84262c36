"""the summary's figures read a week of visits from one index; payments indexed by day

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-04 10:00:00.000000

The visits index keeps its name and leading columns (team, time), so every query that used it
still does; the columns added after them make it covering for the summary's per-rep counts.
The integrator re-chains this revision; nothing here depends on the revisions between.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERING = ["team_id", "visited_at", "rep_id", "kind", "purpose", "flagged", "deleted_at"]


def upgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.drop_index("ix_visits_team_visited_at")
        batch.create_index("ix_visits_team_visited_at", COVERING, unique=False)
    with op.batch_alter_table("receivable_payments") as batch:
        batch.create_index("ix_receivable_payments_paid_on", ["paid_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("receivable_payments") as batch:
        batch.drop_index("ix_receivable_payments_paid_on")
    with op.batch_alter_table("visits") as batch:
        batch.drop_index("ix_visits_team_visited_at")
        batch.create_index("ix_visits_team_visited_at", ["team_id", "visited_at"], unique=False)
