"""Telling people about delivery problems: admins about failed messages, managers about reps who
blocked the bot."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.i18n import Catalogs
from models.common import Role
from models.user import User
from services import outbox
from services.users import team_manager


async def alert_admins(
    session: AsyncSession,
    texts: Catalogs,
    *,
    key: str,
    text_key: str,
    now: datetime,
    **params: Any,
) -> int:
    """Queue one alert per active admin, each in their language; returns how many were queued."""
    admins = (
        await session.exec(select(User).where(User.role == Role.ADMIN, col(User.active).is_(True)))
    ).all()
    queued = 0
    for admin in admins:
        row = await outbox.enqueue(
            session,
            key=f"{key}:admin:{admin.id}",
            chat_id=admin.telegram_id,
            recipient_id=admin.id,
            kind="admin.alert",
            text=texts.t(admin.language, text_key, **params),
            now=now,
        )
        queued += row is not None
    return queued


async def mark_unreachable(
    session: AsyncSession, texts: Catalogs, *, chat_id: int, row_id: int, now: datetime
) -> None:
    """A person blocked the bot: remember it and tell their manager, once per change."""
    result = await session.exec(
        update(User)
        .where(col(User.telegram_id) == chat_id, col(User.unreachable).is_(False))
        .values(unreachable=True, updated_at=now)
    )
    if result.rowcount != 1:
        return
    user = (await session.exec(select(User).where(User.telegram_id == chat_id))).one()
    if user.team_id is None:
        return
    manager = await team_manager(session, user.team_id)
    if manager is None or manager.id == user.id:
        return
    await outbox.enqueue(
        session,
        key=f"unreachable:{user.id}:{row_id}",
        chat_id=manager.telegram_id,
        recipient_id=manager.id,
        kind="manager.unreachable",
        text=texts.t(
            manager.language, "delivery.user_blocked_bot", name=html.escape(user.display_name)
        ),
        now=now,
    )


async def is_unreachable(session: AsyncSession, chat_id: int) -> bool:
    found = (
        await session.exec(select(User.unreachable).where(User.telegram_id == chat_id))
    ).first()
    return bool(found)
