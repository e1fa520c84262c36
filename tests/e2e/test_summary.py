"""The Saturday meeting summary: on time in each team's timezone, figures equal to the seeded
data, once per period whatever restarts or instances, a valid chart and workbook."""

from __future__ import annotations

import io
import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from sqlmodel import select

from bot.app import Runtime, build_application, start_background, stop_background
from core.db import transaction
from models.common import Role
from models.job_run import JobRun
from models.receivable import Payment, Promise, PromiseStatus, Receivable, ReceivableStatus
from models.team import Team
from models.visit import Visit, VisitKind, VisitPurpose
from sandbox.harness import Chat, LocalBot
from services.summary import build_team_summary
from services.team_context import context_of
from tests.approval_helpers import forge, texts
from tests.conftest import START
from tests.customer_helpers import add_customer
from tests.helpers import join, team_id, user_by_tg

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Saturday 2026-11-28 08:30 in Shanghai and in Berlin.
NORTH_DUE = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)
SOUTH_DUE = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)


async def seed_visits(runtime: Runtime, team: str, reps: dict[int, str], seed: int) -> Counter:
    """Random visits this week (and some last week) for each rep; returns the expected counts
    of this week as Counter[(rep telegram id, kind)]."""
    rng = random.Random(seed)
    expected: Counter = Counter()
    tid = await team_id(runtime, team)
    async with transaction(runtime.sessions) as session:
        for telegram_id in reps:
            rep = await user_by_tg(runtime, telegram_id)
            assert rep is not None and rep.id is not None
            customer = await add_customer(runtime, team, f"Customer of {telegram_id}")
            for _ in range(rng.randint(3, 12)):
                kind = rng.choice([VisitKind.IN_PERSON, VisitKind.PHONE])
                # Monday 23 Nov to Friday 27 Nov, local working hours.
                when = datetime(2026, 11, 23, 2, 0, tzinfo=UTC) + timedelta(
                    days=rng.randint(0, 4), hours=rng.randint(0, 6)
                )
                session.add(_visit(tid, rep.id, customer.id or 0, kind, when))
                expected[(telegram_id, kind)] += 1
            # Last week's visits must not count this week.
            session.add(
                _visit(tid, rep.id, customer.id or 0, VisitKind.PHONE, when - timedelta(days=7))
            )
    return expected


async def seed_collections(
    runtime: Runtime, team: str, reps: dict[int, str], seed: int
) -> dict[str, dict[str, object]]:
    """Random receivables, payments and promises per rep; returns by rep name what the
    summary of week 48 (as of Saturday 28 Nov) must show, computed here row by row."""
    rng = random.Random(seed)
    tid = await team_id(runtime, team)
    today, monday = date(2026, 11, 28), date(2026, 11, 23)
    expected: dict[str, dict[str, object]] = {}
    debtors = {tg: await add_customer(runtime, team, f"Debtor of {tg}") for tg in reps}
    owners = {tg: await user_by_tg(runtime, tg) for tg in reps}
    async with transaction(runtime.sessions) as session:
        for telegram_id, name in reps.items():
            rep, customer = owners[telegram_id], debtors[telegram_id]
            assert rep is not None and rep.id is not None
            figures: dict[str, object] = {"collected": Decimal(0), "open": Decimal(0),
                                          "buckets": Counter(), "broken": 0,
                                          "rows": []}  # fmt: skip
            for number in range(rng.randint(2, 6)):
                amount = Decimal(rng.randint(10_000, 5_000_000)) / 100
                due = date(2026, 7, 1) + timedelta(days=rng.randint(0, 180))
                receivable = Receivable(
                    team_id=tid, customer_id=customer.id or 0, owner_id=rep.id,
                    document_no=f"{team}-{telegram_id}-{number}", amount=amount, currency="CNY",
                    issued_on=due - timedelta(days=30), due_on=due, created_at=START,
                    updated_at=START,
                )  # fmt: skip
                session.add(receivable)
                await session.flush()
                assert receivable.id is not None
                paid = Decimal(0)
                payments: list[tuple[date, Decimal]] = []
                figures["rows"].append((receivable.issued_on, amount, payments))  # type: ignore[attr-defined]
                for _ in range(rng.randint(0, 3)):
                    part = min(amount - paid, Decimal(rng.randint(100, 2_000_000)) / 100)
                    if part <= 0:
                        break
                    paid_on = today - timedelta(days=rng.randint(0, 20))
                    session.add(Payment(receivable_id=receivable.id, amount=part, paid_on=paid_on,
                                        recorded_at=START))  # fmt: skip
                    paid += part
                    payments.append((paid_on, part))
                    if monday <= paid_on <= today:
                        figures["collected"] += part  # type: ignore[operator]
                if rng.random() < 0.4:
                    promised = monday + timedelta(days=rng.randint(-10, 5))
                    session.add(
                        Promise(receivable_id=receivable.id, promised_on=promised, amount=amount,
                                status=PromiseStatus.BROKEN, created_at=START)
                    )  # fmt: skip
                    figures["broken"] += monday <= promised <= today  # type: ignore[operator]
                balance = amount - paid
                if balance == 0:
                    receivable.status = ReceivableStatus.PAID
                    continue
                figures["open"] += balance  # type: ignore[operator]
                overdue = (today - due).days
                if overdue >= 0:
                    bucket = ("0-30" if overdue <= 30 else "31-60" if overdue <= 60
                              else "61-90" if overdue <= 90 else "90+")  # fmt: skip
                    figures["buckets"][bucket] += balance  # type: ignore[index]
            expected[name] = figures
    return expected


