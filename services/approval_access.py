"""Who may decide a request now: the requester's manager or that manager's delegate at the
manager level, any director at the director level — never the requester, never a rep, and never
someone who already approved an earlier level of the same request."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.approval import ApprovalCc, ApprovalRequest, ApprovalStep, Delegation, StepStatus
from models.common import Role
from models.user import User
from services import users
from services.approval_routing import DIRECTOR, MANAGER
from services.users import Actor


async def active_delegation(
    session: AsyncSession, manager_id: int, now: datetime
) -> Delegation | None:
    """The manager's delegation in force at ``now`` (at most one; the newest wins)."""
    query = (
        select(Delegation)
        .where(
            col(Delegation.manager_id) == manager_id,
            col(Delegation.ended_at).is_(None),
            col(Delegation.starts_at) <= now,
            col(Delegation.ends_at) > now,
        )
        .order_by(col(Delegation.id).desc())
    )
    return (await session.exec(query)).first()


async def delegations_to(
    session: AsyncSession, delegate_id: int, now: datetime
) -> list[Delegation]:
    query = select(Delegation).where(
        col(Delegation.delegate_id) == delegate_id,
        col(Delegation.ended_at).is_(None),
        col(Delegation.starts_at) <= now,
        col(Delegation.ends_at) > now,
    )
    return list((await session.exec(query)).all())


async def directors(session: AsyncSession) -> list[User]:
    query = (
        select(User)
        .where(col(User.role) == Role.DIRECTOR, col(User.active).is_(True))
        .order_by(col(User.id))
    )
    return list((await session.exec(query)).all())


async def level_approvers(
    session: AsyncSession, *, team_id: int, requester_id: int, level: str, now: datetime
) -> list[User]:
    """The people who may decide ``level`` of a request from ``team_id`` at ``now``."""
    found: list[User] = []
    if level == MANAGER:
        manager = await users.team_manager(session, team_id)
        if manager is not None and manager.id is not None:
            found.append(manager)
            delegation = await active_delegation(session, manager.id, now)
            if delegation is not None:
                delegate = await session.get(User, delegation.delegate_id)
                if delegate is not None and delegate.active and delegate.role != Role.REP:
                    found.append(delegate)
    elif level == DIRECTOR:
        found = await directors(session)
    return [user for user in found if user.id != requester_id]


async def approvers(session: AsyncSession, request: ApprovalRequest, now: datetime) -> list[User]:
    """Who may decide the request's current step: its level's approvers, except anyone who
    already approved an earlier step (each level is a different pair of eyes)."""
    level = request.chain[request.step_no]
    step = (
        await session.exec(
            select(ApprovalStep).where(
                col(ApprovalStep.request_id) == request.id,
                col(ApprovalStep.step_no) == request.step_no,
            )
        )
    ).first()
    assignee = await session.get(User, step.assignee_id) if step and step.assignee_id else None
    if assignee is not None and assignee.active and assignee.id != request.requester_id:
        # Transferred (转交): only the person it was handed to decides the step.
        return [assignee]
    found = await level_approvers(
        session, team_id=request.team_id, requester_id=request.requester_id, level=level, now=now
    )
    earlier = await session.exec(
        select(ApprovalStep.decided_by_id).where(
            col(ApprovalStep.request_id) == request.id,
            col(ApprovalStep.step_no) < request.step_no,
            col(ApprovalStep.status) == StepStatus.APPROVED,
        )
    )
    decided = {user_id for user_id in earlier.all() if user_id is not None}
    return [user for user in found if user.id not in decided]


async def manager_level_teams(session: AsyncSession, user: User, now: datetime) -> list[int]:
    """Teams whose manager-level decisions this person makes: their own (as its manager) and
    those whose manager delegated to them."""
    teams: list[int] = []
    if user.role == Role.MANAGER and user.team_id is not None:
        teams.append(user.team_id)
    assert user.id is not None
    for delegation in await delegations_to(session, user.id, now):
        manager = await session.get(User, delegation.manager_id)
        if (
            manager is not None
            and manager.active
            and manager.role == Role.MANAGER
            and manager.team_id is not None
            and manager.team_id not in teams
        ):
            teams.append(manager.team_id)
    return teams


async def may_see(
    session: AsyncSession, actor: Actor, request: ApprovalRequest, now: datetime
) -> bool:
    """Whether ``actor`` may know anything about the request: its requester, the managers of its
    team (or their delegates), directors and admins. Everyone else is told it does not exist."""
    if request.requester_id == actor.user_id or actor.role in (Role.DIRECTOR, Role.ADMIN):
        return True
    if actor.role is Role.MANAGER and actor.team_id == request.team_id:
        return True
    user = await session.get(User, actor.user_id)
    if user is None:
        return False
    if request.team_id in await manager_level_teams(session, user, now):
        return True
    return await _involved(session, actor.user_id, request)


async def _involved(session: AsyncSession, user_id: int, request: ApprovalRequest) -> bool:
    """Someone a step was transferred to, or a CC recipient (抄送), of the request."""
    assigned = await session.exec(
        select(ApprovalStep.id).where(
            col(ApprovalStep.request_id) == request.id, col(ApprovalStep.assignee_id) == user_id
        )
    )
    if assigned.first() is not None:
        return True
    copied = await session.exec(
        select(ApprovalCc.id).where(
            col(ApprovalCc.request_id) == request.id, col(ApprovalCc.user_id) == user_id
        )
    )
    return copied.first() is not None


TRANSFER_ROLES = {MANAGER: Role.MANAGER, DIRECTOR: Role.DIRECTOR}


async def transfer_pool(session: AsyncSession, request: ApprovalRequest) -> list[User]:
    """The active people of the current step's level who may be handed it (转交): managers at
    the manager level (another team's manager as well, as with /delegate), directors at the
    director level; never the requester or an earlier approver of the request."""
    level = request.chain[request.step_no]
    earlier = await session.exec(
        select(ApprovalStep.decided_by_id).where(
            col(ApprovalStep.request_id) == request.id,
            col(ApprovalStep.step_no) < request.step_no,
        )
    )
    excluded = {request.requester_id} | {i for i in earlier.all() if i}
    people = await session.exec(
        select(User)
        .where(col(User.role) == TRANSFER_ROLES[level], col(User.active).is_(True))
        .order_by(col(User.display_name), col(User.id))
    )
    return [u for u in people.all() if u.id not in excluded]
