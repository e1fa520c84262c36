"""Collections jobs: the daily dunning run and the twice-yearly reconciliation of balances."""

from __future__ import annotations

import logging
from datetime import datetime

from core.db import transaction
from models.team import Team
from scheduler.registry import JobContext, job
from services.dunning import run_dunning
from services.reconciliation import start_reconciliation
from views import collection_notices  # noqa: F401  (registers the views the jobs send)

log = logging.getLogger(__name__)


@job(
    "dunning",
    period="day",
    at="workdays 09:30",
    grace_minutes=6 * 60,
    description="Payment reminders of the dunning schedule, one per customer and step",
)
async def dunning(ctx: JobContext, team: Team, period: str, scheduled_for: datetime) -> None:
    """Send the team's reminders due on the run's day (in the team's timezone)."""
    # The run's day is the one it was scheduled for, even when it runs late.
    today = ctx.team_context(team, scheduled_for).today
    async with transaction(ctx.sessions) as session:
        run = await run_dunning(
            session, render=ctx.render, team=ctx.team_context(team), today=today,
            now=ctx.clock.now(),
        )  # fmt: skip
    log.info(
        "dunning %s %s: %s reminders, %s copies, %s broken promises",
        team.key, period, len(run.reminders), run.copies, run.broken,
    )  # fmt: skip


@job(
    "reconciliation",
    period="month",
    at="jun,dec last-workday 10:00",
    grace_minutes=3 * 24 * 60,
    description="Each rep reconciles their customers' open balances (twice a year)",
)
async def reconciliation(
    ctx: JobContext, team: Team, period: str, scheduled_for: datetime
) -> None:
    """Send each rep of the team the customers whose balances to reconcile."""
    async with transaction(ctx.sessions) as session:
        run = await start_reconciliation(
            session,
            render=ctx.render,
            team=ctx.team_context(team),
            period=period,
            now=ctx.clock.now(),
        )
    log.info("reconciliation %s %s: %s balances to %s reps", team.key, period, run.items, run.reps)
