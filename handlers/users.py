"""/users: managers see their team, admins everyone; deactivation ends access at once."""

from __future__ import annotations

import html

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import UserFacingError
from handlers.commands import declare
from handlers.replies import Button, Keyboard
from handlers.turn import Turn, turn_handler
from models.common import Role
from services import offboarding, users

PAGE_SIZE = 8
CALLBACK = "usr"
USER_ADMINS = frozenset({Role.MANAGER, Role.ADMIN, Role.DIRECTOR})

declare("users", roles=USER_ADMINS, order=51)


async def _render_page(turn: Turn, page: int) -> tuple[str, Keyboard]:
    actor = turn.actor
    listed = await users.visible_users(turn.session, actor)
    pages = max(1, (len(listed) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    lines = [turn.t("users.header", count=len(listed), page=page + 1, pages=pages)]
    buttons: Keyboard = []
    for user, team in listed[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        status = turn.t("users.active" if user.active else "users.inactive")
        lines.append(
            turn.t(
                "users.line",
                name=html.escape(user.display_name),
                role=turn.t(f"roles.{user.role}"),
                team=html.escape(team.name) if team else "—",
                status=status,
            )
        )
        if user.active and users.can_deactivate(actor, user):
            label = turn.t("users.deactivate_button", name=user.display_name[:40])
            buttons.append([Button(label, data=f"{CALLBACK}|d|{user.id}")])
    nav = []
    if page > 0:
        nav.append(Button("◀", data=f"{CALLBACK}|p|{page - 1}"))
    if page < pages - 1:
        nav.append(Button("▶", data=f"{CALLBACK}|p|{page + 1}"))
    if nav:
        buttons.append(nav)
    return "\n".join(lines), buttons


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
    _, action, raw_id = (query.data or "").split("|", 2)
    if not raw_id.isdigit():
        raise UserFacingError("forms.stale_button")
    message_id = query.message.message_id
    if action == "p":
        text, buttons = await _render_page(turn, int(raw_id))
        turn.edit(message_id, text, buttons)
        return
    target = await users.get_user(turn.session, int(raw_id))
    if target is None or not users.can_deactivate(turn.actor, target):
        raise UserFacingError("users.cannot_deactivate")
    name = html.escape(target.display_name)
    if action == "d":
        confirm = [[
            Button(turn.t("users.confirm_deactivate"), data=f"{CALLBACK}|D|{target.id}"),
            Button(turn.t("forms.cancel"), data=f"{CALLBACK}|p|0"),
        ]]  # fmt: skip
        turn.edit(message_id, turn.t("users.ask_deactivate", name=name), confirm)
        return
    if action == "D":
        await offboarding.deactivate(
            turn.session, actor=turn.actor, target_id=target.id or 0, now=turn.now,
            render=turn.render, reason="in chat",
        )  # fmt: skip
        turn.edit(message_id, turn.t("users.deactivated", name=name))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("users", list_users))
    app.add_handler(CallbackQueryHandler(on_user_button, pattern=rf"^{CALLBACK}\|"))
