"""Per-update cost: sequential round trips of visit-form steps that write to the database, against
python-telegram-bot's echo bot in the same run, its round trips interleaved with salesbot's.

A round trip is measured from just before the sandbox receives the user's message to the moment
the sandbox receives the bot's answer (both times on the sandbox's monotonic clock), so polling,
HTTP, handler and database time are all inside it, for both bots alike.

Run: `python -m bench.update_cost [--statements] [--profile] [--cpu]` (PostgreSQL:
SALESBOT_BENCH_DATABASE_URL=postgresql://...). ``--profile`` samples the process (pyinstrument,
the test extra) only while a timed step is handled, one profile per step, and prints both.
``--cpu`` adds the event loop thread's CPU time per update, by step of the visit form and for
the echo bot: from the update reaching the application to its replies sent (what else the loop
ran meanwhile, such as the next long poll, is in it too: an upper bound for both bots).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import Application

from bench.common import ExternalSandbox, bench_runtime
from bench.echo import ECHO_TOKEN, EchoBot
from core.db import transaction
from models.common import Role
from sandbox import SandboxClient
from sandbox.harness import LocalBot
from services import invites, teams
from services.customers import CustomerInput, create_customer

ROUNDS = 60
STEPS = ("note_step", "save_step")
# The statements of the last round's timed steps, and their round trips at the driver.
STATEMENTS: dict[str, list[str]] = {}
TRIPS: dict[str, int] = {}
# Statements of other transactions (the outbox sender's poll) during the last round's steps.
OTHERS: dict[str, int] = {}
# With --profile: one pyinstrument profiler per timed step, sampling only while it is handled.
PROFILES: dict[str, Any] = {}
# With --cpu: the loop thread's CPU seconds of each update's handling, by step.
CPU: dict[str, list[float]] = {}


def _step_of(app: Application, update: Update) -> str:  # type: ignore[type-arg]
    if app.bot.token == ECHO_TOKEN:
        return "echo_bot"
    if update.callback_query is not None:
        choice = (update.callback_query.data or "").split("|")[-1].split(":")[0]
        return f"tap {choice}"
    text = update.message.text if update.message is not None else None
    return text if text and text.startswith("/") else "typed text"


def measure_cpu() -> None:
    """Time every update's handling, both bots', on the thread's CPU clock."""
    handle = Application.process_update

    async def timed(app: Application, update: object) -> None:  # type: ignore[type-arg]
        started = time.thread_time()
        try:
            await handle(app, update)
        finally:
            if isinstance(update, Update):
                CPU.setdefault(_step_of(app, update), []).append(time.thread_time() - started)

    Application.process_update = timed  # type: ignore[method-assign,assignment]


async def reply_latency(client: SandboxClient, chat_id: int, since: int, started: float) -> float:
    """Seconds from ``started`` to the bot's first message or edit in this chat after ``since``."""
    async with asyncio.timeout(30):
        while True:
            # Look rarely: polling the sandbox hard would steal CPU from the bot being measured;
            # the times come from the sandbox's own clock, so looking late costs no precision.
            await asyncio.sleep(0.1)
            for event in await client.events(since):
                sending = event["method"] in ("sendMessage", "editMessageText")
                if sending and event["chat_id"] == chat_id and event["status"] == "ok":
                    return float(event["mono"]) - started


async def last_seq(client: SandboxClient) -> int:
    events = await client.events(0)
    return int(events[-1]["seq"]) if events else 0


@asynccontextmanager
async def profiled(step: str) -> AsyncIterator[None]:
    """Sample everything the process does (the bot's tasks, not just this one) during the step;
    the benchmark's own waiting is a small, recognisable part of it."""
    profiler = PROFILES.get(step)
    if profiler is None:
        yield
        return
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


async def echo_round_trip(client: SandboxClient, chat: int, n: int) -> float:
    since = await last_seq(client)
    started = time.monotonic()
    await client.send_message(chat, f"echo {n}")
    return await reply_latency(client, chat, since, started)


async def seed(bot: LocalBot, rep_id: int) -> None:
    runtime = bot.runtime
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        team = await teams.find_team(session, "north")
        assert team is not None and team.id is not None
        created = await invites.create_invite(
            session, actor=None, role=Role.REP, team_id=team.id, now=now, ttl=timedelta(hours=1)
        )
        rep = await invites.redeem(
            session, payload=created.deep_link_payload, telegram_id=rep_id,
            display_name="Bench Rep", username=None, language="en", now=now,
        )  # fmt: skip
        await create_customer(
            session, actor=None, team_id=team.id, now=now, source="import",
            values=CustomerInput(name="Bench Customer Ltd", owner_id=rep.id),
        )  # fmt: skip


