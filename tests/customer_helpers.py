"""Helpers for the customer, visit and plan tests: seed customers, read visits and audit rows."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.app import Runtime
from core.db import transaction
from models.audit import AuditEntry
from models.customer import Customer, Tier
from models.plan import PlannedVisit
from models.visit import Visit, VisitAttachment
from sandbox.client import SandboxMessage
from sandbox.harness import Chat, LocalBot
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


async def customer_named(runtime: Runtime, name: str) -> Customer:
    async with transaction(runtime.sessions) as session:
        return (await session.exec(select(Customer).where(Customer.name == name))).one()


async def forge_button(chat: Chat, data: str, label: str = "Forged") -> None:
    """Plant a message with a button carrying ``data`` in the chat (as a tampered client)."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    app = chat.bot.app
    assert app is not None
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
    await app.bot.send_message(chat.user_id, "…", reply_markup=markup)


def form_callback(message: Any, value: str) -> str:
    """Callback data for ``value`` in the form prompt ``message`` (same token and step)."""
    for row in message.buttons:
        for button in row:
            if button.callback_data and button.callback_data.startswith("f|"):
                prefix = button.callback_data.rsplit("|", 1)[0]
                return f"{prefix}|{value}"
    raise AssertionError("not a form prompt")


async def plans_of(runtime: Runtime, telegram_id: int) -> list[PlannedVisit]:
    user = await user_by_tg(runtime, telegram_id)
    assert user is not None
    async with transaction(runtime.sessions) as session:
        query = (
            select(PlannedVisit)
            .where(PlannedVisit.rep_id == user.id)
            .order_by(col(PlannedVisit.planned_on), col(PlannedVisit.id))
        )
        return list((await session.exec(query)).all())


def search_button(message: SandboxMessage) -> dict[str, Any]:
    """The 🔍 customer search button of a prompt, as Telegram received it."""
    found = [button.raw for row in message.buttons for button in row if "🔍" in button.text]
    assert len(found) == 1, message.button_texts()
    return found[0]


async def refused_requests(bot: LocalBot) -> list[str]:
    """What the sandbox refused so far, as Telegram would have (e.g. a button it forbids)."""
    return [event["description"] for event in await bot.client.events() if event["status"] == 400]


async def inline_results(
    bot: LocalBot, chat: Chat, query: str
) -> tuple[str, list[dict[str, Any]]]:
    """Type ``@bot query`` in the chat (inline mode) and read the bot's answer."""
    update_id, query_id = await bot.client.inline_query(chat.user_id, query)
    await bot.tracker.wait(update_id)
    results = await bot.client.inline_answer(query_id)
    assert results is not None, "the bot did not answer the inline query"
    return query_id, results


async def choose_inline(bot: LocalBot, chat: Chat, query_id: str, result_id: str) -> None:
    """Pick one result of an inline query: it arrives in the chat as the person's message."""
    update_id = await bot.client.choose_inline_result(chat.user_id, query_id, result_id)
    await bot.tracker.wait(update_id)


async def check_in(
    chat: Chat, customer: str, at: tuple[float, float], *, accuracy: float = 8.0,
    in_person: str = "In person",
) -> SandboxMessage:  # fmt: skip
    """/visit, the customer, In person (``in_person``: the button's label in the chat's
    language), the location shared at ``at``: the check-in card."""
    await chat.send("/visit")
    await chat.tap(customer)
    await chat.tap(in_person)
    return (await chat.share_location(*at, accuracy=accuracy))[-1]
