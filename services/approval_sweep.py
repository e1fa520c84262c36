"""Reminders and escalation of approval requests that wait too long, counted in the team's
working hours: after `remind_after_hours` the approvers are reminded; after
`escalate_after_hours` a manager-level request moves on to the directors, and everyone involved
is told. Run every 15 minutes in working hours by the approvals_sweep job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.approval import (
    ApprovalRequest,
    ApprovalStep,
    RequestStatus,
    StepStatus,
)
from services import approval_access, approval_cards, notices
from services.approval_cards import Env, Header, RequestNotice
from services.approval_routing import DIRECTOR, MANAGER
from services.approvals import (
    record_change,
    send_to_level,
    state_of,
    transition,
)
from services.team_context import TeamContext
from services.workhours import working_hours

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    reminded: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    # Reminders left for the next sweep: this run already told their approvers enough.
    held: list[int] = field(default_factory=list)


async def sweep(session: AsyncSession, env: Env, team: TeamContext) -> SweepReport:
    """Remind the approvers of requests waiting longer than the team's reminder time, and move
    manager-level requests waiting longer than its escalation time to the directors. Both are
    measured in the team's working hours and happen once per step (idempotency keys)."""
    report = SweepReport()
    rules = team.rules.approvals
    rows = await session.exec(
        select(ApprovalRequest, ApprovalStep)
        .join(
            ApprovalStep,
            (col(ApprovalStep.request_id) == col(ApprovalRequest.id))
            & (col(ApprovalStep.step_no) == col(ApprovalRequest.step_no)),
        )
        .where(
            col(ApprovalRequest.team_id) == team.team_id,
            col(ApprovalRequest.status) == RequestStatus.PENDING,
            col(ApprovalStep.status) == StepStatus.PENDING,
        )
        .order_by(col(ApprovalRequest.created_at))
    )
    for request, step in list(rows.all()):
        waited = working_hours(step.waiting_since, env.now, team.rules)
        level = request.chain[request.step_no]
        if (
            level == MANAGER
            and waited >= rules.escalate_after_hours
            and await _escalate(session, env, request, step, rules.escalate_after_hours)
        ):
            report.escalated.append(request.id or 0)
            continue
        if waited >= rules.remind_after_hours and step.reminded_at is None:
            if not await _remind(session, env, request, step, rules.remind_after_hours):
                report.held.append(request.id or 0)
                continue
            report.reminded.append(request.id or 0)
    return report


def _hours(value: float) -> str:
    return f"{value:g}"


async def _remind(
    session: AsyncSession, env: Env, request: ApprovalRequest, step: ApprovalStep, hours: float
) -> bool:
    """Remind the approvers of the request once; False (nothing sent) when one of them has had
    this run's share of messages, so that the next sweep reminds them instead."""
    approvers = await approval_access.approvers(session, request, env.now)
    if not all(notices.room_for(person.telegram_id) for person in approvers):
        return False
    step.reminded_at = env.now
    session.add(step)
    data = await approval_cards.load(session, env, request)
    since = int(step.waiting_since.timestamp())
    header = Header("reminder", {"hours": _hours(hours)})
    for person in approvers:
        await approval_cards.send_card(
            session, env, data, person, kind="reminder", header=header,
            key=f"ap:{request.id}:s{step.step_no}:{since}:remind:{person.id}",
        )  # fmt: skip
    return True


async def _escalate(
    session: AsyncSession, env: Env, request: ApprovalRequest, step: ApprovalStep, hours: float
) -> bool:
    """Hand a manager-level step nobody decided to the next level (the directors when it was
    the last one), telling the requester and the approvers it was taken from."""
    if not [d for d in await approval_access.directors(session) if d.id != request.requester_id]:
        log.warning("request %s is overdue but there is no director to escalate to", request.id)
        return False
    if not all(notices.room_for(d.telegram_id) for d in await approval_access.directors(session)):
        return False  # the directors heard enough this run: the next sweep escalates it
    previous = await approval_access.approvers(session, request, env.now)
    before = state_of(request)
    chain = list(request.chain)
    if request.step_no + 1 >= len(chain):
        chain.append(DIRECTOR)
    if not await transition(session, env, request, step_no=request.step_no + 1, chain=chain):
        return False
    step.status, step.decided_at = StepStatus.ESCALATED, env.now
    session.add(step)
    session.add(ApprovalStep(request_id=request.id or 0, step_no=request.step_no,
                             level=chain[request.step_no], waiting_since=env.now))  # fmt: skip
    record_change(session, env, request, "escalated", actor_id=None, before=before,
            reason=f"no decision in {_hours(hours)} working hours")  # fmt: skip
    await session.flush()
    data = await approval_cards.load(session, env, request)
    await approval_cards.refresh_copies(session, env, data)
    names = ", ".join(u.display_name for u in previous) or "—"
    header = Header("escalated", {"hours": _hours(hours), "names": names})
    await send_to_level(session, env, data, kind="escalated", header=header)
    key = f"ap:{request.id}:v{request.version}:escalated"
    notice = RequestNotice(data, "escalated_requester", hours=_hours(hours))
    await approval_cards.notify(session, env, data.requester, notice, key=f"{key}:requester")
    notice = RequestNotice(data, "escalated_approver", hours=_hours(hours))
    for person in previous:
        await approval_cards.notify(session, env, person, notice, key=f"{key}:{person.id}")
    return True
