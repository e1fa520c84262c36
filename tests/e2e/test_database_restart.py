"""The database drops the bot's connections between two updates (a PostgreSQL restart or a
failover): the next update is handled on a fresh connection as if nothing happened — no
apology, nothing lost, nothing done twice."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from models.common import Role
from sandbox.harness import LocalBot
from tests.customer_helpers import add_customer, visits_of
from tests.helpers import join

APOLOGIES = ("nothing was saved", "本次操作未保存")


async def _drop_every_connection(url: str) -> int:
    """End every other session of the database, as a server restart would; how many ended."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            ended = await connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return int(ended.scalar_one())
    finally:
        await engine.dispose()


async def test_a_dropped_database_connection_costs_no_update(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("a server drops connections; a SQLite file has none to drop")
    rep = await join(local_bot, 3001, "Wang", Role.REP, "north")
    await add_customer(runtime, "north", "杭州华丰建材", owner_tg=3001)
    await rep.send("/visit")
    await rep.tap("杭州华丰建材")
    await rep.tap("Phone")

    assert await _drop_every_connection(runtime.settings.database_url) >= 1
    replies = await rep.send("Talked about the spring order.")
    assert "Visit summary" in (replies[-1].text or "")
    assert not any(a in (r.text or "") for r in replies for a in APOLOGIES)

    await _drop_every_connection(runtime.settings.database_url)
    saved = await rep.tap("Save")
    assert "Visit saved" in (saved[-1].text or "")
    assert not any(a in (r.text or "") for r in saved for a in APOLOGIES)
    (visit,) = await visits_of(runtime, 3001)
    assert visit.notes == "Talked about the spring order."
