"""Append-only audit trail: who changed what, when, from what, to what, and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from models.common import json_column


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    # Who acted when it was not a user: "cli", "system", "config".
    actor_label: str = Field(default="", max_length=32)
    action: str = Field(max_length=64, index=True)
    entity: str = Field(max_length=32)
    entity_id: int | None = Field(default=None, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    reason: str = Field(default="", max_length=1000)
