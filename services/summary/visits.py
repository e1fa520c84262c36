"""The visits area's share of the meeting summary: visits vs targets, new customers, revisits,
plan vs actual, flagged check-ins and next period's key visits."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.settings import TeamSettings
from models.customer import Customer
from models.plan import PlannedVisit
from models.user import User
from models.visit import Visit, VisitKind, VisitPurpose
from services.summary.core import (
    Contributor,
    Metric,
    Sheet,
    Value,
    Window,
    contribute,
    period_of,
)


def _visits_target(per_week: int, window: Window) -> int:
    """Weekly targets as they are; a month's scaled by its length."""
    days = len(window.period.days())
    return per_week if window.kind == "week" else round(per_week * days / 7)


def _in_person_target(rules: TeamSettings, window: Window) -> int:
    return _visits_target(rules.targets.in_person_per_week, window)


def _phone_target(rules: TeamSettings, window: Window) -> int:
    return _visits_target(rules.targets.phone_per_week, window)


def _new_customers_target(rules: TeamSettings, window: Window) -> int | None:
    return rules.targets.new_customers_per_month if window.kind == "month" else None


METRICS = (
    Metric("in_person", target=_in_person_target),
    Metric("phone", target=_phone_target),
    Metric("new_customers", target=_new_customers_target),
    Metric("revisits"),
    Metric("planned"),
    Metric("planned_done"),
    Metric("flagged"),
    Metric("next_visits", format="names", trend=False),
)


async def per_rep(
    session: AsyncSession, window: Window, rep_ids: list[int]
) -> dict[int, dict[str, Value]]:
    """All figures in four GROUP BY queries over the team's reps."""
    found: dict[int, dict[str, Value]] = defaultdict(dict)
    if not rep_ids:
        return found
    # sqlmodel types select() for at most four columns, hence the ignore.
    visits = await session.exec(
        select(  # type: ignore[call-overload]
            col(Visit.rep_id),
            func.count(case((col(Visit.kind) == VisitKind.IN_PERSON, 1))),
            func.count(case((col(Visit.kind) == VisitKind.PHONE, 1))),
            func.count(case((col(Visit.purpose) == VisitPurpose.REVISIT, 1))),
            func.count(case((col(Visit.flagged).is_(True), 1))),
        )
        .where(
            col(Visit.team_id) == window.team_id,
            col(Visit.rep_id).in_(rep_ids),
            col(Visit.deleted_at).is_(None),
            col(Visit.visited_at) >= window.start,
            col(Visit.visited_at) < window.end,
        )
        .group_by(col(Visit.rep_id))
    )
    for rep_id, in_person, phone, revisits, flagged in visits.all():
        found[rep_id].update(
            in_person=int(in_person), phone=int(phone), revisits=int(revisits),
            flagged=int(flagged),
        )  # fmt: skip
    new_customers = await session.exec(
        select(col(Customer.created_by_id), func.count())
        .where(
            col(Customer.team_id) == window.team_id,
            col(Customer.created_by_id).in_(rep_ids),
            col(Customer.source) == "chat",
            col(Customer.created_at) >= window.start,
            col(Customer.created_at) < window.end,
        )
        .group_by(col(Customer.created_by_id))
    )
    for rep_id, count in new_customers.all():
        if rep_id is not None:
            found[rep_id]["new_customers"] = int(count)
    plans = await session.exec(
        select(
            col(PlannedVisit.rep_id),
            func.count(),
            func.count(col(PlannedVisit.done_visit_id)),
        )
        .where(
            col(PlannedVisit.team_id) == window.team_id,
            col(PlannedVisit.rep_id).in_(rep_ids),
            col(PlannedVisit.planned_on) >= window.period.first,
            col(PlannedVisit.planned_on) <= window.period.last,
        )
        .group_by(col(PlannedVisit.rep_id))
    )
    for rep_id, planned, done in plans.all():
        found[rep_id].update(planned=int(planned), planned_done=int(done))
    following = period_of(window.kind, window.period.last + timedelta(days=1), window.timezone)
    upcoming = await session.exec(
        select(col(PlannedVisit.rep_id), col(Customer.name))
        .join(Customer, col(Customer.id) == col(PlannedVisit.customer_id))
        .where(
            col(PlannedVisit.rep_id).in_(rep_ids),
            col(PlannedVisit.planned_on) >= following.first,
            col(PlannedVisit.planned_on) <= following.last,
        )
        .order_by(col(PlannedVisit.planned_on), col(Customer.name))
    )
    for rep_id, name in upcoming.all():
        names = found[rep_id].setdefault("next_visits", [])
        assert isinstance(names, list)
        if name not in names:
            names.append(name)
    return found


async def details(session: AsyncSession, window: Window, rep_ids: list[int]) -> list[Sheet]:
    """Every visit of the period, one row each."""
    rows = await session.exec(
        select(Visit, User.display_name, Customer.name)
        .join(User, col(User.id) == col(Visit.rep_id))
        .join(Customer, col(Customer.id) == col(Visit.customer_id))
        .where(
            col(Visit.team_id) == window.team_id,
            col(Visit.deleted_at).is_(None),
            col(Visit.visited_at) >= window.start,
            col(Visit.visited_at) < window.end,
        )
        .order_by(col(Visit.visited_at))
    )
    sheet = Sheet(
        "visits",
        ["when", "rep", "customer", "kind", "purpose",
         "notes", "next_step", "follow_up", "flagged", "distance_m"],
        codes={"kind": "summary.code.kind_", "purpose": "visits.purpose_"},
    )  # fmt: skip
    for visit, rep_name, customer_name in rows.all():
        sheet.rows.append(
            [
                visit.visited_at, rep_name, customer_name, str(visit.kind), str(visit.purpose),
                visit.notes, visit.next_step or "", visit.follow_up_on, visit.flagged,
                round(visit.distance_m) if visit.distance_m is not None else None,
            ]
        )  # fmt: skip
    return [sheet]


VISITS = contribute(Contributor("visits", METRICS, per_rep, details, order=10))
