"""Helpers for the customer, visit and plan tests: seed customers, read visits and audit rows."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.app import Runtime
from bot.db import transaction
from bot.harness import Chat
from models.audit import AuditEntry
from models.customer import Customer, Tier
from models.visit import Visit, VisitAttachment
from services.customers import CustomerInput, create_customer
from tests.helpers import team_id, user_by_tg


async def add_customer(
    runtime: Runtime,
    team: str,
    name: str,
    *,
    owner_tg: int | None = None,
    location: tuple[float, float] | None = None,
    tier: Tier = Tier.B,
    **fields: Any,
) -> Customer:
    owner = await user_by_tg(runtime, owner_tg) if owner_tg else None
    values = CustomerInput(
        name=name, tier=tier, owner_id=owner.id if owner else None,
        latitude=location[0] if location else None, longitude=location[1] if location else None,
        **fields,
    )  # fmt: skip
    async with transaction(runtime.sessions) as session:
        return await create_customer(
            session, actor=None, team_id=await team_id(runtime, team), values=values,
            now=runtime.clock.now(), source="import",
        )  # fmt: skip


async def visits_of(runtime: Runtime, telegram_id: int, *, deleted: bool = False) -> list[Visit]:
    user = await user_by_tg(runtime, telegram_id)
    assert user is not None
    async with transaction(runtime.sessions) as session:
        query = select(Visit).where(Visit.rep_id == user.id).order_by(col(Visit.id))
        if not deleted:
            query = query.where(col(Visit.deleted_at).is_(None))
        return list((await session.exec(query)).all())


async def attachments(runtime: Runtime, visit_id: int) -> list[VisitAttachment]:
    async with transaction(runtime.sessions) as session:
        query = select(VisitAttachment).where(VisitAttachment.visit_id == visit_id)
        return list((await session.exec(query)).all())


async def audit_actions(runtime: Runtime, entity: str) -> list[AuditEntry]:
    async with transaction(runtime.sessions) as session:
        query = select(AuditEntry).where(AuditEntry.entity == entity).order_by(col(AuditEntry.id))
        return list((await session.exec(query)).all())


async def count_customers(runtime: Runtime) -> int:
    async with transaction(runtime.sessions) as session:
        return len((await session.exec(select(Customer))).all())


class Counter:
    """Counts what a person does in a flow: taps, messages they send, and bot messages."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.taps = 0
        self.sent = 0
        self.received = 0

    async def send(self, text: str) -> list[Any]:
        self.sent += 1
        replies = await self.chat.send(text)
        self.received += len(replies)
        return replies

    async def tap(self, label: str) -> list[Any]:
        self.taps += 1
        replies = await self.chat.tap(label)
        self.received += len(replies)
        return replies

    async def share_location(self, lat: float, lon: float, **kwargs: Any) -> list[Any]:
        self.sent += 1
        replies = await self.chat.share_location(lat, lon, **kwargs)
        self.received += len(replies)
        return replies

    async def send_photo(self) -> list[Any]:
        self.sent += 1
        replies = await self.chat.send_photo()
        self.received += len(replies)
        return replies
