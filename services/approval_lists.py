"""What people list: my requests (/myrequests), what waits for me (/pending, oldest first), a
request's card for someone allowed to see it, and its receipts.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from models.approval import (
    ApprovalRequest,
    ApprovalStep,
    RequestStatus,
    StepStatus,
)
from models.common import Role
from models.customer import Customer
from models.user import User
from services import approval_access, approval_cards
from services.approval_cards import CardData, Env
from services.approval_routing import DIRECTOR, MANAGER
from services.approvals import APPROVER_ROLES, LIST_LIMIT, get_request
from services.users import Actor


async def my_requests(
    session: AsyncSession, actor: Actor, limit: int = LIST_LIMIT
) -> list[ApprovalRequest]:
    """The actor's requests, open ones first, then the newest."""
    query = (
        select(ApprovalRequest)
        .where(col(ApprovalRequest.requester_id) == actor.user_id)
        .order_by(col(ApprovalRequest.created_at).desc(), col(ApprovalRequest.id).desc())
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def customer_names(
    session: AsyncSession, requests: Sequence[ApprovalRequest]
) -> dict[int, str]:
    """The names of the listed requests' customers, by id."""
    ids = {r.customer_id for r in requests if r.customer_id is not None}
    if not ids:
        return {}
    rows = await session.exec(select(Customer.id, Customer.name).where(col(Customer.id).in_(ids)))
    return {int(cid): name for cid, name in rows.all() if cid is not None}


async def requester_names(
    session: AsyncSession, requests: Sequence[ApprovalRequest]
) -> dict[int, str]:
    """The names of the listed requests' requesters, by id: an approver's and a CC reader's
    lists say whose request each line is."""
    ids = {r.requester_id for r in requests}
    if not ids:
        return {}
    rows = await session.exec(select(User.id, User.display_name).where(col(User.id).in_(ids)))
    return {int(uid): name for uid, name in rows.all() if uid is not None}


async def pending_for(session: AsyncSession, env: Env, actor: Actor) -> list[ApprovalRequest]:
    """Requests waiting for a decision the actor may make, oldest first."""
    user = await session.get(User, actor.user_id)
    if user is None or actor.role not in APPROVER_ROLES:
        return []
    current = (col(ApprovalStep.request_id) == col(ApprovalRequest.id)) & (
        col(ApprovalStep.step_no) == col(ApprovalRequest.step_no)
    )
    levels: list[ColumnElement[bool]] = []
    assignee = col(ApprovalStep.assignee_id)
    teams = await approval_access.manager_level_teams(session, user, env.now)
    if teams:
        levels.append(
            (col(ApprovalStep.level) == MANAGER) & col(ApprovalRequest.team_id).in_(teams)
        )
    if actor.role is Role.DIRECTOR:
        levels.append(col(ApprovalStep.level) == DIRECTOR)
    # A transferred step waits only for the person it was handed to.
    mine = assignee == actor.user_id
    if levels:
        mine = or_(mine, assignee.is_(None) & or_(*levels))
    earlier = aliased(ApprovalStep)
    query = (
        select(ApprovalRequest)
        .join(ApprovalStep, current)
        .where(
            col(ApprovalRequest.status) == RequestStatus.PENDING,
            col(ApprovalRequest.requester_id) != actor.user_id,
            mine,
            ~exists().where(  # levels this person approved already are not theirs again
                col(earlier.request_id) == col(ApprovalRequest.id),
                col(earlier.decided_by_id) == actor.user_id,
                col(earlier.status) == StepStatus.APPROVED,
            ),
        )
        .order_by(col(ApprovalRequest.created_at), col(ApprovalRequest.id))
    )
    return list((await session.exec(query)).all())


async def decided_by(
    session: AsyncSession, env: Env, actor: Actor, limit: int = LIST_LIMIT
) -> list[ApprovalRequest]:
    """The requests the actor approved or rejected a step of (已处理), most recent decision
    first; only those they may still see (a manager who moved teams loses the old team's)."""
    if actor.role not in APPROVER_ROLES:
        raise NotAllowedError("approvals.reps_cannot_decide")
    latest = func.max(col(ApprovalStep.decided_at))
    query = (
        select(ApprovalRequest)
        .join(ApprovalStep, col(ApprovalStep.request_id) == col(ApprovalRequest.id))
        .where(
            col(ApprovalStep.decided_by_id) == actor.user_id,
            col(ApprovalStep.status).in_([StepStatus.APPROVED, StepStatus.REJECTED]),
        )
        .group_by(col(ApprovalRequest.id))
        .order_by(latest.desc(), col(ApprovalRequest.id).desc())
        .limit(limit * 2)
    )
    found = [
        request
        for request in (await session.exec(query)).all()
        if await approval_access.may_see(session, actor, request, env.now)
    ]
    return found[:limit]


async def card_for(session: AsyncSession, env: Env, actor: Actor, request_id: int) -> CardData:
    """A request's card for its requester, an approver of any of its levels, or a director."""
    request = await get_request(session, request_id)
    if not await approval_access.may_see(session, actor, request, env.now):
        raise NotAllowedError("approvals.not_found")
    return await approval_cards.load(session, env, request)


async def send_receipts(
    session: AsyncSession, env: Env, actor: Actor, request_id: int, *, nonce: str
) -> tuple[str, int]:
    """Send the request's receipts again to someone who may see it: its label, how many."""
    data = await card_for(session, env, actor, request_id)
    user = await session.get(User, actor.user_id)
    assert user is not None
    if not data.attachments:
        raise UserFacingError("approvals.no_receipts", id=data.request.label)
    sent = await approval_cards.send_attachments(
        session, env, data, user, key_prefix=f"ap:{request_id}:again:{nonce}"
    )
    return data.request.label, sent


async def send_pending_cards(
    session: AsyncSession, env: Env, actor: Actor, requests: Sequence[ApprovalRequest], *,
    nonce: str,
) -> None:  # fmt: skip
    """Fresh copies (with their buttons) of waiting requests, for /pending."""
    user = await session.get(User, actor.user_id)
    assert user is not None
    for request in requests:
        data = await approval_cards.load(session, env, request)
        await approval_cards.send_card(
            session, env, data, user, kind="pending", key=f"ap:{request.id}:pending:{nonce}"
        )
