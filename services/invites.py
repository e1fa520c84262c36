"""Invites: single-use, expiring codes that register a person with a role and a team."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from core.i18n import person_language
from core.settings import Settings
from models.common import Role
from models.invite import Invite
from models.team import Team
from models.user import User
from services import audit
from services.users import Actor, by_telegram_id, team_manager

DEEP_LINK_PREFIX = "inv_"
CODE_BYTES = 12  # 96 random bits, 16 URL-safe characters
CODE_LENGTH = 16
# Shown in lists so the inviter can tell their links apart; 4 of the code's 16 characters
# (24 of its 96 bits) leave 72 bits unknown, far beyond guessing through the bot.
HINT_LENGTH = 4


def hash_code(code: str) -> str:
    """What the database keeps instead of the code.

    A plain SHA-256 is enough: codes are 96 random bits (``token_urlsafe``), so there is no
    dictionary to try and 2**96 candidates cannot be searched. Salts and slow hashes (bcrypt,
    argon2) protect low-entropy passwords; an unsalted hash also keeps the indexed lookup."""
    return hashlib.sha256(code.encode()).hexdigest()


def code_from(ref: str) -> str:
    """The code in a deep-link payload, a whole t.me link or the bare code."""
    ref = ref.strip()
    if "start=" in ref:
        ref = ref.split("start=", 1)[1]
    return ref.removeprefix(DEEP_LINK_PREFIX)


@dataclass(frozen=True)
class CreatedInvite:
    invite: Invite
    team: Team | None
    # The only moment the code exists outside the link: it is never stored.
    code: str

    @property
    def deep_link_payload(self) -> str:
        return DEEP_LINK_PREFIX + self.code


@dataclass(frozen=True)
class PendingInvite:
    invite: Invite
    team: Team | None
    # Who made it; None for invites made on the command line.
    made_by: User | None

    @property
    def label(self) -> str:
        return label(self.invite)


def label(invite: Invite) -> str:
    """Not secret: the invite's number and the first characters of its link's code."""
    return f"#{invite.id} · {DEEP_LINK_PREFIX}{invite.code_hint}…"


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
    code = secrets.token_urlsafe(CODE_BYTES)
    invite = Invite(
        code_hash=hash_code(code),
        code_hint=code[:HINT_LENGTH],
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
    return CreatedInvite(invite=invite, team=team, code=code)


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
    (``core.i18n.person_language``): their Telegram client's, else their new team's default.
    """
    code_hash = hash_code(payload.removeprefix(DEEP_LINK_PREFIX))
    invite = (await session.exec(select(Invite).where(Invite.code_hash == code_hash))).first()
    if invite is None:
        raise UserFacingError("invite.invalid")
    if invite.revoked_at is not None:
        raise UserFacingError("invite.revoked")
    if invite.used_at is not None:
        raise UserFacingError("invite.used")
    if invite.expires_at <= now:
        raise UserFacingError("invite.expired")
    if invite.created_by_id is not None:
        # Deactivation revokes a person's invites; this also covers invites made before it did.
        creator = await session.get(User, invite.created_by_id)
        if creator is None or not creator.active:
            raise UserFacingError("invite.revoked")
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
        .where(
            col(Invite.id) == invite.id,
            col(Invite.used_at).is_(None),
            col(Invite.revoked_at).is_(None),
        )
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


def may_revoke(actor: Actor | None, invite: Invite) -> bool:
    """The command line, admins, the person who made it and the manager of its team."""
    if actor is None or actor.is_admin or invite.created_by_id == actor.user_id:
        return True
    return actor.role is Role.MANAGER and invite.team_id == actor.team_id


async def pending_invites(
    session: AsyncSession, actor: Actor | None, now: datetime
) -> list[PendingInvite]:
    """Unused, unrevoked, unexpired invites the actor may revoke, soonest to expire first."""
    creator = aliased(User)
    query = (
        select(Invite, Team, creator)
        .join(Team, col(Team.id) == col(Invite.team_id), isouter=True)
        .join(creator, col(creator.id) == col(Invite.created_by_id), isouter=True)
        .where(
            col(Invite.used_at).is_(None),
            col(Invite.revoked_at).is_(None),
            col(Invite.expires_at) > now,
            or_(col(Invite.created_by_id).is_(None), col(creator.active).is_(True)),
        )
        .order_by(col(Invite.expires_at), col(Invite.id))
    )
    if actor is not None and not actor.is_admin:
        mine = col(Invite.created_by_id) == actor.user_id
        if actor.role is Role.MANAGER:
            query = query.where(or_(mine, col(Invite.team_id) == actor.team_id))
        else:
            query = query.where(mine)
    rows = (await session.exec(query)).all()
    return [PendingInvite(invite, team, made_by) for invite, team, made_by in rows]


async def find_invite(session: AsyncSession, ref: str) -> Invite | None:
    """An invite by its number (``12`` or ``#12``), its link or its code — for the command line."""
    ref = ref.strip()
    number = ref.removeprefix("#")
    if number.isdigit() and len(number) < CODE_LENGTH:
        return await session.get(Invite, int(number))
    code_hash = hash_code(code_from(ref))
    return (await session.exec(select(Invite).where(Invite.code_hash == code_hash))).first()


async def _revoke_where(session: AsyncSession, *where: Any, now: datetime) -> list[int]:
    """Revoke the unused, unrevoked invites matching ``where``, in one conditional UPDATE: a
    redemption racing it either claims an invite first or finds it revoked, never both."""
    statement = (
        update(Invite)
        .where(*where, col(Invite.used_at).is_(None), col(Invite.revoked_at).is_(None))
        .values(revoked_at=now)
        .returning(col(Invite.id))
    )
    return [int(row[0]) for row in (await session.exec(statement)).all()]  # type: ignore[call-overload]


async def revoke(
    session: AsyncSession, *, actor: Actor | None, invite_id: int, now: datetime
) -> Invite:
    """Withdraw an unused invite: its link stops working at once."""
    invite = await session.get(Invite, invite_id)
    # Someone who may not revoke it learns nothing about it, not even that it exists.
    if invite is None or not may_revoke(actor, invite):
        raise UserFacingError("invite.not_found")
    if not await _revoke_where(session, col(Invite.id) == invite_id, now=now):
        raise UserFacingError("invite.not_pending")
    await session.refresh(invite)
    audit.record(
        session, at=now, action="invite.revoked", entity="invite", entity_id=invite.id,
        actor_id=actor.user_id if actor else None, actor_label="" if actor else "cli",
        before={"revoked_at": None}, after={"revoked_at": now.isoformat()},
    )  # fmt: skip
    return invite


async def revoke_made_by(
    session: AsyncSession, *, creator_id: int, actor: Actor | None, now: datetime
) -> int:
    """Revoke every unused invite a person made (when they are deactivated); how many."""
    revoked = await _revoke_where(session, col(Invite.created_by_id) == creator_id, now=now)
    for invite_id in revoked:
        audit.record(
            session, at=now, action="invite.revoked", entity="invite", entity_id=invite_id,
            actor_id=actor.user_id if actor else None, actor_label="" if actor else "cli",
            after={"revoked_at": now.isoformat()}, reason="the person who made it was deactivated",
        )  # fmt: skip
    return len(revoked)
