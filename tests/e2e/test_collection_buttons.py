"""Each reminder button's effect on the balance and on the schedule."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import select

from core.db import transaction
from models.common import Role
from models.receivable import Adjustment, Dispute, DisputeStatus, ReceivableStatus
from sandbox.client import SandboxMessage
from sandbox.harness import Chat, LocalBot
from tests.collection_helpers import (
    add_customer_in,
    add_receivable,
    at_local,
    balance,
    last_id,
    receivable,
)
from tests.helpers import join

# Only these scheduled jobs run: the others would run at every move of the clock (slow, noisy).
JOBS_UNDER_TEST = ("dunning",)

DUE = date(2026, 11, 30)  # a Monday; steps on 27 Nov, 30 Nov, 7, 14 and 30 Dec


async def texts_about(chat: Chat, number: str, since: int = 0) -> list[str]:
    return [
        m.text or ""
        for m in await chat.bot_messages()
        if m.message_id > since and number in (m.text or "") and "Total" in (m.text or "")
    ]


async def adjustments_of(bot: LocalBot) -> list[Adjustment]:
    async with transaction(bot.runtime.sessions) as session:
        return list((await session.exec(select(Adjustment))).all())


async def days(bot: LocalBot, first: date, last: date) -> None:
    day = first
    while day <= last:
        await at_local(bot, "north", day)
        day += timedelta(days=1)


async def settle(rep: Chat, method: str = "Bank transfer") -> list[SandboxMessage]:
    """After the amount: the method, no proof of payment, and the confirmation."""
    await rep.tap(method)
    await rep.tap("Skip")
    return await rep.tap("Confirm")


async def one_receivable(bot: LocalBot, amount: str = "1200") -> tuple[Chat, int]:
    rep = await join(bot, 3002, "Rick", Role.REP, "north")
    customer = await add_customer_in(bot.runtime, "north", "杭州远航医药", 3002)
    rid = await add_receivable(bot.runtime, "INV-1", customer=customer, owner_tg=3002,
                               amount=amount, due=DUE)  # fmt: skip
    await at_local(bot, "north", DUE)
    assert [t.split("\n")[0] for t in await texts_about(rep, "INV-1")] == [
        "🔔 Friendly reminder — 杭州远航医药:", "📅 Payment due — 杭州远航医药:",
    ]  # fmt: skip
    return rep, rid


async def test_collected_in_full_stops_every_reminder(local_bot: LocalBot) -> None:
    rep, rid = await one_receivable(local_bot)
    await rep.tap("Collected in full")
    replies = await settle(rep)
    assert (replies[-1].text or "").split("\n")[0] == (
        "✅ Recorded CN¥1,200.00 collected from 杭州远航医药: INV-1 paid in full ✓ — its "
        "reminders stop."
    ), replies[-1].text
    assert await balance(local_bot.runtime, rid) == 0
    assert (await receivable(local_bot.runtime, rid)).status == ReceivableStatus.PAID
    mark = await last_id(rep)
    await days(local_bot, DUE + timedelta(days=1), date(2027, 1, 8))
    assert await texts_about(rep, "INV-1", since=mark) == []
    again = await rep.tap("Collected in full")  # an old reminder's button
    assert "Nothing left to collect" in (again[-1].text or "")
    assert await balance(local_bot.runtime, rid) == 0


async def test_partial_payment_asks_the_amount_and_refuses_more_than_the_balance(
    local_bot: LocalBot,
) -> None:
    rep, rid = await one_receivable(local_bot)
    prompt = await rep.tap("Partial payment")
    assert "Balance: CN¥1,200.00" in (prompt[-1].text or "")
    refused = await rep.send("2000")
    assert "CN¥2,000.00 is more than the balance of CN¥1,200.00" in (refused[0].text or "")
    assert "How much" in (refused[-1].text or "")  # asked again
    assert await balance(local_bot.runtime, rid) == Decimal("1200")
    await rep.send("500")
    done = await settle(rep, "Cash")
    # One document: one line, the amount said once.
    assert (done[-1].text or "").split("\n")[0] == (
        "✅ Recorded CN¥500.00 collected from 杭州远航医药 on INV-1; balance CN¥700.00."
    ), done[-1].text
    assert (done[-1].text or "").count("CN¥500.00") == 1
    assert done[-1].button_texts() == ["📂 This customer's documents", "⬅️ Back to customers"]
    documents = await rep.tap("📂 This customer's documents")  # a new message: the record stays
    assert "杭州远航医药: CN¥700.00 open in 1 document" in (documents[-1].text or "")
    assert "Recorded CN¥500.00" in (done[-1].text or "")
    assert await balance(local_bot.runtime, rid) == Decimal("700")
    # The schedule goes on with the balance left.
    mark = await last_id(rep)
    await days(local_bot, DUE + timedelta(days=1), DUE + timedelta(days=7))
    later = await texts_about(rep, "INV-1", since=mark)
    assert len(later) == 1 and "CN¥700.00 (of CN¥1,200.00)" in later[0] and "Overdue" in later[0]


async def test_a_promise_pauses_reminders_and_a_broken_one_resumes_them(
    local_bot: LocalBot,
) -> None:
    rep, _rid = await one_receivable(local_bot)
    prompt = await rep.tap("Promised a date")
    assert "Reminders pause" in (prompt[-1].text or "")
    done = await rep.send("12月9日")
    assert "promised to pay CN¥1,200.00 by Wed 9 Dec 2026" in (done[-1].text or "")
    mark = await last_id(rep)
    await days(local_bot, DUE + timedelta(days=1), date(2026, 12, 9))
    assert await texts_about(rep, "INV-1", since=mark) == []  # 7 Dec passed in silence
    await at_local(local_bot, "north", date(2026, 12, 10))
    resumed = await texts_about(rep, "INV-1", since=mark)
    assert len(resumed) == 1
    assert "Overdue" in resumed[0] and "promised for Wed 9 Dec, not paid" in resumed[0]
    await days(local_bot, date(2026, 12, 11), date(2026, 12, 14))
    assert [t.split(" ")[0] for t in await texts_about(rep, "INV-1", since=mark)] == ["⚠️", "❗"]


async def test_a_kept_promise_ends_the_schedule(local_bot: LocalBot) -> None:
    rep, _rid = await one_receivable(local_bot)
    await rep.tap("Promised a date")
    await rep.tap("In 3 days")
    await at_local(local_bot, "north", DUE + timedelta(days=2))
    card = await rep.send("/collections INV-1")
    assert "promised for Thu 3 Dec" in (card[-1].text or "")
    await rep.tap("Collected in full", message_id=card[-1].message_id)
    await settle(rep)
    mark = await last_id(rep)
    await days(local_bot, DUE + timedelta(days=3), date(2027, 1, 8))
    assert await texts_about(rep, "INV-1", since=mark) == []


async def test_invalid_dispute_resumes_reminders(local_bot: LocalBot) -> None:
    """The dispute reaches the manager and pauses reminders; found not valid, they resume."""
    manager = await join(local_bot, 3001, "Mona", Role.MANAGER, "north")
    rep, rid = await one_receivable(local_bot)
    prompt = await rep.tap("Disputed")
    assert "What does" in (prompt[-1].text or "")
    done = await rep.send("Two cases arrived damaged")
    assert "sent to Mona" in (done[-1].text or "")
    assert (await receivable(local_bot.runtime, rid)).status == ReceivableStatus.DISPUTED
    await local_bot.drain_outbox()
    card = (await manager.bot_messages())[-1]
    assert "Two cases arrived damaged" in (card.text or "") and "Rick" in (card.text or "")
    assert card.button_texts() == ["⚖️ Decide on INV-1"]
    mark = await last_id(rep)
    await days(local_bot, DUE + timedelta(days=1), DUE + timedelta(days=8))
    assert await texts_about(rep, "INV-1", since=mark) == []
    question = await manager.tap("Decide on INV-1")
    resolved = await manager.tap("Not valid: resume reminders")
    assert "Dispute on INV-1 closed as not valid" in (resolved[-1].text or "")
    again = await manager.tap("Not valid", message_id=question[-1].message_id)
    assert "already resolved" in (again[-1].text or "")
    await local_bot.drain_outbox()
    told = (await rep.bot_messages())[-1].text or ""
    assert "Mona found the dispute on INV-1 (杭州远航医药) not valid" in told
    assert await adjustments_of(local_bot) == []
    async with transaction(local_bot.runtime.sessions) as session:
        [dispute] = (await session.exec(select(Dispute))).all()
    assert dispute.status == DisputeStatus.RESOLVED and dispute.outcome == "invalid"
    await at_local(local_bot, "north", DUE + timedelta(days=9))
    resumed = await texts_about(rep, "INV-1", since=mark)
    assert len(resumed) == 1 and "Overdue" in resumed[0]  # the step reached while paused


async def test_contacted_without_result_is_noted_and_the_schedule_goes_on(
    local_bot: LocalBot,
) -> None:
    rep, rid = await one_receivable(local_bot)
    await rep.tap("Contacted, no result")
    done = await rep.tap("Skip")
    assert "no result yet" in (done[-1].text or "")
    mark = await last_id(rep)
    await days(local_bot, DUE + timedelta(days=1), DUE + timedelta(days=7))
    later = await texts_about(rep, "INV-1", since=mark)
    assert len(later) == 1 and "Last contact: Mon 30 Nov" in later[0]
    assert await balance(local_bot.runtime, rid) == Decimal("1200")


async def test_one_message_per_customer_lists_every_document(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 3002, "Rick", Role.REP, "north")
    runtime = local_bot.runtime
    customer = await add_customer_in(runtime, "north", "成都华丰机械", 3002)
    other = await add_customer_in(runtime, "north", "武汉聚丰建材", 3002)
    first = await add_receivable(runtime, "INV-A", customer=customer, owner_tg=3002,
                                 amount="1000", due=date(2026, 11, 20))  # fmt: skip
    second = await add_receivable(runtime, "INV-B", customer=customer, owner_tg=3002,
                                  amount="1000", due=date(2026, 11, 27))  # fmt: skip
    await add_receivable(runtime, "INV-C", customer=other, owner_tg=3002, amount="300",
                         due=date(2026, 11, 24))  # fmt: skip
    await at_local(local_bot, "north", date(2026, 11, 24))
    digests = [m for m in await rep.bot_messages() if "Collections today" in (m.text or "")]
    assert len(digests) == 1  # one message for the run, a line per customer
    assert "2 customers, 3 documents" in (digests[0].text or "")
    opened = await rep.tap("🔔 成都华丰机械", message_id=digests[0].message_id)
    sent = [opened[-1]]
    both = opened[-1].text or ""
    assert "INV-B" in both and "Total (2): CN¥2,000.00" in both
    assert "4 days overdue" in both and "due in 3 days" in both
    which = await rep.tap("Partial payment", message_id=next(
        m.message_id for m in sent if "INV-A" in (m.text or "")))  # fmt: skip
    assert which[-1].button_texts()[:3] == [
        "INV-A · CN¥1,000.00", "INV-B · CN¥1,000.00", "All 2 documents · CN¥2,000.00",
    ]  # fmt: skip
    await rep.tap("All 2 documents")
    await rep.send("1500")
    done = await settle(rep)
    text = done[-1].text or ""
    assert "INV-A: paid in full" in text
    assert "INV-B: CN¥500.00 received now, balance CN¥500.00" in text
    assert await balance(runtime, first) == 0 and await balance(runtime, second) == Decimal("500")
    # The same reminder's "Collected in full" now concerns the one document left.
    await rep.tap("Collected in full", message_id=next(
        m.message_id for m in sent if "INV-A" in (m.text or "")))  # fmt: skip
    final = await settle(rep)
    assert "collected from 成都华丰机械: INV-B paid in full" in (final[-1].text or "")
    assert await balance(runtime, second) == 0
