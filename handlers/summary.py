"""/summary: the meeting summary on demand, for this or any past week or month."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import UserFacingError
from handlers.commands import declare
from handlers.replies import Attachment, Reply
from handlers.turn import Turn, send_replies, turn_handler
from models.common import Role
from services import teams
from services.summary import TeamSummary, build_team_summary
from services.summary.core import choose_period, company_today
from services.summary.deliver import company_rollup, file_parts
from services.team_context import TeamContext
from views import summary as views
from views.buttons import Keyboard

READERS = frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN})

declare("summary", roles=READERS, order=60)


async def _team_for(turn: Turn, team_id: int | None) -> TeamContext | None:
    """The team to summarise: a manager's own; directors and admins choose (None = company)."""
    if turn.actor.role is Role.MANAGER:
        return await turn.team()
    if team_id is None:
        return None
    team = await teams.get_team(turn.session, team_id)
    if team is None or team.archived:
        raise UserFacingError("summary.unknown_team")
    return await turn.team(team_id)


async def _show(turn: Turn, asked: str | None, team_id: int | None) -> None:
    team = await _team_for(turn, team_id)
    today = team.today if team else company_today(turn.deps.settings, turn.now)
    chosen = choose_period(asked, today)
    texts, lang = turn.deps.texts, turn.lang
    nav = views.previous_period(
        texts, lang, chosen.previous, team.team_id if team else None, today
    )
    if team is None:
        rollup = await company_rollup(
            turn.session, turn.deps.settings, chosen.kind, chosen.day, turn.now
        )
        turn.say(views.rollup_message(texts, lang, rollup), nav)
        return
    summary = await build_team_summary(turn.session, team, chosen.kind, chosen.day)
    summary.cockpit_url = turn.deps.settings.webapp.page_url
    turn.say(views.message(texts, lang, summary), views.cockpit_button(texts, lang, summary))
    turn.after_commit.append(lambda: _send_files(turn, summary, nav))


async def _send_files(turn: Turn, summary: TeamSummary, nav: Keyboard) -> None:
    """Chart and workbook, made once the transaction is over (on SQLite an open transaction
    holds the write lock: a slow chart inside it would stall everyone). The way to the previous
    period is on the last message, whichever parts could be made."""
    files = await views.attachments(turn.deps.texts, turn.lang, summary)
    shown = [
        Reply(
            turn.render(part.view, turn.lang, summary)[0],
            attachment=Attachment(part.file.kind, part.file.name, part.file.content),
        )
        for part in file_parts(summary, files)
    ] or [Reply(turn.t("summary.files_failed"))]
    shown[-1].buttons = nav
    await send_replies(turn.ctx, turn.update, shown)


@turn_handler(roles=READERS)
async def summary_command(turn: Turn) -> None:
    """`/summary [上周 | last month | 2026-11-25 | 2026-W47 | 2026-11]`; directors and admins
    pick a team or the company."""
    args = turn.ctx.args or []
    if turn.actor.role is not Role.MANAGER and not args:
        options = [(t.id, t.name) for t in await teams.list_teams(turn.session) if t.id]
        turn.say(
            turn.t("summary.choose_team"), views.team_choice(turn.deps.texts, turn.lang, options)
        )
        return
    await _show(turn, " ".join(args) if args else None, None)


@turn_handler(roles=READERS)
async def summary_button(turn: Turn) -> None:
    """A team chosen, or the previous period."""
    query = turn.update.callback_query
    assert query is not None
    pick = views.SUMMARY.unpack(query.data)
    await _show(turn, pick.label, pick.team_id)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("summary", summary_command))
    app.add_handler(CallbackQueryHandler(summary_button, pattern=views.SUMMARY.pattern))
