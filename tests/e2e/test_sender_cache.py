"""The per-process copy of the sender's users row: used while the row is unchanged, and given up
on the next update after another instance (or a tool) changed the row, even at the same clock
tick and without touching updated_at."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col

from core.db import transaction
from handlers.context import DEPS_KEY
from models.common import Role
from models.user import User
from sandbox.harness import LocalBot
from services.users import SenderCache
from tests.helpers import join


async def _written_elsewhere(local_bot: LocalBot, telegram_id: int, **values: object) -> None:
    """What another instance does: a committed write this process's cache never saw."""
    async with transaction(local_bot.runtime.sessions) as session:
        await session.exec(
            update(User).where(col(User.telegram_id) == telegram_id).values(**values)
        )  # type: ignore[call-overload]


def _cache(local_bot: LocalBot) -> SenderCache:
    assert local_bot.app is not None
    cache = local_bot.app.bot_data[DEPS_KEY].extras["sender_cache"]
    assert isinstance(cache, SenderCache)
    return cache


async def test_a_role_change_and_a_deactivation_elsewhere_are_seen_on_the_next_update(
    local_bot: LocalBot,
) -> None:
    rep = await join(local_bot, 5301, "Zhou", Role.REP, "north")
    refused = await rep.send("/summary")
    assert (refused[-1].text or "").startswith("Sorry, this is not available for your role")
    hits = _cache(local_bot).hits
    again = await rep.send("/summary")
    assert (again[-1].text or "").startswith("Sorry, this is not available for your role")
    assert _cache(local_bot).hits > hits  # the unchanged row came from the cache

    await _written_elsewhere(local_bot, 5301, role=Role.MANAGER)
    shown = await rep.send("/summary")
    assert shown and not any("not available for your role" in (r.text or "") for r in shown)

    await _written_elsewhere(local_bot, 5301, active=False)
    off = await rep.send("/summary")
    assert (off[-1].text or "").startswith("Your access to salesbot has been switched off")
