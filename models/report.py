"""Work reports: each rep's daily report and Friday weekly report, the problems they flag for
their manager, and the manager's replies."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.common import json_column


class DailyReport(SQLModel, table=True):
    """One report per rep per working day; ``late`` is fixed when it is first submitted."""

    __tablename__ = "daily_reports"
    __table_args__ = (
        UniqueConstraint("rep_id", "day", name="uq_daily_reports_rep_day"),
        Index("ix_daily_reports_team_day", "team_id", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    rep_id: int = Field(foreign_key="users.id", index=True)
    # The working day reported on, in the team's timezone.
    day: date
    summary: str = Field(sa_column=Column(Text, nullable=False))
    tomorrow_plan: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The day's figures as the areas contributed them when the report was (last) submitted:
    # [{"area": ..., "title": key, "lines": [[key, params], ...]}, ...].
    sections: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    late: bool = Field(default=False)
    submitted_at: datetime
    updated_at: datetime


class DayState(StrEnum):
    """Where a rep stands with the report of a day (computed, not stored)."""

    SUBMITTED = "submitted"
    LATE = "late"
    # Not in yet, and not due yet.
    PENDING = "pending"
    MISSING = "missing"


class ProblemStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    # The rep took the problem out of their report before the manager answered.
    WITHDRAWN = "withdrawn"


class ReportProblem(SQLModel, table=True):
    """A problem a rep asked their manager's help with, in a daily report."""

    __tablename__ = "report_problems"
    __table_args__ = (Index("ix_report_problems_team_status", "team_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="daily_reports.id", unique=True)
    team_id: int = Field(foreign_key="teams.id")
    rep_id: int = Field(foreign_key="users.id", index=True)
    day: date
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: ProblemStatus = Field(default=ProblemStatus.OPEN, sa_type=String(16))
    created_at: datetime
    updated_at: datetime
    answered_at: datetime | None = None


class ProblemReply(SQLModel, table=True):
    """A manager's answer to a problem; the rep receives it in the bot."""

    __tablename__ = "problem_replies"

    id: int | None = Field(default=None, primary_key=True)
    problem_id: int = Field(foreign_key="report_problems.id", index=True)
    author_id: int = Field(foreign_key="users.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime


class WeeklyReport(SQLModel, table=True):
    """One report per rep per ISO week, written on the team's last working day of the week."""

    __tablename__ = "weekly_reports"
    __table_args__ = (
        UniqueConstraint("rep_id", "week_start", name="uq_weekly_reports_rep_week"),
        Index("ix_weekly_reports_team_week", "team_id", "week_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    rep_id: int = Field(foreign_key="users.id", index=True)
    # Monday of the ISO week reported on.
    week_start: date
    summary: str = Field(sa_column=Column(Text, nullable=False))
    # Customer and market feedback.
    feedback: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Next week's key visits: [{"customer_id": ..., "day": "YYYY-MM-DD", "plan_id": ...}];
    # plan_id names the plan entry this report created (None when it was planned already).
    key_visits: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    sections: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    late: bool = Field(default=False)
    submitted_at: datetime
    updated_at: datetime
