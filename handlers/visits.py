"""/visit logs a visit in a few taps; /visits lists mine, to edit or delete within 24 hours."""

from __future__ import annotations

from datetime import timedelta

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import UserFacingError
from handlers.commands import declare
from handlers.forms import start_form
from handlers.replies import Button, Keyboard
from handlers.turn import Turn, turn_handler
from handlers.visit_form import VISIT_FORM, VISITORS, rules_of
from handlers.visit_views import visit_line
from services import customers, visits

CALLBACK = "vi"
LIST_LIMIT = 10

declare("visit", roles=VISITORS, order=10)
declare("visits", roles=VISITORS, order=11)


@turn_handler(roles=VISITORS)
async def visit_command(turn: Turn) -> None:
    """Start logging a visit."""
    await start_form(turn, VISIT_FORM)


async def _visits_page(turn: Turn) -> tuple[str, Keyboard]:
    rules = await rules_of(turn)
    listed = await visits.recent_visits(turn.session, turn.actor.user_id, limit=LIST_LIMIT)
    if not listed:
        return turn.t("visits.none_yet"), []
    window = timedelta(hours=rules.visits.edit_window_hours)
    lines = [turn.t("visits.list_header", hours=rules.visits.edit_window_hours)]
    buttons: Keyboard = []
    for number, (visit, customer) in enumerate(listed, start=1):
        lines.append(f"{number}. {visit_line(turn, visit, customer, rules)}")
        if turn.now - visit.created_at <= window:
            buttons.append([
                Button(turn.t("visits.edit_button", number=number),
                       data=f"{CALLBACK}|{visit.id}|e"),
                Button(turn.t("visits.delete_button", number=number),
                       data=f"{CALLBACK}|{visit.id}|d"),
            ])  # fmt: skip
    return "\n".join(lines), buttons


@turn_handler(roles=VISITORS)
async def visits_command(turn: Turn) -> None:
    """List my recent visits, with Edit / Delete while they are editable."""
    text, buttons = await _visits_page(turn)
    turn.say(text, buttons)


@turn_handler(roles=VISITORS)
async def on_visit_button(turn: Turn) -> None:
    """Edit, ask to delete, or delete one of my visits (only mine, only within the window)."""
    query = turn.update.callback_query
    assert query is not None and query.message is not None
    _, raw_id, action = ((query.data or "") + "||").split("|")[:3]
    if not raw_id.isdigit():
        raise UserFacingError("forms.stale_button")
    rules = await rules_of(turn)
    visit, _ = await visits.editable_visit(turn.session, turn.actor, int(raw_id), rules, turn.now)
    if action == "e":
        await start_form(turn, VISIT_FORM, {"edit_visit_id": visit.id})
    elif action == "d":
        customer = await customers.get_visible(turn.session, turn.actor, visit.customer_id)
        confirm = [[
            Button(turn.t("visits.confirm_delete"), data=f"{CALLBACK}|{visit.id}|D"),
            Button(turn.t("visits.keep"), data=f"{CALLBACK}|{visit.id}|k"),
        ]]  # fmt: skip
        line = visit_line(turn, visit, customer, rules)
        turn.say(turn.t("visits.ask_delete", visit=line), confirm)
    elif action == "D":
        await visits.delete_visit(
            turn.session, actor=turn.actor, visit_id=visit.id or 0, rules=rules, now=turn.now
        )
        turn.edit(query.message.message_id, turn.t("visits.deleted"))
    else:
        turn.edit(query.message.message_id, turn.t("visits.kept"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("visit", visit_command))
    app.add_handler(CommandHandler("visits", visits_command))
    app.add_handler(CallbackQueryHandler(on_visit_button, pattern=rf"^{CALLBACK}\|"))
