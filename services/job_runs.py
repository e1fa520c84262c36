"""Claims of scheduled runs: the row (job, team, period) is what makes a run happen once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.job_run import JobRun, RunStatus
from services import sql


async def claim(
    session: AsyncSession,
    *,
    job: str,
    team_id: int,
    period: str,
    scheduled_for: datetime,
    instance: str,
    now: datetime,
    stale_before: datetime,
    force: bool = False,
) -> int | None:
    """Claim the run; None when another run of this (job, team, period) has it or had it.

    A failed run, or one stuck "running" since before ``stale_before`` (its process died), may
    be claimed again; ``force`` claims whatever the state (an operator's explicit re-run).
    """
    inserted = await session.exec(
        sql.insert(session, JobRun)
        .values(
            job=job,
            team_id=team_id,
            period=period,
            scheduled_for=scheduled_for,
            status=RunStatus.RUNNING,
            instance=instance,
            started_at=now,
        )
        .on_conflict_do_nothing(index_elements=["job", "team_id", "period"])
        .returning(col(JobRun.id))
    )
    row = inserted.first()
    if row is not None:
        return int(row[0])
    reclaimable = or_(
        col(JobRun.status) == RunStatus.FAILED,
        (col(JobRun.status) == RunStatus.RUNNING) & (col(JobRun.started_at) < stale_before),
    )
    conditions = [col(JobRun.job) == job, col(JobRun.team_id) == team_id]
    conditions.append(col(JobRun.period) == period)
    if not force:
        conditions.append(reclaimable)
    updated = await session.exec(
        update(JobRun)
        .where(*conditions)
        .values(
            status=RunStatus.RUNNING,
            instance=instance,
            started_at=now,
            finished_at=None,
            error=None,
        )
        .returning(col(JobRun.id))
    )
    row = updated.first()
    return int(row[0]) if row is not None else None


async def record_skipped(
    session: AsyncSession,
    *,
    job: str,
    team_id: int,
    period: str,
    scheduled_for: datetime,
    instance: str,
    now: datetime,
) -> bool:
    """Note a run missed by more than its grace window, unless the period has a row already."""
    result = await session.exec(
        sql.insert(session, JobRun)
        .values(
            job=job,
            team_id=team_id,
            period=period,
            scheduled_for=scheduled_for,
            status=RunStatus.SKIPPED,
            instance=instance,
            started_at=now,
            finished_at=now,
            error="missed by more than the grace window while the bot was down",
        )
        .on_conflict_do_nothing(index_elements=["job", "team_id", "period"])
    )
    return bool(result.rowcount)


async def finish(
    session: AsyncSession, run_id: int, *, now: datetime, error: str | None = None
) -> None:
    await session.exec(
        update(JobRun)
        .where(col(JobRun.id) == run_id)
        .values(
            status=RunStatus.FAILED if error else RunStatus.DONE,
            finished_at=now,
            error=error[:1000] if error else None,
        )
    )


async def existing(session: AsyncSession, *, job: str, team_id: int, period: str) -> JobRun | None:
    query = select(JobRun).where(
        JobRun.job == job, JobRun.team_id == team_id, JobRun.period == period
    )
    return (await session.exec(query)).first()


async def latest_runs(session: AsyncSession) -> dict[tuple[str, int], JobRun]:
    """The most recent run of every (job, team)."""
    newest = (
        select(JobRun.job, JobRun.team_id, func.max(JobRun.scheduled_for).label("at"))
        .group_by(col(JobRun.job), col(JobRun.team_id))
        .subquery()
    )
    query = select(JobRun).join(
        newest,
        (col(JobRun.job) == newest.c.job)
        & (col(JobRun.team_id) == newest.c.team_id)
        & (col(JobRun.scheduled_for) == newest.c.at),
    )
    return {(run.job, run.team_id): run for run in (await session.exec(query)).all()}


async def forget_before(session: AsyncSession, *, team_id: int, before: datetime) -> int:
    """Delete the team's finished run records scheduled before ``before``."""
    result = await session.exec(
        delete(JobRun).where(
            col(JobRun.team_id) == team_id,
            col(JobRun.scheduled_for) < before,
            col(JobRun.status) != RunStatus.RUNNING,
        )
    )
    return int(result.rowcount or 0)
