"""/delegate: a manager hands their approvals to another manager or a director until a date."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import UserFacingError
from core.periods import format_day, format_short_day
from handlers.approval_form import env_of
from handlers.commands import declare
from handlers.customer_fields import expect_text
from handlers.forms import Form, FormInput, InputError, Prompt, register_form, start_form
from handlers.replies import Button
from handlers.turn import Turn, turn_handler
from models.common import Role
from models.user import User
from services import delegations
from services.approvals import get_team
from services.dates import parse_date

CALLBACK = "dl"
MANAGERS_ONLY = frozenset({Role.MANAGER})

declare("delegate", roles=MANAGERS_ONLY, order=39)


async def _today(turn: Turn) -> tuple[date, date]:
    assert turn.actor.team_id is not None
    team = await get_team(turn.session, turn.actor.team_id)
    return delegations.last_allowed_day(env_of(turn), team)


def _label(turn: Turn, user: User, team_name: str | None) -> str:
    where = (
        team_name
        if user.role == Role.MANAGER and team_name
        else turn.t("approvals.level_director")
    )
    return f"{user.display_name[:40]} · {where}"


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
            rows = [
                [(_label(turn, u, t.name if t else None), f"u:{u.id}")] for u, t in people[:20]
            ]
            return Prompt(turn.t("delegation.ask_who"), rows)
        if step == "until":
            today, _ = await _today(turn)
            friday = today + timedelta(days=(4 - today.weekday()) % 7 or 7)
            days = [today + timedelta(days=1), friday, friday + timedelta(days=7),
                    today + timedelta(days=14)]  # fmt: skip
            options = [
                (format_short_day(d, turn.lang), f"d:{d.isoformat()}") for d in sorted(set(days))
            ]
            name = html.escape(data["name"])
            return Prompt(turn.t("delegation.ask_until", name=name), [options[:2], options[2:]])
        until = date.fromisoformat(data["until"])
        text = turn.t(
            "delegation.confirm",
            name=html.escape(data["name"]),
            until=format_day(until, turn.lang),
        )
        return Prompt(text, [[(turn.t("delegation.confirm_button"), "yes")]])

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
            turn.session, env_of(turn), turn.actor, delegate_id=int(data["delegate_id"]),
            until=date.fromisoformat(data["until"]),
        )  # fmt: skip
        until = format_day(current.delegation.until, turn.lang)
        turn.say_key(
            "delegation.started", name=html.escape(current.delegate.display_name), until=until
        )
        return None


async def _accept_who(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    choice = answer.choice or ""
    if not choice.startswith("u:") or not choice[2:].isdigit():
        raise InputError("approvals.use_buttons")
    people = {u.id: u for u, _ in await delegations.candidates(turn.session, turn.actor)}
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
    until = format_day(found.delegation.until, turn.lang)
    buttons = [[Button(turn.t("delegation.end_now"), data=f"{CALLBACK}|end"),
                Button(turn.t("delegation.replace"), data=f"{CALLBACK}|new")]]  # fmt: skip
    turn.say(
        turn.t("delegation.current", name=html.escape(found.delegate.display_name), until=until),
        buttons,
    )


@turn_handler(roles=MANAGERS_ONLY)
async def on_button(turn: Turn) -> None:
    """End the delegation now, or start a new one."""
    query = turn.update.callback_query
    assert query is not None
    if query.data == f"{CALLBACK}|new":
        await start_form(turn, DELEGATE_FORM)
        return
    if query.data != f"{CALLBACK}|end":
        raise UserFacingError("approvals.stale")
    ended = await delegations.end_now(turn.session, env_of(turn), turn.actor)
    turn.say_key("delegation.ended", name=html.escape(ended.delegate.display_name))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("delegate", delegate_command))
    app.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{CALLBACK}\|"))
