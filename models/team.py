"""Teams as declared in config.toml, mirrored into the database at start-up."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class Team(SQLModel, table=True):
    __tablename__ = "teams"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=128)
    timezone: str = Field(max_length=64)
    archived: bool = Field(default=False)
    created_at: datetime
    updated_at: datetime
