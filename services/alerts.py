"""Telling people about delivery problems: admins about failed messages, managers about reps who
blocked the bot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.common import Role
from models.user import User
from services import notices
from services.notices import Render
from services.users import team_manager


@dataclass(frozen=True)
class DeliveryFailed:
    """An outbox row given up: its kind, its chat and Telegram's (or our) last error."""

    kind: str
    chat_id: int
    error: str


@dataclass(frozen=True)
class Unreachable:
    """Someone (by name) blocked the bot."""

    name: str


@dataclass(frozen=True)
class BackupFailed:
    """The scheduled backup failed; ``error`` says why."""

    error: str


@dataclass(frozen=True)
class JobFailing:
    """A scheduled job failed ``times`` times in a row."""

    job: str
    team: str
    times: int
    error: str


@dataclass(frozen=True)
class OutboxBacklog:
    """More than ``limit`` messages have waited longer than ``minutes``."""

    waiting: int
    limit: int
    minutes: int


async def to_admins(
    session: AsyncSession, render: Render, *, view: str, data: object, key: str, now: datetime
) -> int:
    """Queue one alert per active admin, each in their language, once per ``key`` (an
    incident); returns how many were queued."""
    admins = (
        await session.exec(select(User).where(User.role == Role.ADMIN, col(User.active).is_(True)))
    ).all()
    queued = 0
    for admin in admins:
        row = await notices.send(
            session, render, view=view, data=data, lang=admin.language,
            key=f"{key}:admin:{admin.id}", chat_id=admin.telegram_id, recipient_id=admin.id,
            kind="admin.alert", now=now,
        )  # fmt: skip
        queued += row is not None
    return queued


async def alert_failed(
    session: AsyncSession, render: Render, *, key: str, failed: DeliveryFailed, now: datetime
) -> int:
    """Tell the admins a message was given up."""
    return await to_admins(
        session, render, view="alerts.delivery_failed", data=failed, key=key, now=now
    )


async def mark_unreachable(
    session: AsyncSession, render: Render, *, chat_id: int, row_id: int, now: datetime
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
    await notices.send(
        session, render, view="alerts.user_blocked", data=Unreachable(user.display_name),
        lang=manager.language, key=f"unreachable:{user.id}:{row_id}",
        chat_id=manager.telegram_id, recipient_id=manager.id, kind="manager.unreachable", now=now,
    )  # fmt: skip


async def is_unreachable(session: AsyncSession, chat_id: int) -> bool:
    found = (
        await session.exec(select(User.unreachable).where(User.telegram_id == chat_id))
    ).first()
    return bool(found)
