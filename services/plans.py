"""Visit plans: what a rep means to do each day, what they did, and who is due for a visit.

A plan entry names a customer and a day (and optionally a purpose). Follow-up dates of visits
become plan entries automatically; a visit to a planned customer on or after the planned day
carries the entry out. Cadence: a customer of tier A/B/C should be visited every 14/28/90 days
(per team in config.toml); /due lists the overdue ones, most overdue first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from core.periods import day_period, local_today, week_period
from core.settings import TeamSettings
from models.common import Role
from models.customer import Customer
from models.plan import PlannedVisit, PlanSource
from models.visit import Visit, VisitKind, VisitPurpose
from services import audit
from services.customers import get_visible
from services.team_context import TeamContext
from services.users import Actor
from services.visits import VISITING_ROLES

MAX_PLAN_AHEAD_DAYS = 62


@dataclass(frozen=True)
class PlanResult:
    added: list[Customer]
    already_planned: list[Customer]


async def plan_visits(
    session: AsyncSession,
    *,
    actor: Actor,
    day: date,
    customer_ids: Sequence[int],
    purpose: VisitPurpose | None,
    today: date,
    now: datetime,
) -> PlanResult:
    """Plan visits to the actor's team's customers on a day from today to two months ahead."""
    _check_day(actor, day, today)
    added: list[Customer] = []
    existing: list[Customer] = []
    for customer_id in dict.fromkeys(customer_ids):
        customer = await get_visible(session, actor, customer_id)
        if customer.team_id != actor.team_id:
            raise NotAllowedError("customers.not_found")
        found = (
            await session.exec(
                select(PlannedVisit).where(
                    col(PlannedVisit.rep_id) == actor.user_id,
                    col(PlannedVisit.customer_id) == customer_id,
                    col(PlannedVisit.planned_on) == day,
                )
            )
        ).first()
        if found is not None:
            if purpose is not None and found.purpose != purpose:
                found.purpose = purpose
                session.add(found)
            existing.append(customer)
            continue
        plan = PlannedVisit(
            team_id=customer.team_id, rep_id=actor.user_id, customer_id=customer_id,
            planned_on=day, purpose=purpose, source=PlanSource.PLAN,
            created_by_id=actor.user_id, created_at=now,
        )  # fmt: skip
        session.add(plan)
        await session.flush()
        added.append(customer)
        audit.record(
            session, at=now, action="plan.added", entity="planned_visit", entity_id=plan.id,
            actor_id=actor.user_id,
            after={"customer_id": customer_id, "day": day.isoformat(),
                   "purpose": str(purpose) if purpose else None},
        )  # fmt: skip
    return PlanResult(added, existing)


def _check_day(actor: Actor, day: date, today: date) -> None:
    if actor.role not in VISITING_ROLES or actor.team_id is None:
        raise NotAllowedError("access.role_not_allowed")
    if day < today:
        raise UserFacingError("plans.day_in_past")
    if (day - today).days > MAX_PLAN_AHEAD_DAYS:
        raise UserFacingError("plans.day_too_far", days=MAX_PLAN_AHEAD_DAYS)


async def own_plan(session: AsyncSession, actor: Actor, plan_id: int) -> PlannedVisit:
    plan = await session.get(PlannedVisit, plan_id)
    if plan is None or plan.rep_id != actor.user_id:
        raise NotAllowedError("plans.not_found")
    return plan


async def remove_plan(
    session: AsyncSession, *, actor: Actor, plan_id: int, now: datetime
) -> PlannedVisit:
    """Take a not-yet-done entry off one's own plan."""
    plan = await own_plan(session, actor, plan_id)
    if plan.done_visit_id is not None:
        raise UserFacingError("plans.already_done")
    await _delete(session, plan, actor, now)
    return plan


async def _delete(session: AsyncSession, plan: PlannedVisit, actor: Actor, now: datetime) -> None:
    await session.delete(plan)
    audit.record(
        session, at=now, action="plan.removed", entity="planned_visit", entity_id=plan.id,
        actor_id=actor.user_id,
        before={"customer_id": plan.customer_id, "day": plan.planned_on.isoformat(),
                "source": str(plan.source)},
    )  # fmt: skip
    await session.flush()


@dataclass(frozen=True)
class PlanChange:
    """What re-planning a day did, and the day's plan after it (done entries first)."""

    day: date
    added: list[Customer]
    removed: list[Customer]
    plan: list[PlanLine]


