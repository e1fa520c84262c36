"""The last resort: errors no turn handled are logged with the update id and apologised for.

A turn (handlers/turn.py) answers its own failures and never lets one escape after its work
committed, so what arrives here happened before any work of the update was saved.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from handlers.context import Ctx
from handlers.replies import Reply, deliver
from handlers.retry import GaveUp, RetryPolicy
from handlers.turn import language_for

log = logging.getLogger(__name__)


async def on_error(update: object, ctx: Ctx) -> None:
    """Log the failure; tell the sender something went wrong when we still can."""
    error = ctx.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        log.warning("network trouble while handling update %s: %s", update_id, error)
        return
    log.error("update %s failed", update_id, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(error, Forbidden):
        return
    lang = await language_for(ctx.deps, update)
    policy = RetryPolicy(ctx.deps.settings.delivery)
    apology = Reply(text=ctx.deps.texts.t(lang, "errors.unexpected"))
    try:
        await deliver(ctx.bot, update.effective_chat.id, apology, policy, policy.reply_deadline())
    except (GaveUp, TelegramError) as exc:
        log.warning("could not apologise for update %s: %s", update_id, exc)
