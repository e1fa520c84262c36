"""The weekly report: open from the team's last working day of the ISO week until the week ends
(late after that last working day), drafted from the week's data; its key visits for next week
become plan entries (through services.plans).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import services.contributors  # noqa: F401  (registers every area's report section)
from core.errors import NotAllowedError, UserFacingError
from core.periods import Period, start_of, week_period
from core.settings import TeamSettings
from models.common import Role
from models.customer import Customer
from models.plan import PlannedVisit
from models.report import (
    WeeklyReport,
)
from models.user import User
from services import audit, plans
from services.report_sections import Section, collect
from services.reports import (
    MAX_FEEDBACK,
    MAX_KEY_VISITS,
    MAX_SUMMARY,
    check_text,
    leads,
    reporter_of,
    require_reporter,
    week_scope,
)
from services.team_context import TeamContext
from services.users import Actor


def spread_over(customer_ids: Sequence[int], days: Sequence[date]) -> list[tuple[int, date]]:
    """Key visits spread over next week's working days, in the order they were picked."""
    if not days:
        return []
    return [(customer_id, days[n % len(days)]) for n, customer_id in enumerate(customer_ids)]


@dataclass(frozen=True)
class WeekWindow:
    """The ISO week of a day, its last working day, and the working days of the next week."""

    week: Period
    last_working_day: date | None
    next_days: list[date]


def week_window(rules: TeamSettings, today: date) -> WeekWindow:
    week = week_period(today, rules.timezone)
    working = [day for day in week.days() if rules.is_working_day(day)]
    following = week_period(week.last + timedelta(days=1), rules.timezone)
    next_days = [day for day in following.days() if rules.is_working_day(day)]
    return WeekWindow(week, working[-1] if working else None, next_days)


async def weekly_report(
    session: AsyncSession, rep_id: int, week_start: date
) -> WeeklyReport | None:
    query = select(WeeklyReport).where(
        WeeklyReport.rep_id == rep_id, WeeklyReport.week_start == week_start
    )
    return (await session.exec(query)).first()


async def check_weekly(
    session: AsyncSession, actor: Actor, team: TeamContext
) -> tuple[WeekWindow, WeeklyReport | None]:
    """The weekly report is open from the week's last working day until the week ends."""
    require_reporter(actor)
    today = team.today
    window = week_window(team.rules, today)
    if window.last_working_day is None:
        raise UserFacingError("reports.weekly_no_working_day")
    if today < window.last_working_day:
        raise UserFacingError("reports.weekly_not_yet", day=window.last_working_day)
    return window, await weekly_report(session, actor.user_id, window.week.first)


@dataclass(frozen=True)
class WeeklyDraft:
    window: WeekWindow
    late: bool
    report: WeeklyReport | None
    sections: list[Section]


def _weekly_late(team: TeamContext, window: WeekWindow) -> bool:
    assert window.last_working_day is not None
    return team.now >= start_of(window.last_working_day + timedelta(days=1), team.timezone)


async def draft_weekly(session: AsyncSession, *, actor: Actor, team: TeamContext) -> WeeklyDraft:
    """The week's figures from every area, and the report already submitted if any."""
    window, existing = await check_weekly(session, actor, team)
    rep = await reporter_of(session, actor)
    sections = await collect(session, rep, week_scope(team, window.week))
    late = existing.late if existing else _weekly_late(team, window)
    return WeeklyDraft(window, late, existing, sections)


@dataclass(frozen=True)
class WeeklyContent:
    summary: str | None
    feedback: str | None
    # (customer id, day of next week)
    key_visits: Sequence[tuple[int, date]]


@dataclass(frozen=True)
class SubmittedWeekly:
    report: WeeklyReport
    created: bool
    # Next week's key visits as now planned, by day.
    planned: list[tuple[date, Customer]]


