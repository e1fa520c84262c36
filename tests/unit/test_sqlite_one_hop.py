"""SQLite's statements in one hop (core/sqlite_one_hop.py): BEGIN, SAVEPOINT and RELEASE ride
with the next statement, yet transactions and savepoints keep their meaning, and a failed
statement fails alone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from bot.app import Runtime
from core.db import read_transaction, transaction
from core.sqlite_one_hop import OneHopConnection


@pytest.fixture
def sqlite_runtime(runtime: Runtime) -> Runtime:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("the one-hop adapter is SQLite's")
    return runtime


async def _keys(runtime: Runtime) -> list[str]:
    async with read_transaction(runtime.sessions) as session:
        rows = await session.exec(text("SELECT key FROM teams ORDER BY key"))  # type: ignore[call-overload]
        return [row[0] for row in rows.all()]


def _insert(key: str) -> Any:
    return text(
        "INSERT INTO teams (key, name, timezone, archived, created_at, updated_at) "
        "VALUES (:key, :key, 'UTC', 0, '2026-11-27 00:00:00', '2026-11-27 00:00:00')"
    ).bindparams(key=key)


async def test_a_savepoint_rolled_back_undoes_only_its_part(sqlite_runtime: Runtime) -> None:
    before = await _keys(sqlite_runtime)
    async with transaction(sqlite_runtime.sessions) as session:
        await session.exec(_insert("kept"))  # type: ignore[call-overload]
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await session.exec(_insert("undone"))  # type: ignore[call-overload]
                await session.exec(_insert("undone"))  # type: ignore[call-overload]
        await session.exec(_insert("after"))  # type: ignore[call-overload]
    assert await _keys(sqlite_runtime) == sorted([*before, "kept", "after"])


async def test_a_release_left_pending_commits_with_the_transaction(
    sqlite_runtime: Runtime,
) -> None:
    before = await _keys(sqlite_runtime)
    # The RELEASE is the transaction's last statement: it travels with the COMMIT.
    async with transaction(sqlite_runtime.sessions) as session, session.begin_nested():
        await session.exec(_insert("nested"))  # type: ignore[call-overload]
    assert await _keys(sqlite_runtime) == sorted([*before, "nested"])


async def test_a_transaction_that_sends_nothing_and_a_failed_one_leave_no_trace(
    sqlite_runtime: Runtime,
) -> None:
    before = await _keys(sqlite_runtime)
    async with transaction(sqlite_runtime.sessions):
        pass  # BEGIN was never sent: nothing to commit
    with pytest.raises(IntegrityError):
        async with transaction(sqlite_runtime.sessions) as session:
            await session.exec(_insert("rolled back"))  # type: ignore[call-overload]
            await session.exec(_insert("rolled back"))  # type: ignore[call-overload]
    assert await _keys(sqlite_runtime) == before
    async with transaction(sqlite_runtime.sessions) as session:
        await session.exec(_insert("next"))  # type: ignore[call-overload]
    assert await _keys(sqlite_runtime) == sorted([*before, "next"])


async def test_statements_reach_sqlite_one_by_one_in_one_hop_each(
    sqlite_runtime: Runtime,
) -> None:
    """Four statements of a turn (two with a BEGIN or SAVEPOINT riding along) and the COMMIT
    with its RELEASE: five trips to aiosqlite's thread, and every statement was run."""
    hops: list[int] = []
    async with transaction(sqlite_runtime.sessions) as session:
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).dbapi_connection
        assert isinstance(driver, OneHopConnection)
        aiosqlite_connection = driver._connection
        original = aiosqlite_connection._execute

        async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
            hops.append(1)
            return await original(fn, *args, **kwargs)

        aiosqlite_connection._execute = counted
        statements: list[str] = []
        event.listen(sqlite_runtime.engine.sync_engine, "before_cursor_execute",
                     lambda *a: statements.append(a[2].split()[0]))  # fmt: skip
        try:
            await session.exec(_insert("one"))  # type: ignore[call-overload]
            async with session.begin_nested():
                await session.exec(_insert("two"))  # type: ignore[call-overload]
                await session.exec(text("SELECT count(*) FROM teams"))  # type: ignore[call-overload]
            await session.exec(_insert("three"))  # type: ignore[call-overload]
            await session.commit()
        finally:
            aiosqlite_connection._execute = original
    assert statements == ["INSERT", "SAVEPOINT", "INSERT", "SELECT", "RELEASE", "INSERT"]
    assert len(hops) == 5
    assert {"one", "two", "three"} <= set(await _keys(sqlite_runtime))
