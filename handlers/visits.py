"""/visit logs a visit in a few taps; /visits lists mine, to edit or delete within 24 hours."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from handlers.commands import declare
from handlers.forms import ask_again, start_form
from handlers.turn import Turn, turn_handler
from handlers.visit_form import VISIT_FORM, VISITORS
from services import customers, visits
from views.visits import VISIT, VisitsPage, ask_delete, visits_page

LIST_LIMIT = 10

declare("visit", roles=VISITORS, order=10)
declare("visits", roles=VISITORS, order=11)


@turn_handler(roles=VISITORS)
async def visit_command(turn: Turn) -> None:
    """Start logging a visit."""
    await start_form(turn, VISIT_FORM)


@turn_handler(roles=VISITORS)
async def visits_command(turn: Turn) -> None:
    """List my recent visits, with Edit / Delete while they are editable."""
    team = await turn.team()
    listed = await visits.recent_visits(turn.session, turn.actor.user_id, limit=LIST_LIMIT)
    page = VisitsPage(
        visits=listed,
        editable={visit.id for visit, _ in listed if visit.id and visits.editable(visit, team)},
        edit_window_hours=team.rules.visits.edit_window_hours,
        timezone=team.timezone,
    )
    turn.say(*visits_page(turn.deps.texts, turn.lang, page))


@turn_handler(roles=VISITORS)
async def on_visit_button(turn: Turn) -> None:
    """Edit, ask to delete, or delete one of my visits (only mine, only within the window)."""
    query = turn.update.callback_query
    assert query is not None and query.message is not None
    pressed = VISIT.unpack(query.data)
    if pressed.action in ("o", "c"):
        # Tapped again while checking out: the notes typed so far are kept.
        if await ask_again(
            turn, VISIT_FORM, lambda d: d.get("checkout_visit_id") == pressed.visit_id
        ):
            return
        data: dict[str, object] = {"checkout_visit_id": pressed.visit_id}
        if pressed.action == "c":
            data["card_message_id"] = query.message.message_id
        await start_form(turn, VISIT_FORM, data)
        return
    team = await turn.team()
    visit, _ = await visits.editable_visit(turn.session, turn.actor, pressed.visit_id, team)
    if pressed.action == "e":
        await start_form(turn, VISIT_FORM, {"edit_visit_id": visit.id})
    elif pressed.action == "d":
        customer = await customers.get_visible(turn.session, turn.actor, visit.customer_id)
        turn.say(*ask_delete(turn.deps.texts, turn.lang, visit, customer, team.timezone))
    elif pressed.action == "D":
        await visits.delete_visit(
            turn.session, actor=turn.actor, visit_id=visit.id or 0, team=team
        )
        turn.edit(query.message.message_id, turn.t("visits.deleted"))
    else:
        turn.edit(query.message.message_id, turn.t("visits.kept"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("visit", visit_command))
    app.add_handler(CommandHandler("visits", visits_command))
    app.add_handler(CallbackQueryHandler(on_visit_button, pattern=VISIT.pattern))
