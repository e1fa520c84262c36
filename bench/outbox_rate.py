"""Outbox throughput: 3,000 messages to 300 chats through the sandbox with Telegram's limits on.

Reports the achieved overall rate as a fraction of the 30-a-second limit (target >= 0.95), the
number of 429 answers (target 0), and the worst per-chat rate. Run: `python -m bench.outbox_rate`
(PostgreSQL: set SALESBOT_BENCH_DATABASE_URL to an empty database).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import defaultdict

from bench.common import bench_runtime
from core.db import transaction
from sandbox import Sandbox, SandboxClient
from sandbox.harness import LocalBot
from services import outbox

CHATS = 300
PER_CHAT = 10


def max_in_window(times: list[float]) -> int:
    times = sorted(times)
    best = start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def main() -> dict[str, object]:
    async with bench_runtime() as runtime:
        with Sandbox() as sandbox:
            async with SandboxClient(sandbox.control_url) as client:
                await client.set_limits(True, per_chat_per_second=1, global_per_second=30)
                chats = [700_000 + i for i in range(CHATS)]
                for chat in chats:
                    await client.add_user(chat, f"Rep {chat}")
                bot = LocalBot(runtime=runtime, sandbox=sandbox, client=client, scheduler=False)
                await bot.start()
                try:
                    async with transaction(runtime.sessions) as session:
                        for n in range(PER_CHAT):
                            for chat in chats:
                                await outbox.enqueue(
                                    session, key=f"b:{chat}:{n}", chat_id=chat, kind="bench",
                                    text=f"reminder {n} for {chat}", now=runtime.clock.now(),
                                )  # fmt: skip
                    started = time.monotonic()
                    assert bot.background is not None
                    bot.background.sender.wake()
                    await bot_drain(bot)
                    elapsed = time.monotonic() - started
                finally:
                    await bot.stop()
                events = [e for e in await client.events() if e["method"] == "sendMessage"]
    ok = [e["mono"] for e in events if e["status"] == "ok"]
    per_chat: dict[int, list[float]] = defaultdict(list)
    for event in events:
        if event["status"] == "ok":
            per_chat[event["chat_id"]].append(event["mono"])
    span = max(ok) - min(ok)
    rate = (len(ok) - 1) / span
    return {
        "messages": len(ok),
        "chats": CHATS,
        "seconds_first_to_last_send": round(span, 2),
        "seconds_enqueue_to_drained": round(elapsed, 2),
        "overall_rate_per_s": round(rate, 2),
        "fraction_of_30_per_s": round(rate / 30, 3),
        "max_in_any_1s_window": max_in_window(ok),
        "max_per_chat_in_any_1s_window": max(max_in_window(t) for t in per_chat.values()),
        "http_429": sum(1 for e in events if e["status"] == 429),
        "database": runtime.settings.database_url.split(":")[0],
    }


async def bot_drain(bot: LocalBot) -> None:
    while await bot.outbox_due() > 0:
        await asyncio.sleep(0.2)


if __name__ == "__main__":
    result = asyncio.run(main())
    json.dump(result, sys.stdout, indent=2)
    print()
