"""/report and /weekly for reps; /reports for managers: the day's reports of the team, each
report, the problems flagged with a button to answer the rep, and the weekly reports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import NotAllowedError, UserFacingError
from core.periods import week_period
from handlers.commands import declare
from handlers.daily_report import DAILY_FORM
from handlers.forms import start_form
from handlers.report_forms import REPLY_FORM
from handlers.turn import PtbHandler, Turn, turn_handler
from handlers.weekly_report import WEEKLY_FORM
from models.common import Role
from services import reports, teams, weekly_reports
from services.report_sections import stored_sections
from services.team_context import TeamContext
from views import report_pages
from views.callbacks import Callback
from views.report_pages import Page
from views.reports import (
    OPEN_DAY,
    PROBLEMS,
    REPLY,
    TEAM_DAY,
    TEAM_WEEK,
    VIEW_DAILY,
    VIEW_WEEKLY,
    WRITE_DAILY,
    WRITE_WEEKLY,
    day_of,
)

# Longer pages are sent anew rather than edited in place (an edit cannot be split).
EDIT_LIMIT = 3500

declare("report", roles=reports.REPORTERS, order=16)
declare("weekly", roles=reports.REPORTERS, order=17)
declare("reports", roles=reports.READERS, order=41)


def _show(turn: Turn, page: Page) -> None:
    """Replace the page the button was on, or send a new message."""
    text, buttons = page
    query = turn.update.callback_query
    if query is not None and query.message is not None and len(text) <= EDIT_LIMIT:
        turn.edit(query.message.message_id, text, buttons)
    else:
        turn.say(text, buttons)


@turn_handler(roles=reports.REPORTERS)
async def report_command(turn: Turn) -> None:
    """Open today's report: a draft from the day's data, or the submitted report to edit."""
    await start_form(turn, DAILY_FORM)


@turn_handler(roles=reports.REPORTERS)
async def weekly_command(turn: Turn) -> None:
    """Open the week's report (from the team's last working day of the week)."""
    await start_form(turn, WEEKLY_FORM)


async def _led_team(turn: Turn, team_id: int) -> TeamContext:
    """A team the sender leads (refused otherwise), as its context."""
    team = await reports.visible_team(turn.session, turn.actor, team_id)
    return await turn.team(team.id)


async def _day_page(turn: Turn, team: TeamContext, day: date | None) -> Page:
    status = await reports.day_status(turn.session, team, day or team.today)
    _, open_count = await reports.open_problems(turn.session, team.team_id, limit=0)
    return report_pages.day_page(
        turn.deps.texts, turn.lang, team=team, status=status, open_problems=open_count
    )


@turn_handler(roles=reports.READERS)
async def reports_command(turn: Turn) -> None:
    """A manager sees their team's reports of today; directors and admins pick a team."""
    if turn.actor.role is Role.MANAGER:
        if turn.actor.team_id is None:
            raise UserFacingError("team.not_found")
        _show(turn, await _day_page(turn, await _led_team(turn, turn.actor.team_id), None))
        return
    wanted = " ".join(turn.ctx.args or [])
    if wanted:
        found = await teams.find_team(turn.session, wanted)
        if found is None or found.id is None:
            raise UserFacingError("team.not_found")
        _show(turn, await _day_page(turn, await turn.team(found.id), None))
        return
    listed = [(team.id or 0, team.name) for team in await teams.list_teams(turn.session)]
    turn.say(turn.t("team.choose"), report_pages.choose_team(listed))


@turn_handler()
async def on_write_daily(turn: Turn) -> None:
    """A reminder's button: the report of that day."""
    day = day_of(WRITE_DAILY.unpack(_data(turn)).day)
    assert day is not None
    await start_form(turn, DAILY_FORM, {"day": day.isoformat()})


@turn_handler()
async def on_write_weekly(turn: Turn) -> None:
    """The weekly reminder's button: the weekly report of that week, while it is still open."""
    week_start = day_of(WRITE_WEEKLY.unpack(_data(turn)).day)
    if turn.actor.role not in reports.REPORTERS:
        raise NotAllowedError("access.role_not_allowed")
    team = await turn.team((await reports.own_team(turn.session, turn.actor)).id)
    if week_start != week_period(team.today, team.timezone).first:
        raise UserFacingError("reports.weekly_reminder_old")
    await start_form(turn, WEEKLY_FORM)


