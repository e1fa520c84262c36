"""/users: managers see their team, admins everyone; deactivation ends access at once."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import UserFacingError
from handlers.commands import declare
from handlers.turn import Turn, turn_handler
from models.common import Role
from services import offboarding, users
from views.buttons import Keyboard
from views.people import (
    ASK_DEACTIVATE,
    DEACTIVATE,
    PAGE,
    USER,
    UsersPage,
    ask_deactivate,
    deactivated,
    users_page,
)

USER_ADMINS = frozenset({Role.MANAGER, Role.ADMIN, Role.DIRECTOR})

declare("users", roles=USER_ADMINS, order=51)


async def _render_page(turn: Turn, page: int) -> tuple[str, Keyboard]:
    listed = await users.visible_users(turn.session, turn.actor)
    allowed = {
        user.id for user, _ in listed
        if user.id and user.active and users.can_deactivate(turn.actor, user)
    }  # fmt: skip
    return users_page(turn.deps.texts, turn.lang, UsersPage(listed, allowed, page))


@turn_handler(roles=USER_ADMINS)
async def list_users(turn: Turn) -> None:
    """Show the people the sender may manage."""
    text, buttons = await _render_page(turn, 0)
    turn.say(text, buttons)


@turn_handler(roles=USER_ADMINS)
async def on_user_button(turn: Turn) -> None:
    """Page through users, ask to confirm a deactivation, or carry it out."""
    query = turn.update.callback_query
    assert query is not None and query.message is not None
    pressed = USER.unpack(query.data)
    message_id = query.message.message_id
    if pressed.action == PAGE:
        turn.edit(message_id, *await _render_page(turn, pressed.number))
        return
    target = await users.get_user(turn.session, pressed.number)
    if target is None or not users.can_deactivate(turn.actor, target):
        raise UserFacingError("users.cannot_deactivate")
    if pressed.action == ASK_DEACTIVATE:
        turn.edit(message_id, *ask_deactivate(turn.deps.texts, turn.lang, target))
        return
    if pressed.action == DEACTIVATE:
        await offboarding.deactivate(
            turn.session, actor=turn.actor, target_id=target.id or 0, now=turn.now,
            render=turn.render, reason="in chat",
        )  # fmt: skip
        turn.edit(message_id, deactivated(turn.deps.texts, turn.lang, target))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("users", list_users))
    app.add_handler(CallbackQueryHandler(on_user_button, pattern=USER.pattern))
