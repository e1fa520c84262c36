"""PostgreSQL: the check of a pooled connection is its transaction's BEGIN (core/db.py), one
round trip for both, and options set after the checkout still shape the transaction. A turn's
person lock rides on that BEGIN too (core/pg_connection.py), and is held until COMMIT."""

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
from core.pg_connection import KEPT_SAVEPOINTS, lock_at_begin, taken
from services import updates

# A Telegram id past 32 bits, as most of today's are.
PERSON = 7_000_000_001


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


async def _lock_is_free(runtime: Runtime, key: int) -> bool:
    """Whether another connection could take ``key``'s transaction lock just now."""
    async with runtime.engine.connect() as other:
        free = (
            await other.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key})
        ).scalar_one()
        await other.rollback()
    return bool(free)


async def test_the_persons_lock_rides_on_the_begin_and_holds_until_commit(
    pg_runtime: Runtime, round_trips: list[str]
) -> None:
    await _warm_pool(pg_runtime)
    round_trips.clear()
    async with transaction(pg_runtime.sessions) as session:
        await updates.serialize_person(session, PERSON)
        assert round_trips == [f"BEGIN; SELECT pg_advisory_xact_lock({PERSON})"]
        assert not await _lock_is_free(pg_runtime, PERSON)
        round_trips.clear()
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    assert round_trips == ["statement", "COMMIT"]
    assert await _lock_is_free(pg_runtime, PERSON)


async def test_the_lock_takes_a_statement_of_its_own_once_the_transaction_has_begun(
    pg_runtime: Runtime, round_trips: list[str]
) -> None:
    await _warm_pool(pg_runtime)
    async with transaction(pg_runtime.sessions) as session:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        round_trips.clear()
        await updates.serialize_person(session, PERSON)
        assert round_trips == ["statement"]
        assert not await _lock_is_free(pg_runtime, PERSON)
    assert await _lock_is_free(pg_runtime, PERSON)


async def test_a_lock_whose_begin_was_rolled_back_is_not_counted_as_held(
    pg_runtime: Runtime,
) -> None:
    await _warm_pool(pg_runtime)
    connection = pg_runtime.engine.connect()
    with lock_at_begin(PERSON) as rider:
        await connection.start()
    try:
        driver = (await connection.get_raw_connection()).driver_connection
        assert taken(rider, driver)
        assert not await _lock_is_free(pg_runtime, PERSON)
        # Read-only, set after the checkout, rolls the BEGIN (and the lock with it) back.
        await connection.execution_options(postgresql_readonly=True)
        await connection.execute(text("SELECT 1"))
        assert not taken(rider, driver)
        assert await _lock_is_free(pg_runtime, PERSON)
    finally:
        await connection.close()


async def _record(session: Any, update_id: int) -> None:
    await session.exec(
        text("INSERT INTO processed_updates (update_id, received_at) VALUES (:id, now())"),
        params={"id": update_id},
    )


async def _recorded(runtime: Runtime, *update_ids: int) -> set[int]:
    async with transaction(runtime.sessions) as session:
        rows = await session.exec(  # type: ignore[call-overload]
            text("SELECT update_id FROM processed_updates WHERE update_id = ANY(:ids)"),
            params={"ids": list(update_ids)},
        )
        return {int(row[0]) for row in rows}


async def test_a_nested_block_that_succeeds_leaves_its_release_to_commit(
    pg_runtime: Runtime, round_trips: list[str]
) -> None:
    await _warm_pool(pg_runtime)
    round_trips.clear()
    async with transaction(pg_runtime.sessions) as session:
        await session.connection()
        async with session.begin_nested():
            await _record(session, 9_001)
    assert round_trips == ["BEGIN", "statement", "statement", "COMMIT"]  # SAVEPOINT, INSERT
    assert await _recorded(pg_runtime, 9_001) == {9_001}


async def test_savepoints_left_open_still_roll_back_as_nested(pg_runtime: Runtime) -> None:
    async with transaction(pg_runtime.sessions) as session:
        async with session.begin_nested():
            await _record(session, 9_101)  # kept: its savepoint stays open around what follows
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                await _record(session, 9_102)
                raise RuntimeError("refused")  # rolls back to its own savepoint only
        await _record(session, 9_103)
        outer = await session.begin_nested()
        async with session.begin_nested():
            await _record(session, 9_104)  # kept, inside the outer one
        await outer.rollback()  # takes the inner one's work with it
    assert await _recorded(pg_runtime, 9_101, 9_102, 9_103, 9_104) == {9_101, 9_103}


async def test_past_a_few_savepoints_a_transaction_releases_them_again(
    pg_runtime: Runtime, round_trips: list[str]
) -> None:
    async with transaction(pg_runtime.sessions) as session:
        await session.connection()
        round_trips.clear()
        for n in range(KEPT_SAVEPOINTS + 2):
            async with session.begin_nested():
                await _record(session, 9_200 + n)
    # Each block: SAVEPOINT and INSERT; the last two also RELEASE; then COMMIT.
    assert len(round_trips) == 2 * (KEPT_SAVEPOINTS + 2) + 2 + 1
    assert len(await _recorded(pg_runtime, *range(9_200, 9_210))) == KEPT_SAVEPOINTS + 2
