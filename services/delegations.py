"""Delegation: a manager hands their approvals to another manager or a director until a date.

While it lasts, the delegate decides the manager-level steps of the manager's team (the manager
still may too); both are told when it starts and when it ends. It ends by itself at midnight
after its last day (team timezone), early when the manager ends it, or when a new one replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from core.periods import start_of
from models.approval import ApprovalRequest, ApprovalStep, Delegation, RequestStatus, StepStatus
from models.common import Role
from models.team import Team
from models.user import User
from services import approval_access, approval_cards, audit, notices
from services.approval_cards import Env, Header
from services.approval_routing import MANAGER
from services.team_context import TeamContext
from services.users import Actor

MAX_DAYS = 92
DELEGATE_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR})


@dataclass(frozen=True)
class Current:
    delegation: Delegation
    delegate: User


@dataclass(frozen=True)
class Candidate:
    """Someone a manager may hand approvals to, with the name of their team (managers)."""

    user: User
    team_name: str | None


@dataclass(frozen=True)
class DelegationNotice:
    """To the delegate or the manager: ``event`` is "start", or "<reason>_delegate" /
    "expired_manager" when it ends; names are plain text."""

    event: str
    manager: str
    delegate: str
    team: str
    until: date


def _snapshot(delegation: Delegation) -> dict[str, object]:
    return {
        "manager_id": delegation.manager_id,
        "delegate_id": delegation.delegate_id,
        "until": delegation.until.isoformat(),
        "ended": delegation.end_reason,
    }


def _check_manager(actor: Actor, team: TeamContext) -> None:
    if actor.role is not Role.MANAGER or actor.team_id != team.team_id:
        raise NotAllowedError("delegation.managers_only")


async def candidates(session: AsyncSession, actor: Actor) -> list[Candidate]:
    """Who a manager may hand approvals to: the other active managers, and the directors."""
    query = (
        select(User, Team.name)
        .join(Team, col(Team.id) == col(User.team_id), isouter=True)
        .where(
            col(User.active).is_(True),
            col(User.role).in_(list(DELEGATE_ROLES)),
            col(User.id) != actor.user_id,
        )
        .order_by(col(User.role).desc(), col(User.display_name))
    )
    return [Candidate(user, name) for user, name in (await session.exec(query)).all()]


async def current(session: AsyncSession, env: Env, actor: Actor) -> Current | None:
    found = await approval_access.active_delegation(session, actor.user_id, env.now)
    if found is None:
        return None
    delegate = await session.get(User, found.delegate_id)
    assert delegate is not None
    return Current(found, delegate)


def last_allowed_day(team: TeamContext) -> tuple[date, date]:
    """(today, the last day a delegation may run to) in the team's timezone."""
    return team.today, team.today + timedelta(days=MAX_DAYS)


async def delegate(
    session: AsyncSession,
    env: Env,
    team: TeamContext,
    actor: Actor,
    *,
    delegate_id: int,
    until: date,
) -> Current:
    """Start a delegation to ``delegate_id`` through ``until`` (inclusive), replacing one in
    force; the delegate is told and gets the cards of what waits for the manager now."""
    _check_manager(actor, team)
    person = await session.get(User, delegate_id)
    if (
        person is None
        or not person.active
        or person.role not in DELEGATE_ROLES
        or person.id == actor.user_id
    ):
        raise UserFacingError("delegation.bad_delegate")
    today, last = last_allowed_day(team)
    if until < today:
        raise UserFacingError("delegation.until_past")
    if until > last:
        raise UserFacingError("delegation.until_too_far", days=MAX_DAYS)
    previous = await approval_access.active_delegation(session, actor.user_id, env.now)
    if previous is not None:
        await _end(session, env, previous, reason="replaced", actor_id=actor.user_id)
    delegation = Delegation(
        manager_id=actor.user_id, delegate_id=delegate_id, team_id=team.team_id, until=until,
        starts_at=env.now, ends_at=start_of(until + timedelta(days=1), team.timezone),
        created_at=env.now,
    )  # fmt: skip
    session.add(delegation)
    await session.flush()
    audit.record(
        session, at=env.now, action="delegation.started", entity="delegation",
        entity_id=delegation.id, actor_id=actor.user_id, after=_snapshot(delegation),
    )  # fmt: skip
    notice = DelegationNotice("start", actor.display_name, person.display_name, team.name, until)
    await _tell(session, env, person, notice, key=f"dl:{delegation.id}:start")
    header = Header("delegated", {"manager": actor.display_name})
    for request in await _waiting_for_manager(session, team.team_id):
        data = await approval_cards.load(session, env, request)
        await approval_cards.send_card(
            session, env, data, person, kind="delegated", header=header,
            key=f"ap:{request.id}:s{request.step_no}:dl{delegation.id}",
        )  # fmt: skip
    return Current(delegation, person)


