"""Visits: each rep's morning list of today's planned visits and open follow-ups."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from core.db import transaction
from handlers.plans import render_morning
from models.common import Role
from models.team import Team
from models.user import User
from scheduler.registry import JobContext, job
from services import outbox, plans


@job(
    "morning_plan",
    period="day",
    at="workdays 08:30",
    grace_minutes=120,
    description="Morning message: today's planned visits and due follow-ups, with Log buttons",
)
async def morning_plan(ctx: JobContext, team: Team, period: str, scheduled_for: datetime) -> None:
    """Queue one morning message per active rep of the team who has something planned."""
    rules = ctx.settings.team(team.key)
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
            morning = await plans.morning_list(session, rep.id, scheduled_for, rules)
            if morning.empty:
                continue
            text, keyboard = render_morning(ctx.texts, rep.language, morning)
            buttons = [[{"text": b.text, "data": b.data or ""} for b in row] for row in keyboard]
            await outbox.enqueue(
                session, key=f"morning:{rep.id}:{period}", chat_id=rep.telegram_id,
                recipient_id=rep.id, kind="plans.morning", text=text, buttons=buttons,
                now=ctx.clock.now(),
            )  # fmt: skip
