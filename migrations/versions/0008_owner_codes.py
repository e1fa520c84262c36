"""owner codes: users.employee_code; document numbers unique per team

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0005 created the unique constraint on receivables.document_no without a name: PostgreSQL
# named it by its own rule; SQLite keeps it unnamed, so the batch copy names it by this
# convention to be able to drop it.
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _document_no_constraint() -> str:
    if op.get_bind().dialect.name == "sqlite":
        return "uq_receivables_document_no"
    return "receivables_document_no_key"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("employee_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_users_employee_code"), ["employee_code"], unique=True)

    with op.batch_alter_table(
        "receivables", schema=None, naming_convention=_SQLITE_NAMES
    ) as batch_op:
        batch_op.drop_constraint(_document_no_constraint(), type_="unique")
        batch_op.create_index(
            batch_op.f("ix_receivables_document_no"), ["document_no"], unique=False
        )
        batch_op.create_index(
            "uq_receivables_team_document_no", ["team_id", "document_no"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table(
        "receivables", schema=None, naming_convention=_SQLITE_NAMES
    ) as batch_op:
        batch_op.drop_index("uq_receivables_team_document_no")
        batch_op.drop_index(batch_op.f("ix_receivables_document_no"))
        batch_op.create_unique_constraint(_document_no_constraint(), ["document_no"])

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_employee_code"))
        batch_op.drop_column("employee_code")