class StatementLog:
    """The SQL statements the bot's engine sends (BEGIN and COMMIT included), and the database
    round trips they cost at the driver: asyncpg's queries and prepared-statement executions on
    PostgreSQL (the pool's check included, which SQLAlchemy does not see as a statement), hops
    to aiosqlite's thread on SQLite. Only those of the connection that recorded the update id
    are the step's: the outbox sender's idle poll (its own transaction, once a second) may fall
    inside a step's time and is counted apart."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements: list[tuple[int, str]] = []
        self.trips: list[tuple[int, str]] = []
        self.others: dict[str, int] = {}
        event.listen(engine.sync_engine, "before_cursor_execute", self._executed)
        event.listen(engine.sync_engine, "commit", self._committed)
        self._count_driver_trips(engine.dialect.name)

    def _executed(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append((id(conn), " ".join(statement.split())[:90]))

    def _committed(self, conn: Any) -> None:
        self.statements.append((id(conn), "COMMIT"))

    def _count_driver_trips(self, dialect: str) -> None:
        log = self
        if dialect == "postgresql":
            from asyncpg.connection import Connection
            from asyncpg.prepared_stmt import PreparedStatement

            execute, fetch = Connection.execute, PreparedStatement.fetch

            async def counted_execute(connection: Any, query: str, *args: Any, **kw: Any) -> Any:
                log.trips.append((id(connection), query))
                return await execute(connection, query, *args, **kw)

            async def counted_fetch(prepared: Any, *args: Any, **kw: Any) -> Any:
                log.trips.append((id(prepared._connection), prepared.get_query()))
                return await fetch(prepared, *args, **kw)

            Connection.execute = counted_execute  # type: ignore[assignment,method-assign]
            PreparedStatement.fetch = counted_fetch  # type: ignore[method-assign]
        else:
            from aiosqlite import Connection as SqliteConnection

            hop = SqliteConnection._execute

            async def counted_hop(connection: Any, fn: Any, *args: Any, **kw: Any) -> Any:
                text = " ".join(str(a) for a in args[1:3] if isinstance(a, (str, list)))
                log.trips.append((id(connection), text))
                return await hop(connection, fn, *args, **kw)

            SqliteConnection._execute = counted_hop  # type: ignore[method-assign,assignment]

    def take(self, step: str | None = None) -> tuple[list[str], int]:
        """The step's statements, and its round trips at the driver."""
        taken, self.statements = self.statements, []
        trips, self.trips = self.trips, []
        turn = {c for c, text in taken if text.startswith("INSERT INTO processed_updates")}
        if step is not None:
            self.others[step] = sum(1 for c, _ in taken if c not in turn)
        return [text for c, text in taken if c in turn], _turn_trips(trips)


def _turn_trips(trips: list[tuple[int, str]]) -> int:
    """The round trips of the transaction that recorded the update id: on its connection, from
    its BEGIN (on SQLite it rides with that statement) to its COMMIT, as the pool may hand the
    same connection to the outbox sender's poll right after."""
    driver = {c for c, text in trips if "INSERT INTO processed_updates" in text}
    mine = [text for c, text in trips if c in driver]
    if not mine:
        return 0
    first = next(k for k, text in enumerate(mine) if "INSERT INTO processed_updates" in text)
    start = max((k for k in range(first + 1) if mine[k].startswith("BEGIN")), default=first)
    end = next((k for k in range(first, len(mine)) if mine[k].startswith("COMMIT")), len(mine) - 1)
    return end - start + 1


