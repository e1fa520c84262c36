"""The Saturday weekly-meeting summary and the monthly one, to managers and directors."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.db import transaction
from models.team import Team
from scheduler.registry import JobContext, job
from services.summary.deliver import queue_rollup, queue_team_summary


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
    day = scheduled_for.astimezone(ZoneInfo(team.timezone)).date()
    async with transaction(ctx.sessions) as session:
        await queue_team_summary(
            session, ctx.settings, ctx.texts, team, "week", day, ctx.clock.now()
        )
        await queue_rollup(session, ctx.settings, ctx.texts, "week", day, ctx.clock.now())


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
    day = scheduled_for.astimezone(ZoneInfo(team.timezone)).date().replace(day=1)
    last_month = day - timedelta(days=1)
    async with transaction(ctx.sessions) as session:
        now = ctx.clock.now()
        await queue_team_summary(session, ctx.settings, ctx.texts, team, "month", last_month, now)
        await queue_rollup(session, ctx.settings, ctx.texts, "month", last_month, now)
