"""The summary's figures stay exact now that its queries are cheaper (issue 20: the open balances
read each receivable's payments through a correlated subquery instead of joining every payment
of the database; a week of visits is read from a covering index).

On generated teams — visits edited, moved across a week's edge, soft-deleted and logged days
late, some at 23:30 and 00:30 team time around midnight on Sunday; receivables issued before,
inside and after the period, paid in parts before, inside and after it, overpaid, in another
currency, with broken and kept promises — every rep's figures for this week (counted up to now),
last week and four weeks back equal those counted row by row in Python, and the open balances
equal those of the payments join the summary used before.

The company roll-up counts every team's collections in one statement per period
(``build_team_summaries``); each team's figures there equal those counted row by row too.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func
from sqlalchemy import select as sa_select
from sqlmodel import col

from bot.app import Runtime
from core.db import transaction
from models.common import Role
from models.customer import Customer
from models.receivable import (
    Adjustment,
    AdjustmentKind,
    AdjustmentStatus,
    Payment,
    Promise,
    PromiseStatus,
    Receivable,
)
from models.user import User
from models.visit import Visit, VisitKind, VisitPurpose
from services.receivable_aging import bucket_column
from services.receivables import balance_column, paid_subquery
from services.summary import collections, visits
from services.summary.collections import as_of
from services.summary.core import (
    Window,
    build_team_summaries,
    build_team_summary,
    earlier,
    window_for,
)
from services.team_context import TeamContext
from tests.helpers import team_id

# Saturday 28 Nov 2026, 08:30 in Shanghai (the north team's timezone).
NOW = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)
# Monday 00:00 in Shanghai of the week 4 weeks before NOW's, and a few days before it.
FIRST = datetime(2026, 10, 25, 16, 0, tzinfo=UTC) - timedelta(days=3)
REPS = 4
VISITS_PER_REP = 60
RECEIVABLES_PER_REP = 12
BUCKETS = ("0-30", "31-60", "61-90", "90+")


@dataclass
class Seeded:
    rep_ids: list[int]
    visits: list[Visit] = field(default_factory=list)
    receivables: list[Receivable] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)
    promises: list[Promise] = field(default_factory=list)


def _sunday_edges() -> list[datetime]:
    """23:30 and 00:30 team time around each Sunday midnight of the weeks summed."""
    edges = []
    monday = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # Monday 23 Nov, 00:00 in Shanghai
    for weeks in range(6):
        start = monday - timedelta(weeks=weeks)
        edges += [start - timedelta(minutes=30), start + timedelta(minutes=30)]
    return edges


def _when(rng: random.Random, edges: list[datetime]) -> datetime:
    if rng.random() < 0.2:
        return rng.choice(edges)
    # Up to a day after now: a visit logged ahead of time is not counted before it happens.
    span = int((NOW + timedelta(days=1) - FIRST).total_seconds())
    return FIRST + timedelta(seconds=rng.randrange(span))


async def _seed(runtime: Runtime, seed: int, team_key: str = "north") -> Seeded:
    rng = random.Random(seed)
    team = await team_id(runtime, team_key)
    edges = _sunday_edges()
    async with transaction(runtime.sessions) as session:
        reps = [
            User(telegram_id=9_000 + 100 * seed + n, display_name=f"Rep {n}", role=Role.REP,
                 team_id=team, language="en", created_at=FIRST, updated_at=FIRST)
            for n in range(REPS)
        ]  # fmt: skip
        session.add_all(reps)
        await session.flush()
        rep_ids = [rep.id for rep in reps if rep.id is not None]
        customers = [
            Customer(team_id=team, name=f"Customer {n}", name_key=f"customer{n}", owner_id=rep,
                     source="import", created_at=FIRST, updated_at=FIRST)
            for n, rep in enumerate(rep_ids)
        ]  # fmt: skip
        session.add_all(customers)
        await session.flush()
        seeded = Seeded(rep_ids)
        for rep, customer in zip(rep_ids, customers, strict=True):
            assert customer.id is not None
            for _ in range(VISITS_PER_REP):
                when = _when(rng, edges)
                # Logged as it happened, or days later.
                logged = when + timedelta(days=rng.choice([0, 0, 0, 1, 3, 9]))
                seeded.visits.append(
                    Visit(team_id=team, rep_id=rep, customer_id=customer.id,
                          kind=rng.choice(list(VisitKind)), purpose=rng.choice(list(VisitPurpose)),
                          visited_at=when, notes="", flagged=rng.random() < 0.2,
                          created_at=logged, updated_at=logged)
                )  # fmt: skip
            for number in range(RECEIVABLES_PER_REP):
                due = NOW.date() - timedelta(days=rng.randint(-40, 150))
                seeded.receivables.append(
                    Receivable(team_id=team, customer_id=customer.id, owner_id=rep,
                               document_no=f"{seed}-{rep}-{number}",
                               amount=Decimal(rng.randint(100, 900_000)) / 100,
                               currency="CNY" if rng.random() < 0.85 else "USD",
                               issued_on=due - timedelta(days=rng.choice([0, 10, 30])),
                               due_on=due, created_at=FIRST, updated_at=FIRST)
                )  # fmt: skip
        session.add_all(seeded.visits + seeded.receivables)
        await session.flush()
        for receivable in seeded.receivables:
            assert receivable.id is not None
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                # A part, the whole rest, or more than owed; before, inside or after a period.
                part = receivable.amount * Decimal(rng.choice(["0.25", "0.5", "1", "1.2"]))
                seeded.payments.append(
                    Payment(receivable_id=receivable.id, amount=part.quantize(Decimal("0.01")),
                            paid_on=NOW.date() - timedelta(days=rng.randint(-3, 45)),
                            recorded_at=FIRST)
                )  # fmt: skip
            if rng.random() < 0.2:
                # A credit note or write-off: applied (lowers the balance from its day, is no
                # money collected) or still waiting for its approval (changes nothing).
                status = rng.choice([AdjustmentStatus.APPLIED, AdjustmentStatus.PENDING])
                applied_on = NOW.date() - timedelta(days=rng.randint(-3, 45))
                seeded.adjustments.append(
                    Adjustment(receivable_id=receivable.id, kind=rng.choice(list(AdjustmentKind)),
                               amount=(receivable.amount / 4).quantize(Decimal("0.01")),
                               currency=receivable.currency, reason="dispute", status=status,
                               created_at=FIRST,
                               applied_on=applied_on if status == AdjustmentStatus.APPLIED
                               else None)
                )  # fmt: skip
            if rng.random() < 0.5:
                seeded.promises.append(
                    Promise(receivable_id=receivable.id, amount=receivable.amount,
                            promised_on=NOW.date() - timedelta(days=rng.randint(0, 40)),
                            status=rng.choice(list(PromiseStatus)), created_at=FIRST)
                )  # fmt: skip
        session.add_all(seeded.payments + seeded.promises + seeded.adjustments)
        await session.flush()
        # Edits after the fact: a visit moved (across a week's edge, sometimes), its kind or
        # purpose corrected, flagged or cleared; others deleted (kept, marked deleted).
        for visit in rng.sample(seeded.visits, len(seeded.visits) // 4):
            visit.visited_at += timedelta(hours=rng.choice([-30, -7, -1, 1, 7, 30]))
            visit.kind = rng.choice(list(VisitKind))
            visit.purpose = rng.choice(list(VisitPurpose))
            visit.flagged = not visit.flagged
            visit.updated_at = NOW
        for visit in rng.sample(seeded.visits, len(seeded.visits) // 6):
            visit.deleted_at = NOW - timedelta(days=rng.randint(0, 20))
        await session.flush()
    return seeded


def _counted(seeded: Seeded, window: Window) -> dict[int, dict[str, Any]]:
    """The figures, row by row."""
    found: dict[int, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for visit in seeded.visits:
        at = visit.visited_at.astimezone(UTC)
        if visit.deleted_at is not None or not window.start <= at < window.end:
            continue
        figures = found[visit.rep_id]
        figures["in_person"] += visit.kind == VisitKind.IN_PERSON
        figures["phone"] += visit.kind == VisitKind.PHONE
        figures["revisits"] += visit.purpose == VisitPurpose.REVISIT
        figures["flagged"] += visit.flagged
    first, last, today = window.period.first, window.period.last, as_of(window)
    by_id = {r.id: r for r in seeded.receivables}
    paid: dict[int | None, Decimal] = defaultdict(Decimal)
    for payment in seeded.payments:
        receivable = by_id[payment.receivable_id]
        if receivable.currency == "CNY" and first <= payment.paid_on <= last:
            found[receivable.owner_id or 0]["collected"] += payment.amount
        if payment.paid_on <= today:
            paid[payment.receivable_id] += payment.amount
    for adjustment in seeded.adjustments:
        if adjustment.applied_on is not None and adjustment.applied_on <= today:
            paid[adjustment.receivable_id] += adjustment.amount
    for receivable in seeded.receivables:
        owed = receivable.amount - paid[receivable.id]
        if receivable.currency != "CNY" or receivable.issued_on > last or owed <= 0:
            continue
        figures = found[receivable.owner_id or 0]
        figures["open_balance"] += owed
        days = (today - receivable.due_on).days
        if days >= 0:
            bucket = next(b for b, top in zip(BUCKETS, (30, 60, 90, None), strict=True)
                          if top is None or days <= top)  # fmt: skip
            figures[f"overdue_{bucket}"] += owed
    for promise in seeded.promises:
        if promise.status == PromiseStatus.BROKEN and first <= promise.promised_on <= last:
            found[by_id[promise.receivable_id].owner_id or 0]["broken_promises"] += 1
    return {rep: {k: v for k, v in figures.items() if v} for rep, figures in found.items()}


def _as_built(found: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    kept = ("in_person", "phone", "revisits", "flagged", "collected", "open_balance",
            "broken_promises", *(f"overdue_{b}" for b in BUCKETS))  # fmt: skip
    shown = {
        rep: {k: v for k, v in values.items() if k in kept and v} for rep, values in found.items()
    }
    return {rep: values for rep, values in shown.items() if values}


async def _joined_balances(session: Any, window: Window, rep_ids: list[int]) -> dict[Any, Any]:
    """The open balances by rep and bucket as the summary summed them before: every payment of
    the database summed per receivable, then joined."""
    today = as_of(window)
    paid = paid_subquery(until=today)
    balance = balance_column(paid)
    bucket = bucket_column(today).label("bucket")
    rows = await session.exec(
        sa_select(col(Receivable.owner_id), bucket, func.sum(balance))
        .select_from(Receivable)
        .join(paid, paid.c.receivable_id == col(Receivable.id), isouter=True)
        .where(col(Receivable.owner_id).in_(rep_ids), col(Receivable.currency) == window.currency)
        .where(*collections.open_in(window, balance))
        .group_by(col(Receivable.owner_id), bucket)
    )
    return {(rep, name): Decimal(total) for rep, name, total in rows.all()}


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_figures_equal_the_rows_counted_one_by_one(runtime: Runtime, seed: int) -> None:
    seeded = await _seed(runtime, seed)
    team = TeamContext(
        await team_id(runtime, "north"), "north", "North", runtime.settings.team("north"), NOW
    )
    this_week = window_for(team, "week", NOW.astimezone(team.rules.tz).date())
    windows = [this_week, earlier(this_week, 1), earlier(this_week, 4),
               window_for(team, "month", date(2026, 11, 1))]  # fmt: skip
    async with transaction(runtime.sessions) as session:
        for window in windows:
            built: dict[int, dict[str, Any]] = defaultdict(dict)
            for area in (visits, collections):
                for rep, values in (await area.per_rep(session, window, seeded.rep_ids)).items():
                    built[rep].update(values)
            assert _as_built(built) == _counted(seeded, window), window.label
            before = await _joined_balances(session, window, seeded.rep_ids)
            after = await collections.open_balances(session, window, seeded.rep_ids)
            assert after == before, window.label
    # The data reached every edge the test is about.
    assert any(v.deleted_at for v in seeded.visits)
    assert any(p.paid_on > as_of(this_week) for p in seeded.payments)
    assert {v.visited_at.astimezone(team.rules.tz).strftime("%H:%M") for v in seeded.visits} >= {
        "23:30",
        "00:30",
    }


@pytest.mark.parametrize("seed", [4, 5])
async def test_teams_counted_together_equal_each_counted_alone(
    runtime: Runtime, seed: int
) -> None:
    teams = {}
    for key in ("north", "south"):
        rules = runtime.settings.team(key)
        context = TeamContext(await team_id(runtime, key), key, key.title(), rules, NOW)
        teams[key] = (context, await _seed(runtime, seed * 10 + len(teams), key))
    statements: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = runtime.engine.sync_engine
    async with transaction(runtime.sessions) as session:
        asked = [(team, NOW.astimezone(team.rules.tz).date()) for team, _ in teams.values()]
        event.listen(engine, "before_cursor_execute", listener)
        try:
            together = await build_team_summaries(session, asked, "week", with_details=False)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        alone = [
            await build_team_summary(session, team, "week", day, with_details=False)
            for team, day in asked
        ]
    for summary, single, (_, seeded) in zip(together, alone, teams.values(), strict=True):
        assert summary.window == single.window
        assert [(r.rep_id, r.values) for r in summary.reps] == [
            (r.rep_id, r.values) for r in single.reps
        ]
        assert (summary.totals, summary.previous, summary.four_back) == (
            single.totals, single.previous, single.four_back,
        )  # fmt: skip
        assert summary.previous_reps == single.previous_reps
        this_week = summary.window
        assert _as_built({r.rep_id: r.values for r in summary.reps}) == _counted(seeded, this_week)
        assert _as_built(summary.previous_reps) == _counted(seeded, earlier(this_week, 1))
        four_back = _counted(seeded, earlier(this_week, 4))
        for key, total in summary.four_back.items():
            if key in ("collected", "broken_promises", "in_person", "revisits"):
                assert total == sum(figures.get(key, 0) for figures in four_back.values()), key
    # Shanghai and Berlin share the week's days: both teams' broken promises are counted in one
    # statement per period (this week, the one before, four back), not one per team.
    assert sum("FROM payment_promises" in statement for statement in statements) == 3
    assert all(seeded.receivables for _, seeded in teams.values())
