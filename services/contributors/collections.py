"""Collections in a report: payments the rep recorded in the period (by currency) and the
payment promises they obtained."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.receivable import Payment, Promise, Receivable
from models.user import User
from services.report_sections import Line, ReportScope, Section, contributor, money_param


@contributor("collections", order=40)
async def collections_section(
    session: AsyncSession, rep: User, scope: ReportScope
) -> Section | None:
    """None when the rep recorded no payment and no promise in the period."""
    period = scope.period
    paid = await session.exec(
        select(col(Receivable.currency), func.count(), func.sum(col(Payment.amount)))
        .join(Receivable, col(Receivable.id) == col(Payment.receivable_id))
        .where(col(Payment.recorded_by_id) == rep.id)
        .where(col(Payment.recorded_at) >= period.start, col(Payment.recorded_at) < period.end)
        .group_by(col(Receivable.currency))
        .order_by(col(Receivable.currency))
    )
    lines = [
        Line("reports.collections_received",
             {"count": int(count), "amount": money_param(total, str(currency))})
        for currency, count, total in paid.all()
    ]  # fmt: skip
    promises = (
        await session.exec(
            select(func.count())
            .select_from(Promise)
            .where(col(Promise.recorded_by_id) == rep.id)
            .where(col(Promise.created_at) >= period.start, col(Promise.created_at) < period.end)
        )
    ).one()
    if promises:
        lines.append(Line("reports.collections_promises", {"count": int(promises)}))
    return Section("collections", "reports.section_collections", lines) if lines else None
