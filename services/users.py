"""People: who is talking to the bot, their role and team, language, and access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import LANGUAGES
from models.common import Role
from models.team import Team
from models.user import User
from services import audit
from services.errors import NotAllowedError, UserFacingError


@dataclass(frozen=True)
class Actor:
    """The registered, active person behind an update or a CLI call."""

    user_id: int
    telegram_id: int
    role: Role
    team_id: int | None
    language: str
    display_name: str

    @classmethod
    def of(cls, user: User) -> Actor:
        assert user.id is not None
        return cls(
            user_id=user.id,
            telegram_id=user.telegram_id,
            role=Role(user.role),
            team_id=user.team_id,
            language=user.language,
            display_name=user.display_name,
        )

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def sees_all_teams(self) -> bool:
        return self.role in (Role.DIRECTOR, Role.ADMIN)


def _snapshot(user: User) -> dict[str, object]:
    return {
        "role": str(user.role),
        "team_id": user.team_id,
        "language": user.language,
        "active": user.active,
        "display_name": user.display_name,
    }


async def by_telegram_id(session: AsyncSession, telegram_id: int) -> User | None:
    return (await session.exec(select(User).where(User.telegram_id == telegram_id))).first()


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def register_config_admin(
    session: AsyncSession,
    *,
    telegram_id: int,
    display_name: str,
    username: str | None,
    language: str,
    now: datetime,
) -> User:
    """Admins listed in config.toml are registered (or re-activated as admins) on first contact."""
    user = await by_telegram_id(session, telegram_id)
    before = _snapshot(user) if user else None
    if user is None:
        user = User(
            telegram_id=telegram_id,
            display_name=display_name,
            username=username,
            role=Role.ADMIN,
            language=language,
            created_at=now,
            updated_at=now,
        )
    else:
        user.role, user.team_id, user.active, user.deactivated_at = Role.ADMIN, None, True, None
        user.updated_at = now
    session.add(user)
    await session.flush()
    audit.record(
        session, at=now, action="user.admin_from_config", entity="user", entity_id=user.id,
        actor_label="config", before=before, after=_snapshot(user),
    )  # fmt: skip
    return user


async def refresh_profile(
    session: AsyncSession, user: User, *, display_name: str, username: str | None, now: datetime
) -> None:
    """Keep the Telegram name current and mark a user reachable again once they write."""
    if (user.display_name, user.username, user.unreachable) != (display_name, username, False):
        user.display_name, user.username, user.unreachable = display_name, username, False
        user.updated_at = now
        session.add(user)


async def set_language(session: AsyncSession, actor: Actor, language: str, now: datetime) -> User:
    if language not in LANGUAGES:
        raise UserFacingError("lang.unknown")
    user = await _require_user(session, actor.user_id)
    before = _snapshot(user)
    user.language, user.updated_at = language, now
    session.add(user)
    audit.record(
        session, at=now, action="user.language", entity="user", entity_id=user.id,
        actor_id=actor.user_id, before=before, after=_snapshot(user),
    )  # fmt: skip
    return user


async def visible_users(session: AsyncSession, actor: Actor) -> list[tuple[User, Team | None]]:
    """Users the actor may manage: a manager sees their team, admins and directors everyone."""
    query = (
        select(User, Team)
        .join(Team, col(User.team_id) == col(Team.id), isouter=True)
        .order_by(col(User.active).desc(), col(Team.name), col(User.role), col(User.display_name))
    )
    if not actor.sees_all_teams():
        query = query.where(User.team_id == actor.team_id)
    return [(user, team) for user, team in (await session.exec(query)).all()]


def can_deactivate(actor: Actor, target: User) -> bool:
    if target.id == actor.user_id:
        return False
    if actor.role is Role.ADMIN:
        return True
    return (
        actor.role is Role.MANAGER
        and Role(target.role) is Role.REP
        and target.team_id == actor.team_id
    )


async def deactivate(
    session: AsyncSession,
    *,
    actor: Actor | None,
    target_id: int,
    now: datetime,
    reason: str = "",
) -> User:
    """End a user's access at once. Admins may deactivate anyone, managers their own reps."""
    target = await _require_user(session, target_id)
    if actor is not None and not can_deactivate(actor, target):
        raise NotAllowedError("users.cannot_deactivate")
    if not target.active:
        raise UserFacingError("users.already_inactive", name=target.display_name)
    before = _snapshot(target)
    target.active, target.deactivated_at, target.updated_at = False, now, now
    session.add(target)
    audit.record(
        session, at=now, action="user.deactivated", entity="user", entity_id=target.id,
        actor_id=actor.user_id if actor else None, actor_label="" if actor else "cli",
        before=before, after=_snapshot(target), reason=reason,
    )  # fmt: skip
    await session.flush()
    return target


async def find_user(session: AsyncSession, ref: str) -> User | None:
    """A user by Telegram id, internal id (#12) or @username — for the command line."""
    ref = ref.strip()
    if ref.startswith("@"):
        query = select(User).where(col(User.username).ilike(ref[1:]))
        return (await session.exec(query)).first()
    if ref.startswith("#") and ref[1:].isdigit():
        return await session.get(User, int(ref[1:]))
    if ref.lstrip("-").isdigit():
        return await by_telegram_id(session, int(ref))
    return None


async def has_active_admin(session: AsyncSession) -> bool:
    """Whether someone in the database may invite anyone (an admin, e.g. from a CLI invite)."""
    query = select(User.id).where(User.role == Role.ADMIN, col(User.active).is_(True))
    return (await session.exec(query)).first() is not None


async def team_manager(session: AsyncSession, team_id: int) -> User | None:
    query = select(User).where(
        User.team_id == team_id, User.role == Role.MANAGER, col(User.active).is_(True)
    )
    return (await session.exec(query)).first()


async def _require_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise UserFacingError("users.not_found")
    return user
