"""Visits: each rep's morning list of today's planned visits and open follow-ups; the end of
the day closes the visits left checked in."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

import views.plans  # noqa: F401  (declares the view "plans.morning" this job names)
from core.db import transaction
from models.common import Role
from models.team import Team
from models.user import User
from scheduler.registry import JobContext, job
from services import notices, plans, visit_cards, visits


@job(
    "morning_plan",
    period="day",
    at="workdays 08:30",
    grace_minutes=120,
    description="Morning message: today's planned visits and due follow-ups, with Log buttons",
)
async def morning_plan(ctx: JobContext, team: Team, period: str, scheduled_for: datetime) -> None:
    """Queue one morning message per active rep of the team who has something planned."""
    context = ctx.team_context(team, scheduled_for)
    async with transaction(ctx.sessions) as session:
        reps = (
            await session.exec(
                select(User).where(
                    User.team_id == team.id, User.role == Role.REP, col(User.active).is_(True)
                )
            )
        ).all()
        for rep in reps:
            assert rep.id is not None
            morning = await plans.morning_list(session, rep.id, context)
            if morning.empty:
                continue
            await notices.send(
                session, ctx.render, view="plans.morning", data=morning, lang=rep.language,
                key=f"morning:{rep.id}:{period}", chat_id=rep.telegram_id, recipient_id=rep.id,
                kind="plans.morning", now=ctx.clock.now(),
            )  # fmt: skip


@job(
    "close_open_visits",
    period="day",
    at="daily 23:30",
    grace_minutes=600,
    description="Check out the visits left open, at the end of their working day (marked so)",
)
async def close_open_visits(
    ctx: JobContext, team: Team, period: str, scheduled_for: datetime
) -> None:
    """Close every open visit of the team checked in before this run."""
    context = ctx.team_context(team, scheduled_for)
    async with transaction(ctx.sessions) as session:
        closed = await visits.close_open_visits(session, context, scheduled_for)
        await visit_cards.show_closed(session, ctx.render, closed, context)
