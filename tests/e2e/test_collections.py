"""Collections in chat: importing the back office's file, the views by role, team scoping,
adding a receivable, reconciliation, and reminders surviving Telegram's faults and a restart."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, time, timedelta
from decimal import Decimal

from sqlmodel import func, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.db import transaction
from models.common import Role
from models.outbox import OutboxStatus
from models.receivable import DunningReminder, Receivable, ReceivableStatus, ReminderStatus
from sandbox.client import SandboxMessage
from sandbox.harness import Chat, LocalBot
from scheduler.core import Outcome, Scheduler
from scheduler.registry import JobContext
from services import collection_actions
from services.users import Actor
from tests.collection_helpers import (
    DATA,
    add_customer_in,
    add_receivable,
    at_local,
    balance,
    customer_id,
    import_sample_customers,
    outbox_rows,
    receivable,
    sample_reps,
    set_code,
    sparse_xlsx,
)
from tests.helpers import eventually, join, team_id, telegram_pace, user_by_tg
from views.collections import ACT, BROWSE, OPEN, Act, Browse, Open

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Only these scheduled jobs run: the others would run at every move of the clock (slow, noisy).
JOBS_UNDER_TEST = ("dunning", "reconciliation")


async def shown(chat: Chat, message_id: int) -> SandboxMessage:
    """A bot message as it reads now (buttons of /collections edit it in place)."""
    return next(m for m in await chat.bot_messages() if m.message_id == message_id)


async def count_receivables(bot: LocalBot) -> int:
    async with transaction(bot.runtime.sessions) as session:
        return int((await session.exec(select(func.count()).select_from(Receivable))).one())


async def test_import_by_file_with_good_bad_and_repeated_rows(local_bot: LocalBot) -> None:
    director = await join(local_bot, 3900, "Dora", Role.DIRECTOR, None)
    manager = await join(local_bot, 3901, "Mona", Role.MANAGER, "north")
    reps = await sample_reps(local_bot)
    await import_sample_customers(local_bot.runtime)
    data = (DATA / "receivables_sample.csv").read_bytes()

    report = (await director.send_document("应收.csv", data, "text/csv"))[-1].text or ""
    assert "30 new, 0 updated, 0 unchanged; 3 rows with errors" in report
    assert "row 32: ❌ amount -500 is not more than zero" in report
    assert "row 33: ❌ due date “2026-02-30” is not a date" in report
    assert "row 34: ❌ customer “不存在客户” is not in salesbot" in report
    assert "row 35: ⚠️ INV-00004 repeats row 5; counted once" in report
    assert await count_receivables(local_bot) == 30
    # A document issued after it falls due is a typo in the back office: refused, not guessed.
    row = "北京兴隆化工有限责任公司,INV-00031,5000,CNY,2026-12-20,2026-12-01,钱七\n"
    late = data + row.encode()
    refused_row = (await director.send_document("应收.csv", late, "text/csv"))[-1].text or ""
    assert "0 new, 0 updated, 30 unchanged; 4 rows with errors" in refused_row
    assert (
        "row 36: ❌ issued on 2026-12-20, after its due date 2026-12-01: check the dates"
        in refused_row
    )
    assert await count_receivables(local_bot) == 30
    south, north = (
        await team_id(local_bot.runtime, "south"),
        await team_id(local_bot.runtime, "north"),
    )
    async with transaction(local_bot.runtime.sessions) as session:
        first = (
            await session.exec(select(Receivable).where(Receivable.document_no == "INV-00001"))
        ).one()
        fourth = (
            await session.exec(select(Receivable).where(Receivable.document_no == "INV-00004"))
        ).one()
        third = (
            await session.exec(select(Receivable).where(Receivable.document_no == "INV-00003"))
        ).one()
    zhao = await user_by_tg(local_bot.runtime, 4004)
    assert first.team_id == south and first.owner_id == (zhao.id if zhao else None)
    assert fourth.amount == Decimal("3500.50") and third.team_id == north

    again = (await director.send_document("应收.csv", data, "text/csv"))[-1].text or ""
    assert "0 new, 0 updated, 30 unchanged; 3 rows with errors" in again
    changed = data.replace(b"INV-00003,46000", b"INV-00003,40000", 1)
    update = (await director.send_document("应收.csv", changed, "text/csv"))[-1].text or ""
    assert "0 new, 1 updated, 29 unchanged" in update
    assert await count_receivables(local_bot) == 30
    assert (await receivable(local_bot.runtime, third.id or 0)).amount == Decimal("40000")

    # A manager's file only reaches their own team: the south rows are refused.
    mine = (await manager.send_document("north.csv", data, "text/csv"))[-1].text or ""
    assert "0 new, 1 updated, 21 unchanged; 12 rows with errors" in mine
    # South's people and customers are unknown to it, as strangers are.
    assert "row 2: ❌ owner “赵六” is not the employee code or @username" in mine
    assert "Rows per team: North 22" in mine and "South" not in mine
    # Reps do not import, and nothing is sent before the dunning run.
    refused = await reps["张三"].send_document("应收.csv", data, "text/csv")
    assert "did not understand" in (refused[-1].text or "")
    assert await count_receivables(local_bot) == 30
    assert await outbox_rows(local_bot.runtime, "dunning.reminder") == []
    unreadable = await director.send_document("x.csv", "名称,电话\n甲,1\n".encode(), "text/csv")
    assert "missing columns" in (unreadable[-1].text or "")


async def test_a_sheet_declaring_millions_of_cells_is_refused_without_stalling_others(
    local_bot: LocalBot,
) -> None:
    """A 6 KB XLSX with one cell at XFD5000 (5,000 × 16,384 cells once padded): refused with
    the reason in the sender's language, and read off the event loop, so other people's updates
    go on."""
    manager = await join(local_bot, 3901, "Mona", Role.MANAGER, "north", lang="zh")
    header = ["客户名称", "单据号", "金额", "到期日", "负责人"]
    bomb = sparse_xlsx([header, ["甲公司", "B-1", 100, "2026-12-01", ""]], (5000, 16384))
    assert len(bomb) < 10_000
    loop = asyncio.get_running_loop()
    gaps: list[float] = []

    async def ticker() -> None:
        # Another user's turn needs the loop: the longest gap between ticks is their wait.
        last = loop.time()
        while True:
            await asyncio.sleep(0.005)
            now = loop.time()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    try:
        replies = await manager.send_document("应收.xlsx", bomb, XLSX)
    finally:
        ticking.cancel()
    text = replies[-1].text or ""
    assert "该工作表过大，无法导入：表内声明了 5,000 行 × 16,384 列" in text
    assert "最多只能导入 20,000 行、64 列" in text
    assert gaps and max(gaps) < 0.1, max(gaps)
    assert await count_receivables(local_bot) == 0


async def test_views_by_role_with_totals_aging_and_per_rep_breakdown(local_bot: LocalBot) -> None:
    director = await join(local_bot, 3900, "Dora", Role.DIRECTOR, None)
    manager = await join(local_bot, 3901, "Mona", Role.MANAGER, "north")
    reps = await sample_reps(local_bot)
    runtime = local_bot.runtime
    await import_sample_customers(runtime)
    customer = await customer_id(runtime, "杭州华丰建材股份有限公司")
    today = date(2026, 11, 24)
    for number, due, amount in (("A-1", today + timedelta(days=5), "100"),
                                ("A-2", today - timedelta(days=10), "200"),
                                ("A-3", today - timedelta(days=45), "300"),
                                ("A-4", today - timedelta(days=75), "400"),
                                ("A-5", today - timedelta(days=120), "500.50")):  # fmt: skip
        await add_receivable(runtime, number, customer=customer, owner_tg=4003, amount=amount,
                             due=due)  # fmt: skip
    other = await customer_id(runtime, "成都康乐零售商贸有限公司")
    await add_receivable(runtime, "B-1", customer=other, owner_tg=4002, amount="50",
                         due=today - timedelta(days=3))  # fmt: skip
    south_customer = await customer_id(runtime, "杭州远航医药有限责任公司")
    await add_receivable(runtime, "S-1", customer=south_customer, owner_tg=4004, amount="70",
                         due=today - timedelta(days=3))  # fmt: skip

    mine = (await reps["王五"].send("/collections"))[-1]
    text = mine.text or ""
    assert "My open receivables" in text
    assert "Open: CN¥1,500.50 (documents: 5) · overdue: CN¥1,400.50" in text
    for label, amount in (("not yet due", "100.00"), ("0–30 days", "200.00"),
                          ("31–60 days", "300.00"), ("61–90 days", "400.00"),
                          ("over 90 days", "500.50")):  # fmt: skip
        assert f"{label}: CN¥{amount}" in text
    assert "杭州华丰建材股份有限公司 CN¥1,500.50 (5 documents)" in text
    assert "overdue CN¥1,400.50 · longest 120 days overdue" in text
    assert "成都康乐" not in text and "杭州远航" not in text
    await reps["王五"].tap("杭州华丰建材股份有限公司", message_id=mine.message_id)
    text = (await shown(reps["王五"], mine.message_id)).text or ""
    assert text.index("A-5") < text.index("A-4") < text.index("A-1")  # by due date
    card = await reps["王五"].tap("A-5")
    assert "120 days overdue" in (card[-1].text or "") and card[-1].buttons

    team = (await manager.send("/collections"))[-1]
    text = team.text or ""
    assert "team North" in text and "Open: CN¥1,550.50 (documents: 6)" in text
    assert "• 王五: CN¥1,500.50 in 5 open documents, CN¥1,400.50 overdue" in text
    assert "• 李四: CN¥50.00 in 1 open document, CN¥50.00 overdue" in text and "S-1" not in text
    rep_list = await manager.tap("李四")
    assert "成都康乐零售商贸有限公司" in (rep_list[-1].text or "")
    assert "杭州华丰" not in (rep_list[-1].text or "")

    company = (await director.send("/collections"))[-1]
    text = company.text or ""
    assert "Open: CN¥1,620.50 (documents: 7)" in text
    assert "North</b>" not in text and "North: CN¥1,550.50 in 6 open documents" in text
    assert (
        "South: CN¥70.00 in 1 open document" in text
        and "赵六: CN¥70.00 in 1 open document" in text
    )


async def test_a_manager_cannot_see_another_teams_receivables(local_bot: LocalBot) -> None:
    north_rep = await join(local_bot, 3002, "Rick", Role.REP, "north")
    south_manager = await join(local_bot, 3101, "Sara", Role.MANAGER, "south")
    runtime = local_bot.runtime
    customer = await add_customer_in(runtime, "north", "杭州远航医药", 3002)
    rid = await add_receivable(runtime, "INV-N1", customer=customer, owner_tg=3002,
                               amount="900", due=date(2026, 11, 20))  # fmt: skip
    view = (await south_manager.send("/collections"))[-1]
    assert "INV-N1" not in (view.text or "") and "No open receivables" in (view.text or "")
    lookup = await south_manager.send("/collections INV-N1")
    assert "not found" in (lookup[-1].text or "")
    rick = await user_by_tg(runtime, 3002)
    north = await team_id(runtime, "north")
    forged = [(ACT.pack(Act("d", rid, "o")), "not found"),
              (ACT.pack(Act("d", rid, "f")), "Nothing left"),
              (ACT.pack(Act("d", rid, "p")), "Nothing left"),
              (OPEN.pack(Open("u", rick.id if rick else 0)), "not found"),
              (OPEN.pack(Open("t", north)), "not found"),
              (BROWSE.pack(Browse(rick.id if rick else 0, customer)), "not found"),
              (BROWSE.pack(Browse(rick.id if rick else 0, 0, 1)), "not found"),
              # The old format, a truncated value and an unknown action are stale buttons.
              (f"dn|d{rid}|o", "no longer works"), ("dn|d|", "no longer works"),
              (f"dn|d|{rid}|z", "no longer works"), (f"rc|q|{rid}", "no longer works"),
              ("co|x|1", "no longer works")]  # fmt: skip
    # Buttons carrying another team's ids (as an old keyboard or a tampered client would).
    assert local_bot.app is not None
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(d, callback_data=d)] for d, _ in forged]
    )
    message = await local_bot.app.bot.send_message(3101, "old buttons", reply_markup=keyboard)
    for data, answer in forged:
        replies = await south_manager.tap_data(message.message_id, data)
        assert answer in (replies[-1].text or ""), data
    assert await balance(runtime, rid) == Decimal("900")
    # The north rep sees it, and another north rep would not.
    assert "杭州远航医药" in ((await north_rep.send("/collections"))[-1].text or "")
    other = await join(local_bot, 3003, "Olga", Role.REP, "north")
    assert "杭州远航医药" not in ((await other.send("/collections"))[-1].text or "")


async def test_other_teams_numbers_and_people_answer_like_unknown_ones(
    local_bot: LocalBot,
) -> None:
    """/collections, /receivable and a manager's import answer for another team's document
    number or person exactly as for one that does not exist."""
    runtime = local_bot.runtime
    await join(local_bot, 3002, "Rick", Role.REP, "north")
    await set_code(runtime, 3002, "N-007")
    south_rep = await join(local_bot, 3102, "Sam", Role.REP, "south")
    south_manager = await join(local_bot, 3101, "Sara", Role.MANAGER, "south")
    north_customer = await add_customer_in(runtime, "north", "杭州远航医药", 3002)
    for number in ("INV-N1", "INV-N2"):
        await add_receivable(runtime, number, customer=north_customer, owner_tg=3002,
                             amount="900", due=date(2026, 11, 20))  # fmt: skip
    await add_customer_in(runtime, "south", "广州南方贸易", 3102)

    taken = await south_manager.send("/collections INV-N1")
    unused = await south_manager.send("/collections INV-NONE")
    assert taken[-1].text == unused[-1].text and "not found" in (taken[-1].text or "")

    asked = []
    for number in ("INV-N1", "INV-S9"):
        await south_rep.send("/receivable")
        await south_rep.tap("广州南方贸易")
        asked.append((await south_rep.send(number))[-1].text)
        await south_rep.send("300")
        await south_rep.tap("Today")
        await south_rep.tap("In 30 days")
        assert "added" in ((await south_rep.tap("Save"))[-1].text or "")
    assert asked[0] == asked[1] and "Amount?" in (asked[0] or "")

    export = ("单据号,客户名称,金额,到期日,负责人\n"
              "INV-N2,广州南方贸易,500,2026-12-01,\n"
              "INV-S2,广州南方贸易,500,2026-12-01,N-007\n"
              "INV-S3,广州南方贸易,500,2026-12-01,X-999\n"
              "INV-S4,杭州远航医药,500,2026-12-01,\n")  # fmt: skip
    report = (await south_manager.send_document("ar.csv", export.encode(), "text/csv"))[-1]
    lines = (report.text or "").splitlines()
    assert "1 new, 0 updated, 0 unchanged; 3 rows with errors" in lines[0]
    problems = {line.split(":", 1)[0]: line.split(":", 1)[1] for line in lines[2:]}
    assert problems["row 3"].replace("N-007", "X-999") == problems["row 4"]
    assert "is not in salesbot" in problems["row 5"]
    assert not any(word in (report.text or "") for word in ("Rick", "North", "INV-N1"))
    async with transaction(runtime.sessions) as session:
        rows = (await session.exec(select(Receivable).order_by(Receivable.id))).all()
    south = await team_id(runtime, "south")
    assert [(r.document_no, r.team_id == south, r.amount) for r in rows] == [
        ("INV-N1", False, Decimal("900")), ("INV-N2", False, Decimal("900")),
        ("INV-N1", True, Decimal("300")), ("INV-S9", True, Decimal("300")),
        ("INV-N2", True, Decimal("500")),
    ]  # fmt: skip


async def test_a_rep_adds_a_receivable_in_chat(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 3002, "Rick", Role.REP, "north")
    runtime = local_bot.runtime
    await add_customer_in(runtime, "north", "杭州远航医药", 3002)
    await rep.send("/receivable")
    await rep.tap("杭州远航医药")
    await rep.send("HT-2026-001")
    unreadable = await rep.send("lots")
    assert "could not read that amount" in (unreadable[0].text or "")
    assert "more than zero" in ((await rep.send("0"))[0].text or "")
    await rep.send("5,000")
    await rep.tap("Today")
    summary = await rep.tap("In 30 days")
    assert "CN¥5,000.00" in (summary[-1].text or "") and "Thu 24 Dec 2026" in (
        summary[-1].text or ""
    )
    done = await rep.tap("Save")
    assert "HT-2026-001" in (done[-1].text or "") and "added" in (done[-1].text or "")
    async with transaction(runtime.sessions) as session:
        added = (await session.exec(select(Receivable))).one()
    rick = await user_by_tg(runtime, 3002)
    assert added.owner_id == (rick.id if rick else None) and added.source == "chat"
    assert added.due_on == date(2026, 12, 24) and added.amount == Decimal("5000")
    await rep.send("/receivable")
    await rep.tap("杭州远航医药")
    taken = await rep.send("HT-2026-001")
    assert "already exists" in (taken[0].text or "")


async def test_a_manager_adds_a_receivable_for_one_of_their_reps(local_bot: LocalBot) -> None:
    manager = await join(local_bot, 3001, "Mona", Role.MANAGER, "north")
    await join(local_bot, 3002, "Rick", Role.REP, "north")
    runtime = local_bot.runtime
    await add_customer_in(runtime, "north", "成都华丰机械", 3002)
    await manager.send("/receivable")
    results = await manager.send("华丰")
    assert "成都华丰机械" in results[-1].button_texts()
    await manager.tap("成都华丰机械")
    await manager.send("HT-7")
    await manager.send("USD 1200")
    await manager.send("2026-11-20")
    await manager.send("2026-12-20")
    await manager.tap("Rick")
    await manager.tap("Save")
    async with transaction(runtime.sessions) as session:
        added = (await session.exec(select(Receivable))).one()
    rick = await user_by_tg(runtime, 3002)
    assert added.owner_id == (rick.id if rick else None)
    assert (added.currency, added.amount) == ("USD", Decimal("1200"))
    assert (added.issued_on, added.due_on) == (date(2026, 11, 20), date(2026, 12, 20))


async def test_reconciliation_on_the_last_working_day_of_december(local_bot: LocalBot) -> None:
    manager = await join(local_bot, 3001, "Mona", Role.MANAGER, "north")
    rep = await join(local_bot, 3002, "Rick", Role.REP, "north")
    runtime = local_bot.runtime
    first = await add_customer_in(runtime, "north", "杭州远航医药", 3002)
    second = await add_customer_in(runtime, "north", "成都华丰机械", 3002)
    await add_receivable(runtime, "R-1", customer=first, owner_tg=3002, amount="1000",
                         due=date(2027, 1, 20))  # fmt: skip
    await add_receivable(runtime, "R-2", customer=first, owner_tg=3002, amount="500",
                         due=date(2027, 1, 25))  # fmt: skip
    await add_receivable(runtime, "R-3", customer=second, owner_tg=3002, amount="2000",
                         due=date(2027, 2, 1))  # fmt: skip
    await at_local(local_bot, "north", date(2026, 12, 30), time(11, 0))
    assert not [m for m in await rep.bot_messages() if "Reconciliation" in (m.text or "")]
    # 31 December 2026 is a Thursday: the last working day of the year.
    await at_local(local_bot, "north", date(2026, 12, 31), time(11, 0))
    listing = [m for m in await rep.bot_messages() if "Reconciliation" in (m.text or "")]
    assert len(listing) == 1 and "(2026-12)" in (listing[0].text or "")
    assert "杭州远航医药: CN¥1,500.00" in (listing[0].text or "")
    card = await rep.tap("杭州远航医药")
    assert "our open balance is CN¥1,500.00" in (card[-1].text or "")
    assert "confirmed" in ((await rep.tap("Customer confirms"))[-1].text or "")
    await rep.tap("成都华丰机械", message_id=listing[0].message_id)
    await rep.tap("figure differs")
    await rep.send("1800")
    done = await rep.send("They deduct a credit note of 200")
    assert "Difference recorded" in (done[-1].text or "")
    await local_bot.drain_outbox()
    card = (await manager.bot_messages())[-1].text or ""
    assert "Reconciliation difference" in card and "Rick" in card
    assert "our balance CN¥2,000.00, the customer says CN¥1,800.00" in card
    assert "difference CN¥200.00" in card and "credit note" in card
    again = await rep.tap("Customer confirms")
    assert "already reconciled" in (again[-1].text or "")


async def test_reminders_survive_429_5xx_and_a_restart_and_arrive_once(
    local_bot: LocalBot,
) -> None:
    runtime = local_bot.runtime
    telegram_pace(runtime.settings)  # so that the restart comes in the middle of the batch
    await local_bot.restart()
    reps = [await join(local_bot, 3200 + n, f"Rep{n}", Role.REP, "north") for n in range(6)]
    names: dict[int, list[str]] = {}
    for n, rep in enumerate(reps):
        names[rep.user_id] = []
        for k in range(3):
            name = f"客户{n}-{k}"
            customer = await add_customer_in(runtime, "north", name, rep.user_id)
            await add_receivable(runtime, f"B{n}-{k}", customer=customer, owner_tg=rep.user_id,
                                 amount=str(100 * (k + 1)), due=date(2026, 11, 24))  # fmt: skip
            names[rep.user_id].append(name)
    await local_bot.client.add_fault("429", "sendMessage", retry_after=1, count=1)
    await local_bot.client.add_fault("5xx", "sendMessage", count=2, status=502)
    mark = max((e["seq"] for e in await local_bot.client.events()), default=0)
    await at_local_without_drain(local_bot, date(2026, 11, 24), time(10, 0))

    async def five_sent() -> bool:
        events = await local_bot.client.events(mark)
        return len([e for e in events if e.get("status") == "ok"]) >= 3

    await eventually(five_sent)
    await local_bot.restart()
    await local_bot.drain_outbox()

    for rep in reps:
        # One digest per rep: a line per customer, each due today.
        received = Counter(
            line.split(" — ")[0].split(" ", 1)[1]
            for m in await rep.bot_messages()
            for line in (m.text or "").split("\n")[1:]
            if "due today" in line
        )
        assert received == Counter(names[rep.user_id]), rep.user_id
    events = [e for e in await local_bot.client.events(mark) if e["method"] == "sendMessage"]
    assert sum(1 for e in events if e["status"] == 429) == 1
    assert sum(1 for e in events if e["status"] == 502) == 2
    rows = await outbox_rows(runtime, "dunning.reminder")
    assert len(rows) == 6 and {r.status for r in rows} == {OutboxStatus.SENT}
    # Neither a restart nor a forced second run of the day's job sends anything again.
    ctx = JobContext(runtime.sessions, runtime.clock, runtime.settings, runtime.texts)
    scheduler = Scheduler(ctx, "again")
    item = scheduler.find("dunning", "north")
    assert await scheduler.run(item, period="2026-11-24") is Outcome.ALREADY_CLAIMED
    assert await scheduler.run(item, period="2026-11-24", force=True) is Outcome.RAN
    assert len(await outbox_rows(runtime, "dunning.reminder")) == 6


async def at_local_without_drain(bot: LocalBot, day: date, clock: time) -> None:
    from datetime import UTC, datetime

    from tests.collection_helpers import ZONES

    await bot.runtime.clock.set(  # type: ignore[attr-defined]
        datetime.combine(day, clock, tzinfo=ZONES["north"]).astimezone(UTC)
    )


async def test_a_reminder_not_sent_yet_is_withdrawn_when_a_document_is_paid(
    local_bot: LocalBot,
) -> None:
    await join(local_bot, 3002, "Rick", Role.REP, "north")
    runtime = local_bot.runtime
    customer = await add_customer_in(runtime, "north", "杭州远航医药", 3002)
    paid = await add_receivable(runtime, "W-1", customer=customer, owner_tg=3002, amount="100",
                                due=date(2026, 11, 24))  # fmt: skip
    left = await add_receivable(runtime, "W-2", customer=customer, owner_tg=3002, amount="200",
                                due=date(2026, 11, 24))  # fmt: skip
    assert local_bot.background is not None
    await local_bot.background.sender.stop()  # the reminder stays in the outbox for now
    await at_local_without_drain(local_bot, date(2026, 11, 24), time(10, 0))
    [pending] = await outbox_rows(runtime, "dunning.reminder")
    assert pending.status == OutboxStatus.PENDING and "W-1" in pending.text
    rick = await user_by_tg(runtime, 3002)
    assert rick is not None
    async with transaction(runtime.sessions) as session:
        result = await collection_actions.record_payment(
            session, actor=Actor.of(rick), settings=runtime.settings, receivable_ids=[paid],
            amount=None, now=runtime.clock.now(),
        )  # fmt: skip
    assert result.withdrawn == 1
    [withdrawn] = await outbox_rows(runtime, "dunning.reminder")
    assert withdrawn.status == OutboxStatus.CANCELLED
    async with transaction(runtime.sessions) as session:
        log = (await session.exec(select(DunningReminder))).one()
    assert log.status == ReminderStatus.WITHDRAWN
    remaining = await receivable(runtime, left)
    assert remaining.reminded_step is None and remaining.dunning_round == 1
    assert (await receivable(runtime, paid)).status == ReceivableStatus.PAID
    # The next run reminds the document still owed, in an up-to-date message.
    await local_bot.restart()
    await at_local(local_bot, "north", date(2026, 11, 25))
    rows = await outbox_rows(runtime, "dunning.reminder")
    assert [r.status for r in rows] == [OutboxStatus.CANCELLED, OutboxStatus.SENT]
    assert "W-2" in rows[1].text and "W-1" not in rows[1].text
