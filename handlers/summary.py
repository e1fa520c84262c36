"""/summary: the meeting summary on demand, for this or any past week or month."""

from __future__ import annotations

from datetime import date

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import UserFacingError
from core.periods import local_today
from handlers.commands import declare
from handlers.replies import Attachment, Button, Keyboard, Reply
from handlers.turn import Turn, send_replies, turn_handler
from models.common import Role
from models.team import Team
from services import teams
from services.summary import TeamSummary, build_team_summary, render
from services.summary.core import PeriodKind, label_for, parse_label, previous_day
from services.summary.deliver import attachments, company_rollup, file_parts, rollup_message

READERS = frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN})
CALLBACK = "sm"

declare("summary", roles=READERS, order=60)


async def _team_for(turn: Turn, team_id: int | None) -> Team | None:
    """The team to summarise: a manager's own; directors and admins choose (None = company)."""
    actor = turn.actor
    if actor.role is Role.MANAGER:
        return await teams.get_team(turn.session, actor.team_id or 0)
    if team_id is None:
        return None
    team = await teams.get_team(turn.session, team_id)
    if team is None or team.archived:
        raise UserFacingError("summary.unknown_team")
    return team


async def _show(turn: Turn, kind: PeriodKind, day_label: str | None, team_id: int | None) -> None:
    team = await _team_for(turn, team_id)
    timezone = team.timezone if team else turn.deps.settings.team("").timezone
    day = local_today(turn.now, timezone)
    if day_label is not None:
        parsed = parse_label(day_label)
        if parsed is None:
            raise UserFacingError("summary.bad_period", given=day_label[:20])
        kind, day = parsed
    if day > local_today(turn.now, timezone):
        raise UserFacingError("summary.future_period")
    settings = turn.deps.settings
    if team is None:
        summaries = await company_rollup(turn.session, settings, kind, day, turn.now)
        text = rollup_message(turn.deps.texts, turn.lang, summaries, label_for(kind, day))
        turn.say(text, _nav(turn, kind, day, None))
        return
    summary = await build_team_summary(
        turn.session, team, settings.team(team.key), kind, day, turn.now
    )
    turn.say(render.message(turn.deps.texts, turn.lang, summary))
    nav = _nav(turn, kind, day, team.id)
    turn.after_commit.append(lambda: _send_files(turn, summary, nav))


async def _send_files(turn: Turn, summary: TeamSummary, nav: Keyboard) -> None:
    """Chart and workbook, made once the transaction is over (on SQLite an open transaction
    holds the write lock: a slow chart inside it would stall everyone). The way to the previous
    period is on the last message, whichever parts could be made."""
    files = await attachments(turn.deps.texts, turn.lang, summary)
    shown = [
        Reply(caption, attachment=Attachment(file.kind, file.name, file.content))
        for _part, caption, file in file_parts(turn.deps.texts, turn.lang, summary, files)
    ] or [Reply(turn.t("summary.files_failed"))]
    shown[-1].buttons = nav
    await send_replies(turn.ctx, turn.update, shown)


def _nav(turn: Turn, kind: PeriodKind, day: date, team_id: int | None) -> Keyboard:
    earlier = label_for(kind, previous_day(kind, day))
    data = f"{CALLBACK}|{earlier}|{team_id or 0}"
    return [[Button(turn.t("summary.previous", label=earlier), data=data)]]


@turn_handler(roles=READERS)
async def summary_command(turn: Turn) -> None:
    """`/summary [2026-W47 | 2026-11]`; directors and admins pick a team or the company."""
    args = turn.ctx.args or []
    if turn.actor.role is not Role.MANAGER and not args:
        options = await teams.list_teams(turn.session)
        rows = [[Button(t.name, data=f"{CALLBACK}|now|{t.id}")] for t in options]
        rows.append([Button(turn.t("summary.company"), data=f"{CALLBACK}|now|0")])
        turn.say(turn.t("summary.choose_team"), rows)
        return
    await _show(turn, "week", args[0] if args else None, None)


@turn_handler(roles=READERS)
async def summary_button(turn: Turn) -> None:
    """A team chosen, or the previous period."""
    query = turn.update.callback_query
    assert query is not None
    parts = (query.data or "").split("|")
    if len(parts) != 3 or not parts[2].isdigit():
        raise UserFacingError("forms.stale_button")
    label = None if parts[1] == "now" else parts[1]
    team_id = int(parts[2]) or None
    await _show(turn, "week", label, team_id)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("summary", summary_command))
    app.add_handler(CallbackQueryHandler(summary_button, pattern=rf"^{CALLBACK}\|"))
