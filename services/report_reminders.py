"""Reminders to reps who owe the day's (or the week's) report, and the managers' evening digest:
who submitted, who is late, who is missing, and the problems flagged. Each is queued in the outbox
once per person and day (or week), as a notice the views render (views.reports,
views.report_pages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import services.contributors  # noqa: F401  (registers every area's report section)
from models.common import Role
from models.report import (
    DailyReport,
    WeeklyReport,
)
from models.user import User
from services import notices
from services.notices import Render
from services.reports import (
    WEEKLY_REMINDER_KEY,
    DayStatus,
    day_status,
    due_moment,
    reminder_prefix,
)
from services.team_context import TeamContext
from services.weekly_reports import week_status, week_window


@dataclass(frozen=True)
class DailyReminder:
    """Write the report of ``day``: the first reminder (step 1) or a later one."""

    day: date
    step: int


@dataclass(frozen=True)
class WeeklyReminder:
    """Write the report of the week ``first`` .. ``last``."""

    first: date
    last: date


@dataclass(frozen=True)
class Digest:
    """A team's day for its managers; ``weekly`` (who owes the weekly report) on the week's
    last working day only."""

    team_id: int
    team_name: str
    timezone: str
    status: DayStatus
    weekly: list[tuple[User, WeeklyReport | None]] | None


async def reps_without_report(session: AsyncSession, team: TeamContext, day: date) -> list[User]:
    """Active reps of the team who owe the day's report; nobody on a non-working day."""
    if not team.is_working_day(day):
        return []
    reported = exists().where(col(DailyReport.rep_id) == col(User.id), col(DailyReport.day) == day)
    query = (
        select(User)
        .where(
            col(User.team_id) == team.team_id,
            col(User.role) == Role.REP,
            col(User.active).is_(True),
            col(User.created_at) < due_moment(team.rules, day),
            ~reported,
        )
        .order_by(col(User.display_name), col(User.id))
    )
    return list((await session.exec(query)).all())


async def send_reminders(
    session: AsyncSession, *, team: TeamContext, day: date, step: int, render: Render
) -> int:
    """Remind each rep without a report of the day, once per (rep, day, step)."""
    queued = 0
    for rep in await reps_without_report(session, team, day):
        assert rep.id is not None
        queued += await _remind(
            session, render, rep, view="reports.reminder", data=DailyReminder(day, step),
            key=reminder_prefix(rep.id, day) + str(step), kind="report_reminder", team=team,
        )  # fmt: skip
    return queued


async def _remind(
    session: AsyncSession, render: Render, rep: User, *, view: str,
    data: DailyReminder | WeeklyReminder, key: str, kind: str, team: TeamContext,
) -> bool:  # fmt: skip
    """Queue one reminder to the rep; False when this key was queued before."""
    row = await notices.send(
        session, render, view=view, data=data, lang=rep.language, key=key,
        chat_id=rep.telegram_id, recipient_id=rep.id, kind=kind, now=team.now,
    )  # fmt: skip
    return row is not None


async def send_weekly_reminders(
    session: AsyncSession, *, team: TeamContext, today: date, render: Render
) -> int:
    """On the week's last working day, remind each active rep without the week's report,
    once per (rep, week). Any other day nothing is due."""
    window = week_window(team.rules, today)
    if window.last_working_day != today:
        return 0
    written = exists().where(
        col(WeeklyReport.rep_id) == col(User.id), col(WeeklyReport.week_start) == window.week.first
    )
    query = select(User).where(
        col(User.team_id) == team.team_id, col(User.role) == Role.REP,
        col(User.active).is_(True), ~written,
    )  # fmt: skip
    week = WeeklyReminder(window.week.first, window.week.last)
    queued = 0
    for rep in (await session.exec(query.order_by(col(User.id)))).all():
        queued += await _remind(
            session, render, rep, view="reports.weekly_reminder", data=week,
            key=f"{WEEKLY_REMINDER_KEY}:{rep.id}:{week.first.isoformat()}",
            kind="weekly_reminder", team=team,
        )  # fmt: skip
    return queued


async def send_digest(
    session: AsyncSession, *, team: TeamContext, day: date, render: Render
) -> int:
    """Each active manager of the team gets the day's compliance digest: who submitted, who was
    late, who is missing, and the problems flagged (on the week's last working day, also who
    owes the weekly report)."""
    if not team.is_working_day(day):
        return 0
    status = await day_status(session, team, day)
    if not status.reps:
        return 0  # a team without reps: nothing to tell
    weekly = None
    window = week_window(team.rules, day)
    if window.last_working_day == day:
        weekly = await week_status(session, team.team_id, window.week.first)
    managers = (
        await session.exec(
            select(User).where(
                col(User.team_id) == team.team_id,
                col(User.role) == Role.MANAGER,
                col(User.active).is_(True),
            )
        )
    ).all()
    digest = Digest(team.team_id, team.name, team.timezone, status, weekly)
    queued = 0
    for manager in managers:
        assert manager.id is not None
        row = await notices.send(
            session, render, view="reports.digest", data=digest, lang=manager.language,
            key=f"report-digest:{team.team_id}:{day.isoformat()}:{manager.id}",
            chat_id=manager.telegram_id, recipient_id=manager.id, kind="report_digest",
            now=team.now,
        )  # fmt: skip
        queued += row is not None
    return queued
