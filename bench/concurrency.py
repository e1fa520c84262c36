"""Concurrency: 200 reps each log a phone visit at the same moment (5 updates a rep), with long
polling (one instance) and with webhooks (one and two instances, two being real processes
behind a round-robin proxy). Reports the time from the first message to the last reply, that
every visit is stored exactly once, and whether "database is locked" was ever logged.

The same 200 people also send 5 messages each (as many as a visit takes) to PTB's echo bot
(bench.echo), on the same sandbox, in the same run, just before salesbot's burst: polling for
polling, a webhook for the webhook modes. Both bursts report every reply's latency — from just
before the sandbox receives a person's update to the bot's first message or edit in their chat,
both on the machine's monotonic clock — as p50, p95 and max, and salesbot's p95 over the echo
bot's.

Run: `python -m bench.concurrency [REPS [MODE...]] [--rounds N]` (PostgreSQL:
SALESBOT_BENCH_DATABASE_URL=...); with N rounds, each mode's bursts are repeated N times and
the median p95 ratio is reported with every round's.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bench.common import ExternalSandbox, bench_runtime
from bench.echo import EchoBot
from bench.update_cost import last_seq
from bot.app import Runtime
from core.db import transaction
from models.common import Role
from models.visit import Visit
from sandbox import SandboxClient
from sandbox.harness import LocalBot
from services import invites, teams
from services.customers import CustomerInput, create_customer
from tests.instances import two_instances

REP_BASE = 820_000
UPDATES_PER_PERSON = 5
SETTLE_TIMEOUT = 120.0
Settle = Callable[[int], Awaitable[None]]
REPLIES = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPhoto", "sendDocument")


class Timings:
    """When each person's updates were sent, to be matched with the bot's replies afterwards."""

    def __init__(self) -> None:
        self.sent: dict[int, list[float]] = {}

    async def send(self, chat: int, act: Awaitable[int]) -> int:
        self.sent.setdefault(chat, []).append(time.monotonic())
        return await act

    def latencies(self, events: list[dict[str, Any]]) -> list[float]:
        """Per update, the seconds to the first reply in its chat. A person sends the next update
        only once the previous one was handled, so that reply answers this update."""
        replies: dict[int, list[float]] = {}
        for event in events:
            if event["method"] in REPLIES and event["status"] == "ok":
                replies.setdefault(event["chat_id"], []).append(float(event["mono"]))
        found = []
        for chat, starts in self.sent.items():
            answers = replies.get(chat, [])
            for started in starts:
                first = next((mono for mono in answers if mono >= started), None)
                if first is None:
                    raise RuntimeError(f"no reply in chat {chat} to an update sent at {started}")
                found.append(first - started)
        return found


def latency_summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


class LockedCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        if "database is locked" in text:
            self.count += 1


class DeliverySettler:
    """For processes we cannot look into: an update is handled once its webhook delivery was
    accepted (salesbot answers a delivery only after handling it). One poller serves all."""

    def __init__(self, client: SandboxClient) -> None:
        self.client = client
        self.events: dict[int, asyncio.Event] = {}
        self.seen = 0
        self.task: asyncio.Task[None] | None = None

    async def __call__(self, update_id: int) -> None:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._poll())
        async with asyncio.timeout(SETTLE_TIMEOUT):
            await self.events.setdefault(update_id, asyncio.Event()).wait()

    async def _poll(self) -> None:
        while True:
            deliveries = (await self.client.webhook())["deliveries"]
            finished = self.seen
            for index, delivery in enumerate(deliveries[self.seen :], start=self.seen):
                if delivery["status"] == 200:
                    self.events.setdefault(delivery["update_id"], asyncio.Event()).set()
                # Entries are updated in place when the answer comes: stop at the first open one.
                if finished == index and (delivery["status"] or delivery["error"]):
                    finished = index + 1
            self.seen = finished
            await asyncio.sleep(0.05)

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()


async def seed(runtime: Runtime, reps: int) -> None:
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        team = await teams.find_team(session, "north")
        assert team is not None and team.id is not None
        for n in range(reps):
            created = await invites.create_invite(
                session, actor=None, role=Role.REP, team_id=team.id, now=now,
                ttl=timedelta(hours=1),
            )  # fmt: skip
            rep = await invites.redeem(
                session, payload=created.deep_link_payload, telegram_id=REP_BASE + n,
                display_name=f"Rep {n}", username=None, language="en", now=now,
            )  # fmt: skip
            await create_customer(
                session, actor=None, team_id=team.id, now=now, source="import",
                values=CustomerInput(name=f"Customer {n:03d} Ltd", owner_id=rep.id),
            )  # fmt: skip


async def log_visit(client: SandboxClient, settle: Settle, timings: Timings, n: int) -> None:
    chat = REP_BASE + n

    async def press(label: str) -> None:
        # One request, as each of the echo bot's updates: looking the button up first (a
        # second request, and parsing the whole chat) cost this process about as much as a
        # third of salesbot's own work on a tap, on the event loop the bot runs on.
        await settle(await timings.send(chat, client.press_label(chat, label)))

    async def send(text: str) -> None:
        await settle(await timings.send(chat, client.send_message(chat, text)))

    await send("/visit")
    await press(f"Customer {n:03d}")
    await press("Phone")
    # A customer's first visit needs no purpose tap, and the note step goes straight to Save.
    await send(f"Visit note of rep {n}")
    await press("Save")


async def echo_chat(client: SandboxClient, settle: Settle, timings: Timings, n: int) -> None:
    """The echo bot's share of the burst: as many updates as a visit takes, each awaited."""
    chat = REP_BASE + n
    for step in range(UPDATES_PER_PERSON):
        await settle(await timings.send(chat, client.send_message(chat, f"rep {n} step {step}")))


