"""The outbox: notifications written with the change that causes them, delivered exactly once.

Lifecycle of a row: pending -> sending (claimed, with a lease) -> sent | pending (retry) | failed.
A row whose lease expired while "sending" (its sender process died between the API call and
recording the result) is claimed again and re-sent: delivery is at-least-once in that one window
of a single HTTP round trip, and exactly-once everywhere else. See bot/delivery.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.outbox import OutboxMessage, OutboxStatus
from services import sql

OutboxButtons = list[list[dict[str, str]]]
WRITTEN_FLAG = "salesbot.outbox_written"


@dataclass(frozen=True)
class Attachment:
    kind: str  # "photo" or "document"
    name: str
    content: bytes = b""
    # A file Telegram already has (e.g. a receipt a rep sent): sent again by its file_id.
    file_id: str | None = None


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    chat_id: int,
    kind: str,
    text: str,
    now: datetime,
    buttons: OutboxButtons | None = None,
    recipient_id: int | None = None,
    attachment: Attachment | None = None,
    not_before: datetime | None = None,
    edit_of_id: int | None = None,
    meta: dict[str, Any] | None = None,
) -> int | None:
    """Add a message to the caller's transaction; the same ``key`` twice is a no-op (None)."""
    if attachment is not None and attachment.file_id:
        meta = {**(meta or {}), "file_id": attachment.file_id}
    values: dict[str, Any] = {
        "idempotency_key": key[:200],
        "chat_id": chat_id,
        "recipient_id": recipient_id,
        "kind": kind,
        "text": text,
        "buttons": buttons,
        "file_kind": attachment.kind if attachment else None,
        "file_name": attachment.name if attachment else None,
        "file_bytes": attachment.content if attachment and not attachment.file_id else None,
        "edit_of_id": edit_of_id,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
        "meta": meta,
    }
    statement = (
        sql.insert(session, OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(col(OutboxMessage.id))
    )
    result = await session.exec(statement)  # type: ignore[call-overload]
    row = result.first()
    if row:
        session.info[WRITTEN_FLAG] = True
    return int(row[0]) if row else None


async def record_sent(
    session: AsyncSession,
    *,
    key: str,
    chat_id: int,
    kind: str,
    text: str,
    buttons: OutboxButtons | None,
    message_id: int,
    now: datetime,
    recipient_id: int | None = None,
) -> int | None:
    """Record a message Telegram accepted as a direct reply, as if the outbox had sent it, so
    that later changes can edit it through the outbox (``edit_of_id``); the same ``key`` twice
    is a no-op (None)."""
    statement = (
        sql.insert(session, OutboxMessage)
        .values(
            idempotency_key=key[:200], chat_id=chat_id, recipient_id=recipient_id, kind=kind,
            text=text, buttons=buttons, status=OutboxStatus.SENT, attempts=1,
            next_attempt_at=now, created_at=now, sent_at=now, telegram_message_id=message_id,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(col(OutboxMessage.id))
    )  # fmt: skip
    row = (await session.exec(statement)).first()  # type: ignore[call-overload]
    return int(row[0]) if row else None


def wrote_messages(session: AsyncSession) -> bool:
    """Whether this session queued anything, so the sender is woken only when there is work."""
    return bool(session.info.get(WRITTEN_FLAG))


def file_id_of(row: OutboxMessage) -> str | None:
    """The Telegram file_id of an attachment sent by reference instead of by its bytes."""
    value = (row.meta or {}).get("file_id") if row.file_kind else None
    return str(value) if value else None


def due_condition(now: datetime) -> Any:
    return or_(
        (col(OutboxMessage.status) == OutboxStatus.PENDING)
        & (col(OutboxMessage.next_attempt_at) <= now),
        (col(OutboxMessage.status) == OutboxStatus.SENDING)
        & (col(OutboxMessage.lease_until) < now),
    )


async def due_candidates(
    session: AsyncSession, now: datetime, limit: int
) -> list[tuple[int, int]]:
    """(id, chat_id) of rows that may be sent now, oldest first."""
    query = (
        select(OutboxMessage.id, OutboxMessage.chat_id)
        .where(due_condition(now))
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return [(int(i), int(c)) for i, c in (await session.exec(query)).all() if i is not None]


async def claim(
    session: AsyncSession, ids: list[int], *, now: datetime, lease: timedelta
) -> list[OutboxMessage]:
    """Mark rows as being sent, each only if it is still due; returns the rows this call won.

    On PostgreSQL the rows are locked with FOR UPDATE SKIP LOCKED, so concurrent senders pass
    over each other's rows; on SQLite (which has no row locks) the UPDATE's own condition,
    evaluated under the write lock, makes the claim exclusive.
    """
    if not ids:
        return []
    chosen: Any = col(OutboxMessage.id).in_(ids)
    if sql.is_postgresql(session):
        chosen = col(OutboxMessage.id).in_(
            select(OutboxMessage.id)
            .where(chosen, due_condition(now))
            .with_for_update(skip_locked=True)
        )
    # One statement, the rows it changed returned: the claim holds the write lock (SQLite) for
    # one round trip, not one per row plus a reload.
    rows = await session.exec(
        update(OutboxMessage)
        .where(chosen, due_condition(now))
        .values(
            status=OutboxStatus.SENDING,
            lease_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )  # type: ignore[call-overload]
    return sorted(rows.scalars().all(), key=lambda row: row.id or 0)


async def mark_sent(
    session: AsyncSession, row_id: int, *, now: datetime, message_id: int | None
) -> None:
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row_id)
        .values(
            status=OutboxStatus.SENT,
            sent_at=now,
            telegram_message_id=message_id,
            lease_until=None,
            last_error=None,
        )
    )


async def record_progress(session: AsyncSession, row_id: int, meta: dict[str, Any]) -> None:
    """Remember how far a multi-part message got, so a retry does not repeat sent parts."""
    await session.exec(
        update(OutboxMessage).where(col(OutboxMessage.id) == row_id).values(meta=meta)
    )


async def mark_retry(
    session: AsyncSession,
    row_id: int,
    *,
    at: datetime,
    error: str,
    count_attempt: bool = True,
) -> None:
    values: dict[str, Any] = {
        "status": OutboxStatus.PENDING,
        "next_attempt_at": at,
        "lease_until": None,
        "last_error": error[:500],
    }
    if not count_attempt:
        values["attempts"] = OutboxMessage.attempts - 1
    await session.exec(
        update(OutboxMessage).where(col(OutboxMessage.id) == row_id).values(**values)
    )


async def mark_failed(session: AsyncSession, row_id: int, *, error: str) -> None:
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row_id)
        .values(status=OutboxStatus.FAILED, lease_until=None, last_error=error[:500])
    )


