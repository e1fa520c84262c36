"""Visits in a report: visits by kind (against the weekly targets in a weekly report), the
customers visited, check-ins flagged far from the customer, and new customers."""

from __future__ import annotations

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.customer import Customer
from models.user import User
from models.visit import Visit, VisitKind
from services.report_sections import Line, ReportScope, Section, contributor

MAX_NAMES = 12


@contributor("visits", order=10)
async def visits_section(session: AsyncSession, rep: User, scope: ReportScope) -> Section:
    """The period's visits, counted in one aggregate query."""
    period = scope.period
    in_period = (
        col(Visit.rep_id) == rep.id,
        col(Visit.deleted_at).is_(None),
        col(Visit.visited_at) >= period.start,
        col(Visit.visited_at) < period.end,
    )
    in_person, phone, flagged, customers = (
        await session.exec(
            select(
                func.count(case((col(Visit.kind) == VisitKind.IN_PERSON, 1))),
                func.count(case((col(Visit.kind) == VisitKind.PHONE, 1))),
                func.count(case((col(Visit.flagged).is_(True), 1))),
                func.count(func.distinct(col(Visit.customer_id))),
            ).where(*in_period)
        )
    ).one()
    new_customers = (
        await session.exec(
            select(func.count())
            .select_from(Customer)
            .where(
                col(Customer.created_by_id) == rep.id,
                col(Customer.source) == "chat",
                col(Customer.created_at) >= period.start,
                col(Customer.created_at) < period.end,
            )
        )
    ).one()
    lines: list[Line] = []
    targets = scope.rules.targets
    if scope.kind == "week":
        lines.append(
            Line("reports.visits_vs_targets", {
                "in_person": int(in_person), "in_person_target": targets.in_person_per_week,
                "phone": int(phone), "phone_target": targets.phone_per_week,
            })
        )  # fmt: skip
    elif in_person or phone:
        lines.append(Line("reports.visits_count", {"in_person": int(in_person),
                                                   "phone": int(phone)}))  # fmt: skip
    else:
        lines.append(Line("reports.visits_none"))
    if customers:
        names = await _customer_names(session, in_period)
        lines.append(
            Line("reports.visits_customers", {"count": int(customers), "names": names})
        )  # fmt: skip
    if new_customers:
        lines.append(Line("reports.new_customers", {"count": int(new_customers)}))
    if flagged:
        lines.append(Line("reports.visits_flagged", {"count": int(flagged)}))
    return Section("visits", "reports.section_visits", lines)


async def _customer_names(session: AsyncSession, in_period: tuple[object, ...]) -> list[str]:
    """The customers visited, in the order of their first visit in the period."""
    first = func.min(col(Visit.visited_at)).label("first")
    rows = await session.exec(
        select(col(Customer.name), first)
        .join(Customer, col(Customer.id) == col(Visit.customer_id))
        .where(*in_period)  # type: ignore[arg-type]
        .group_by(col(Customer.id), col(Customer.name))
        .order_by(first)
        .limit(MAX_NAMES)
    )
    return [str(name) for name, _ in rows.all()]
