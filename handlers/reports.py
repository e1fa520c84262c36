"""/report and /weekly for reps; /reports for managers: the day's reports of the team, each
report, the problems flagged with a button to answer the rep, and the weekly reports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import NotAllowedError, UserFacingError
from core.periods import local_today, week_period
from handlers.commands import declare
from handlers.daily_report import DAILY_FORM
from handlers.forms import start_form
from handlers.replies import Button, Keyboard
from handlers.report_forms import REPLY_FORM
from handlers.turn import Turn, turn_handler
from handlers.weekly_report import WEEKLY_FORM
from models.common import Role
from models.team import Team
from services import report_texts, reports, teams, weekly_reports
from services.outbox import OutboxButtons
from services.report_texts import (
    CALLBACK,
    DAY,
    OPEN_DAY,
    PROBLEMS,
    REPLY,
    VIEW,
    VIEW_WEEKLY,
    WEEK,
    WRITE,
    WRITE_WEEKLY,
    from_compact,
)

# Longer pages are sent anew rather than edited in place (an edit cannot be split).
EDIT_LIMIT = 3500

declare("report", roles=reports.REPORTERS, order=16)
declare("weekly", roles=reports.REPORTERS, order=17)
declare("reports", roles=reports.READERS, order=41)


def _keyboard(buttons: OutboxButtons) -> Keyboard:
    return [[Button(b["text"], data=b["data"]) for b in row] for row in buttons]


def _show(turn: Turn, text: str, buttons: OutboxButtons) -> None:
    """Replace the page the button was on, or send a new message."""
    query = turn.update.callback_query
    if query is not None and query.message is not None and len(text) <= EDIT_LIMIT:
        turn.edit(query.message.message_id, text, _keyboard(buttons))
    else:
        turn.say(text, _keyboard(buttons))


@turn_handler(roles=reports.REPORTERS)
async def report_command(turn: Turn) -> None:
    """Open today's report: a draft from the day's data, or the submitted report to edit."""
    await start_form(turn, DAILY_FORM)


@turn_handler(roles=reports.REPORTERS)
async def weekly_command(turn: Turn) -> None:
    """Open the week's report (from the team's last working day of the week)."""
    await start_form(turn, WEEKLY_FORM)


async def _day_page(turn: Turn, team: Team, day: date | None) -> tuple[str, OutboxButtons]:
    assert team.id is not None
    rules = turn.deps.settings.team(team.key)
    today = local_today(turn.now, rules.timezone)
    status = await reports.day_status(turn.session, team.id, day or today, rules, turn.now)
    _, open_count = await reports.open_problems(turn.session, team.id, limit=0)
    return report_texts.day_page(
        turn.deps.texts, turn.lang, team=team, status=status, today=today,
        open_problems=open_count, timezone=rules.timezone,
    )  # fmt: skip


@turn_handler(roles=reports.READERS)
async def reports_command(turn: Turn) -> None:
    """A manager sees their team's reports of today; directors and admins pick a team."""
    if turn.actor.role is Role.MANAGER:
        if turn.actor.team_id is None:
            raise UserFacingError("team.not_found")
        team = await reports.visible_team(turn.session, turn.actor, turn.actor.team_id)
        _show(turn, *await _day_page(turn, team, None))
        return
    wanted = " ".join(turn.ctx.args or [])
    if wanted:
        found = await teams.find_team(turn.session, wanted)
        if found is None or found.id is None:
            raise UserFacingError("team.not_found")
        _show(turn, *await _day_page(turn, found, None))
        return
    listed = await teams.list_teams(turn.session)
    rows = [[Button(t.name, data=report_texts.callback(t.id or 0, DAY))] for t in listed]
    turn.say(turn.t("team.choose"), rows)


@turn_handler()
async def on_report_button(turn: Turn) -> None:
    """Write a report (reps), or read reports and answer problems (managers and up)."""
    query = turn.update.callback_query
    assert query is not None
    _, raw_id, action, arg = ((query.data or "") + "|||").split("|")[:4]
    if not raw_id.isdigit():
        raise UserFacingError("forms.stale_button")
    if action == WRITE:
        day = from_compact(raw_id)
        if day is None:
            raise UserFacingError("forms.stale_button")
        await start_form(turn, DAILY_FORM, {"day": day.isoformat()})
        return
    if action == WRITE_WEEKLY:
        await _write_weekly(turn, from_compact(raw_id))
        return
    if turn.actor.role not in reports.READERS:
        raise NotAllowedError("access.role_not_allowed")
    await _reader_action(turn, int(raw_id), action, arg)