def owed_at(figures: dict[str, object], day: date) -> Decimal:
    """What the rep's customers owed at the end of ``day``, from the seeded rows."""
    total = Decimal(0)
    for issued, amount, payments in figures["rows"]:  # type: ignore[attr-defined]
        if issued <= day:
            total += max(Decimal(0), amount - sum(p for on, p in payments if on <= day))
    return total


def _visit(team: int, rep: int, customer: int, kind: VisitKind, when: datetime) -> Visit:
    return Visit(
        team_id=team, rep_id=rep, customer_id=customer, kind=kind,
        purpose=VisitPurpose.REVISIT, visited_at=when, notes="seeded", created_at=when,
        updated_at=when,
    )  # fmt: skip


async def files_of(bot: LocalBot, chat: Chat) -> tuple[list[str], bytes, bytes]:
    messages = await chat.bot_messages()
    texts = [m.text or "" for m in messages if m.kind == "text"]
    photo = next(m for m in messages if m.kind == "photo")
    document = next(m for m in messages if m.kind == "document")
    assert photo.file and document.file
    return (
        texts,
        await bot.client.file_bytes(photo.file["file_id"]),
        await bot.client.file_bytes(document.file["file_id"]),
    )


async def summary_parts(chat: Chat) -> int:
    """The summary's message, chart and workbook a chat received (other messages ignored)."""
    marks = ("📊 Weekly meeting", "📈", "📎")
    return sum(
        1 for m in await chat.bot_messages() if (m.text or m.caption or "").startswith(marks)
    )


def summary_rows(workbook_bytes: bytes) -> dict[str, list[object]]:
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return {str(row[0]): dict(zip(header, row, strict=True)) for row in rows[1:]}  # type: ignore[misc]


@pytest.fixture
async def company(local_bot: LocalBot) -> dict[str, Chat]:
    people = {
        "north_manager": await join(local_bot, 7001, "Nora", Role.MANAGER, "north"),
        "south_manager": await join(local_bot, 7002, "Sven", Role.MANAGER, "south"),
        "director": await join(local_bot, 7003, "Dora", Role.DIRECTOR, None),
    }
    for tg, name in ((7101, "Ann"), (7102, "Bo"), (7103, "Cai")):
        people[name] = await join(local_bot, tg, name, Role.REP, "north")
    for tg, name in ((7201, "Dirk"), (7202, "Eva")):
        people[name] = await join(local_bot, tg, name, Role.REP, "south")
    return people


