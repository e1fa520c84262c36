"""抄送 (CC): people who get a read-only copy of a request when it is submitted, see its card
change with every step, and get one line when it is decided. They come from the type's roles in
``[approvals.cc]`` and from the requester's own choice among their team's people.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import UserFacingError
from models.approval import ApprovalCc, ApprovalRequest
from models.common import Role
from models.user import User
from services import approval_cards, users
from services.approval_cards import CardData, Env, Header, RequestNotice
from services.team_context import TeamContext
from services.users import Actor

MAX_CHOSEN = 5


async def candidates(
    session: AsyncSession, actor: Actor, *, deciders: Sequence[int] = ()
) -> list[User]:
    """Whom the requester may copy: the active people of their team, except themselves and
    the ``deciders`` (who get the card to decide, not a copy)."""
    rows = await session.exec(
        select(User)
        .where(col(User.team_id) == actor.team_id, col(User.active).is_(True))
        .order_by(col(User.display_name), col(User.id))
    )
    return [u for u in rows.all() if u.id != actor.user_id and u.id not in deciders]


async def _by_roles(session: AsyncSession, team_id: int, roles: Sequence[str]) -> list[User]:
    found: list[User] = []
    for role in roles:
        if role == "manager":
            manager = await users.team_manager(session, team_id)
            found += [manager] if manager is not None else []
            continue
        rows = await session.exec(
            select(User)
            .where(col(User.role) == Role(role), col(User.active).is_(True))
            .order_by(col(User.id))
        )
        found += list(rows.all())
    return found


async def add(
    session: AsyncSession,
    env: Env,
    team: TeamContext,
    actor: Actor,
    request: ApprovalRequest,
    chosen: Sequence[int],
    *,
    deciders: set[int],
) -> list[User]:
    """Record the request's CC recipients (chosen and the type's configured roles), before any
    card is sent, so that every card names them; the people recorded."""
    if len(chosen) > MAX_CHOSEN:
        raise UserFacingError("approvals.cc_too_many", limit=MAX_CHOSEN)
    assert request.id is not None
    allowed = {u.id: u for u in await candidates(session, actor)}
    picked = []
    for user_id in chosen:
        if user_id not in allowed:
            raise UserFacingError("approvals.cc_not_in_team")
        picked.append(("chosen", allowed[user_id]))
    roles = team.rules.approvals.cc.get(request.type, [])
    picked += [("config", u) for u in await _by_roles(session, team.team_id, roles)]
    people: list[User] = []
    seen = {actor.user_id} | deciders
    for source, person in picked:
        if person.id is None or person.id in seen:
            continue
        seen.add(person.id)
        session.add(ApprovalCc(request_id=request.id, user_id=person.id, source=source,
                               created_at=env.now))  # fmt: skip
        people.append(person)
    await session.flush()
    return people


async def send_copies(
    session: AsyncSession, env: Env, data: CardData, people: Sequence[User]
) -> list[str]:
    """A read-only copy of the card to each CC recipient; their names."""
    for person in people:
        await approval_cards.send_card(
            session, env, data, person, kind="cc", key=f"ap:{data.id}:cc:{person.id}",
            header=Header("cc", {"name": data.requester.display_name}),
        )  # fmt: skip
    return [person.display_name for person in people]


async def recipients(session: AsyncSession, request_id: int) -> list[User]:
    rows = await session.exec(
        select(User)
        .join(ApprovalCc, col(ApprovalCc.user_id) == col(User.id))
        .where(col(ApprovalCc.request_id) == request_id, col(User.active).is_(True))
        .order_by(col(ApprovalCc.id))
    )
    return list(rows.all())


async def tell_outcome(session: AsyncSession, env: Env, notice: RequestNotice) -> None:
    """One line to each CC recipient when the request is approved or rejected."""
    for person in await recipients(session, notice.card.id):
        await approval_cards.notify(
            session, env, person, RequestNotice(notice.card, f"cc_{notice.event}",
                                                name=notice.name, text=notice.text),
            key=f"ap:{notice.card.id}:cc:{notice.event}:{person.id}",
        )  # fmt: skip


async def copied_to(session: AsyncSession, actor: Actor, limit: int = 10) -> list[ApprovalRequest]:
    """The requests copied to the actor, newest first (/cc)."""
    rows = await session.exec(
        select(ApprovalRequest)
        .join(ApprovalCc, col(ApprovalCc.request_id) == col(ApprovalRequest.id))
        .where(col(ApprovalCc.user_id) == actor.user_id)
        .order_by(col(ApprovalRequest.created_at).desc(), col(ApprovalRequest.id).desc())
        .limit(limit)
    )
    return list(rows.all())