async def visit_round_trips(
    bot: LocalBot, chat_id: int, echo_client: SandboxClient, echo_chat: int
) -> dict[str, list[float]]:
    """Per round: a phone visit; timed are the note step (form state written) and Save (visit,
    audit and plan rows written); the other steps only set the form up. Each timed step follows
    an echo round trip, so both bots are measured under the same load of a shared machine."""
    client = bot.client
    chat = await bot.chat(chat_id, "Bench", language_code="en")
    timed: dict[str, list[float]] = {"echo_bot": [], "note_step": [], "save_step": []}
    log: StatementLog | None = None
    for n in range(ROUNDS):
        if n == ROUNDS - 1:
            # Counting statements costs the bot's side work the echo bot never does (an event
            # listener per statement): only the last round, the one reported, is counted.
            log = StatementLog(bot.runtime.engine)
        await chat.send("/visit")
        await chat.tap("Bench Customer")
        await chat.tap("Phone")
        # The purpose is asked only when it is not plain (a first visit needs no tap).
        if "Revisit" in str((await chat.bot_messages())[-1].buttons):
            await chat.tap("Revisit")
        timed["echo_bot"].append(await echo_round_trip(echo_client, echo_chat, 2 * n))
        since = await last_seq(client)
        started = time.monotonic()
        if log is not None:
            log.take()
        async with profiled("note_step"):
            update_id = await client.send_message(chat_id, f"Discussed order {n}, wants a quote.")
            timed["note_step"].append(await reply_latency(client, chat_id, since, started))
            await bot.tracker.wait(update_id)
        if log is not None:
            STATEMENTS["note_step"], TRIPS["note_step"] = log.take("note_step")
        if "Skip" in str((await chat.bot_messages())[-1].buttons):
            await chat.tap("Skip")
        message = next(m for m in reversed(await chat.bot_messages()) if "Save" in str(m.buttons))
        timed["echo_bot"].append(await echo_round_trip(echo_client, echo_chat, 2 * n + 1))
        since = await last_seq(client)
        started = time.monotonic()
        if log is not None:
            log.take()
        async with profiled("save_step"):
            update_id = await client.press(chat_id, message.message_id, button_text="✅ Save")
            timed["save_step"].append(await reply_latency(client, chat_id, since, started))
            await bot.tracker.wait(update_id)
        if log is not None:
            STATEMENTS["save_step"], TRIPS["save_step"] = log.take("save_step")
    if log is not None:
        OTHERS.update(log.others)
    return timed


async def main() -> dict[str, Any]:
    rep_chat, echo_chat = 810_001, 810_002
    # One sandbox process per bot (a sandbox serves one bot), both running through the run.
    async with bench_runtime() as runtime:
        with ExternalSandbox() as sandbox, ExternalSandbox() as echo_sandbox:
            async with (
                SandboxClient(sandbox.control_url) as client,
                SandboxClient(echo_sandbox.control_url) as echo_client,
            ):
                await echo_client.add_user(echo_chat, "Echo")
                echo = EchoBot(echo_sandbox)
                bot = LocalBot(runtime=runtime, sandbox=sandbox, client=client, scheduler=False)
                await echo.start()
                await bot.start()
                try:
                    await client.add_user(rep_chat, "Bench")
                    await seed(bot, rep_chat)
                    timed = await visit_round_trips(bot, rep_chat, echo_client, echo_chat)
                finally:
                    await bot.stop()
                    await echo.stop()
        database = runtime.settings.database_url.split(":")[0]
    echo_p50 = summary(timed["echo_bot"])["p50_ms"]
    result: dict[str, Any] = {"database": database, "rounds": ROUNDS}
    for step, samples in timed.items():
        stats = summary(samples)
        if step != "echo_bot":
            stats["ratio_p50_vs_echo"] = round(stats["p50_ms"] / echo_p50, 2)
            stats["statements"] = len(STATEMENTS[step])
            stats["database_round_trips"] = TRIPS[step]
            stats["other_statements_meanwhile"] = OTHERS.get(step, 0)
        result[step] = stats
    return result


if __name__ == "__main__":
    if "--profile" in sys.argv:
        from pyinstrument import Profiler

        PROFILES.update({step: Profiler(async_mode="disabled") for step in STEPS})
    if "--cpu" in sys.argv:
        measure_cpu()
    json.dump(asyncio.run(main()), sys.stdout, indent=2)
    print()
    if CPU:
        print("\nloop thread CPU per update, p50 ms (updates):")
        for step, seconds in CPU.items():
            print(f"  {step:12s} {statistics.median(seconds) * 1000:6.2f}  ({len(seconds)})")
    if "--statements" in sys.argv:
        for step, statements in STATEMENTS.items():
            print(f"\n{step}:", *statements, sep="\n  ")
    for step, profiler in PROFILES.items():
        print(f"\n{step} profile ({ROUNDS} rounds):")
        print(profiler.output_text(unicode=True, show_all=False))