async def change_day(
    session: AsyncSession,
    *,
    actor: Actor,
    day: date,
    add_ids: Sequence[int],
    remove_ids: Sequence[int],
    purpose: VisitPurpose | None,
    today: date,
    now: datetime,
) -> PlanChange:
    """Add customers to the actor's plan of a day and take others off it.

    Only entries not done yet are removed: a planned visit that was logged (even between the
    rep opening the plan and tapping Done) stays, as the proof of the plan carried out.
    """
    _check_day(actor, day, today)
    added: list[Customer] = []
    if add_ids:
        result = await plan_visits(
            session, actor=actor, day=day, customer_ids=add_ids, purpose=purpose, today=today,
            now=now,
        )  # fmt: skip
        added = result.added
    removed: list[Customer] = []
    for customer_id in dict.fromkeys(remove_ids):
        found = (
            await session.exec(
                select(PlannedVisit, Customer)
                .join(Customer, col(Customer.id) == col(PlannedVisit.customer_id))
                .where(
                    col(PlannedVisit.rep_id) == actor.user_id,
                    col(PlannedVisit.customer_id) == customer_id,
                    col(PlannedVisit.planned_on) == day,
                    col(PlannedVisit.done_visit_id).is_(None),
                )
            )
        ).first()
        if found is None:
            continue
        plan, customer = found
        await _delete(session, plan, actor, now)
        removed.append(customer)
    return PlanChange(day, added, removed, await plan_lines(session, actor.user_id, day))


@dataclass(frozen=True)
class PlanLine:
    plan: PlannedVisit
    customer: Customer
    done: bool


async def plan_lines(session: AsyncSession, rep_id: int, day: date) -> list[PlanLine]:
    """The rep's plan of a day: entries still to do first, then the done ones, by name."""
    rows = await session.exec(
        select(PlannedVisit, Customer)
        .join(Customer, col(Customer.id) == col(PlannedVisit.customer_id))
        .where(col(PlannedVisit.rep_id) == rep_id, col(PlannedVisit.planned_on) == day)
        .order_by(col(PlannedVisit.done_visit_id).is_not(None), col(Customer.name))
    )
    return [PlanLine(p, c, p.done_visit_id is not None) for p, c in rows.all()]


@dataclass(frozen=True)
class DayOverview:
    day: date
    planned: list[PlanLine]
    # Visits of the day that no plan entry asked for.
    unplanned: list[tuple[Visit, Customer]]
    visits: int


async def day_overview(
    session: AsyncSession, rep_id: int, day: date, rules: TeamSettings
) -> DayOverview:
    """The plan of a day with what was done, and the day's unplanned visits."""
    planned = await plan_lines(session, rep_id, day)
    period = day_period(day, rules.timezone)
    done_ids = {line.plan.done_visit_id for line in planned}
    visit_rows = await session.exec(
        select(Visit, Customer)
        .join(Customer, col(Customer.id) == col(Visit.customer_id))
        .where(
            col(Visit.rep_id) == rep_id,
            col(Visit.deleted_at).is_(None),
            col(Visit.visited_at) >= period.start,
            col(Visit.visited_at) < period.end,
        )
        .order_by(col(Visit.visited_at))
    )
    all_visits = list(visit_rows.all())
    unplanned = [(v, c) for v, c in all_visits if v.id not in done_ids]
    return DayOverview(day, planned, unplanned, len(all_visits))


@dataclass(frozen=True)
class DayFigures:
    day: date
    planned: int
    planned_done: int
    in_person: int
    phone: int
    working_day: bool = True

    @property
    def empty(self) -> bool:
        return not (self.planned or self.in_person or self.phone)


async def week_overview(
    session: AsyncSession, rep_id: int, today: date, rules: TeamSettings
) -> list[DayFigures]:
    """Plan vs actual for each day of the ISO week: two GROUP BY queries."""
    week = week_period(today, rules.timezone)
    plan_rows = await session.exec(
        select(
            col(PlannedVisit.planned_on),
            func.count(),
            func.count(col(PlannedVisit.done_visit_id)),
        )
        .where(
            col(PlannedVisit.rep_id) == rep_id,
            col(PlannedVisit.planned_on) >= week.first,
            col(PlannedVisit.planned_on) <= week.last,
        )
        .group_by(col(PlannedVisit.planned_on))
    )
    plans = {day: (int(total), int(done)) for day, total, done in plan_rows.all()}
    # Local days have UTC bounds that depend on the timezone (and DST), so the day of a visit is
    # computed in SQL from bounds worked out here rather than with a dialect's date functions.
    days = week.days()
    bounds = [day_period(day, rules.timezone) for day in days]
    day_index = case(
        *[
            ((col(Visit.visited_at) >= b.start) & (col(Visit.visited_at) < b.end), index)
            for index, b in enumerate(bounds)
        ],
        else_=-1,
    ).label("day_index")
    visit_rows = await session.exec(
        select(day_index, col(Visit.kind), func.count())
        .where(
            col(Visit.rep_id) == rep_id,
            col(Visit.deleted_at).is_(None),
            col(Visit.visited_at) >= week.start,
            col(Visit.visited_at) < week.end,
        )
        .group_by(day_index, col(Visit.kind))
    )
    visits: dict[tuple[int, str], int] = {}
    for index, kind, count in visit_rows.all():
        visits[(int(index), str(kind))] = int(count)
    return [
        DayFigures(
            day=day,
            planned=plans.get(day, (0, 0))[0],
            planned_done=plans.get(day, (0, 0))[1],
            in_person=visits.get((index, VisitKind.IN_PERSON), 0),
            phone=visits.get((index, VisitKind.PHONE), 0),
            working_day=rules.is_working_day(day),
        )
        for index, day in enumerate(days)
    ]


