"""Building the weekly summary at company scale: 1,000 reps in 10 teams with one year of data
(about 1 million visits, 100,000 receivables with their payments and promises), against the
bare SQL GROUP BY queries it is built from.

Reported: seconds to build every team's figures with trends (a), the same plus the detail sheets,
message, chart and workbook (b), and the bare statements alone (c), with (a)/(c) and (b)/(c).
The bare statements are the very SQL (a) sends, recorded while it runs and replayed on a raw
connection, so the ratio is what building the summary adds to its queries and never drifts from
the code. Run: `python -m bench.summary_scale [REPS]` (PostgreSQL: SALESBOT_BENCH_DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, text, update
from sqlmodel import col

from bench.common import bench_runtime
from bot.app import Runtime
from core.db import transaction
from models.customer import Customer
from models.plan import PlannedVisit
from models.receivable import Payment, Promise, Receivable
from models.team import Team
from models.user import User
from models.visit import Visit
from services.summary import build_team_summary
from services.summary.deliver import company_rollup
from services.team_context import context_of
from views.summary import message
from views.summary_chart import chart_png
from views.summary_workbook import workbook_xlsx

TEAMS = 10
VISITS_PER_REP_PER_WEEK = 20
WEEKS = 52
SUMMARY_DAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)
CHUNK = 20_000
RECEIVABLES_PER_REP = 100


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
    money = await seed_receivables(runtime, owned, rng)
    return {"reps": reps, "visits": visits, "plans": planned, **money}


async def seed_receivables(
    runtime: Runtime, owned: Sequence[Any], rng: random.Random
) -> dict[str, int]:
    """A year of invoices per rep, most partly or fully paid, some with broken promises."""
    counts = {"receivables": 0, "payments": 0, "promises": 0}
    receivables: list[dict[str, Any]] = []
    for rep_id, customer_id, team_id in owned:
        for n in range(RECEIVABLES_PER_REP):
            due = SUMMARY_DAY - timedelta(days=rng.randint(-60, 330))
            receivables.append(
                {"team_id": team_id, "customer_id": customer_id, "owner_id": rep_id,
                 "document_no": f"INV-{rep_id}-{n:03d}",
                 "amount": Decimal(rng.randint(10_000, 10_000_000)) / 100, "currency": "CNY",
                 "issued_on": due - timedelta(days=30), "due_on": due, "status": "open",
                 "source": "import", "created_at": NOW, "updated_at": NOW, "dunning_round": 0}
            )  # fmt: skip
            if len(receivables) >= CHUNK:
                counts["receivables"] += await _flush(runtime, Receivable, receivables)
    counts["receivables"] += await _flush(runtime, Receivable, receivables)
    async with transaction(runtime.sessions) as session:
        rows = (await session.exec(text("SELECT id, amount, due_on FROM receivables"))).all()  # type: ignore[call-overload]
    payments: list[dict[str, Any]] = []
    promises: list[dict[str, Any]] = []
    paid_in_full: list[int] = []
    for receivable_id, amount_minor, due_on in rows:
        roll = rng.random()
        if roll < 0.5:  # paid in full, in one or two payments
            first = amount_minor // 2 if rng.random() < 0.3 else amount_minor
            parts = [first, amount_minor - first] if first != amount_minor else [first]
            paid_in_full.append(receivable_id)
        elif roll < 0.8:
            parts = [amount_minor * rng.randint(1, 9) // 10]
        else:
            parts = []
        due = due_on if isinstance(due_on, date) else date.fromisoformat(str(due_on))
        for part in parts:
            payments.append(
                {"receivable_id": receivable_id, "amount": Decimal(part) / 100,
                 "paid_on": min(SUMMARY_DAY, due + timedelta(days=rng.randint(-20, 40))),
                 "recorded_at": NOW, "source": "import"}
            )  # fmt: skip
        if not parts and rng.random() < 0.5:
            promises.append(
                {"receivable_id": receivable_id, "amount": Decimal(amount_minor) / 100,
                 "promised_on": SUMMARY_DAY - timedelta(days=rng.randint(0, 60)),
                 "status": "broken", "created_at": NOW}
            )  # fmt: skip
        if len(payments) >= CHUNK:
            counts["payments"] += await _flush(runtime, Payment, payments)
    counts["payments"] += await _flush(runtime, Payment, payments)
    counts["promises"] += await _flush(runtime, Promise, promises)
    async with transaction(runtime.sessions) as session:
        for at in range(0, len(paid_in_full), 5_000):
            await session.exec(
                update(Receivable)
                .where(col(Receivable.id).in_(paid_in_full[at : at + 5_000]))
                .values(status="paid", paid_at=NOW)
            )
    return counts


async def _flush(runtime: Runtime, model: Any, batch: list[dict[str, Any]]) -> int:
    if not batch:
        return 0
    count = len(batch)
    async with transaction(runtime.sessions) as session:
        await session.exec(insert(model), params=batch)  # type: ignore[call-overload]
    batch.clear()
    return count


async def build_all(runtime: Runtime, full: bool) -> float:
    """(a) the company roll-up's figures, as directors get them (``company_rollup``: every
    team's figures with both trends); (b) ``full``: each team's own summary as its manager gets
    it, with the detail sheets, message, chart and workbook."""
    started = time.perf_counter()
    async with transaction(runtime.sessions) as session:
        if not full:
            await company_rollup(session, runtime.settings, "week", SUMMARY_DAY, NOW)
            return time.perf_counter() - started
        teams = (await session.exec(text("SELECT key FROM teams ORDER BY id"))).all()  # type: ignore[call-overload]
        for (key,) in teams:
            team = (await session.exec(text(f"SELECT * FROM teams WHERE key = '{key}'"))).one()  # type: ignore[call-overload]  # noqa: S608
            team_row = Team(**dict(team._mapping))
            context = context_of(team_row, runtime.settings, NOW)
            summary = await build_team_summary(session, context, "week", SUMMARY_DAY)
            message(runtime.texts, "en", summary)
            chart_png(runtime.texts, "en", summary)
            workbook_xlsx(runtime.texts, "en", summary)
    return time.perf_counter() - started


async def record_statements(runtime: Runtime) -> list[tuple[str, Any]]:
    """Every query (with its parameters) that building the figures sends."""
    recorded: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        # Queries only: transaction control (BEGIN IMMEDIATE) is not part of the figures.
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            recorded.append((statement, parameters))

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        await build_all(runtime, full=False)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return recorded


async def bare(runtime: Runtime, statements: list[tuple[str, Any]]) -> float:
    """The recorded statements alone, on a raw connection, rows fetched."""
    started = time.perf_counter()
    async with runtime.engine.connect() as connection:
        for statement, parameters in statements:
            result = await connection.exec_driver_sql(statement, parameters)
            if result.returns_rows:
                result.all()
    return time.perf_counter() - started


async def main(reps: int) -> dict[str, Any]:
    async with bench_runtime(config(TEAMS)) as runtime:
        seeded_at = time.perf_counter()
        seeded = await seed(runtime, reps)
        seeding = time.perf_counter() - seeded_at
        if runtime.engine.dialect.name == "postgresql":
            # As autovacuum leaves a live database: statistics, and a visibility map for
            # index-only scans (right after a bulk load, autovacuum would run during the timing).
            autocommit = runtime.engine.execution_options(isolation_level="AUTOCOMMIT")
            async with autocommit.connect() as connection:
                await connection.execute(text("VACUUM ANALYZE"))
        statements = await record_statements(runtime)  # also warms caches for all three
        bare_s = min([await bare(runtime, statements) for _ in range(3)])
        figures_s = min([await build_all(runtime, full=False) for _ in range(3)])
        full_s = await build_all(runtime, full=True)
        database = runtime.settings.database_url.split(":")[0]
    return {
        "database": database,
        "load_average": [round(load, 2) for load in os.getloadavg()],
        **seeded,
        "seconds_to_seed": round(seeding, 1),
        "statements": len(statements),
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
