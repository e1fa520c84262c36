"""The per-update path's shortcuts: writers of one process queue in order on SQLite, and a
declared team's context is resolved without a query after the first time, per database."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlmodel import select

from bot.app import Runtime
from core.db import transaction, writer_turn
from models.team import Team
from services import team_context


async def test_sqlite_writers_of_one_process_take_turns_in_arrival_order(
    runtime: Runtime,
) -> None:
    inside: list[int] = []
    overlapped = False

    async def writer(n: int) -> None:
        nonlocal overlapped
        async with writer_turn(runtime.sessions):
            overlapped = overlapped or bool(inside)
            inside.append(n)
            async with transaction(runtime.sessions) as session:
                await session.exec(select(Team.id))
            await asyncio.sleep(0.01)
            inside.remove(n)
            order.append(n)

    order: list[int] = []
    await asyncio.gather(*(writer(n) for n in range(5)))
    assert sorted(order) == [0, 1, 2, 3, 4]
    if runtime.engine.dialect.name == "sqlite":
        assert order == [0, 1, 2, 3, 4] and not overlapped
    else:  # PostgreSQL locks rows: nothing to queue for
        assert overlapped


async def test_a_declared_team_is_resolved_without_a_query_after_the_first(
    runtime: Runtime,
) -> None:
    statements: list[str] = []

    def executed(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    async with transaction(runtime.sessions) as session:
        team = (await session.exec(select(Team).where(Team.key == "north"))).one()
    assert team.id is not None
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        event.listen(runtime.engine.sync_engine, "before_cursor_execute", executed)
        try:
            first = await team_context.resolve(session, runtime.settings, team.id, now)
            queries_first = len(statements)
            again = await team_context.resolve(session, runtime.settings, team.id, now)
        finally:
            event.remove(runtime.engine.sync_engine, "before_cursor_execute", executed)
    assert queries_first >= 1 and len(statements) == queries_first
    assert (again.team_id, again.key, again.name, again.rules) == (
        first.team_id, first.key, first.name, first.rules,
    )  # fmt: skip
    assert again.name == team.name
