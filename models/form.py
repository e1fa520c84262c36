"""Half-filled multi-step forms, kept in the database so that any instance can continue them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from models.common import json_column, telegram_id_column


class FormState(SQLModel, table=True):
    __tablename__ = "form_states"

    # One open form per person: starting another form replaces it.
    telegram_id: int = Field(sa_column=telegram_id_column(unique=True))
    id: int | None = Field(default=None, primary_key=True)
    form: str = Field(max_length=32)
    step: str = Field(max_length=32)
    # Short random token carried in the form's buttons, so taps on an older form's buttons are
    # recognised as stale instead of being applied to the current one.
    token: str = Field(max_length=8)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    prompt_message_id: int | None = None
    updated_at: datetime
    expires_at: datetime
