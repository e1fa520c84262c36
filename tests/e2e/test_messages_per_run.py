"""The measure of the flood: over one simulated working week of the demo company, with every
job on, the largest number of messages one person is pushed by one job run."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlmodel import col, select

from core.clock import ManualClock
from core.db import transaction
from models.outbox import OutboxMessage
from sandbox.demo import seed
from sandbox.harness import LocalBot

# What one job run pushes: its rows share the run's moment (the clock stands still during a
# run) and the job's kind ("dunning.reminder" and "dunning.escalation" are one job's).
MAX_PER_RUN = 3


async def most_pushed_in_one_run(bot: LocalBot) -> tuple[int, tuple[int, str, str]]:
    async with transaction(bot.runtime.sessions) as session:
        rows = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.edit_of_id).is_(None))
            )
        ).all()
    runs = Counter(
        (row.chat_id, row.created_at.isoformat(), row.kind.split(".")[0]) for row in rows
    )
    per_job: dict[str, int] = {}
    for (_, _, job), count in runs.items():
        per_job[job] = max(per_job.get(job, 0), count)
    print("most messages to one person in one run, per job:", per_job)
    key, count = runs.most_common(1)[0]
    return count, key


async def test_nobody_gets_more_than_three_messages_from_one_run(local_bot: LocalBot) -> None:
    await seed(local_bot.runtime)
    clock = local_bot.runtime.clock
    assert isinstance(clock, ManualClock)
    # Tuesday 24 Nov 2026 09:00 to Monday 30 Nov 23:00 in Shanghai, an hour at a time.
    for _ in range(7 * 24 - 10):
        await clock.advance(timedelta(hours=1))
        await local_bot.drain_outbox()
    count, where = await most_pushed_in_one_run(local_bot)
    print(f"most messages to one person in one job run: {count} {where}")
    assert count <= MAX_PER_RUN, where
