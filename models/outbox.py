"""Messages to people who did not just write to the bot: written in the transaction of the change
that causes them, delivered later by the sender."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from models.common import json_column, telegram_id_column


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Superseded before it was sent (e.g. a reminder whose debt was paid meanwhile).
    CANCELLED = "cancelled"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(sa_column=Column(String(200), unique=True, nullable=False))
    chat_id: int = Field(sa_column=telegram_id_column())
    recipient_id: int | None = Field(default=None, foreign_key="users.id")
    kind: str = Field(max_length=48, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    # Inline keyboard: rows of {"text": ..., "data": ...} or {"text": ..., "url": ...}.
    buttons: list[list[dict[str, str]]] | None = Field(
        default=None, sa_column=json_column(nullable=True)
    )
    # An attachment sent with the text as its caption: "photo" or "document".
    file_kind: str | None = Field(default=None, max_length=16)
    file_name: str | None = Field(default=None, max_length=128)
    file_bytes: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # Edit the message another outbox row sent instead of sending a new one.
    edit_of_id: int | None = Field(default=None, foreign_key="outbox.id")
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime
    lease_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime
    sent_at: datetime | None = None
    telegram_message_id: int | None = None
    meta: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))


class SenderLease(SQLModel, table=True):
    """Which instance delivers the outbox now, and the bot-wide flood-control pause."""

    __tablename__ = "sender_lease"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=64)
    expires_at: datetime
    # Telegram's 429 retry_after applies to the whole bot; kept here so a new holder honours it.
    paused_until: datetime | None = None
