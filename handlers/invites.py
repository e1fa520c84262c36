"""/invite: a manager or admin picks a role and a team and gets a single-use deep link; links
not used yet are listed first, each with a Revoke button."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import NotAllowedError, UserFacingError
from handlers.commands import MANAGERS, declare
from handlers.forms import Form, FormInput, InputError, Prompt, register_form, start_form
from handlers.replies import Button, Keyboard
from handlers.turn import Turn, turn_handler
from models.common import Role
from services import invites
from services.timefmt import format_local

declare("invite", roles=MANAGERS, order=50)
CALLBACK = "inv"


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
    team_name = created.team.name if created.team else turn.t("profile.no_team")
    tz = created.team.timezone if created.team else turn.deps.settings.team("").timezone
    turn.say_key(
        "invite.created",
        role=turn.t(f"roles.{data['role']}"),
        team=html.escape(team_name),
        link=link,
        expires=format_local(created.invite.expires_at, tz),
    )


INVITE_FORM = register_form(InviteForm())


def _pending_list(turn: Turn, pending: list[invites.PendingInvite]) -> tuple[str, Keyboard]:
    """The sender's invites not used yet, with a Revoke button each and one for a new invite."""
    lines = [
        turn.t("invite.pending_title", count=len(pending))
        if pending
        else turn.t("invite.none_pending")
    ]
    buttons: Keyboard = []
    for item in pending:
        team = item.team
        tz = team.timezone if team else turn.deps.settings.team("").timezone
        by = ""
        if item.invite.created_by_id != turn.actor.user_id:
            maker = item.made_by.display_name if item.made_by else None
            name = html.escape(maker) if maker else turn.t("invite.by_command_line")
            by = turn.t("invite.pending_by", name=name)
        lines.append(
            turn.t(
                "invite.pending_line", label=item.label, role=turn.t(f"roles.{item.invite.role}"),
                team=html.escape(team.name) if team else turn.t("profile.no_team"),
                expires=format_local(item.invite.expires_at, tz), by=by,
            )
        )  # fmt: skip
        label = turn.t("invite.revoke_button", number=item.invite.id)
        buttons.append([Button(label, data=f"{CALLBACK}|r|{item.invite.id}")])
    buttons.append([Button(turn.t("invite.new_button"), data=f"{CALLBACK}|new")])
    return "\n".join(lines), buttons


@turn_handler(roles=MANAGERS)
async def invite(turn: Turn) -> None:
    """List the invites not used yet, or start the invite form when there are none."""
    pending = await invites.pending_invites(turn.session, turn.actor, turn.now)
    if not pending:
        await start_form(turn, INVITE_FORM)
        return
    turn.say(*_pending_list(turn, pending))


@turn_handler(roles=MANAGERS)
async def on_invite_button(turn: Turn) -> None:
    """Revoke one invite (the service re-checks who may), or start a new one."""
    query = turn.update.callback_query
    assert query is not None and query.message is not None
    action, _, raw_id = (query.data or "").removeprefix(f"{CALLBACK}|").partition("|")
    if action == "new":
        await start_form(turn, INVITE_FORM)
        return
    if action != "r" or not raw_id.isdigit():
        raise UserFacingError("forms.stale_button")
    revoked = await invites.revoke(
        turn.session, actor=turn.actor, invite_id=int(raw_id), now=turn.now
    )
    pending = await invites.pending_invites(turn.session, turn.actor, turn.now)
    text, buttons = _pending_list(turn, pending)
    done = turn.t("invite.revoked_done", label=invites.label(revoked))
    turn.edit(query.message.message_id, done + "\n\n" + text, buttons)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("invite", invite))
    app.add_handler(CallbackQueryHandler(on_invite_button, pattern=rf"^{CALLBACK}\|"))