async def echo_burst(
    sandbox: ExternalSandbox, client: SandboxClient, reps: int, *, webhook: bool
) -> dict[str, Any]:
    echo = EchoBot(sandbox, webhook=webhook)
    timings = Timings()
    since = await last_seq(client)
    settle = functools.partial(echo.tracker.wait, seconds=SETTLE_TIMEOUT)
    await echo.start()
    try:
        started = time.monotonic()
        await asyncio.gather(*(echo_chat(client, settle, timings, n) for n in range(reps)))
        elapsed = time.monotonic() - started
    finally:
        await echo.stop()
    return {
        "mode": "webhook" if webhook else "polling",
        "seconds_to_last_reply": round(elapsed, 2),
        "reply_latency": latency_summary(timings.latencies(await client.events(since))),
    }


async def add_people(client: SandboxClient, reps: int) -> None:
    for n in range(reps):
        await client.add_user(REP_BASE + n, f"Rep {n}")


async def run_mode(mode: str, reps: int) -> dict[str, Any]:
    counter = LockedCounter()
    logging.getLogger().addHandler(counter)
    try:
        async with bench_runtime() as runtime:
            await seed(runtime, reps)
            with ExternalSandbox() as sandbox:
                async with SandboxClient(sandbox.control_url, keepalive=False) as client:
                    await add_people(client, reps)
                    echo = await echo_burst(
                        sandbox, client, reps, webhook=mode != "polling-1-instance"
                    )
                    await client.reset()
                    await add_people(client, reps)
                    timings = Timings()
                    since = await last_seq(client)
                    elapsed, locked = await _drive(mode, runtime, sandbox, client, reps, timings)
                    latency = latency_summary(timings.latencies(await client.events(since)))
            async with transaction(runtime.sessions) as session:
                per_rep = (
                    await session.exec(
                        select(Visit.rep_id, func.count())
                        .where(col(Visit.deleted_at).is_(None))
                        .group_by(col(Visit.rep_id))
                    )
                ).all()
            database = runtime.settings.database_url.split(":")[0]
    finally:
        logging.getLogger().removeHandler(counter)
    return {
        "mode": mode,
        "database": database,
        "reps": reps,
        "updates": reps * UPDATES_PER_PERSON,
        "seconds_to_last_reply": round(elapsed, 2),
        "updates_per_second": round(reps * UPDATES_PER_PERSON / elapsed, 1),
        "reply_latency": latency,
        "echo_bot": echo,
        "p95_ratio_vs_echo": round(latency["p95_ms"] / echo["reply_latency"]["p95_ms"], 2),
        "visits_stored": sum(count for _, count in per_rep),
        "reps_with_exactly_one_visit": sum(1 for _, count in per_rep if count == 1),
        "database_is_locked_logged": counter.count + locked,
    }


