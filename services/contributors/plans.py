"""Plan vs actual in a report: planned visits done and not, and visits outside the plan."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.customer import Customer
from models.plan import PlannedVisit
from models.user import User
from models.visit import Visit
from services.report_sections import Line, ReportScope, Section, contributor

MAX_NAMES = 12


@contributor("plans", order=20)
async def plans_section(session: AsyncSession, rep: User, scope: ReportScope) -> Section | None:
    """None when nothing was planned and every visit was unplanned (the visits section says it)."""
    period = scope.period
    planned_in_period = (
        col(PlannedVisit.rep_id) == rep.id,
        col(PlannedVisit.planned_on) >= period.first,
        col(PlannedVisit.planned_on) <= period.last,
    )
    planned, done = (
        await session.exec(
            select(func.count(), func.count(col(PlannedVisit.done_visit_id))).where(
                *planned_in_period
            )
        )
    ).one()
    if not planned:
        return None
    carried_out = select(col(PlannedVisit.done_visit_id)).where(
        col(PlannedVisit.rep_id) == rep.id, col(PlannedVisit.done_visit_id).is_not(None)
    )
    unplanned = (
        await session.exec(
            select(func.count())
            .select_from(Visit)
            .where(
                col(Visit.rep_id) == rep.id,
                col(Visit.deleted_at).is_(None),
                col(Visit.visited_at) >= period.start,
                col(Visit.visited_at) < period.end,
                col(Visit.id).not_in(carried_out),
            )
        )
    ).one()
    lines = [Line("reports.plan_done", {"done": int(done), "planned": int(planned)})]
    if done < planned:
        rows = await session.exec(
            select(col(Customer.name))
            .join(PlannedVisit, col(PlannedVisit.customer_id) == col(Customer.id))
            .where(*planned_in_period, col(PlannedVisit.done_visit_id).is_(None))
            .order_by(col(PlannedVisit.planned_on), col(Customer.name))
            .limit(MAX_NAMES)
        )
        names = [str(name) for name in rows.all()]
        lines.append(Line("reports.plan_missed", {"count": int(planned) - int(done),
                                                  "names": names}))  # fmt: skip
    if unplanned:
        lines.append(Line("reports.plan_unplanned", {"count": int(unplanned)}))
    return Section("plans", "reports.section_plans", lines)
