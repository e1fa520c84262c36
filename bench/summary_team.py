"""A manager's /summary for one team of 100 reps with a year of data (104,000 visits, 10,000
receivables with their payments and promises), split as the handler splits it: the request path
(the figures with trends, the detail sheets and the message, inside the update's transaction)
and the files (chart and workbook, made in worker threads after the commit). The slowest
statements of the request path are listed with their time, so the profile says where to look.

Run: `python -m bench.summary_team [REPS]` (PostgreSQL: SALESBOT_BENCH_DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import event, text

from bench.common import bench_runtime
from bench.summary_scale import NOW, SUMMARY_DAY, config, seed
from bot.app import Runtime
from core.db import transaction
from models.team import Team
from services.summary import build_team_summary
from services.team_context import context_of
from views.summary import attachments, message

RUNS = 5


async def request_path(runtime: Runtime) -> tuple[float, Any]:
    started = time.perf_counter()
    async with transaction(runtime.sessions) as session:
        team = (await session.exec(text("SELECT * FROM teams ORDER BY id LIMIT 1"))).one()  # type: ignore[call-overload]
        context = context_of(Team(**dict(team._mapping)), runtime.settings, NOW)
        summary = await build_team_summary(session, context, "week", SUMMARY_DAY)
        message(runtime.texts, "en", summary)
    return time.perf_counter() - started, summary


async def files(runtime: Runtime, summary: Any) -> float:
    started = time.perf_counter()
    made = await attachments(runtime.texts, "en", summary)
    assert made.chart and made.workbook
    return time.perf_counter() - started


async def statement_profile(runtime: Runtime) -> list[dict[str, Any]]:
    """Time per distinct statement (summed over its executions) of one request path."""
    spent: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    starts: list[float] = []

    def before(*_: Any) -> None:
        starts.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        key = " ".join(statement.split())[:160]
        spent[key] += time.perf_counter() - starts.pop()
        count[key] += 1

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        await request_path(runtime)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    top = sorted(spent.items(), key=lambda kv: -kv[1])[:6]
    return [{"ms": round(s * 1000, 1), "executions": count[k], "statement": k} for k, s in top] + [
        {"statements": sum(count.values()), "ms_total": round(sum(spent.values()) * 1000, 1)}
    ]


async def main(reps: int) -> dict[str, Any]:
    async with bench_runtime(config(0)) as runtime:
        seeded = await seed(runtime, reps)
        if runtime.engine.dialect.name == "postgresql":
            async with runtime.engine.connect() as connection:
                await connection.execute(text("COMMIT"))
                await connection.execute(text("ANALYZE"))
        else:
            async with runtime.engine.connect() as connection:
                await connection.execute(text("ANALYZE"))
                await connection.commit()
        await request_path(runtime)  # warm-up
        paths: list[float] = []
        made: list[float] = []
        for _ in range(RUNS):
            seconds, summary = await request_path(runtime)
            paths.append(seconds)
            made.append(await files(runtime, summary))
        profile = await statement_profile(runtime)
        visits = sum(len(s.rows) for s in summary.sheets if s.name == "visits")
        return {
            "database": runtime.engine.dialect.name,
            "load_average": os.getloadavg(),
            **seeded,
            "visit_rows_in_workbook": visits,
            "request_path_seconds_best_median": [
                round(min(paths), 3), round(sorted(paths)[RUNS // 2], 3)
            ],
            "chart_and_workbook_seconds_best_median": [
                round(min(made), 3), round(sorted(made)[RUNS // 2], 3)
            ],
            "profile": profile,
        }  # fmt: skip


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    json.dump(asyncio.run(main(count)), sys.stdout, indent=2)
    print()
