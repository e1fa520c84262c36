"""One outbox sender at a time across instances, and the bot-wide flood-control pause."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.outbox import SenderLease
from services import sql

LEASE_NAME = "outbox"


@dataclass(frozen=True)
class LeaseState:
    held: bool
    paused_until: datetime | None


async def acquire(
    session: AsyncSession, *, instance: str, now: datetime, ttl: timedelta
) -> LeaseState:
    """Take or renew the sender role; only one instance holds it until it expires."""
    await session.exec(
        sql.insert(session, SenderLease)
        .values(name=LEASE_NAME, holder=instance, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    await session.exec(
        update(SenderLease)
        .where(
            col(SenderLease.name) == LEASE_NAME,
            or_(col(SenderLease.holder) == instance, col(SenderLease.expires_at) <= now),
        )
        .values(holder=instance, expires_at=now + ttl)
    )
    lease = (await session.exec(select(SenderLease).where(SenderLease.name == LEASE_NAME))).one()
    await session.refresh(lease)
    return LeaseState(held=lease.holder == instance, paused_until=lease.paused_until)


async def release(session: AsyncSession, *, instance: str, now: datetime) -> None:
    await session.exec(
        update(SenderLease)
        .where(col(SenderLease.name) == LEASE_NAME, col(SenderLease.holder) == instance)
        .values(expires_at=now)
    )


async def pause(session: AsyncSession, *, until: datetime) -> None:
    """Telegram said "retry after": nobody sends anything before ``until``."""
    await session.exec(
        update(SenderLease).where(col(SenderLease.name) == LEASE_NAME).values(paused_until=until)
    )
