"""The audit trail: every change of a user, invite, approval or receivable leaves a row."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NotRequired, TypedDict

from sqlalchemy import insert as sql_insert
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import Unpack

from models.audit import AuditEntry


class Row(TypedDict):
    at: datetime
    action: str
    entity: str
    entity_id: int | None
    actor_id: NotRequired[int | None]
    actor_label: NotRequired[str]
    before: NotRequired[dict[str, Any] | None]
    after: NotRequired[dict[str, Any] | None]
    reason: NotRequired[str]


def _values(row: Row) -> dict[str, Any]:
    actor_id = row.get("actor_id")
    return {
        "at": row["at"],
        "action": row["action"],
        "entity": row["entity"],
        "entity_id": row["entity_id"],
        "actor_id": actor_id,
        "actor_label": row.get("actor_label") or ("" if actor_id else "system"),
        "before": row.get("before"),
        "after": row.get("after"),
        "reason": row.get("reason", "")[:1000],
    }


def record(session: AsyncSession, **row: Unpack[Row]) -> None:
    """Add an audit row to the caller's transaction: it commits or rolls back with the change
    (written at the session's next flush)."""
    session.add(AuditEntry(**_values(row)))


async def insert(session: AsyncSession, **row: Unpack[Row]) -> None:
    """``record``, written now by one INSERT without the ORM's unit of work: for the hot path
    (saving a visit), where nothing reads the row back."""
    await session.exec(_INSERT, params=_values(row))  # type: ignore[call-overload]


# Built once, on the table (not through the ORM's statement machinery): the values travel as
# parameters.
_INSERT = sql_insert(AuditEntry.__table__)  # type: ignore[attr-defined]
