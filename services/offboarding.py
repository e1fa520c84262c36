"""Ending a person's access: the account, the invites they handed out and their approval cards
change together, in the caller's one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from models.user import User
from services import approval_cards, invites, users
from services.notices import Render
from services.users import Actor


@dataclass(frozen=True)
class Deactivated:
    user: User
    invites_revoked: int
    cards_hidden: int


async def deactivate(
    session: AsyncSession,
    *,
    actor: Actor | None,
    target_id: int,
    now: datetime,
    render: Render,
    reason: str = "",
) -> Deactivated:
    """Deactivate a person (see services.users.deactivate for who may); the links they made stop
    working and their copies of open approval cards lose every detail."""
    user = await users.deactivate(
        session, actor=actor, target_id=target_id, now=now, reason=reason
    )
    assert user.id is not None
    revoked = await invites.revoke_made_by(session, creator_id=user.id, actor=actor, now=now)
    hidden = await approval_cards.hide_copies_of(session, render, user, now=now)
    return Deactivated(user, revoked, hidden)
