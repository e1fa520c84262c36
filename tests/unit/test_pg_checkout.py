"""PostgreSQL: the check of a pooled connection is its transaction's BEGIN (core/db.py), one
round trip for both, and options set after the checkout still shape the transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asyncpg.connection import Connection
from asyncpg.prepared_stmt import PreparedStatement
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.app import Runtime
from core.db import transaction


@pytest.fixture
def pg_runtime(runtime: Runtime) -> Runtime:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("the pooled connection's check is PostgreSQL's")
    return runtime


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What the bot sends asyncpg, one entry per round trip: simple queries by their text,
    prepared statements (cached after their first use) as "statement"."""
    sent: list[str] = []
    execute, fetch = Connection.execute, PreparedStatement.fetch

    async def counted_execute(self: Connection, query: str, *args: Any, **kw: Any) -> Any:
        sent.append(query.rstrip(";"))
        return await execute(self, query, *args, **kw)

    async def counted_fetch(self: PreparedStatement, *args: Any, **kw: Any) -> Any:
        sent.append("statement")
        return await fetch(self, *args, **kw)

    monkeypatch.setattr(Connection, "execute", counted_execute)
    monkeypatch.setattr(PreparedStatement, "fetch", counted_fetch)
    yield sent


async def _warm_pool(runtime: Runtime) -> None:
    # A connection just opened is not checked; a pooled one is.
    async with transaction(runtime.sessions) as session:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]


async def test_a_pooled_connection_is_checked_by_beginning_its_transaction(
    pg_runtime: Runtime, round_trips: list[str]
) -> None:
    await _warm_pool(pg_runtime)
    round_trips.clear()
    async with transaction(pg_runtime.sessions) as session:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    assert round_trips == ["BEGIN", "statement", "COMMIT"]


async def test_a_connection_returned_unused_is_rolled_back(
    pg_runtime: Runtime, round_trips: list[str]
) -> None:
    await _warm_pool(pg_runtime)
    round_trips.clear()
    async with pg_runtime.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None and driver.is_in_transaction()
    assert round_trips == ["BEGIN", "ROLLBACK"]
    assert not driver.is_in_transaction()


async def _show(connection: AsyncConnection, setting: str) -> str:
    return str((await connection.execute(text(f"SHOW {setting}"))).scalar_one())


async def test_options_set_after_the_checkout_shape_the_transaction(
    pg_runtime: Runtime,
) -> None:
    await _warm_pool(pg_runtime)
    engine = pg_runtime.engine
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="SERIALIZABLE")
        assert await _show(connection, "transaction_isolation") == "serializable"
    async with engine.connect() as connection:
        await connection.execution_options(postgresql_readonly=True)
        assert await _show(connection, "transaction_read_only") == "on"
    async with engine.connect() as connection:
        # The options were reset on return: the next transaction is an ordinary one.
        assert await _show(connection, "transaction_isolation") == "read committed"
        assert await _show(connection, "transaction_read_only") == "off"
