"""/start: invite deep links register people; everyone else learns how to get access."""

from __future__ import annotations

import html

from telegram.ext import Application, CommandHandler

from handlers.commands import declare, publish_personal_menu
from handlers.help import help_text
from handlers.turn import Turn, sender_name, turn_handler
from models.common import Role
from services import invites, teams

declare("start", order=0)


@turn_handler(registered=False)
async def start(turn: Turn) -> None:
    """Redeem an invite from the deep link, or greet the sender."""
    payload = turn.ctx.args[0] if turn.ctx.args else ""
    if payload.startswith(invites.DEEP_LINK_PREFIX):
        await _redeem(turn, payload)
        return
    if turn.user is None:
        turn.say_key("access.not_registered")
        return
    if not turn.user.active:
        turn.say_key("access.deactivated")
        return
    name = html.escape(turn.user.display_name)
    turn.say(turn.t("start.welcome_back", name=name) + "\n\n" + help_text(turn))
    _refresh_menu(turn, Role(turn.user.role), turn.lang)


def _refresh_menu(turn: Turn, role: Role, lang: str) -> None:
    """The person's commands (and the cockpit's menu button), set once the turn committed."""
    bot, texts, chat_id = turn.ctx.bot, turn.deps.texts, turn.chat_id
    url = turn.deps.settings.webapp.page_url
    turn.after_commit.append(lambda: publish_personal_menu(bot, texts, chat_id, role, lang, url))


async def _redeem(turn: Turn, payload: str) -> None:
    sender = turn.update.effective_user
    assert sender is not None
    name, username = sender_name(turn.update)
    user = await invites.redeem(
        turn.session, payload=payload, telegram_id=sender.id, display_name=name,
        username=username, now=turn.now, client_language=sender.language_code,
        settings=turn.deps.settings,
    )  # fmt: skip
    turn.lang = user.language
    turn.user = user
    role = Role(user.role)
    team = await teams.get_team(turn.session, user.team_id) if user.team_id else None
    greeting = turn.t(
        "start.registered_team" if team else "start.registered",
        name=html.escape(user.display_name),
        role=turn.t(f"roles.{role}"),
        team=html.escape(team.name) if team else "",
    )
    turn.say(greeting + "\n\n" + help_text(turn))
    _refresh_menu(turn, role, user.language)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("start", start))