async def _drive(
    mode: str,
    runtime: Runtime,
    sandbox: ExternalSandbox,
    client: SandboxClient,
    reps: int,
    timings: Timings,
) -> tuple[float, int]:
    if mode == "webhook-2-instances":
        with tempfile.TemporaryDirectory() as workdir:
            async with two_instances(
                sandbox,  # type: ignore[arg-type]
                config=runtime.settings.config_path,
                database_url=runtime.settings.database_url,
                workdir=Path(workdir),
                extra_env={"SALESBOT_LOGGING__LEVEL": "WARNING"},
            ) as (_proxy, instances):
                settle = DeliverySettler(client)
                started = time.monotonic()
                try:
                    await asyncio.gather(
                        *(log_visit(client, settle, timings, n) for n in range(reps))
                    )
                finally:
                    settle.close()
                elapsed = time.monotonic() - started
                locked = sum(i.log().count("database is locked") for i in instances)
        return elapsed, locked
    bot = LocalBot(
        runtime=runtime, sandbox=sandbox, client=client,  # type: ignore[arg-type]
        scheduler=False, webhook=mode == "webhook-1-instance",
    )  # fmt: skip
    await bot.start()
    # A burst may keep an update waiting longer than a test would.
    wait = functools.partial(bot.tracker.wait, seconds=SETTLE_TIMEOUT)
    try:
        started = time.monotonic()
        await asyncio.gather(*(log_visit(client, wait, timings, n) for n in range(reps)))
        return time.monotonic() - started, 0
    finally:
        await bot.stop()


MODES = ("polling-1-instance", "webhook-1-instance", "webhook-2-instances")


async def run_rounds(mode: str, reps: int, rounds: int) -> dict[str, Any]:
    """``rounds`` bursts of ``mode``, each against its own echo burst just before: one burst's
    p95 moves by a few tenths of the ratio from run to run (the echo bot's own p95 most), so
    the median of several is the figure to compare. The first round's full result is kept."""
    results = [await run_mode(mode, reps) for _ in range(rounds)]
    if rounds == 1:
        return results[0]
    first = dict(results[0])
    first["rounds"] = [
        {
            "p95_ratio_vs_echo": r["p95_ratio_vs_echo"],
            "p95_ms": r["reply_latency"]["p95_ms"],
            "echo_p95_ms": r["echo_bot"]["reply_latency"]["p95_ms"],
            "seconds_to_last_reply": r["seconds_to_last_reply"],
            "reps_with_exactly_one_visit": r["reps_with_exactly_one_visit"],
            "database_is_locked_logged": r["database_is_locked_logged"],
        }
        for r in results
    ]
    first["p95_ratio_vs_echo_median"] = statistics.median(r["p95_ratio_vs_echo"] for r in results)
    return first


async def main(reps: int, modes: tuple[str, ...] = MODES, rounds: int = 1) -> list[dict[str, Any]]:
    return [await run_rounds(mode, reps, rounds) for mode in modes]


def _arguments(argv: list[str]) -> tuple[int, tuple[str, ...], int]:
    rounds = 1
    if "--rounds" in argv:
        at = argv.index("--rounds")
        rounds = int(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    count = int(argv[0]) if argv else 200
    return count, tuple(argv[1:]) or MODES, rounds


if __name__ == "__main__":
    count, chosen, rounds = _arguments(sys.argv[1:])
    json.dump(asyncio.run(main(count, chosen, rounds)), sys.stdout, indent=2)
    print()
