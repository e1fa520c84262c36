"""/delegate: a manager hands their approvals to another manager or a director until a date."""

from __future__ import annotations

from datetime import date
from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import UserFacingError
from handlers.approval_form import env_of
from handlers.commands import declare
from handlers.customer_fields import expect_text
from handlers.forms import Form, FormInput, InputError, Prompt, register_form, start_form
from handlers.turn import Turn, turn_handler
from models.common import Role
from services import delegations
from services.dates import parse_date
from views import delegations as views
from views.callbacks import StaleButton

MANAGERS_ONLY = frozenset({Role.MANAGER})

declare("delegate", roles=MANAGERS_ONLY, order=39)


async def _today(turn: Turn) -> tuple[date, date]:
    return delegations.last_allowed_day(await turn.team())


class DelegateForm(Form):
    name = "delegate"
    first_step = "who"
    roles = MANAGERS_ONLY

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        if not await delegations.candidates(turn.session, turn.actor):
            raise UserFacingError("delegation.nobody")
        return self.first_step

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        if step == "who":
            people = await delegations.candidates(turn.session, turn.actor)
            return Prompt(*views.ask_who(turn.deps.texts, turn.lang, people))
        if step == "until":
            today, _ = await _today(turn)
            return Prompt(*views.ask_until(turn.deps.texts, turn.lang, data["name"], today))
        until = date.fromisoformat(data["until"])
        return Prompt(*views.confirm(turn.deps.texts, turn.lang, data["name"], until))

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        if step == "who":
            return await _accept_who(turn, data, answer)
        if step == "until":
            today, last = await _today(turn)
            day = _chosen_day(answer, today)
            if day < today:
                raise InputError("delegation.until_past")
            if day > last:
                raise InputError("delegation.until_too_far", days=delegations.MAX_DAYS)
            data["until"] = day.isoformat()
            return "confirm"
        if answer.choice != "yes":
            raise InputError("approvals.use_buttons")
        current = await delegations.delegate(
            turn.session, env_of(turn), await turn.team(), turn.actor,
            delegate_id=int(data["delegate_id"]), until=date.fromisoformat(data["until"]),
        )  # fmt: skip
        turn.say(views.started(turn.deps.texts, turn.lang, current))
        return None


async def _accept_who(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    choice = answer.choice or ""
    if not choice.startswith("u:") or not choice[2:].isdigit():
        raise InputError("approvals.use_buttons")
    people = {c.user.id: c.user for c in await delegations.candidates(turn.session, turn.actor)}
    person = people.get(int(choice[2:]))
    if person is None:
        raise InputError("delegation.bad_delegate")
    data["delegate_id"], data["name"] = person.id, person.display_name
    return "until"


def _chosen_day(answer: FormInput, today: date) -> date:
    if answer.choice is not None:
        if not answer.choice.startswith("d:"):
            raise InputError("approvals.use_buttons")
        try:
            return date.fromisoformat(answer.choice[2:])
        except ValueError:
            raise InputError("approvals.use_buttons") from None
    day = parse_date(expect_text(answer), today)
    if day is None:
        raise InputError("approvals.date_invalid")
    return day


DELEGATE_FORM = register_form(DelegateForm())


@turn_handler(roles=MANAGERS_ONLY)
async def delegate_command(turn: Turn) -> None:
    """Show the delegation in force (end it, or hand to someone else), or start one."""
    found = await delegations.current(turn.session, env_of(turn), turn.actor)
    if found is None:
        await start_form(turn, DELEGATE_FORM)
        return
    turn.say(*views.current(turn.deps.texts, turn.lang, found))


@turn_handler(roles=MANAGERS_ONLY)
async def on_button(turn: Turn) -> None:
    """End the delegation now, or start a new one."""
    query = turn.update.callback_query
    assert query is not None
    try:
        action = views.BUTTON.unpack(query.data).action
    except StaleButton:
        raise UserFacingError("approvals.stale") from None
    if action == views.NEW:
        await start_form(turn, DELEGATE_FORM)
        return
    if action != views.END:
        raise UserFacingError("approvals.stale")
    ended = await delegations.end_now(turn.session, env_of(turn), await turn.team(), turn.actor)
    turn.say(views.ended(turn.deps.texts, turn.lang, ended))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("delegate", delegate_command))
    app.add_handler(CallbackQueryHandler(on_button, pattern=views.BUTTON.pattern))
