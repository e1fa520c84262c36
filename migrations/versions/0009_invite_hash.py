"""invites keep only a hash of their code

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:00:00.000000

The integrator re-chains this onto 0008 (see the task); nothing here depends on 0008.
Existing codes are hashed in place, so links handed out before the upgrade keep working.
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HINT_LENGTH = 4


def _hash(code: str) -> str:
    # The same function as services.invites.hash_code; a migration must not import services,
    # whose later versions may change.
    return hashlib.sha256(code.encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("code_hint", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
        )

    connection = op.get_bind()
    invites = sa.table(
        "invites",
        sa.column("id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("code_hash", sa.String),
        sa.column("code_hint", sa.String),
    )
    for invite_id, code in connection.execute(sa.select(invites.c.id, invites.c.code)).all():
        connection.execute(
            invites.update()
            .where(invites.c.id == invite_id)
            .values(code_hash=_hash(code), code_hint=code[:HINT_LENGTH])
        )

    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invites_code"))
        batch_op.drop_column("code")
        batch_op.alter_column(
            "code_hash", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        )
        batch_op.alter_column(
            "code_hint", existing_type=sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False
        )
        batch_op.create_index(batch_op.f("ix_invites_code_hash"), ["code_hash"], unique=True)


def downgrade() -> None:
    # A hash cannot be turned back into its code: after a downgrade every pending invite is
    # unusable (the hash sits where the code was) and a new link must be made.
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    op.execute("UPDATE invites SET code = code_hash")
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invites_code_hash"))
        batch_op.drop_column("code_hint")
        batch_op.drop_column("code_hash")
        batch_op.alter_column(
            "code", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        )
        batch_op.create_index(batch_op.f("ix_invites_code"), ["code"], unique=True)
