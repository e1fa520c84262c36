"""Building the weekly summary at company scale: 1,000 reps in 10 teams with one year of data
(about 1 million visits), against the bare SQL GROUP BY queries it is built from.

Reported: seconds to build every team's figures with trends (a), the same plus the detail sheets,
message, chart and workbook (b), and the bare GROUP BY statements alone (c), with (a)/(c) and
(b)/(c). Run: `python -m bench.summary_scale [REPS]` (PostgreSQL: SALESBOT_BENCH_DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text

from bench.common import bench_runtime
from bot.app import Runtime
from bot.db import transaction
from models.customer import Customer
from models.plan import PlannedVisit
from models.team import Team
from models.user import User
from models.visit import Visit
from services.summary import build_team_summary
from services.summary.core import earlier, window_for
from services.summary.files import chart_png, workbook_xlsx
from services.summary.render import message

TEAMS = 10
VISITS_PER_REP_PER_WEEK = 20
WEEKS = 52
SUMMARY_DAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)
CHUNK = 20_000

BARE_QUERIES = [
    """SELECT rep_id, count(CASE WHEN kind = 'in_person' THEN 1 END),
              count(CASE WHEN kind = 'phone' THEN 1 END),
              count(CASE WHEN purpose = 'revisit' THEN 1 END),
              count(CASE WHEN flagged THEN 1 END)
       FROM visits WHERE team_id = :team AND deleted_at IS NULL
         AND visited_at >= :start AND visited_at < :end GROUP BY rep_id""",
    """SELECT created_by_id, count(*) FROM customers WHERE team_id = :team AND source = 'chat'
         AND created_at >= :start AND created_at < :end GROUP BY created_by_id""",
    """SELECT rep_id, count(*), count(done_visit_id) FROM planned_visits WHERE team_id = :team
         AND planned_on >= :first AND planned_on <= :last GROUP BY rep_id""",
]


def config(team_count: int) -> str:
    return "".join(f'\n[teams.t{n:02d}]\nname = "Team {n:02d}"\n' for n in range(team_count))


async def seed(runtime: Runtime, reps: int) -> dict[str, int]:
    """Reps, one customer each, a year of visits, and a plan for each rep's week."""
    rng = random.Random(7)
    now = NOW
    start = datetime.combine(SUMMARY_DAY - timedelta(weeks=WEEKS), datetime.min.time(), UTC)
    async with transaction(runtime.sessions) as session:
        teams = (await session.exec(text("SELECT id FROM teams ORDER BY id"))).all()  # type: ignore[call-overload]
        team_ids = [row[0] for row in teams]
        users = [
            {"telegram_id": 10_000_000 + n, "display_name": f"Rep {n:04d}", "role": "rep",
             "team_id": team_ids[n % len(team_ids)], "language": "en", "active": True,
             "unreachable": False, "created_at": now, "updated_at": now}
            for n in range(reps)
        ]  # fmt: skip
        await session.exec(insert(User), params=users)  # type: ignore[call-overload]
        rows = (await session.exec(text("SELECT id, team_id FROM users ORDER BY id"))).all()  # type: ignore[call-overload]
        customers = [
            {"team_id": team, "name": f"Customer {uid}", "name_key": f"customer{uid}",
             "tier": "B", "status": "active", "owner_id": uid, "source": "import",
             "created_at": start, "updated_at": start}
            for uid, team in rows
        ]  # fmt: skip
        await session.exec(insert(Customer), params=customers)  # type: ignore[call-overload]
    async with transaction(runtime.sessions) as session:
        owned = (await session.exec(text("SELECT owner_id, id, team_id FROM customers"))).all()  # type: ignore[call-overload]
    visits = 0
    batch: list[dict[str, Any]] = []
    for rep_id, customer_id, team_id in owned:
        for _ in range(VISITS_PER_REP_PER_WEEK * WEEKS):
            when = start + timedelta(seconds=rng.randrange(WEEKS * 7 * 86_400))
            batch.append(
                {"team_id": team_id, "rep_id": rep_id, "customer_id": customer_id,
                 "kind": "in_person" if rng.random() < 0.45 else "phone",
                 "purpose": "revisit" if rng.random() < 0.6 else "new", "visited_at": when,
                 "notes": "", "flagged": rng.random() < 0.02, "created_at": when,
                 "updated_at": when}
            )  # fmt: skip
            if len(batch) >= CHUNK:
                visits += await _flush(runtime, Visit, batch)
    visits += await _flush(runtime, Visit, batch)
    plans = [
        {"team_id": team_id, "rep_id": rep_id, "customer_id": customer_id,
         "planned_on": SUMMARY_DAY - timedelta(days=d), "source": "plan", "created_at": now}
        for rep_id, customer_id, team_id in owned for d in range(5)
    ]  # fmt: skip
    planned = await _flush(runtime, PlannedVisit, plans)
    return {"reps": reps, "visits": visits, "plans": planned}