def _data(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    return query.data


def _reader(fn: Callable[[Turn, str | None], Awaitable[None]]) -> PtbHandler:
    """A manager's button: readers only; each service call re-checks that they lead the team."""

    async def check(turn: Turn) -> None:
        if turn.actor.role not in reports.READERS:
            raise NotAllowedError("access.role_not_allowed")
        await fn(turn, _data(turn))

    check.__doc__ = fn.__doc__
    return turn_handler()(check)


@_reader
async def on_day(turn: Turn, data: str | None) -> None:
    """A team's day, in place of the page the button was on."""
    wanted = TEAM_DAY.unpack(data)
    team = await _led_team(turn, wanted.team_id)
    _show(turn, await _day_page(turn, team, day_of(wanted.day)))


@_reader
async def on_open_day(turn: Turn, data: str | None) -> None:
    """A team's day in a new message (from the digest, which stays as it is)."""
    wanted = OPEN_DAY.unpack(data)
    team = await _led_team(turn, wanted.team_id)
    turn.say(*await _day_page(turn, team, day_of(wanted.day)))


@_reader
async def on_view_daily(turn: Turn, data: str | None) -> None:
    """A rep's daily report, with the answers to its problem."""
    report_id = VIEW_DAILY.unpack(data).ident
    report, rep, problem = await reports.visible_report(turn.session, turn.actor, report_id)
    replies = await reports.replies_to(turn.session, problem.id or 0) if problem else []
    team = await _led_team(turn, report.team_id)
    turn.say(*report_pages.report_view(
        turn.deps.texts, turn.lang, report=report, sections=stored_sections(report.sections),
        rep=rep, problem=problem, replies=replies, timezone=team.timezone,
    ))  # fmt: skip


@_reader
async def on_reply(turn: Turn, data: str | None) -> None:
    """Answer a rep's problem (the form re-checks that the sender leads the team)."""
    await start_form(turn, REPLY_FORM, {"problem_id": REPLY.unpack(data).ident})


@_reader
async def on_problems(turn: Turn, data: str | None) -> None:
    """The team's open problems."""
    team = await _led_team(turn, PROBLEMS.unpack(data).ident)
    listed, total = await reports.open_problems(turn.session, team.team_id)
    _show(turn, report_pages.problems_page(turn.deps.texts, turn.lang, team=team,
                                           problems=listed, total=total))  # fmt: skip


@_reader
async def on_week(turn: Turn, data: str | None) -> None:
    """The weekly reports of the week containing the button's day (this week by default)."""
    wanted = TEAM_WEEK.unpack(data)
    team = await _led_team(turn, wanted.team_id)
    window = weekly_reports.week_window(team.rules, day_of(wanted.day) or team.today)
    rows = await weekly_reports.week_status(turn.session, team.team_id, window.week.first)
    opens = window.last_working_day
    _show(turn, report_pages.week_page(
        turn.deps.texts, turn.lang, team=team, week=window.week, rows=rows,
        opens_on=opens if opens and opens > team.today else None,
    ))  # fmt: skip


@_reader
async def on_view_weekly(turn: Turn, data: str | None) -> None:
    """A rep's weekly report."""
    report_id = VIEW_WEEKLY.unpack(data).ident
    weekly, rep = await weekly_reports.visible_weekly(turn.session, turn.actor, report_id)
    team = await _led_team(turn, weekly.team_id)
    visits = await weekly_reports.key_visit_customers(turn.session, weekly)
    turn.say(*report_pages.weekly_view(
        turn.deps.texts, turn.lang, report=weekly, sections=stored_sections(weekly.sections),
        rep=rep, week=week_period(weekly.week_start, team.timezone),
        key_visits=[(day, customer.name) for day, customer in visits], timezone=team.timezone,
    ))  # fmt: skip


_BUTTONS: list[tuple[Callback[Any], PtbHandler]] = [
    (WRITE_DAILY, on_write_daily), (WRITE_WEEKLY, on_write_weekly), (TEAM_DAY, on_day),
    (OPEN_DAY, on_open_day), (VIEW_DAILY, on_view_daily), (REPLY, on_reply),
    (PROBLEMS, on_problems), (TEAM_WEEK, on_week), (VIEW_WEEKLY, on_view_weekly),
]  # fmt: skip


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("report", report_command))
    app.add_handler(CommandHandler("weekly", weekly_command))
    app.add_handler(CommandHandler("reports", reports_command))
    for codec, handler in _BUTTONS:
        app.add_handler(CallbackQueryHandler(handler, pattern=codec.pattern))
