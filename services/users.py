"""People: who is talking to the bot, their role and team, language, and access."""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from core.i18n import LANGUAGES
from models.common import Role, loaded_copy
from models.team import Team
from models.user import User
from services import audit


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
        "employee_code": user.employee_code,
    }


async def by_telegram_id(session: AsyncSession, telegram_id: int) -> User | None:
    return (await session.exec(select(User).where(User.telegram_id == telegram_id))).first()


class SenderCache:
    """This process's copy of recent senders' users rows, each with the fingerprint of the row
    it was read from (``services.updates.first_delivery_of``). A copy is used only when the
    row's fingerprint, read in the turn's own transaction, is unchanged: a change by another
    instance (deactivation, a new role) is seen on that person's next update."""

    def __init__(self, size: int = 5_000) -> None:
        self.size = size
        self.rows: OrderedDict[int, tuple[str, dict[str, Any]]] = OrderedDict()
        self.hits = 0

    async def sender(
        self, session: AsyncSession, telegram_id: int, fingerprint: str | None
    ) -> User | None:
        if fingerprint is None:
            self.rows.pop(telegram_id, None)
            return None
        kept = self.rows.get(telegram_id)
        if kept is not None and kept[0] == fingerprint:
            self.hits += 1
            self.rows.move_to_end(telegram_id)
            copy = loaded_copy(User, kept[1])
            # Attached as if just read: no SELECT, and only what the turn changes is written.
            make_transient_to_detached(copy)
            session.add(copy)
            return copy
        user = await by_telegram_id(session, telegram_id)
        if user is not None:
            values = {a.key: getattr(user, a.key) for a in inspect(User).column_attrs}
            self.rows[telegram_id] = (fingerprint, values)
            self.rows.move_to_end(telegram_id)
            if len(self.rows) > self.size:
                self.rows.popitem(last=False)
        return user


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


# -- employee codes and owner matching ----------------------------------------------------------

MAX_EMPLOYEE_CODE = 32
# Letters (any script, so a back office's 张三 works), digits and - _ . ; no spaces, no "@" (that
# names a Telegram username) and not "#" (an internal id for the command line).
_CODE = re.compile(r"^[^\W_][\w.\-]*$")


def clean_employee_code(raw: str) -> str:
    """An employee code as given: full-width folded, trimmed; refused when it cannot be one."""
    code = unicodedata.normalize("NFKC", raw).strip()
    if not code or len(code) > MAX_EMPLOYEE_CODE or not _CODE.match(code):
        raise UserFacingError("users.bad_code", limit=MAX_EMPLOYEE_CODE)
    return code


async def set_employee_code(
    session: AsyncSession, *, actor: Actor | None, target_id: int, code: str | None, now: datetime
) -> User:
    """Give a person the code the back office uses for them (None removes it). Admins (and the
    command line) for anyone, managers for the people of their team; codes are unique,
    whatever their case."""
    target = await _require_user(session, target_id)
    if actor is not None and not (
        actor.is_admin or (actor.role is Role.MANAGER and target.team_id == actor.team_id)
    ):
        raise NotAllowedError("users.not_found")
    cleaned = clean_employee_code(code) if code is not None else None
    if cleaned is not None:
        query = select(User).where(
            func.lower(col(User.employee_code)) == cleaned.lower(), col(User.id) != target.id
        )
        holder = (await session.exec(query)).first()
        if holder is not None:
            raise UserFacingError("users.code_taken", code=cleaned, name=holder.display_name)
    if cleaned == target.employee_code:
        return target
    before = _snapshot(target)
    target.employee_code, target.updated_at = cleaned, now
    session.add(target)
    audit.record(
        session, at=now, action="user.employee_code", entity="user", entity_id=target.id,
        actor_id=actor.user_id if actor else None, actor_label="" if actor else "cli",
        before=before, after=_snapshot(target),
    )  # fmt: skip
    await session.flush()
    return target


class OwnerMatch(StrEnum):
    FOUND = "found"
    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"


@dataclass
class OwnerDirectory:
    """Who an import file's owner column may name: active people by their employee code or
    their Telegram @username (case-insensitive, with or without "@"). Display names are never
    matched: every message copies the Telegram name into them, so anyone could take one."""

    codes: dict[str, list[User]] = field(default_factory=dict)
    usernames: dict[str, list[User]] = field(default_factory=dict)

    @classmethod
    def of(cls, people: Iterable[User]) -> OwnerDirectory:
        directory = cls()
        for user in people:
            if user.employee_code:
                directory.codes.setdefault(user.employee_code.lower(), []).append(user)
            if user.username:
                directory.usernames.setdefault(user.username.lower(), []).append(user)
        return directory

    def match(self, text: str) -> tuple[OwnerMatch, User | None]:
        """The one person ``text`` names; UNKNOWN or AMBIGUOUS otherwise."""
        ref = unicodedata.normalize("NFKC", text).strip().lower()
        if ref.startswith("@"):
            found = self.usernames.get(ref[1:], [])
        else:
            found = self.codes.get(ref, []) + self.usernames.get(ref, [])
        people = {user.id: user for user in found}
        if not people:
            return OwnerMatch.UNKNOWN, None
        if len(people) > 1:
            return OwnerMatch.AMBIGUOUS, None
        return OwnerMatch.FOUND, next(iter(people.values()))


async def owner_directory(
    session: AsyncSession, *, team_id: int | None = None, roles: Iterable[Role] | None = None
) -> OwnerDirectory:
    """The active people an import may name as owners (of one team, when given)."""
    query = select(User).where(col(User.active).is_(True))
    if team_id is not None:
        query = query.where(col(User.team_id) == team_id)
    if roles is not None:
        query = query.where(col(User.role).in_(list(roles)))
    return OwnerDirectory.of((await session.exec(query)).all())