async def mark_cancelled(session: AsyncSession, row_id: int, *, reason: str) -> None:
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row_id)
        .values(status=OutboxStatus.CANCELLED, lease_until=None, last_error=reason[:500])
    )


async def cancel_pending(session: AsyncSession, *, key_prefix: str, reason: str) -> int:
    """Withdraw not-yet-sent messages whose key starts with ``key_prefix`` (e.g. a paid debt)."""
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.idempotency_key).startswith(key_prefix),
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED, last_error=reason[:500])
    )
    return int(result.rowcount or 0)


async def get(session: AsyncSession, row_id: int) -> OutboxMessage | None:
    return await session.get(OutboxMessage, row_id)


async def counts_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.exec(
        select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
    )
    return {str(status): int(count) for status, count in rows.all()}


async def drop_sent_files(session: AsyncSession, *, before: datetime) -> int:
    """Forget the bytes of photos and documents Telegram accepted before ``before``; the row
    stays as the record of what was sent."""
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.SENT,
            col(OutboxMessage.sent_at) < before,
            col(OutboxMessage.file_bytes).is_not(None),
        )
        .values(file_bytes=None)
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class Backlog:
    """Messages waiting, the creation time of the oldest, and since when the longest-due one
    has been due (a row paused by a retry or a 429 is not due yet)."""

    waiting: int
    oldest_created: datetime | None
    oldest_due: datetime | None
    # Waiting rows created before the ``settled_before`` given (for the backlog alert).
    waiting_since: int


async def backlog(session: AsyncSession, *, now: datetime, settled_before: datetime) -> Backlog:
    waiting = col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
    count, oldest, settled = (
        await session.exec(
            select(
                func.count(),
                func.min(OutboxMessage.created_at),
                func.count().filter(col(OutboxMessage.created_at) <= settled_before),
            ).where(waiting)
        )
    ).one()
    due = (
        await session.exec(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                col(OutboxMessage.status) == OutboxStatus.PENDING,
                col(OutboxMessage.next_attempt_at) <= now,
            )
        )
    ).one()
    return Backlog(int(count), oldest, due, int(settled))
