"""The cockpit's API at company scale: the Team page for one team (a manager) and the Company
roll-up (a director), with the data of the summary benchmark (1,000 reps in 10 teams, one year:
about 1 million visits and 100,000 receivables; ``bench.summary_scale.seed``).

Each call goes through the real ASGI app (``webapp.app.cockpit_asgi``) served by uvicorn on
127.0.0.1, over HTTP with a keep-alive connection, with valid signed initData, so it pays for the
sign-in check, the user's row, the figures with both trends and the JSON, as a phone would.
Sequential calls after a warm-up; reported: p50, p95 and max, the statements one call sends and
their time in SQL (the rest is Python). Target: p95 < 500 ms for one team.

    .venv/bin/python -m bench.cockpit_api [REPS] [REQUESTS]
    (PostgreSQL: SALESBOT_BENCH_DATABASE_URL)
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import time
from typing import Any

import httpx
from sqlalchemy import event, insert, text

from bench.common import bench_runtime, serve_cockpit
from bench.summary_scale import NOW, TEAMS, config, seed
from bot.app import Runtime
from core.db import transaction
from models.user import User
from sandbox.webapp_login import signed_init_data

TOKEN = "123456:bench-cockpit-api"
MANAGER_TG, DIRECTOR_TG = 900_001, 900_002
WARM_UP = 5


async def _people(runtime: Runtime) -> None:
    """The first team's manager and a director of the company."""
    async with transaction(runtime.sessions) as session:
        first = (await session.exec(text("SELECT MIN(id) FROM teams"))).one()[0]  # type: ignore[call-overload]
        common = {"language": "zh", "active": True, "unreachable": False, "created_at": NOW,
                  "updated_at": NOW}  # fmt: skip
        await session.exec(  # type: ignore[call-overload]
            insert(User),
            params=[
                {"telegram_id": MANAGER_TG, "display_name": "Chen Jing", "role": "manager",
                 "team_id": first, **common},
                {"telegram_id": DIRECTOR_TG, "display_name": "Zhao Min", "role": "director",
                 "team_id": None, **common},
            ],
        )  # fmt: skip


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def _measure(
    runtime: Runtime, client: httpx.AsyncClient, path: str, telegram_id: int, requests: int
) -> dict[str, Any]:
    init = signed_init_data(TOKEN, telegram_id=telegram_id, first_name="bench",
                            language_code="zh", at=runtime.clock.now())  # fmt: skip
    headers = {"Authorization": f"tma {init}"}
    for _ in range(WARM_UP):
        (await client.get(path, headers=headers)).raise_for_status()
    statements: list[float] = []
    texts: list[tuple[float, str]] = []
    started: dict[int, float] = {}

    def before(_c: Any, cursor: Any, *_: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(_c: Any, cursor: Any, statement: str, *_: Any) -> None:
        took = time.perf_counter() - started.pop(id(cursor), time.perf_counter())
        statements.append(took)
        texts.append((took, " ".join(statement.split())[:90]))

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        probe = await client.get(path, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    probe.raise_for_status()
    times = []
    for _ in range(requests):
        at = time.perf_counter()
        response = await client.get(path, headers=headers)
        times.append(time.perf_counter() - at)
        response.raise_for_status()
    return {
        "requests": requests,
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(_percentile(times, 0.95) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "bytes": len(probe.content),
        "statements_per_call": len(statements),
        "sql_ms_per_call": round(sum(statements) * 1000, 1),
        "slowest_statements_ms": [
            [round(took * 1000, 1), sql] for took, sql in sorted(texts, reverse=True)[:4]
        ],
    }


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                model,
            )
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


async def main(reps: int, requests: int) -> dict[str, Any]:
    async with bench_runtime(config(TEAMS)) as runtime:
        seeded_at = time.perf_counter()
        seeded = await seed(runtime, reps)
        await _people(runtime)
        seeding = time.perf_counter() - seeded_at
        await runtime.clock.set(NOW)  # type: ignore[attr-defined]
        async with serve_cockpit(runtime, TOKEN) as root:
            base = root + "api/"
            load_before = os.getloadavg()
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                team = await _measure(runtime, client, "team?period=week", MANAGER_TG, requests)
                company = await _measure(runtime, client, "company?period=week", DIRECTOR_TG,
                                         requests)  # fmt: skip
            load_after = os.getloadavg()
        database = runtime.settings.database_url.split(":")[0]
    return {
        "database": database,
        "machine": _machine(),
        "load_average_1m_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        **seeded,
        "seconds_to_seed": round(seeding, 1),
        "team_page_one_team_manager": team,
        "company_page_director": company,
    }


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    json.dump(asyncio.run(main(count, calls)), sys.stdout, indent=2, ensure_ascii=False)
    print()
