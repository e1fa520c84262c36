"""The summary as a manager reads it in thirty seconds: what needs attention first (each kind of
problem seeded here), only figures that are not zero, periods in words in both languages,
`/summary 上周` and `/summary last month`, and a 200-rep team in one message."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.db import transaction
from models.approval import ApprovalRequest, RequestStatus
from models.common import Role
from models.receivable import Promise, PromiseStatus, Receivable
from models.report import DailyReport
from models.user import User
from models.visit import Visit, VisitKind, VisitPurpose
from sandbox.harness import Chat, LocalBot
from tests.customer_helpers import add_customer
from tests.helpers import join, team_id, user_by_tg

# Saturday 28 Nov 2026, 10:00 in Shanghai: the week of 23-29 Nov is over for work.
SATURDAY = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


async def _rep(runtime: object, telegram_id: int) -> User:
    rep = await user_by_tg(runtime, telegram_id)  # type: ignore[arg-type]
    assert rep is not None and rep.id is not None
    return rep


async def seed_problems(local_bot: LocalBot) -> None:
    """Ann: below target, no reports, overdue money that grew since last week, a broken
    promise, a request waiting since Monday and a flagged check-in. Bo: on target, every
    report in. Cai: nothing at all."""
    runtime = local_bot.runtime
    tid = await team_id(runtime, "north")
    ann, bo = await _rep(runtime, 7101), await _rep(runtime, 7102)
    customer = await add_customer(runtime, "north", "杭州华丰建材")
    assert ann.id and bo.id and customer.id
    async with transaction(runtime.sessions) as session:
        for rep, count, flagged in ((ann, 2, True), (bo, 40, False)):
            for n in range(count):
                kind = VisitKind.IN_PERSON if n % 2 == 0 else VisitKind.PHONE
                when = MONDAY + timedelta(hours=n % 8, days=n % 5)
                session.add(Visit(
                    team_id=tid, rep_id=rep.id, customer_id=customer.id, kind=kind,
                    purpose=VisitPurpose.REVISIT, visited_at=when, notes="seeded",
                    created_at=when, updated_at=when, flagged=flagged and n == 0,
                ))  # fmt: skip
        for day in range(5):
            on = date(2026, 11, 23) + timedelta(days=day)
            at = MONDAY + timedelta(days=day, hours=8)
            session.add(DailyReport(team_id=tid, rep_id=bo.id, day=on, summary="ok",
                                    submitted_at=at, updated_at=at))  # fmt: skip
        # One overdue since 10 Nov, one falling due this week: the overdue sum grew.
        for number, due in (("A-1", date(2026, 11, 10)), ("A-2", date(2026, 11, 24))):
            receivable = Receivable(
                team_id=tid, customer_id=customer.id, owner_id=ann.id, document_no=number,
                amount=Decimal("12000"), currency="CNY", issued_on=date(2026, 10, 1), due_on=due,
                created_at=MONDAY, updated_at=MONDAY,
            )  # fmt: skip
            session.add(receivable)
            await session.flush()
            assert receivable.id is not None
        session.add(Promise(receivable_id=receivable.id, promised_on=date(2026, 11, 25),
                            amount=Decimal("12000"), status=PromiseStatus.BROKEN,
                            created_at=MONDAY))  # fmt: skip
        session.add(ApprovalRequest(
            team_id=tid, requester_id=ann.id, type="expense", status=RequestStatus.PENDING,
            currency="CNY", amount_minor=128050, created_at=MONDAY, updated_at=MONDAY,
        ))  # fmt: skip


@pytest.fixture
async def north(local_bot: LocalBot) -> dict[str, Chat]:
    people = {
        "en": await join(local_bot, 7001, "Nora", Role.MANAGER, "north"),
        "director": await join(local_bot, 7003, "Dora", Role.DIRECTOR, None),
    }
    for tg, name in ((7101, "Ann"), (7102, "Bo"), (7103, "Cai")):
        people[name] = await join(local_bot, tg, name, Role.REP, "north")
    await local_bot.runtime.clock.set(SATURDAY)  # type: ignore[attr-defined]
    return people


def attention_part(text: str) -> str:
    return text.split("\n\n")[1]


async def test_the_summary_opens_with_every_kind_of_problem_and_leaves_zeros_out(
    local_bot: LocalBot, north: dict[str, Chat]
) -> None:
    await seed_problems(local_bot)
    text = (await north["en"].send("/summary"))[0].text or ""
    assert text.startswith("📊 Weekly meeting · North\nthis week (23 – 29 Nov)\n\n")
    top = attention_part(text)
    assert top.startswith("⚠️ Needs your attention")
    assert "📈 Overdue money grew: Ann ↑CN¥12,000.00, now CN¥24,000.00" in top
    assert "💔 Broken promises to pay: Ann (1)" in top
    assert "⏳ Requests waiting over 8 working hours: Ann (1)" in top
    assert "🔻 Below the visit target: Ann (in person 1/15, phone 1/20)" in top
    assert "📝 Daily reports missing: Ann (5 days)" in top
    assert "🚩 Flagged check-ins: Ann (1)" in top
    assert "🔇 No activity: Cai" in top
    assert "Bo" not in top  # on target, every report in
    # The team's totals with signed, formatted changes.
    assert re.search(r"📒 open balance: CN¥24,000\.00", text), text
    assert "🤝 in person: 21 / 45 (↑21 vs last week, ↑21 vs 4 weeks ago)" in text
    reps = text[text.index("Per rep") :]
    assert "\nCai\n🔇 no activity" in reps
    for line in reps.split("\n")[1:]:
        assert not re.search(r"(^|· )\D+ 0(/\d+)?( ·|$)|¥0\.00", line), line


async def test_in_chinese_the_periods_and_changes_read_as_a_chinese_manager_writes_them(
    local_bot: LocalBot, north: dict[str, Chat]
) -> None:
    await seed_problems(local_bot)
    runtime = local_bot.runtime
    async with transaction(runtime.sessions) as session:
        reader = await user_by_tg(runtime, 7001)
        assert reader is not None
        reader.language = "zh"
        session.add(reader)
    manager = north["en"]
    text = (await manager.send("/summary"))[0].text or ""
    assert text.startswith("📊 周例会汇总 · North 团队\n本周（11月23日至29日）\n\n"), text[:80]
    top = attention_part(text)
    assert top.startswith("⚠️ 需要您关注")
    assert "📈 逾期金额增加：Ann ↑¥12,000.00，现为 ¥24,000.00" in top
    assert "🔻 拜访未达目标：Ann（上门 1/15，电话 1/20）" in top
    assert "📝 日报未交：Ann（5 天）" in top
    assert "🤝 上门拜访：21 / 45（较上周 ↑21，较 4 周前 ↑21）" in text
    assert "较4" not in text and "W48" not in text
    replies = await manager.send("/summary 上周")
    assert "\n上周（11月16日至22日）\n" in (replies[0].text or "")
    assert replies[-1].button_texts() == ["◀ 11月9日至15日（第 46 周）"]
    replies = await manager.send("/summary 上个月")
    assert "📊 月度汇总 · North 团队\n上月（2026年10月）" in (replies[0].text or "")
    replies = await manager.send("/summary 2026-11-18")
    assert "\n上周（11月16日至22日）\n" in (replies[0].text or "")


async def test_summary_last_week_and_last_month_in_english(
    local_bot: LocalBot, north: dict[str, Chat]
) -> None:
    manager = north["en"]
    replies = await manager.send("/summary last week")
    assert "\nlast week (16 – 22 Nov)\n" in (replies[0].text or "")
    assert replies[-1].button_texts() == ["◀ 9 – 15 Nov (week 46)"]
    replies = await manager.send("/summary last month")
    text = replies[0].text or ""
    assert "📊 Monthly summary · North\nlast month (October 2026)" in text
    # A team where nobody did anything is the first thing the manager reads.
    assert "🔇 No activity from anyone in the team" in attention_part(text)
    replies = await manager.send("/summary yesterday-ish")
    assert "“this week”, “last week”" in (replies[-1].text or "")
    # The director's roll-up warns about the silent team at the top, a block a team.
    director = north["director"]
    await director.send("/summary")
    rollup = (await director.tap("🏢 Whole company"))[-1].text or ""
    assert rollup.startswith(
        "🏢 Company roll-up\nthis week (23 – 29 Nov)\n\n🔇 No activity at all in: North"
    )
    assert "\n\nNorth (3 reps)\n" in rollup


async def test_a_200_rep_team_fits_one_message_with_the_reps_that_need_attention(
    local_bot: LocalBot, north: dict[str, Chat]
) -> None:
    runtime = local_bot.runtime
    tid = await team_id(runtime, "north")
    customer = await add_customer(runtime, "north", "Big customer")
    async with transaction(runtime.sessions) as session:
        for n in range(197):
            rep = User(telegram_id=900_000 + n, display_name=f"Rep {n:03d}", role=Role.REP,
                       team_id=tid, language="en", active=True, created_at=MONDAY,
                       updated_at=MONDAY)  # fmt: skip
            session.add(rep)
            await session.flush()
            assert rep.id is not None and customer.id is not None
            for k in range(3 if n % 4 else 40):
                when = MONDAY + timedelta(hours=k % 8, days=k % 5)
                session.add(Visit(
                    team_id=tid, rep_id=rep.id, customer_id=customer.id,
                    kind=VisitKind.IN_PERSON if k % 2 else VisitKind.PHONE,
                    purpose=VisitPurpose.NEW, visited_at=when, notes="x", created_at=when,
                    updated_at=when,
                ))  # fmt: skip
    replies = await north["en"].send("/summary")
    texts = [m for m in replies if m.kind == "text"]
    assert len(texts) == 1, [len(m.text or "") for m in texts]
    text = texts[0].text or ""
    assert len(text) < 4096
    assert "(+" in attention_part(text) and "more)" in attention_part(text)
    assert re.search(r"… \d+ more reps: see the workbook\.", text)
    assert [m.kind for m in replies] == ["text", "photo", "document"]
