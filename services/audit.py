"""The audit trail: every change of a user, invite, approval or receivable leaves a row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from models.audit import AuditEntry


def record(
    session: AsyncSession,
    *,
    at: datetime,
    action: str,
    entity: str,
    entity_id: int | None,
    actor_id: int | None = None,
    actor_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    """Add an audit row to the caller's transaction: it commits or rolls back with the change."""
    session.add(
        AuditEntry(
            at=at,
            action=action,
            entity=entity,
            entity_id=entity_id,
            actor_id=actor_id,
            actor_label=actor_label or ("" if actor_id else "system"),
            before=before,
            after=after,
            reason=reason[:1000],
        )
    )
