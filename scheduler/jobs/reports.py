"""Reports: reminders to reps who have not written the day's (or the week's) report, and the
managers' digest."""

from __future__ import annotations

import logging
from datetime import datetime

from core.db import transaction
from models.team import Team
from scheduler.registry import JobContext, job
from services import report_reminders
from views import report_pages, reports  # noqa: F401  (registers the views of the notices)

log = logging.getLogger(__name__)


async def _remind(ctx: JobContext, team: Team, scheduled_for: datetime, step: int) -> None:
    context = ctx.team_context(team)
    day = context.local(scheduled_for).date()
    async with transaction(ctx.sessions) as session:
        queued = await report_reminders.send_reminders(
            session, team=context, day=day, step=step, render=ctx.render
        )
    log.info("report reminder %s for %s %s: %s reps", step, team.key, day, queued)


@job(
    "report_reminder",
    period="day",
    at="workdays 18:00",
    grace_minutes=90,
    description="Reminder to active reps without the day's report, with a button that opens it",
)
async def report_reminder(
    ctx: JobContext, team: Team, period: str, scheduled_for: datetime
) -> None:
    """First reminder of the day."""
    await _remind(ctx, team, scheduled_for, step=1)


@job(
    "report_reminder_again",
    period="day",
    at="workdays 20:00",
    grace_minutes=25,
    description="Second reminder to reps still without the day's report",
)
async def report_reminder_again(
    ctx: JobContext, team: Team, period: str, scheduled_for: datetime
) -> None:
    """Second reminder, to those who still have not reported."""
    await _remind(ctx, team, scheduled_for, step=2)


@job(
    "report_digest",
    period="day",
    at="workdays 20:30",
    grace_minutes=180,
    description="Managers' digest: reports submitted, late, missing, and problems flagged",
)
async def report_digest(ctx: JobContext, team: Team, period: str, scheduled_for: datetime) -> None:
    """One digest per manager of the team for the run's day."""
    context = ctx.team_context(team)
    day = context.local(scheduled_for).date()
    async with transaction(ctx.sessions) as session:
        queued = await report_reminders.send_digest(
            session, team=context, day=day, render=ctx.render
        )
    log.info("report digest for %s %s: %s managers", team.key, day, queued)


@job(
    "weekly_report_reminder",
    period="day",
    at="workdays 16:00",
    grace_minutes=120,
    description="On the week's last working day: reminder to reps without the weekly report",
)
async def weekly_report_reminder(
    ctx: JobContext, team: Team, period: str, scheduled_for: datetime
) -> None:
    """Runs every working day; only the week's last one (holidays counted) sends anything."""
    context = ctx.team_context(team)
    today = context.local(scheduled_for).date()
    async with transaction(ctx.sessions) as session:
        queued = await report_reminders.send_weekly_reminders(
            session, team=context, today=today, render=ctx.render
        )
    if queued:
        log.info("weekly report reminder for %s %s: %s reps", team.key, today, queued)
