"""How a dispute ends: not valid (reminders resume), or valid with a credit note or a write-off
of an amount and a reason, applied at once up to the team's threshold and through the approvals
machinery above it. An adjustment lowers what is owed, is audited, closes a document with
nothing left, and is never counted as money collected."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import col, select

from core.db import transaction
from models.approval import ApprovalRequest, RequestStatus
from models.audit import AuditEntry
from models.common import Role
from models.receivable import (
    Adjustment,
    AdjustmentStatus,
    Dispute,
    DisputeStatus,
    Payment,
    ReceivableStatus,
)
from sandbox.harness import Chat, LocalBot
from services import team_context
from services.summary.collections import per_rep
from services.summary.core import window_for
from tests.collection_helpers import add_customer_in, add_receivable, at_local, balance, receivable
from tests.helpers import join, team_id, user_by_tg

JOBS_UNDER_TEST = ("dunning",)
DUE = date(2026, 11, 30)


async def disputed(
    bot: LocalBot, rep: Chat, number: str, amount: str, currency: str = "CNY"
) -> int:
    """Rick's ``number`` of ``amount``, disputed from its card; its receivable id."""
    customer = await add_customer_in(bot.runtime, "north", f"Far Harbour {number}", 3002)
    rid = await add_receivable(bot.runtime, number, customer=customer, owner_tg=3002,
                               amount=amount, due=DUE, currency=currency)  # fmt: skip
    card = await rep.send(f"/collections {number}")
    await rep.tap("Disputed", message_id=card[-1].message_id)
    await rep.send("Two cases arrived damaged")
    await bot.drain_outbox()
    return rid


async def audit_actions(bot: LocalBot, receivable_id: int) -> list[str]:
    async with transaction(bot.runtime.sessions) as session:
        rows = await session.exec(
            select(AuditEntry.action)
            .where(col(AuditEntry.entity) == "receivable")
            .where(col(AuditEntry.entity_id) == receivable_id)
            .order_by(col(AuditEntry.id))
        )
        return list(rows.all())


async def adjustments(bot: LocalBot) -> list[Adjustment]:
    async with transaction(bot.runtime.sessions) as session:
        return list((await session.exec(select(Adjustment).order_by(col(Adjustment.id)))).all())


async def dispute_of(bot: LocalBot, receivable_id: int) -> Dispute:
    async with transaction(bot.runtime.sessions) as session:
        query = select(Dispute).where(col(Dispute.receivable_id) == receivable_id)
        return (await session.exec(query)).one()


async def week_figures(bot: LocalBot) -> dict[str, object]:
    """Rick's figures in this week's summary."""
    rick = await user_by_tg(bot.runtime, 3002)
    assert rick is not None and rick.id is not None
    north = await team_id(bot.runtime, "north")
    async with transaction(bot.runtime.sessions) as session:
        team = await team_context.resolve(
            session, bot.runtime.settings, north, bot.runtime.clock.now()
        )
        found = await per_rep(session, window_for(team, "week", team.today), [rick.id])
    return dict(found[rick.id])