async def test_summary_arrives_at_0830_in_each_timezone_with_the_seeded_figures(
    local_bot: LocalBot, company: dict[str, Chat]
) -> None:
    runtime = local_bot.runtime
    north = await seed_visits(runtime, "north", {7101: "Ann", 7102: "Bo", 7103: "Cai"}, 1)
    money = await seed_collections(runtime, "north", {7101: "Ann", 7102: "Bo", 7103: "Cai"}, 3)
    # The seed exercises every figure: money collected this week, overdue and broken promises.
    assert all(any(f[key] for f in money.values()) for key in ("collected", "buckets", "broken"))
    await seed_visits(runtime, "south", {7201: "Dirk", 7202: "Eva"}, 2)
    north_manager, south_manager = company["north_manager"], company["south_manager"]

    clock = runtime.clock
    await clock.set(NORTH_DUE - timedelta(minutes=1))  # type: ignore[attr-defined]
    await local_bot.drain_outbox()
    assert await summary_parts(north_manager) == 0
    await clock.set(NORTH_DUE + timedelta(minutes=1))  # type: ignore[attr-defined]
    await local_bot.drain_outbox()
    assert await summary_parts(north_manager) == 3
    assert await summary_parts(south_manager) == 0  # Berlin: still 01:31

    texts, png, xlsx = files_of_result = await files_of(local_bot, north_manager)
    del files_of_result
    assert png.startswith(PNG_MAGIC)
    text = texts[-1]
    assert "Weekly meeting · North\nthis week (23 – 29 Nov)" in text
    rows = summary_rows(xlsx)
    for telegram_id, name in ((7101, "Ann"), (7102, "Bo"), (7103, "Cai")):
        assert rows[name]["🤝 in person"] == north[(telegram_id, VisitKind.IN_PERSON)]
        assert rows[name]["📞 phone"] == north[(telegram_id, VisitKind.PHONE)]
        in_person = north[(telegram_id, VisitKind.IN_PERSON)]
        # Only the figures that are not zero, one line per area under the rep's name.
        block = text[text.index(f"\n{name}\n") + 1 :].split("\n\n")[0]
        assert (f"🤝 in person {in_person}/15" in block) == bool(in_person), block
        assert not re.search(r" 0(/\d+)?( ·|$)|¥0\.00", block, re.M), block
        for bucket in ("0-30", "31-60", "61-90", "90+"):
            owed = money[name]["buckets"][bucket]  # type: ignore[index]
            assert (f"⏱ overdue {bucket} d" in block) == bool(owed), (name, bucket, block)
    for name, figures in money.items():
        row = rows[name]
        assert Decimal(str(row["💰 collected"] or 0)) == figures["collected"], name
        assert Decimal(str(row["📒 open balance"] or 0)) == figures["open"], name
        for bucket in ("0-30", "31-60", "61-90", "90+"):
            shown = Decimal(str(row[f"⏱ overdue {bucket} d"] or 0))
            assert shown == figures["buckets"][bucket], (name, bucket)  # type: ignore[index]
        assert (row["💔 broken promises"] or 0) == figures["broken"], name
    open_total = sum((f["open"] for f in money.values()), Decimal(0))  # type: ignore[misc]
    # A past week shows what was owed at its end, not today's balances.
    async with transaction(runtime.sessions) as session:
        team = (await session.exec(select(Team).where(Team.key == "north"))).one()
        past = await build_team_summary(
            session, context_of(team, runtime.settings, runtime.clock.now()), "week",
            date(2026, 11, 16), with_details=False,
        )  # fmt: skip
    shown = {line.name: line.values.get("open_balance", Decimal(0)) for line in past.reps}
    expected = {name: owed_at(f, date(2026, 11, 22)) for name, f in money.items()}
    assert shown == expected and expected != {n: f["open"] for n, f in money.items()}
    assert Decimal(str(rows["Team total"]["📒 open balance"])) == open_total
    total_in_person = sum(v for (_, kind), v in north.items() if kind == VisitKind.IN_PERSON)
    assert rows["Team total"]["🤝 in person"] == total_in_person
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    visits_sheet = book["Visits"]
    assert visits_sheet.max_row - 1 == sum(north.values())  # one row per visit of the week

    director_messages = await company["director"].bot_messages()
    assert sum("Company roll-up" in (m.text or "") for m in director_messages) == 1

    await clock.set(SOUTH_DUE + timedelta(minutes=1))  # type: ignore[attr-defined]
    await local_bot.drain_outbox()
    assert await summary_parts(south_manager) == 3
    assert (
        sum("Company roll-up" in (m.text or "") for m in await company["director"].bot_messages())
        == 1
    )

    # A restart at 08:31 sends nothing again.
    await local_bot.restart()
    await local_bot.drain_outbox()
    assert await summary_parts(north_manager) == 3
    assert await summary_parts(south_manager) == 3


async def test_two_instances_on_one_database_send_it_once(
    local_bot: LocalBot, company: dict[str, Chat]
) -> None:
    runtime = local_bot.runtime
    second = build_application(
        runtime, token=local_bot.token, api_url=local_bot.sandbox.base_url,
        file_url=local_bot.sandbox.base_file_url, polling=False,
    )  # fmt: skip
    await second.initialize()
    await second.start()
    background = await start_background(second)
    try:
        await runtime.clock.set(SOUTH_DUE + timedelta(minutes=1))  # type: ignore[attr-defined]
        await local_bot.drain_outbox()
    finally:
        await stop_background(second, background)
        await second.stop()
        await second.shutdown()
    for manager in ("north_manager", "south_manager"):
        messages = await company[manager].bot_messages()
        assert sum((m.text or "").startswith("📊 Weekly meeting") for m in messages) == 1, [
            (m.kind, (m.text or m.caption or "")[:60]) for m in messages
        ]
    async with transaction(runtime.sessions) as session:
        runs = (await session.exec(select(JobRun).where(JobRun.job == "weekly_summary"))).all()
    assert len(runs) == 2 and {run.period for run in runs} == {"2026-W48"}


