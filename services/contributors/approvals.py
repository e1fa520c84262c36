"""Approvals in a report: the rep's requests made in the period, and those decided in it."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.approval import ApprovalRequest, RequestStatus
from models.user import User
from services.report_sections import Line, ReportScope, Section, contributor


@contributor("approvals", order=30)
async def approvals_section(
    session: AsyncSession, rep: User, scope: ReportScope
) -> Section | None:
    """None when the rep neither asked for nor got a decision on anything in the period."""
    period = scope.period
    mine = col(ApprovalRequest.requester_id) == rep.id
    made = await session.exec(
        select(col(ApprovalRequest.status), func.count())
        .where(mine, col(ApprovalRequest.created_at) >= period.start)
        .where(col(ApprovalRequest.created_at) < period.end)
        .group_by(col(ApprovalRequest.status))
    )
    requested = {str(status): int(count) for status, count in made.all()}
    done = await session.exec(
        select(col(ApprovalRequest.status), func.count())
        .where(mine, col(ApprovalRequest.decided_at) >= period.start)
        .where(col(ApprovalRequest.decided_at) < period.end)
        .where(col(ApprovalRequest.status).in_([RequestStatus.APPROVED, RequestStatus.REJECTED]))
        .group_by(col(ApprovalRequest.status))
    )
    decided = {str(status): int(count) for status, count in done.all()}
    if not requested and not decided:
        return None
    lines: list[Line] = []
    if requested:
        waiting = requested.get(RequestStatus.PENDING, 0) + requested.get(RequestStatus.INFO, 0)
        lines.append(Line("reports.approvals_requested",
                          {"count": sum(requested.values()), "waiting": waiting}))  # fmt: skip
    if decided:
        lines.append(Line("reports.approvals_decided", {
            "approved": decided.get(RequestStatus.APPROVED, 0),
            "rejected": decided.get(RequestStatus.REJECTED, 0),
        }))  # fmt: skip
    return Section("approvals", "reports.section_approvals", lines)