async def _flush(runtime: Runtime, model: Any, batch: list[dict[str, Any]]) -> int:
    if not batch:
        return 0
    count = len(batch)
    async with transaction(runtime.sessions) as session:
        await session.exec(insert(model), params=batch)  # type: ignore[call-overload]
    batch.clear()
    return count


async def build_all(runtime: Runtime, full: bool) -> float:
    started = time.perf_counter()
    async with transaction(runtime.sessions) as session:
        teams = (await session.exec(text("SELECT key FROM teams ORDER BY id"))).all()  # type: ignore[call-overload]
        for (key,) in teams:
            team = (await session.exec(text(f"SELECT * FROM teams WHERE key = '{key}'"))).one()  # type: ignore[call-overload]  # noqa: S608
            team_row = Team(**dict(team._mapping))
            rules = runtime.settings.team(key)
            summary = await build_team_summary(
                session, team_row, rules, "week", SUMMARY_DAY, NOW, with_details=full
            )
            if full:
                message(runtime.texts, "en", summary)
                chart_png(runtime.texts, "en", summary)
                workbook_xlsx(runtime.texts, "en", summary)
    return time.perf_counter() - started


async def bare(runtime: Runtime) -> float:
    """The GROUP BY statements behind the figures, for the same three windows per team."""
    started = time.perf_counter()
    async with runtime.engine.connect() as connection:
        teams = (await connection.execute(text("SELECT id, key FROM teams ORDER BY id"))).all()
        for team_id, key in teams:
            rules = runtime.settings.team(key)
            team = Team(id=team_id, key=key, name=key, timezone=rules.timezone,
                        created_at=NOW, updated_at=NOW)  # fmt: skip
            window = window_for(team, rules, "week", SUMMARY_DAY, NOW)
            for w in (window, earlier(window, 1), earlier(window, 4)):
                params = {"team": team_id, "start": w.start, "end": w.end,
                          "first": w.period.first, "last": w.period.last}  # fmt: skip
                for sql in BARE_QUERIES:
                    (await connection.execute(text(sql), params)).all()
    return time.perf_counter() - started


async def main(reps: int) -> dict[str, Any]:
    async with bench_runtime(config(TEAMS)) as runtime:
        seeded_at = time.perf_counter()
        seeded = await seed(runtime, reps)
        seeding = time.perf_counter() - seeded_at
        await bare(runtime)  # warm caches evenly for all three
        bare_s = min([await bare(runtime) for _ in range(3)])
        figures_s = min([await build_all(runtime, full=False) for _ in range(3)])
        full_s = await build_all(runtime, full=True)
        database = runtime.settings.database_url.split(":")[0]
    return {
        "database": database,
        **seeded,
        "seconds_to_seed": round(seeding, 1),
        "bare_group_by_seconds": round(bare_s, 3),
        "figures_with_trends_seconds": round(figures_s, 3),
        "ratio_figures_vs_bare": round(figures_s / bare_s, 2),
        "full_summary_seconds": round(full_s, 3),
        "ratio_full_vs_bare": round(full_s / bare_s, 2),
    }


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    json.dump(asyncio.run(main(count)), sys.stdout, indent=2)
    print()