async def test_a_bot_down_friday_to_sunday_catches_up_once_inside_the_grace(
    local_bot: LocalBot, company: dict[str, Chat]
) -> None:
    runtime = local_bot.runtime
    await runtime.clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    await local_bot.stop()
    # Back on Saturday 10:00 Shanghai (inside the 6 h grace) = 03:00 Berlin (before its 08:30).
    await runtime.clock.set(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    await local_bot.start()
    await local_bot.drain_outbox()
    north = await company["north_manager"].bot_messages()
    assert sum((m.text or "").startswith("📊 Weekly meeting") for m in north) == 1
    south = await company["south_manager"].bot_messages()
    assert sum((m.text or "").startswith("📊 Weekly meeting") for m in south) == 0
    await local_bot.stop()
    # Down again until Sunday: Berlin's run is beyond its grace and skipped, not sent late.
    await runtime.clock.set(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    await local_bot.start()
    await local_bot.drain_outbox()
    south = await company["south_manager"].bot_messages()
    assert sum((m.text or "").startswith("📊 Weekly meeting") for m in south) == 0
    north = await company["north_manager"].bot_messages()
    assert sum((m.text or "").startswith("📊 Weekly meeting") for m in north) == 1


async def test_summary_on_demand_and_the_monthly_version(
    local_bot: LocalBot, company: dict[str, Chat]
) -> None:
    runtime = local_bot.runtime
    north = await seed_visits(runtime, "north", {7101: "Ann"}, 3)
    manager = company["north_manager"]
    replies = await manager.send("/summary")
    assert "Weekly meeting · North" in replies[0].text
    assert [m.kind for m in replies] == ["text", "photo", "document"]
    replies = await manager.tap("◀ last week (16 – 22 Nov)")
    assert "\nlast week (16 – 22 Nov)\n" in replies[0].text
    replies = await manager.send("/summary 2026-W99")
    assert "could not read the period" in replies[-1].text
    replies = await manager.send("/summary 2027-01")
    assert "not started yet" in replies[-1].text
    replies = await company["Ann"].send("/summary")
    assert "not available for your role" in replies[-1].text

    director = company["director"]
    replies = await director.send("/summary")
    replies = await director.tap("Whole company")
    assert "Company roll-up" in replies[-1].text and "North" in replies[-1].text

    # Tuesday 1 December is the first working day: November's summary with the monthly target.
    await runtime.clock.set(datetime(2026, 12, 1, 0, 31, tzinfo=UTC))  # type: ignore[attr-defined]
    await local_bot.drain_outbox()
    monthly = [m for m in await manager.bot_messages() if "Monthly summary" in (m.text or "")]
    assert len(monthly) == 1 and "\nlast month (November 2026)\n" in (monthly[0].text or "")
    assert "🆕 new customers 0" not in (monthly[0].text or "")  # zeros are left out
    in_person = north[(7101, VisitKind.IN_PERSON)]
    assert f"🤝 in person {in_person}/" in (monthly[0].text or "")


async def test_summary_buttons_are_checked_and_forged_ones_refused(
    local_bot: LocalBot, company: dict[str, Chat]
) -> None:
    director, manager = company["director"], company["north_manager"]
    await director.send("/summary")
    replies = await director.tap("North")
    assert "Weekly meeting · North" in (replies[0].text or "")
    assert replies[-1].button_texts() == ["◀ last week (16 – 22 Nov)"]
    replies = await director.tap("◀ last week (16 – 22 Nov)")
    assert "last week (16 – 22 Nov)" in (replies[0].text or "") and "North" in (
        replies[0].text or ""
    )
    await director.send("/summary")
    replies = await director.tap("Whole company")
    assert replies[-1].button_texts() == ["◀ last week (16 – 22 Nov)"]
    replies = await director.tap("◀ last week (16 – 22 Nov)")
    shown = replies[-1].text or ""
    assert "Company roll-up" in shown and "last week (16 – 22 Nov)" in shown

    for data in ("sm", "sm|2026-W47", "sm|2026-W47|x", "sm|2026-W47|1|2"):
        assert "no longer works" in texts(await forge(director, data)), data
    assert "does not exist or is archived" in texts(await forge(director, "sm||999"))
    assert "could not read the period" in texts(await forge(director, "sm|2026-W99|"))
    # A manager's forged team id still shows the manager's own team, never another one.
    await manager.send("/summary")
    south = await team_id(local_bot.runtime, "south")
    replies = await forge(manager, f"sm||{south}")
    assert "Weekly meeting · North" in (replies[0].text or "")