async def test_valid_dispute_small_write_off_applies_at_once(local_bot: LocalBot) -> None:
    manager = await join(local_bot, 3001, "Mona", Role.MANAGER, "north")
    rep = await join(local_bot, 3002, "Rick", Role.REP, "north")
    await at_local(local_bot, "north", DUE)
    rid = await disputed(local_bot, rep, "INV-1", "1200")
    card = (await manager.bot_messages())[-1]
    assert card.button_texts() == ["⚖️ Decide on INV-1"]
    question = await manager.tap("Decide on INV-1")
    text = question[-1].text or ""
    assert "Dispute on INV-1 (Far Harbour INV-1)" in text
    assert "The customer says: Two cases arrived damaged" in text and "CN¥1,200.00" in text
    assert "Up to CN¥5,000.00 a credit note or write-off applies at once" in text
    assert question[-1].button_texts() == [
        "✅ Valid: issue a credit note", "✅ Valid: write off", "❌ Not valid: resume reminders",
    ]  # fmt: skip
    ask = await manager.tap("Valid: write off")
    assert "Amount of the write-off on INV-1" in (ask[-1].text or "")
    assert ask[-1].button_texts()[0] == "Whole balance: CN¥1,200.00"
    refused = await manager.send("2000")
    assert "CN¥2,000.00 is more than the balance of CN¥1,200.00" in (refused[0].text or "")
    await manager.send("300")
    confirm = await manager.send("Customer keeps the rest; 2 cases written off")
    text = confirm[-1].text or ""
    assert "Write off CN¥300.00 of INV-1 (Far Harbour INV-1)?" in text
    assert "Balance: CN¥1,200.00 → CN¥900.00" in text
    assert "Applies at once" in text and "not counted as money collected" in text
    assert await adjustments(local_bot) == []  # nothing before the confirmation
    done = await manager.tap("Confirm")
    assert (
        "Recorded: write-off of CN¥300.00 on INV-1 (Far Harbour INV-1). Still owed: CN¥900.00"
        in (done[-1].text or "")
    )
    [adjustment] = await adjustments(local_bot)
    assert adjustment.status == AdjustmentStatus.APPLIED and adjustment.amount == Decimal("300")
    assert adjustment.approval_request_id is None and adjustment.applied_on == DUE
    assert await balance(local_bot.runtime, rid) == Decimal("900")
    assert (await receivable(local_bot.runtime, rid)).status == ReceivableStatus.OPEN
    dispute = await dispute_of(local_bot, rid)
    assert dispute.status == DisputeStatus.RESOLVED and dispute.outcome == "write_off"
    assert (await audit_actions(local_bot, rid))[-2:] == [
        "receivable.disputed", "receivable.write_off",
    ]  # fmt: skip
    # Not a payment: nothing collected, the open balance is lower.
    async with transaction(local_bot.runtime.sessions) as session:
        assert (await session.exec(select(Payment))).all() == []
    figures = await week_figures(local_bot)
    assert "collected" not in figures and figures["open_balance"] == Decimal("900")
    await local_bot.drain_outbox()
    told = (await rep.bot_messages())[-1].text or ""
    assert "Mona recorded a write-off of CN¥300.00 on INV-1" in told and "CN¥900.00" in told
    mine = await rep.send("/collections INV-1")
    assert "paid CN¥0.00" in (mine[-1].text or "")
    assert "Credit notes and write-offs: CN¥300.00" in (mine[-1].text or "")
    # The rest is chased again.
    again = await manager.tap("Decide on INV-1", message_id=card.message_id)
    assert "already resolved" in (again[-1].text or "")
    await at_local(local_bot, "north", DUE + timedelta(days=7))
    reminders = [m.text or "" for m in await rep.bot_messages() if "Total" in (m.text or "")]
    assert "CN¥900.00 (of CN¥1,200.00)" in reminders[-1]


async def test_valid_dispute_large_credit_note_needs_approval(local_bot: LocalBot) -> None:
    manager = await join(local_bot, 3001, "Mona", Role.MANAGER, "north")
    director = await join(local_bot, 3000, "Dora", Role.DIRECTOR, None)
    rep = await join(local_bot, 3002, "Rick", Role.REP, "north")
    await at_local(local_bot, "north", DUE)
    rid = await disputed(local_bot, rep, "INV-2", "8000")
    await manager.tap("Decide on INV-2")
    await manager.tap("Valid: issue a credit note")
    await manager.tap("Whole balance")
    confirm = await manager.send("Wrong price invoiced; agreed with the customer")
    text = confirm[-1].text or ""
    assert "Issue a credit note of CN¥8,000.00 on INV-2 (Far Harbour INV-2)?" in text
    assert "Above CN¥5,000.00: a director approves it first" in text
    sent = await manager.tap("Confirm")
    assert "went for approval to Dora (request #1)" in (sent[-1].text or "")
    [pending] = await adjustments(local_bot)
    assert pending.status == AdjustmentStatus.PENDING and pending.approval_request_id == 1
    assert await balance(local_bot.runtime, rid) == Decimal("8000")  # not before approval
    assert (await receivable(local_bot.runtime, rid)).status == ReceivableStatus.DISPUTED
    waiting = await manager.tap("Decide on INV-2")
    assert "already waiting for approval (request #1)" in (waiting[-1].text or "")

    await local_bot.drain_outbox()
    card = (await director.bot_messages())[-1]
    text = card.text or ""
    assert "Credit note" in text and "INV-2" in text and "CN¥8,000.00" in text
    assert "Wrong price invoiced" in text
    await director.tap("Approve", message_id=card.message_id)
    await local_bot.drain_outbox()
    async with transaction(local_bot.runtime.sessions) as session:
        request = await session.get(ApprovalRequest, 1)
        assert request is not None and request.status == RequestStatus.APPROVED
        assert request.type == "credit_note"
    [applied] = await adjustments(local_bot)
    assert applied.status == AdjustmentStatus.APPLIED
    assert await balance(local_bot.runtime, rid) == 0
    assert (await receivable(local_bot.runtime, rid)).status == ReceivableStatus.CLOSED
    assert (await dispute_of(local_bot, rid)).outcome == "credit_note"
    assert (await audit_actions(local_bot, rid))[-2:] == [
        "receivable.credit_note_requested", "receivable.credit_note",
    ]  # fmt: skip
    told = (await rep.bot_messages())[-1].text or ""
    assert "Dora recorded a credit note of CN¥8,000.00 on INV-2" in told
    assert "the document is closed" in told
    assert "collected" not in await week_figures(local_bot)

    # Rejected: the dispute stays open, reminders stay paused, the rep is told.
    other = await disputed(local_bot, rep, "INV-3", "7000")
    await manager.tap("Decide on INV-3")
    await manager.tap("Valid: issue a credit note")
    await manager.send("6500")
    await manager.send("Customer claims a volume rebate")
    await manager.tap("Confirm")
    await local_bot.drain_outbox()
    await director.tap("Reject", message_id=(await director.bot_messages())[-1].message_id)
    await director.send("No rebate was agreed in the contract")
    await local_bot.drain_outbox()
    assert [a.status for a in await adjustments(local_bot)] == [
        AdjustmentStatus.APPLIED, AdjustmentStatus.REJECTED,
    ]  # fmt: skip
    assert await balance(local_bot.runtime, other) == Decimal("7000")
    assert (await receivable(local_bot.runtime, other)).status == ReceivableStatus.DISPUTED
    assert (await dispute_of(local_bot, other)).status == DisputeStatus.OPEN
    told = [m.text or "" for m in await rep.bot_messages()]
    assert any("Dora did not approve the credit note of CN¥6,500.00 on INV-3" in t for t in told)
    assert "receivable.credit_note_rejected" in await audit_actions(local_bot, other)
    # The manager decides again.
    again = await manager.tap("Decide on INV-3")
    assert "Is the customer right?" in (again[-1].text or "")


