"""/me shows the profile; /lang switches between English and Simplified Chinese."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.i18n import LANGUAGE_NAMES
from handlers.commands import declare, publish_personal_menu
from handlers.turn import Turn, turn_handler
from models.common import Role
from services import teams, users
from views.people import LANGUAGE, language_picker, profile_card

declare("me", order=2)
declare("lang", order=3)


@turn_handler()
async def me(turn: Turn) -> None:
    """Show who the bot thinks I am."""
    user = turn.user
    assert user is not None
    team = await teams.get_team(turn.session, user.team_id) if user.team_id else None
    turn.say(profile_card(turn.deps.texts, turn.lang, user, team.name if team else None))


@turn_handler()
async def choose_language(turn: Turn) -> None:
    """Offer the languages as buttons."""
    turn.say(*language_picker(turn.deps.texts, turn.lang))


@turn_handler()
async def set_language(turn: Turn) -> None:
    """Switch every later reply to the chosen language."""
    query = turn.update.callback_query
    assert query is not None
    code = LANGUAGE.unpack(query.data).code
    user = await users.set_language(turn.session, turn.actor, code, turn.now)
    turn.lang = user.language
    if query.message is not None:
        turn.edit(query.message.message_id, turn.t("lang.switched", language=LANGUAGE_NAMES[code]))
    bot, texts, chat_id, role = turn.ctx.bot, turn.deps.texts, turn.chat_id, Role(user.role)
    url = turn.deps.settings.webapp.page_url
    turn.after_commit.append(lambda: publish_personal_menu(bot, texts, chat_id, role, code, url))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("me", me))
    app.add_handler(CommandHandler("lang", choose_language))
    app.add_handler(CallbackQueryHandler(set_language, pattern=LANGUAGE.pattern))
