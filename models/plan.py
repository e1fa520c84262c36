"""Planned visits: a rep's plan for a day, from /plan or from a visit's follow-up date."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel


class PlanSource(StrEnum):
    PLAN = "plan"
    FOLLOW_UP = "follow_up"


class PlannedVisit(SQLModel, table=True):
    __tablename__ = "planned_visits"
    __table_args__ = (
        UniqueConstraint("rep_id", "customer_id", "planned_on", name="uq_planned_visits_rep_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id", index=True)
    rep_id: int = Field(foreign_key="users.id", index=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    planned_on: date = Field(index=True)
    purpose: str | None = Field(default=None, sa_type=String(16))
    source: PlanSource = Field(default=PlanSource.PLAN, sa_type=String(16))
    # The visit whose follow-up date created this entry.
    origin_visit_id: int | None = Field(default=None, foreign_key="visits.id", index=True)
    # The visit that carried out this plan; None while it is still to do.
    done_visit_id: int | None = Field(default=None, foreign_key="visits.id")
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime
