"""Small helpers shared by the tests: seeding people and reading the database."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlmodel import select

from bot.app import Runtime
from core.db import transaction
from core.settings import DeliverySettings, Settings
from models.common import Role
from models.team import Team
from models.user import User
from sandbox.harness import Chat, LocalBot
from services import invites

LINK = re.compile(r"start=(inv_[A-Za-z0-9_-]+)")


async def eventually(
    condition: Callable[[], Awaitable[bool]], *, within: float = 30, interval: float = 0.05
) -> None:
    """Poll ``condition`` until it holds; fail (TimeoutError) after ``within`` seconds, so a
    regression fails its test instead of hanging the suite. For waits no event can signal,
    such as progress made by another process or by the sandbox."""
    async with asyncio.timeout(within):
        while not await condition():
            await asyncio.sleep(interval)


def telegram_pace(settings: Settings) -> None:
    """Send at Telegram's own limits, as production does (the suite's config sends faster), for
    tests about pacing or that need a batch still under way when something happens. The sender
    reads its pace when it starts."""
    limits = DeliverySettings()
    settings.delivery.per_chat_per_second = limits.per_chat_per_second
    settings.delivery.global_per_second = limits.global_per_second


def payload_from(text: str) -> str:
    found = LINK.search(text)
    assert found, f"no invite link in {text!r}"
    return found.group(1)


async def team_id(runtime: Runtime, key: str) -> int:
    async with transaction(runtime.sessions) as session:
        team = (await session.exec(select(Team).where(Team.key == key))).one()
        assert team.id is not None
        return team.id


async def user_by_tg(runtime: Runtime, telegram_id: int) -> User | None:
    async with transaction(runtime.sessions) as session:
        return (await session.exec(select(User).where(User.telegram_id == telegram_id))).first()


async def add_user(
    runtime: Runtime,
    telegram_id: int,
    name: str,
    role: Role,
    team: str | None,
    *,
    code: str | None = None,
    username: str | None = None,
) -> User:
    """A registered person written straight to the database (for service-level tests)."""
    async with transaction(runtime.sessions) as session:
        now = runtime.clock.now()
        user = User(
            telegram_id=telegram_id, display_name=name, username=username, employee_code=code,
            role=role, team_id=await team_id(runtime, team) if team else None, created_at=now,
            updated_at=now,
        )  # fmt: skip
        session.add(user)
        await session.flush()
        return user


async def make_invite(
    runtime: Runtime, role: Role, team: str | None, ttl: timedelta = timedelta(hours=72)
) -> str:
    async with transaction(runtime.sessions) as session:
        created = await invites.create_invite(
            session,
            actor=None,
            role=role,
            team_id=await team_id(runtime, team) if team else None,
            now=runtime.clock.now(),
            ttl=ttl,
        )
    return created.deep_link_payload


async def join(
    bot: LocalBot, user_id: int, name: str, role: Role, team: str | None, lang: str = "en"
) -> Chat:
    """A person who opened a fresh invite link for ``role`` in ``team``."""
    payload = await make_invite(bot.runtime, role, team)
    chat = await bot.chat(user_id, name, language_code=lang)
    await chat.send(f"/start {payload}")
    user = await user_by_tg(bot.runtime, user_id)
    assert user is not None and user.active and user.role == role
    return chat