def working_days(rules: TeamSettings, start: date, count: int) -> list[date]:
    """Up to ``count`` working days of the team from ``start`` on (looking two months ahead)."""
    days: list[date] = []
    day = start
    while len(days) < count and (day - start).days < 60:
        if rules.is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def due_on(customer: Customer, last_visit: datetime | None, rules: TeamSettings) -> date:
    """When the customer should next be visited: the last visit (or creation) plus the cadence."""
    since = last_visit if last_visit is not None else customer.created_at
    cadence = rules.visits.cadence_days.days(str(customer.tier))
    return local_today(since, rules.timezone) + timedelta(days=cadence)


@dataclass(frozen=True)
class DueCustomer:
    customer: Customer
    last_visit: date | None
    due_on: date
    overdue_days: int


async def due_customers(
    session: AsyncSession, actor: Actor, today: date, rules: TeamSettings, limit: int = 50
) -> list[DueCustomer]:
    """Customers overdue for a visit by their tier's cadence, most overdue first.

    A rep's own customers; for a manager, the whole team's. A customer never visited is due
    one cadence after it was created.
    """
    if actor.team_id is None:
        return []
    last = func.max(col(Visit.visited_at)).label("last")
    visited = (
        select(col(Visit.customer_id), last)
        .where(col(Visit.deleted_at).is_(None))
        .group_by(col(Visit.customer_id))
        .subquery()
    )
    query = (
        select(Customer, visited.c.last)
        .join(visited, col(Customer.id) == visited.c.customer_id, isouter=True)
        .where(col(Customer.team_id) == actor.team_id)
    )
    if actor.role is Role.REP:
        query = query.where(col(Customer.owner_id) == actor.user_id)
    due: list[DueCustomer] = []
    for customer, last_at in (await session.exec(query)).all():
        due_day = due_on(customer, last_at, rules)
        if due_day <= today:
            last_day = local_today(last_at, rules.timezone) if last_at else None
            due.append(DueCustomer(customer, last_day, due_day, (today - due_day).days))
    due.sort(key=lambda d: (-d.overdue_days, str(d.customer.tier), d.customer.name))
    return due[:limit]


@dataclass(frozen=True)
class MorningList:
    """What a rep sees first thing: today's plan and follow-ups that are due or overdue."""

    day: date
    planned: list[tuple[PlannedVisit, Customer]]
    overdue_follow_ups: list[tuple[PlannedVisit, Customer]]

    @property
    def empty(self) -> bool:
        return not self.planned and not self.overdue_follow_ups


async def morning_list(session: AsyncSession, rep_id: int, team: TeamContext) -> MorningList:
    """Today's planned visits not yet done, and earlier follow-ups still open (oldest first)."""
    today = team.today
    base = (
        select(PlannedVisit, Customer)
        .join(Customer, col(Customer.id) == col(PlannedVisit.customer_id))
        .where(col(PlannedVisit.rep_id) == rep_id, col(PlannedVisit.done_visit_id).is_(None))
    )
    planned = await session.exec(
        base.where(col(PlannedVisit.planned_on) == today).order_by(col(Customer.name))
    )
    overdue = await session.exec(
        base.where(
            col(PlannedVisit.planned_on) < today,
            col(PlannedVisit.planned_on) >= today - timedelta(days=30),
            col(PlannedVisit.source) == PlanSource.FOLLOW_UP,
        ).order_by(col(PlannedVisit.planned_on), col(Customer.name))
    )
    return MorningList(
        day=today,
        planned=[(p, c) for p, c in planned.all()],
        overdue_follow_ups=[(p, c) for p, c in overdue.all()],
    )
