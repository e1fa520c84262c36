"""The Saturday weekly-meeting summary and the monthly one, to managers and directors."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from core.db import transaction
from models.team import Team
from scheduler.registry import JobContext, job
from services.summary.core import PeriodKind
from services.summary.deliver import queue_for_reader, queue_rollup, team_summary_for_manager
from services.team_context import TeamContext
from views.summary import attachments


async def send_summaries(ctx: JobContext, team: TeamContext, kind: PeriodKind, day: date) -> None:
    """The team's summary to its manager and the roll-up to the directors. The figures are read
    in one transaction and queued in another; the files are made in between, in worker threads,
    because an open transaction holds SQLite's write lock and would stall every user."""
    now = team.now
    async with transaction(ctx.sessions) as session:
        prepared = await team_summary_for_manager(session, team, kind, day)
    if prepared is not None:
        prepared.summary.cockpit_url = ctx.settings.webapp.page_url
    files = (
        await attachments(ctx.texts, prepared.manager.language, prepared.summary)
        if prepared is not None
        else None
    )
    async with transaction(ctx.sessions) as session:
        if prepared is not None and files is not None:
            await queue_for_reader(session, ctx.render, prepared, files, now)
        await queue_rollup(session, ctx.settings, ctx.render, kind, day, now)


@job(
    "weekly_summary",
    period="week",
    at="sat 08:30",
    grace_minutes=360,
    description="Weekly meeting summary: message, chart and workbook to the manager; roll-up",
)
async def weekly_summary(
    ctx: JobContext, team: Team, period: str, scheduled_for: datetime
) -> None:
    """The summary of the ISO week of the run, to the team's manager and the directors."""
    context = ctx.team_context(team)
    await send_summaries(ctx, context, "week", context.local(scheduled_for).date())


@job(
    "monthly_summary",
    period="month",
    at="first-workday 08:30",
    grace_minutes=360,
    description="Monthly summary of the previous calendar month, with the new-customer target",
)
async def monthly_summary(
    ctx: JobContext, team: Team, period: str, scheduled_for: datetime
) -> None:
    """On the first working day of a month: the previous month, to manager and directors."""
    context = ctx.team_context(team)
    last_month = context.local(scheduled_for).date().replace(day=1) - timedelta(days=1)
    await send_summaries(ctx, context, "month", last_month)