async def _write_weekly(turn: Turn, week_start: date | None) -> None:
    """The reminder's button: the weekly report of that week, while it is still open."""
    if turn.actor.role not in reports.REPORTERS:
        raise NotAllowedError("access.role_not_allowed")
    team = await reports.own_team(turn.session, turn.actor)
    rules = turn.deps.settings.team(team.key)
    current = week_period(local_today(turn.now, rules.timezone), rules.timezone)
    if week_start != current.first:
        raise UserFacingError("reports.weekly_reminder_old")
    await start_form(turn, WEEKLY_FORM)


async def _reader_action(turn: Turn, ident: int, action: str, arg: str) -> None:
    """The manager's buttons; each service call re-checks that the sender leads the team."""
    act = _READER_ACTIONS.get(action)
    if act is None:
        raise UserFacingError("forms.stale_button")
    await act(turn, ident, arg)


async def _day(turn: Turn, team_id: int, arg: str) -> None:
    """A team's day, in place of the page the button was on."""
    team = await reports.visible_team(turn.session, turn.actor, team_id)
    _show(turn, *await _day_page(turn, team, from_compact(arg)))


async def _open_day(turn: Turn, team_id: int, arg: str) -> None:
    """A team's day in a new message (from the digest, which stays as it is)."""
    team = await reports.visible_team(turn.session, turn.actor, team_id)
    turn.say(*_as_reply(await _day_page(turn, team, from_compact(arg))))


async def _view(turn: Turn, report_id: int, arg: str) -> None:
    report, rep, problem = await reports.visible_report(turn.session, turn.actor, report_id)
    replies = await reports.replies_to(turn.session, problem.id or 0) if problem else []
    team = await reports.visible_team(turn.session, turn.actor, report.team_id)
    turn.say(*_as_reply(report_texts.report_view(
        turn.deps.texts, turn.lang, report=report, rep=rep, problem=problem, replies=replies,
        timezone=turn.deps.settings.team(team.key).timezone,
    )))  # fmt: skip


async def _reply(turn: Turn, problem_id: int, arg: str) -> None:
    await start_form(turn, REPLY_FORM, {"problem_id": problem_id})


async def _problems(turn: Turn, team_id: int, arg: str) -> None:
    team = await reports.visible_team(turn.session, turn.actor, team_id)
    listed, total = await reports.open_problems(turn.session, team_id)
    _show(turn, *report_texts.problems_page(turn.deps.texts, turn.lang, team=team,
                                            problems=listed, total=total))  # fmt: skip


async def _week(turn: Turn, team_id: int, arg: str) -> None:
    """The weekly reports of the week containing the day in ``arg`` (this week by default)."""
    team = await reports.visible_team(turn.session, turn.actor, team_id)
    rules = turn.deps.settings.team(team.key)
    today = local_today(turn.now, rules.timezone)
    window = weekly_reports.week_window(rules, from_compact(arg) or today)
    rows = await weekly_reports.week_status(turn.session, team_id, window.week.first)
    opens = window.last_working_day
    _show(turn, *report_texts.week_page(
        turn.deps.texts, turn.lang, team=team, week=window.week, rows=rows,
        timezone=rules.timezone, opens_on=opens if opens and opens > today else None,
    ))  # fmt: skip


async def _view_weekly(turn: Turn, report_id: int, arg: str) -> None:
    weekly, rep = await weekly_reports.visible_weekly(turn.session, turn.actor, report_id)
    team = await reports.visible_team(turn.session, turn.actor, weekly.team_id)
    rules = turn.deps.settings.team(team.key)
    visits = await weekly_reports.key_visit_customers(turn.session, weekly)
    turn.say(*_as_reply(report_texts.weekly_view(
        turn.deps.texts, turn.lang, report=weekly, rep=rep,
        week=week_period(weekly.week_start, rules.timezone),
        key_visits=[(day, customer.name) for day, customer in visits], timezone=rules.timezone,
    )))  # fmt: skip


def _as_reply(page: tuple[str, OutboxButtons]) -> tuple[str, Keyboard]:
    return page[0], _keyboard(page[1])


_READER_ACTIONS: dict[str, Callable[[Turn, int, str], Awaitable[None]]] = {
    DAY: _day, OPEN_DAY: _open_day, VIEW: _view, REPLY: _reply, PROBLEMS: _problems,
    WEEK: _week, VIEW_WEEKLY: _view_weekly,
}  # fmt: skip


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("report", report_command))
    app.add_handler(CommandHandler("weekly", weekly_command))
    app.add_handler(CommandHandler("reports", reports_command))
    app.add_handler(CallbackQueryHandler(on_report_button, pattern=rf"^{CALLBACK}\|"))
