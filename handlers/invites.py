"""/invite: a manager or admin picks a role and a team and gets a single-use deep link; links
not used yet are listed first, each with a Revoke button."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import NotAllowedError, UserFacingError
from handlers.commands import MANAGERS, declare
from handlers.forms import Form, FormInput, InputError, Prompt, register_form, start_form
from handlers.turn import Turn, turn_handler
from models.common import Role
from models.team import Team
from services import invites
from services.timefmt import format_local
from views.buttons import Keyboard
from views.people import (
    INVITE,
    NEW_INVITE,
    REVOKE,
    PendingLine,
    invite_created,
    pending_invites,
)

declare("invite", roles=MANAGERS, order=50)


class InviteForm(Form):
    name = "invite"
    first_step = "role"
    roles = MANAGERS

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        roles = invites.invitable_roles(turn.actor)
        teams = await invites.invitable_teams(turn.session, turn.actor)
        if not roles:
            raise NotAllowedError("invite.role_not_allowed")
        data["roles"] = [str(role) for role in roles]
        data["teams"] = {str(team.id): team.name for team in teams}
        if len(roles) > 1:
            return "role"
        # A manager can only invite reps to their own team: nothing to ask.
        return await self.accept(turn, "role", data, FormInput(choice=str(roles[0])))

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        if step == "role":
            choices = [(turn.t(f"roles.{role}"), role) for role in data["roles"]]
            return Prompt(turn.t("invite.ask_role"), [choices[:2], choices[2:]])
        choices = [(name, team_id) for team_id, name in data["teams"].items()]
        rows = [choices[i : i + 2] for i in range(0, len(choices), 2)]
        return Prompt(turn.t("invite.ask_team", role=turn.t(f"roles.{data['role']}")), rows)

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        choice = answer.choice or ""
        if step == "role":
            if choice not in data["roles"]:
                raise InputError("forms.use_buttons")
            data["role"] = choice
            if Role(choice).needs_team and len(data["teams"]) > 1:
                return "team"
            only_team = next(iter(data["teams"]), None) if Role(choice).needs_team else None
            await _finish(turn, data, team_id=int(only_team) if only_team else None)
            return None
        if choice not in data["teams"]:
            raise InputError("forms.use_buttons")
        await _finish(turn, data, team_id=int(choice))
        return None


async def _finish(turn: Turn, data: dict[str, Any], team_id: int | None) -> None:
    ttl = timedelta(hours=turn.deps.settings.access.invite_ttl_hours)
    created = await invites.create_invite(
        turn.session, actor=turn.actor, role=Role(data["role"]), team_id=team_id,
        now=turn.now, ttl=ttl,
    )  # fmt: skip
    link = f"https://t.me/{turn.deps.bot_username}?start={created.deep_link_payload}"
    team = created.team
    expires = format_local(created.invite.expires_at, await _timezone(turn, team), turn.lang)
    text = invite_created(
        turn.deps.texts, turn.lang, data["role"], team.name if team else None, link, expires
    )
    turn.say(text)


async def _timezone(turn: Turn, team: Team | None) -> str:
    """The team's timezone (from the config); the default team's for an invite without one."""
    if team is None or team.id is None:
        return turn.deps.settings.team("").timezone
    return (await turn.team(team.id)).timezone


INVITE_FORM = register_form(InviteForm())


async def _pending_list(turn: Turn) -> tuple[str, Keyboard]:
    """The sender's invites not used yet, with a Revoke button each and one for a new invite."""
    pending = await invites.pending_invites(turn.session, turn.actor, turn.now)
    lines = [
        PendingLine(
            invite_id=item.invite.id or 0, label=item.label, role=str(item.invite.role),
            team=item.team.name if item.team else None, expires_at=item.invite.expires_at,
            timezone=await _timezone(turn, item.team),
            made_by=None if item.invite.created_by_id == turn.actor.user_id
            else (item.made_by.display_name if item.made_by else ""),
        )
        for item in pending
    ]  # fmt: skip
    return pending_invites(turn.deps.texts, turn.lang, lines)


@turn_handler(roles=MANAGERS)
async def invite(turn: Turn) -> None:
    """List the invites not used yet, or start the invite form when there are none."""
    if not await invites.pending_invites(turn.session, turn.actor, turn.now):
        await start_form(turn, INVITE_FORM)
        return
    turn.say(*await _pending_list(turn))


@turn_handler(roles=MANAGERS)
async def on_invite_button(turn: Turn) -> None:
    """Revoke one invite (the service re-checks who may), or start a new one."""
    query = turn.update.callback_query
    assert query is not None and query.message is not None
    pressed = INVITE.unpack(query.data)
    if pressed.action == NEW_INVITE:
        await start_form(turn, INVITE_FORM)
        return
    if pressed.action != REVOKE or pressed.invite_id is None:
        raise UserFacingError("forms.stale_button")
    revoked = await invites.revoke(
        turn.session, actor=turn.actor, invite_id=pressed.invite_id, now=turn.now
    )
    text, buttons = await _pending_list(turn)
    done = turn.t("invite.revoked_done", label=invites.label(revoked))
    turn.edit(query.message.message_id, done + "\n\n" + text, buttons)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("invite", invite))
    app.add_handler(CallbackQueryHandler(on_invite_button, pattern=INVITE.pattern))
