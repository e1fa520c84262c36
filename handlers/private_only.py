"""salesbot serves private chats only: customer cards, balances and approvals must never be
posted into a group or channel the bot was added to, whatever a member types there."""

from __future__ import annotations

import logging

from telegram import Chat, Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from handlers.context import Ctx

log = logging.getLogger(__name__)

# Inline queries typed in these chats would put a customer's name into the conversation.
SHARED_CHAT_TYPES = frozenset({Chat.GROUP, Chat.SUPERGROUP, Chat.CHANNEL})


def outside_private_chat(update: Update) -> bool:
    """True for anything that comes from, or would answer into, a chat that is not private."""
    inline = update.inline_query
    if inline is not None:
        return inline.chat_type in SHARED_CHAT_TYPES
    chat = update.effective_chat
    return chat is not None and chat.type != Chat.PRIVATE


async def refuse_shared_chats(update: Update, _ctx: Ctx) -> None:
    """Drop the update before any handler sees it; an inline query gets an empty answer."""
    if not outside_private_chat(update):
        return
    log.debug("update %s from a non-private chat ignored", update.update_id)
    if update.inline_query is not None:
        await update.inline_query.answer([], cache_time=0, is_personal=True)
    raise ApplicationHandlerStop


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Group -1 runs before every area's handlers (group 0)."""
    app.add_handler(TypeHandler(Update, refuse_shared_chats), group=-1)
