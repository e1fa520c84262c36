"""Everything no command claimed: answers to open forms, stale buttons, unknown input."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from handlers import card_photos
from handlers.approvals import replied_answer, typed_answer
from handlers.context import Ctx
from handlers.forms import CALLBACK_PATTERN, continue_form
from handlers.turn import Turn, turn_handler


@turn_handler()
async def form_answer(turn: Turn) -> None:
    """Route a message or a form button to the open form, or explain what the bot expects."""
    if turn.update.callback_query is None and await replied_answer(turn):
        return
    if await continue_form(turn):
        return
    if turn.update.callback_query is None and await typed_answer(turn):
        return
    if turn.update.callback_query is not None:
        turn.say_key("forms.stale_button")
    else:
        turn.say_key("fallback.not_understood")


async def on_form_button(update: Update, ctx: Ctx) -> None:
    """A form button; "Read as a business card" has its photo read before the turn."""
    try:
        await card_photos.read_chosen_card(update, ctx)
        await form_answer(update, ctx)
    finally:
        card_photos.forget(update)


@turn_handler()
async def unknown_command(turn: Turn) -> None:
    """A command this bot does not have."""
    turn.say_key("fallback.unknown_command")


@turn_handler()
async def unknown_button(turn: Turn) -> None:
    """A button whose data no handler recognises (an old keyboard, or forged data)."""
    turn.say_key("forms.stale_button")


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Registered last: these catch what the area handlers did not."""
    app.add_handler(CallbackQueryHandler(on_form_button, pattern=CALLBACK_PATTERN))
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(~filters.COMMAND & ~filters.StatusUpdate.ALL, form_answer))
    app.add_handler(CallbackQueryHandler(unknown_button))
