"""Approval jobs: reminders and escalations in working hours, and delegations that ran out."""

from __future__ import annotations

import logging
from datetime import datetime

import views.approval_cards
import views.delegations  # noqa: F401
from core.db import transaction
from models.team import Team
from scheduler.registry import JobContext, job
from services import approval_sweep, delegations
from services.approval_cards import Env

log = logging.getLogger(__name__)


def _env(ctx: JobContext, now: datetime) -> Env:
    return Env(settings=ctx.settings, render=ctx.render, now=now)


@job(
    "approvals_sweep", period="slot", at="workhours every 15m", grace_minutes=30,
    description="Remind approvers of waiting requests and escalate overdue ones (working hours)",
)  # fmt: skip
async def approvals_sweep(
    ctx: JobContext, team: Team, period: str, scheduled_for: datetime
) -> None:
    """Every quarter hour of the team's working hours: remind, then escalate."""
    async with transaction(ctx.sessions) as session:
        now = ctx.clock.now()
        report = await approval_sweep.sweep(session, _env(ctx, now), ctx.team_context(team, now))
    if report.reminded or report.escalated:
        log.info("approvals %s: reminded %s, escalated %s", team.key, report.reminded,
                 report.escalated)  # fmt: skip


@job(
    "approval_delegations", period="day", at="daily 00:05", grace_minutes=23 * 60,
    description="End delegations of approvals whose last day is over, telling both people",
)  # fmt: skip
async def approval_delegations(
    ctx: JobContext, team: Team, period: str, scheduled_for: datetime
) -> None:
    """Shortly after midnight: end the delegations that ran out."""
    async with transaction(ctx.sessions) as session:
        now = ctx.clock.now()
        ended = await delegations.expire(session, _env(ctx, now), ctx.team_context(team, now))
    if ended:
        log.info("delegations ended in %s: %s", team.key, [d.id for d in ended])
