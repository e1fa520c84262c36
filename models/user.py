"""People who may use the bot: reps, managers, directors and admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, text
from sqlmodel import Field, SQLModel

from core.settings import DEFAULT_LANGUAGE
from models.common import Role, telegram_id_column


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        # A team has one active manager; the database guards it against races.
        Index(
            "uq_users_one_manager_per_team",
            "team_id",
            unique=True,
            sqlite_where=text("role = 'manager' AND active"),
            postgresql_where=text("role = 'manager' AND active"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=telegram_id_column(unique=True))
    display_name: str = Field(max_length=128)
    username: str | None = Field(default=None, max_length=64)
    # Set by an admin or the manager (`salesbot user code`); imports match owners on it (or on
    # the @username), never on display_name, which the user controls through Telegram.
    employee_code: str | None = Field(default=None, max_length=32, unique=True, index=True)
    role: Role = Field(sa_type=String(16))
    team_id: int | None = Field(default=None, foreign_key="teams.id", index=True)
    # Every registration stores the language the configured default gives
    # (core.i18n.person_language); this default only fills rows written directly (tests).
    language: str = Field(default=DEFAULT_LANGUAGE, max_length=8)
    active: bool = Field(default=True)
    # Set when Telegram answers 403 (the user blocked the bot); cleared when they write again.
    unreachable: bool = Field(default=False)
    created_at: datetime
    updated_at: datetime
    deactivated_at: datetime | None = None
