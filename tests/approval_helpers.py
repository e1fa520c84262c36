"""Helpers for the approval tests: a team with a rep, its manager and two directors; filling
request forms; reading requests, cards and audit rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from core.db import transaction
from models.approval import ApprovalCard, ApprovalRequest, ApprovalStep
from models.audit import AuditEntry
from models.common import Role
from models.outbox import OutboxMessage
from sandbox.client import SandboxMessage
from sandbox.harness import Chat, LocalBot
from tests.helpers import join

REP, MANAGER, DIRECTOR, DIRECTOR_2, OTHER_MANAGER, OTHER_REP = 5001, 5002, 5003, 5004, 5005, 5006


@dataclass
class People:
    rep: Chat
    manager: Chat
    director: Chat
    director_2: Chat


async def team_of(bot: LocalBot, *, directors: int = 2) -> People:
    rep = await join(bot, REP, "Wang Wei", Role.REP, "north")
    manager = await join(bot, MANAGER, "Chen Jing", Role.MANAGER, "north")
    director = await join(bot, DIRECTOR, "Zhao Min", Role.DIRECTOR, None)
    second = (
        await join(bot, DIRECTOR_2, "Qian Li", Role.DIRECTOR, None) if directors > 1 else director
    )
    return People(rep, manager, director, second)


async def expense(
    chat: Chat, amount: str = "1500", *, submit: bool = True
) -> list[SandboxMessage]:
    """Fill /expense with valid answers (one receipt photo) and submit it."""
    await chat.send("/expense")
    await chat.send(amount)
    await chat.tap("Travel")
    await chat.tap("Today")
    await chat.send("Taxi to Hangzhou Huafeng")
    await chat.send_photo()
    await chat.tap("Done")
    if not submit:
        return []
    return await chat.tap("Submit")


async def requests(bot: LocalBot) -> list[ApprovalRequest]:
    async with transaction(bot.runtime.sessions) as session:
        rows = await session.exec(select(ApprovalRequest).order_by(col(ApprovalRequest.id)))
        return list(rows.all())


async def steps(bot: LocalBot, request_id: int) -> list[ApprovalStep]:
    async with transaction(bot.runtime.sessions) as session:
        rows = await session.exec(
            select(ApprovalStep)
            .where(ApprovalStep.request_id == request_id)
            .order_by(col(ApprovalStep.step_no))
        )
        return list(rows.all())


async def audit_of(bot: LocalBot, request_id: int) -> list[AuditEntry]:
    async with transaction(bot.runtime.sessions) as session:
        rows = await session.exec(
            select(AuditEntry)
            .where(AuditEntry.entity == "approval", AuditEntry.entity_id == request_id)
            .order_by(col(AuditEntry.id))
        )
        return list(rows.all())


async def cards(bot: LocalBot, request_id: int) -> list[tuple[ApprovalCard, OutboxMessage]]:
    async with transaction(bot.runtime.sessions) as session:
        rows = await session.exec(
            select(ApprovalCard, OutboxMessage)
            .join(OutboxMessage, col(OutboxMessage.id) == col(ApprovalCard.outbox_id))
            .where(ApprovalCard.request_id == request_id)
            .order_by(col(ApprovalCard.id))
        )
        return [(card, row) for card, row in rows.all()]


async def number_of(bot: LocalBot, request_id: int) -> str:
    """The number people see for the request ("2026-0001")."""
    async with transaction(bot.runtime.sessions) as session:
        request = await session.get(ApprovalRequest, request_id)
        assert request is not None
        return request.label


async def card_of(chat: Chat, request_id: int, *, with_buttons: bool = True) -> SandboxMessage:
    """The latest card of ``request_id`` in the chat (with decision buttons, by default)."""
    label = await number_of(chat.bot, request_id)
    for message in reversed(await chat.bot_messages()):
        text = text_of(message)
        if f"#{label}</b>" not in text:
            continue
        if not with_buttons or "✅ Approve" in message.button_texts():
            return message
    raise AssertionError(f"no card of #{request_id} in chat {chat.user_id}")


async def message(chat: Chat, message_id: int) -> SandboxMessage:
    """A message as it is now (after any edits)."""
    for found in await chat.bot_messages():
        if found.message_id == message_id:
            return found
    raise AssertionError(f"no message {message_id} in chat {chat.user_id}")


def text_of(message: SandboxMessage) -> str:
    return message.raw_text or message.text or message.caption or ""


async def last_text(chat: Chat) -> str:
    return text_of(await chat.last_reply())


def texts(replies: list[SandboxMessage]) -> str:
    return "\n".join(text_of(reply) for reply in replies)


async def forge(chat: Chat, data: str) -> list[SandboxMessage]:
    """Press made-up callback data on the chat's latest bot message, as a modified client
    could; the bot must not trust it."""
    return await chat.tap_data((await chat.last_reply()).message_id, data, forged=True)
