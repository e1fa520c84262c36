"""Request numbers people can say on the phone: "2026-0042", per team and calendar year (team
timezone), in order of submission.

Race-safe on SQLite and PostgreSQL: the counter row is created if missing (INSERT ... ON
CONFLICT DO NOTHING), then incremented by one UPDATE, which holds the row's lock (PostgreSQL) or
the database's write lock (SQLite) until the submitting transaction ends; a concurrent
submission waits and reads the incremented value. The unique (team, number) constraint is the
backstop.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.approval import ApprovalCounter
from services import sql


async def next_number(session: AsyncSession, team_id: int, year: int) -> str:
    await session.exec(
        sql.insert(session, ApprovalCounter)
        .values(team_id=team_id, year=year, last=0)
        .on_conflict_do_nothing(index_elements=["team_id", "year"])
    )
    await session.exec(
        update(ApprovalCounter)  # type: ignore[call-overload]
        .where(col(ApprovalCounter.team_id) == team_id, col(ApprovalCounter.year) == year)
        .values(last=col(ApprovalCounter.last) + 1)
    )
    last = (
        await session.exec(
            select(ApprovalCounter.last).where(
                col(ApprovalCounter.team_id) == team_id, col(ApprovalCounter.year) == year
            )
        )
    ).one()
    return f"{year}-{last:04d}"