async def test_a_credit_note_on_a_usd_invoice_goes_for_approval_in_usd(
    local_bot: LocalBot,
) -> None:
    manager = await join(local_bot, 3001, "Mona", Role.MANAGER, "north")
    director = await join(local_bot, 3000, "Dora", Role.DIRECTOR, None)
    rep = await join(local_bot, 3002, "Rick", Role.REP, "north")
    await at_local(local_bot, "north", DUE)
    rid = await disputed(local_bot, rep, "INV-9", "8000", currency="USD")
    await manager.tap("Decide on INV-9")
    await manager.tap("Valid: issue a credit note")
    await manager.tap("Whole balance")
    await manager.send("Wrong price invoiced; agreed with the customer")
    await manager.tap("Confirm")
    await local_bot.drain_outbox()
    async with transaction(local_bot.runtime.sessions) as session:
        request = await session.get(ApprovalRequest, 1)
        assert request is not None and (request.currency, request.amount_minor) == ("USD", 800000)
    card = (await director.bot_messages())[-1].text or ""
    assert "Amount: $8,000.00" in card and "CN¥" not in card, card
    await director.tap("Approve", message_id=(await director.bot_messages())[-1].message_id)
    await local_bot.drain_outbox()
    assert await balance(local_bot.runtime, rid) == 0
    told = (await rep.bot_messages())[-1].text or ""
    assert "Dora recorded a credit note of $8,000.00 on INV-9" in told, told


async def test_a_managers_own_dispute_is_theirs_to_decide(local_bot: LocalBot) -> None:
    """The team's manager records a dispute on their own document: not "sent to your manager"
    nor "sent to" themselves; they are told it is theirs to decide and get the card to do so."""
    manager = await join(local_bot, 3001, "陈静", Role.MANAGER, "north", lang="zh")
    await at_local(local_bot, "north", DUE)
    customer = await add_customer_in(local_bot.runtime, "north", "远航医药", 3001)
    rid = await add_receivable(local_bot.runtime, "INV-9", customer=customer, owner_tg=3001,
                               amount="800", due=DUE)  # fmt: skip
    card = await manager.send("/collections INV-9")
    ask = await manager.tap("客户有异议", message_id=card[-1].message_id)
    print(ask[-1].text)
    assert "您是团队经理，记录后由您处理" in (ask[-1].text or "")
    assert "转给您的经理" not in (ask[-1].text or "")
    done = await manager.send("两箱货到货时破损")
    print(done[-1].text)
    assert (done[-1].text or "") == (
        "⚖️ 已记录 INV-9 的异议，暂停提醒。您是团队经理，请在异议卡片上选择处理结果。"
    )
    await local_bot.drain_outbox()
    decide = (await manager.bot_messages())[-1]
    assert decide.button_texts() == ["⚖️ 处理 INV-9 的异议"], decide.button_texts()
    assert (await receivable(local_bot.runtime, rid)).status == ReceivableStatus.DISPUTED
