"""Invites: single-use, expiring codes that register a person with a role and a team."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import person_language
from bot.settings import Settings
from models.common import Role
from models.invite import Invite
from models.team import Team
from models.user import User
from services import audit
from services.errors import NotAllowedError, UserFacingError
from services.users import Actor, by_telegram_id, team_manager

DEEP_LINK_PREFIX = "inv_"


@dataclass(frozen=True)
class CreatedInvite:
    invite: Invite
    team: Team | None

    @property
    def deep_link_payload(self) -> str:
        return DEEP_LINK_PREFIX + self.invite.code


def invitable_roles(actor: Actor | None) -> list[Role]:
    """Admins (and the command line) invite anyone; managers invite reps to their own team."""
    if actor is None or actor.role is Role.ADMIN:
        return [Role.REP, Role.MANAGER, Role.DIRECTOR, Role.ADMIN]
    if actor.role is Role.MANAGER:
        return [Role.REP]
    return []


async def invitable_teams(session: AsyncSession, actor: Actor | None) -> list[Team]:
    query = select(Team).where(col(Team.archived).is_(False)).order_by(col(Team.name))
    if actor is not None and actor.role is Role.MANAGER:
        query = query.where(Team.id == actor.team_id)
    return list((await session.exec(query)).all())


async def create_invite(
    session: AsyncSession,
    *,
    actor: Actor | None,
    role: Role,
    team_id: int | None,
    now: datetime,
    ttl: timedelta,
) -> CreatedInvite:
    """Create an invite after checking the inviter may grant this role in this team."""
    if role not in invitable_roles(actor):
        raise NotAllowedError("invite.role_not_allowed")
    team: Team | None = None
    if role.needs_team:
        if team_id is None:
            raise UserFacingError("invite.team_required")
        team = await session.get(Team, team_id)
        if team is None or team.archived:
            raise UserFacingError("invite.team_unknown")
        if actor is not None and actor.role is Role.MANAGER and team.id != actor.team_id:
            raise NotAllowedError("invite.other_team")
        if role is Role.MANAGER:
            existing = await team_manager(session, team_id)
            if existing is not None:
                raise UserFacingError(
                    "invite.team_has_manager", team=team.name, name=existing.display_name
                )
    invite = Invite(
        code=secrets.token_urlsafe(12),
        role=role,
        team_id=team.id if team else None,
        created_by_id=actor.user_id if actor else None,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(invite)
    await session.flush()
    audit.record(
        session, at=now, action="invite.created", entity="invite", entity_id=invite.id,
        actor_id=actor.user_id if actor else None, actor_label="" if actor else "cli",
        after={"role": str(role), "team_id": invite.team_id,
               "expires_at": invite.expires_at.isoformat()},
    )  # fmt: skip
    return CreatedInvite(invite=invite, team=team)


async def redeem(
    session: AsyncSession,
    *,
    payload: str,
    telegram_id: int,
    display_name: str,
    username: str | None,
    now: datetime,
    language: str | None = None,
    client_language: str | None = None,
    settings: Settings | None = None,
) -> User:
    """Register the person with the invite's role and team; the code then cannot be used again.

    A newcomer's language is ``language`` when given, else by the one rule
    (``bot.i18n.person_language``): their Telegram client's, else their new team's default.
    """
    code = payload.removeprefix(DEEP_LINK_PREFIX)
    invite = (await session.exec(select(Invite).where(Invite.code == code))).first()
    if invite is None or invite.revoked_at is not None:
        raise UserFacingError("invite.invalid")
    if invite.used_at is not None:
        raise UserFacingError("invite.used")
    if invite.expires_at <= now:
        raise UserFacingError("invite.expired")
    existing = await by_telegram_id(session, telegram_id)
    if existing is not None and existing.active:
        raise UserFacingError("invite.already_registered")
    role = Role(invite.role)
    team: Team | None = None
    if invite.team_id is not None:
        team = await session.get(Team, invite.team_id)
        if team is None or team.archived:
            raise UserFacingError("invite.team_unknown")
        if role is Role.MANAGER and await team_manager(session, invite.team_id) is not None:
            raise UserFacingError("invite.team_has_manager", team=team.name, name="")
    # A conditional update so that two people opening one link at the same moment cannot both
    # use it: only the transaction that flips used_at from NULL wins.
    claimed = await session.exec(
        update(Invite)
        .where(col(Invite.id) == invite.id, col(Invite.used_at).is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise UserFacingError("invite.used")
    before = None
    if existing is None:
        if language is None:
            if settings is None:
                raise ValueError("redeem needs a language or the settings to find one")
            default = settings.language_default(team.key if team is not None else None)
            language = person_language(chosen=None, client_code=client_language, default=default)
        user = User(
            telegram_id=telegram_id, display_name=display_name, username=username, role=role,
            team_id=invite.team_id, language=language, created_at=now, updated_at=now,
        )  # fmt: skip
    else:
        user = existing
        before = {"role": str(user.role), "team_id": user.team_id, "active": user.active}
        user.role, user.team_id, user.active = role, invite.team_id, True
        user.deactivated_at, user.display_name, user.username = None, display_name, username
        user.updated_at = now
    session.add(user)
    await session.flush()
    invite.used_by_id = user.id
    invite.used_at = now
    session.add(invite)
    audit.record(
        session, at=now, action="user.registered", entity="user", entity_id=user.id,
        actor_id=user.id, before=before,
        after={"role": str(role), "team_id": user.team_id, "invite_id": invite.id},
    )  # fmt: skip
    audit.record(
        session, at=now, action="invite.used", entity="invite", entity_id=invite.id,
        actor_id=user.id,
    )  # fmt: skip
    await session.flush()
    return user
