"""Single-use, expiring invite codes that register a user with a role and a team."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from models.common import Role


class Invite(SQLModel, table=True):
    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    # Only the SHA-256 of the code is kept (services/invites.py says why that is enough), so a
    # copy of the database does not hand out working links.
    code_hash: str = Field(max_length=64, unique=True, index=True)
    # The first characters of the code: lets the inviter tell their links apart in /invite.
    code_hint: str = Field(max_length=8)
    role: Role = Field(sa_type=String(16))
    team_id: int | None = Field(default=None, foreign_key="teams.id")
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by_id: int | None = Field(default=None, foreign_key="users.id")
    revoked_at: datetime | None = None