async def submit_weekly(
    session: AsyncSession,
    *,
    actor: Actor,
    content: WeeklyContent,
    team: TeamContext,
    report_id: int | None = None,
) -> SubmittedWeekly:
    """Submit (or change) the week's report; its key visits become next week's plan entries.

    Entries this report planned and a changed report no longer lists are taken off the plan
    (unless already done); entries planned before are left alone.
    """
    window, existing = await check_weekly(session, actor, team)
    now = team.now
    summary = check_text(content.summary, MAX_SUMMARY, required=True)
    feedback = check_text(content.feedback, MAX_FEEDBACK, required=False)
    assert summary is not None
    if existing is not None and existing.id != report_id:
        raise UserFacingError("reports.weekly_already_submitted")
    if existing is None and report_id is not None:
        raise NotAllowedError("reports.not_found")
    wanted = list(dict.fromkeys((int(cid), day) for cid, day in content.key_visits))
    if len(wanted) > MAX_KEY_VISITS:
        raise UserFacingError("reports.too_many_key_visits", limit=MAX_KEY_VISITS)
    if any(day not in window.next_days for _, day in wanted):
        raise UserFacingError("reports.key_visit_day_invalid")
    rep = await reporter_of(session, actor)
    sections = [s.to_json() for s in await collect(session, rep, week_scope(team, window.week))]
    previous = {(int(k["customer_id"]), date.fromisoformat(k["day"])): k.get("plan_id")
                for k in (existing.key_visits if existing else [])}  # fmt: skip
    key_visits = await _plan_key_visits(session, actor, wanted, previous, team)
    if existing is None:
        report = WeeklyReport(
            team_id=actor.team_id or 0, rep_id=actor.user_id, week_start=window.week.first,
            summary=summary, feedback=feedback, key_visits=key_visits, sections=sections,
            late=_weekly_late(team, window), submitted_at=now, updated_at=now,
        )  # fmt: skip
        try:
            async with session.begin_nested():
                session.add(report)
                await session.flush()
        except IntegrityError:
            raise UserFacingError("reports.weekly_already_submitted") from None
        action = "weekly_report.submitted"
    else:
        report = existing
        report.summary, report.feedback, report.key_visits = summary, feedback, key_visits
        report.sections, report.updated_at = sections, now
        session.add(report)
        await session.flush()
        action = "weekly_report.edited"
    audit.record(
        session, at=now, action=action, entity="weekly_report", entity_id=report.id,
        actor_id=actor.user_id,
        after={"week": window.week.first.isoformat(), "late": report.late,
               "key_visits": [[k["customer_id"], k["day"]] for k in key_visits]},
    )  # fmt: skip
    names = await _customers(session, [cid for cid, _ in wanted])
    planned = [(day, names[cid]) for cid, day in sorted(wanted, key=lambda pair: pair[1])]
    return SubmittedWeekly(report, existing is None, planned)


async def _plan_key_visits(
    session: AsyncSession,
    actor: Actor,
    wanted: list[tuple[int, date]],
    previous: dict[tuple[int, date], Any],
    team: TeamContext,
) -> list[dict[str, Any]]:
    """Put the key visits on the plan; drop the entries this report planned and no longer
    wants. Returns the key visits as stored on the report, with the plan entries it made."""
    today, now = team.today, team.now
    for (customer_id, day), plan_id in previous.items():
        if (customer_id, day) in wanted or plan_id is None:
            continue
        plan = await session.get(PlannedVisit, int(plan_id))
        if plan is not None and plan.rep_id == actor.user_id and plan.done_visit_id is None:
            await plans.remove_plan(session, actor=actor, plan_id=plan.id or 0, now=now)
    by_day: dict[date, list[int]] = defaultdict(list)
    for customer_id, day in wanted:
        if (customer_id, day) not in previous:
            by_day[day].append(customer_id)
    made: dict[tuple[int, date], int] = {}
    for day, customer_ids in sorted(by_day.items()):
        result = await plans.plan_visits(
            session, actor=actor, day=day, customer_ids=customer_ids, purpose=None,
            today=today, now=now,
        )  # fmt: skip
        added = [c.id for c in result.added]
        rows = await session.exec(
            select(PlannedVisit).where(
                col(PlannedVisit.rep_id) == actor.user_id,
                col(PlannedVisit.planned_on) == day,
                col(PlannedVisit.customer_id).in_(added),
            )
        )
        made.update({(plan.customer_id, day): plan.id or 0 for plan in rows.all()})
    return [
        {"customer_id": customer_id, "day": day.isoformat(),
         "plan_id": previous.get((customer_id, day), made.get((customer_id, day)))}
        for customer_id, day in wanted
    ]  # fmt: skip


async def _customers(session: AsyncSession, ids: Sequence[int]) -> dict[int, Customer]:
    if not ids:
        return {}
    rows = await session.exec(select(Customer).where(col(Customer.id).in_(list(ids))))
    return {customer.id or 0: customer for customer in rows.all()}


async def key_visit_customers(
    session: AsyncSession, report: WeeklyReport
) -> list[tuple[date, Customer]]:
    """A weekly report's key visits with their customers, by day."""
    found = await _customers(session, [int(k["customer_id"]) for k in report.key_visits])
    pairs = [(date.fromisoformat(k["day"]), found.get(int(k["customer_id"])))
             for k in report.key_visits]  # fmt: skip
    return sorted(((day, c) for day, c in pairs if c is not None), key=lambda p: p[0])


async def week_status(
    session: AsyncSession, team_id: int, week_start: date
) -> list[tuple[User, WeeklyReport | None]]:
    """Each active rep of the team (and anyone who reported) with their weekly report."""
    query = (
        select(User, WeeklyReport)
        .join(
            WeeklyReport,
            and_(
                col(WeeklyReport.rep_id) == col(User.id),
                col(WeeklyReport.week_start) == week_start,
            ),
            isouter=True,
        )
        .where(col(User.team_id) == team_id, col(User.role) == Role.REP)
        .where(or_(col(User.active).is_(True), col(WeeklyReport.id).is_not(None)))
        .order_by(col(User.display_name), col(User.id))
    )
    return [(user, report) for user, report in (await session.exec(query)).all()]


async def visible_weekly(
    session: AsyncSession, actor: Actor, report_id: int
) -> tuple[WeeklyReport, User]:
    report = await session.get(WeeklyReport, report_id)
    if report is None or not (report.rep_id == actor.user_id or leads(actor, report.team_id)):
        raise NotAllowedError("reports.not_found")
    rep = await session.get(User, report.rep_id)
    assert rep is not None
    return report, rep
