"""The approvals area's share of the meeting summary: requested, approved, rejected, pending."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.settings import TeamSettings
from models.approval import ApprovalRequest, RequestStatus
from models.user import User
from services.money import from_minor
from services.summary.core import Contributor, Metric, Sheet, Value, Window, contribute
from services.workhours import working_hours

METRICS = (
    Metric("approvals_requested"),
    Metric("approvals_approved"),
    Metric("approvals_rejected"),
    Metric("approvals_pending"),
    # Open now and waiting longer than the escalation time: the manager's to chase.
    Metric("approvals_waiting", trend=False),
)
OPEN = [RequestStatus.PENDING, RequestStatus.INFO]


async def per_rep(
    session: AsyncSession, window: Window, rep_ids: list[int]
) -> dict[int, dict[str, Value]]:
    """Requests made in the window (and how many of them still wait), decisions taken in it."""
    found: dict[int, dict[str, Value]] = defaultdict(dict)
    if not rep_ids:
        return found
    mine = col(ApprovalRequest.requester_id).in_(rep_ids)
    made = await session.exec(
        select(
            col(ApprovalRequest.requester_id),
            func.count(),
            func.count(case((col(ApprovalRequest.status).in_(OPEN), 1))),
        )
        .where(mine, col(ApprovalRequest.created_at) >= window.start)
        .where(col(ApprovalRequest.created_at) < window.end)
        .group_by(col(ApprovalRequest.requester_id))
    )
    for rep_id, requested, pending in made.all():
        found[rep_id].update(approvals_requested=int(requested), approvals_pending=int(pending))
    decided = await session.exec(
        select(
            col(ApprovalRequest.requester_id),
            func.count(case((col(ApprovalRequest.status) == RequestStatus.APPROVED, 1))),
            func.count(case((col(ApprovalRequest.status) == RequestStatus.REJECTED, 1))),
        )
        .where(mine, col(ApprovalRequest.decided_at) >= window.start)
        .where(col(ApprovalRequest.decided_at) < window.end)
        .group_by(col(ApprovalRequest.requester_id))
    )
    for rep_id, approved, rejected in decided.all():
        found[rep_id].update(approvals_approved=int(approved), approvals_rejected=int(rejected))
    rules = window.rules or TeamSettings()
    # Open requests are few (each is chased within hours), so the working-hours test runs here.
    waiting = await session.exec(
        select(col(ApprovalRequest.requester_id), col(ApprovalRequest.created_at))
        .where(mine, col(ApprovalRequest.status).in_(OPEN))
        .where(col(ApprovalRequest.created_at) < window.end)
    )
    for rep_id, created_at in waiting.all():
        if working_hours(created_at, window.end, rules) > waiting_limit(rules):
            values = found[rep_id]
            values["approvals_waiting"] = int(values.get("approvals_waiting", 0)) + 1  # type: ignore[arg-type]
    return found


def waiting_limit(rules: TeamSettings) -> float:
    """Working hours after which an open request is the manager's to chase: the escalation
    time of the team's approvals."""
    return rules.approvals.escalate_after_hours


async def details(session: AsyncSession, window: Window, rep_ids: list[int]) -> list[Sheet]:
    """Every request made in the window."""
    rows = await session.exec(
        select(ApprovalRequest, User.display_name)
        .join(User, col(User.id) == col(ApprovalRequest.requester_id))
        .where(col(ApprovalRequest.team_id) == window.team_id)
        .where(col(ApprovalRequest.created_at) >= window.start)
        .where(col(ApprovalRequest.created_at) < window.end)
        .order_by(col(ApprovalRequest.created_at))
    )
    sheet = Sheet(
        "approvals",
        ["when", "rep", "request_type", "amount", "currency", "status", "decided_at"],
        codes={"request_type": "approvals.type_", "status": "summary.code.approval_"},
    )
    for request, name in rows.all():
        amount = from_minor(request.amount_minor) if request.amount_minor is not None else None
        sheet.rows.append(
            [
                request.created_at, name, request.type, amount, request.currency,
                str(request.status), request.decided_at,
            ]
        )  # fmt: skip
    return [sheet]


APPROVALS = contribute(Contributor("approvals", METRICS, per_rep, details, order=30))