async def end_now(session: AsyncSession, env: Env, team: TeamContext, actor: Actor) -> Current:
    """The manager ends their delegation before its last day."""
    _check_manager(actor, team)
    found = await current(session, env, actor)
    if found is None:
        raise UserFacingError("delegation.none")
    await _end(session, env, found.delegation, reason="ended", actor_id=actor.user_id)
    return found


async def expire(session: AsyncSession, env: Env, team: TeamContext) -> list[Delegation]:
    """End the delegations of the team's managers whose last day is over, telling both."""
    query = select(Delegation).where(
        col(Delegation.team_id) == team.team_id,
        col(Delegation.ended_at).is_(None),
        col(Delegation.ends_at) <= env.now,
    )
    ended = list((await session.exec(query)).all())
    for delegation in ended:
        await _end(session, env, delegation, reason="expired", actor_id=None)
    return ended


async def _end(
    session: AsyncSession, env: Env, delegation: Delegation, *, reason: str, actor_id: int | None
) -> None:
    before = _snapshot(delegation)
    delegation.ended_at, delegation.end_reason = env.now, reason
    session.add(delegation)
    audit.record(
        session, at=env.now, action=f"delegation.{reason}", entity="delegation",
        entity_id=delegation.id, actor_id=actor_id, actor_label="" if actor_id else "system",
        before=before, after=_snapshot(delegation),
    )  # fmt: skip
    await session.flush()
    manager = await session.get(User, delegation.manager_id)
    person = await session.get(User, delegation.delegate_id)
    assert manager is not None and person is not None
    team = await session.get(Team, delegation.team_id)

    def notice(event: str) -> DelegationNotice:
        return DelegationNotice(event, manager.display_name, person.display_name,
                                team.name if team else "", delegation.until)  # fmt: skip

    await _tell(session, env, person, notice(f"{reason}_delegate"), key=f"dl:{delegation.id}:end")
    if reason == "expired":
        key = f"dl:{delegation.id}:end:manager"
        await _tell(session, env, manager, notice("expired_manager"), key=key)
    for request in await _waiting_for_manager(session, delegation.team_id):
        data = await approval_cards.load(session, env, request)
        await approval_cards.refresh_copies(session, env, data)


async def _waiting_for_manager(session: AsyncSession, team_id: int) -> list[ApprovalRequest]:
    query = (
        select(ApprovalRequest)
        .join(
            ApprovalStep,
            (col(ApprovalStep.request_id) == col(ApprovalRequest.id))
            & (col(ApprovalStep.step_no) == col(ApprovalRequest.step_no)),
        )
        .where(
            col(ApprovalRequest.team_id) == team_id,
            col(ApprovalRequest.status).in_([RequestStatus.PENDING, RequestStatus.INFO]),
            col(ApprovalStep.level) == MANAGER,
            col(ApprovalStep.status) == StepStatus.PENDING,
        )
        .order_by(col(ApprovalRequest.created_at))
    )
    return list((await session.exec(query)).all())


async def _tell(
    session: AsyncSession, env: Env, person: User, notice: DelegationNotice, *, key: str
) -> None:
    await notices.send(
        session, env.render, view="delegations.notice", data=notice, lang=person.language,
        key=key, chat_id=person.telegram_id, recipient_id=person.id, kind="approval.delegation",
        now=env.now,
    )  # fmt: skip
