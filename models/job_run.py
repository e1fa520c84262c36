"""Claims of scheduled runs: one row per (job, team, period) makes a run happen once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel


class RunStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    # Missed by more than the grace window: recorded so it is visible, never run late.
    SKIPPED = "skipped"


class JobRun(SQLModel, table=True):
    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "team_id", "period", name="uq_job_runs_claim"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=48)
    team_id: int = Field(foreign_key="teams.id", index=True)
    period: str = Field(max_length=32)
    scheduled_for: datetime
    status: RunStatus = Field(default=RunStatus.RUNNING, sa_type=String(16))
    instance: str = Field(max_length=64)
    started_at: datetime
    finished_at: datetime | None = None
    error: str | None = Field(default=None, max_length=1000)
