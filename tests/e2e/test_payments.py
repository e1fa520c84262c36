"""Money recorded with care: a payment is confirmed (amount in figures and, for Chinese readers,
in capital numerals 大写; the customer; the documents it settles), with its method from the
team's list and an optional proof of payment; Cancel at the confirmation records nothing; a
contact without result keeps the rep's note."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import col, select

from core.db import transaction
from models.audit import AuditEntry
from models.common import Role
from models.receivable import CollectionContact, Payment
from sandbox.client import SandboxMessage
from sandbox.harness import Chat, LocalBot
from tests.collection_helpers import add_customer_in, add_receivable, at_local, balance
from tests.helpers import join

JOBS_UNDER_TEST = ("dunning",)
DUE = date(2026, 11, 30)


async def payments(bot: LocalBot) -> list[Payment]:
    async with transaction(bot.runtime.sessions) as session:
        return list((await session.exec(select(Payment).order_by(col(Payment.id)))).all())


async def one_document(bot: LocalBot) -> tuple[Chat, int, list[SandboxMessage]]:
    """Rick's INV-9 of CN¥1,200.00, due today, and its card."""
    rep = await join(bot, 3002, "Rick", Role.REP, "north")
    customer = await add_customer_in(bot.runtime, "north", "Far Harbour Pharma", 3002)
    rid = await add_receivable(bot.runtime, "INV-9", customer=customer, owner_tg=3002,
                               amount="1200", due=DUE)  # fmt: skip
    await at_local(bot, "north", DUE)
    return rep, rid, await rep.send("/collections INV-9")


async def test_a_chinese_rep_confirms_a_payment_in_capital_numerals_with_its_proof(
    local_bot: LocalBot,
) -> None:
    rep = await join(local_bot, 3102, "小王", Role.REP, "north", lang="zh")
    runtime = local_bot.runtime
    customer = await add_customer_in(runtime, "north", "杭州远航医药", 3102)
    first = await add_receivable(runtime, "INV-1", customer=customer, owner_tg=3102,
                                 amount="30000", due=date(2026, 11, 20))  # fmt: skip
    second = await add_receivable(runtime, "INV-2", customer=customer, owner_tg=3102,
                                  amount="40000", due=DUE)  # fmt: skip
    await at_local(local_bot, "north", DUE)
    card = await rep.send("/collections INV-1")
    await rep.tap("部分回款", message_id=card[-1].message_id)
    refused = await rep.send("5万")  # more than INV-1 owes: asked again, nothing recorded
    assert "¥50,000.00" in (refused[0].text or "") and "¥30,000.00" in (refused[0].text or "")
    await rep.tap("取消")
    card = await rep.send("/collections INV-2")
    await rep.tap("部分回款", message_id=card[-1].message_id)
    methods = await rep.send("25000")
    assert methods[-1].button_texts()[:4] == ["银行转账", "现金", "支票", "承兑汇票"]
    receipt = await rep.tap("承兑汇票")
    assert "回款凭证" in (receipt[-1].text or "")
    typed = await rep.send("回单在路上")  # not a photo: asked again
    assert "照片" in (typed[0].text or "")
    confirm = await rep.send_photo(caption="回单")
    text = confirm[-1].text or ""
    assert "确认登记 杭州远航医药 回款 ¥25,000.00？" in text
    assert "大写：贰万伍仟元整" in text
    assert "INV-2：本次回款 ¥25,000.00，回款后余额 ¥15,000.00" in text
    assert "付款方式：承兑汇票" in text and "已附回款凭证" in text
    assert confirm[-1].button_texts()[0] == "✅ 确认登记"
    assert await payments(local_bot) == []  # nothing before the confirmation
    done = await rep.tap("确认登记")
    print(done[-1].text, done[-1].button_texts())
    assert (done[-1].text or "") == (
        "✅ 已登记 杭州远航医药 INV-2 回款 ¥25,000.00，余额 ¥15,000.00。\n付款方式：承兑汇票"
    )
    assert done[-1].button_texts() == ["📂 该客户的全部单据", "⬅️ 返回客户列表"]
    listed = await rep.tap("⬅️ 返回客户列表")
    print(listed[-1].text if listed else (await rep.last_reply()).text)
    [paid] = await payments(local_bot)
    assert paid.amount == Decimal("25000") and paid.method == "acceptance_bill"
    assert paid.receipt_file_id and paid.receivable_id == second
    assert await balance(runtime, second) == Decimal("15000")
    assert await balance(runtime, first) == Decimal("30000")
    async with transaction(runtime.sessions) as session:
        audit = (await session.exec(select(AuditEntry).where(
            col(AuditEntry.action) == "receivable.payment"))).one()  # fmt: skip
    assert audit.after and audit.after["method"] == "acceptance_bill" and audit.after["receipt"]


async def test_cancel_at_the_confirmation_records_nothing(local_bot: LocalBot) -> None:
    rep, rid, card = await one_document(local_bot)
    methods = await rep.tap("Collected in full", message_id=card[-1].message_id)
    assert "How did Far Harbour Pharma pay INV-9?" in (methods[-1].text or "")
    await rep.tap("Cash")
    confirm = await rep.tap("Skip")
    text = confirm[-1].text or ""
    assert "Record CN¥1,200.00 collected from Far Harbour Pharma?" in text
    assert "• INV-9: settled in full" in text and "Method: Cash" in text
    assert "In words" not in text  # capital numerals are for Chinese readers
    assert "No proof of payment attached" in text
    assert confirm[-1].button_texts()[0] == "✅ Confirm"
    assert any("Cancel" in label for label in confirm[-1].button_texts())
    await rep.tap("Cancel")
    assert await payments(local_bot) == []
    assert await balance(local_bot.runtime, rid) == Decimal("1200")


async def test_contacted_without_result_keeps_the_note(local_bot: LocalBot) -> None:
    rep, rid, card = await one_document(local_bot)
    ask = await rep.tap("Contacted, no result", message_id=card[-1].message_id)
    assert "What did Far Harbour Pharma say about INV-9?" in (ask[-1].text or "")
    done = await rep.send("Finance is away until Monday")
    assert "no result yet" in (done[-1].text or "")
    async with transaction(local_bot.runtime.sessions) as session:
        [contact] = (await session.exec(select(CollectionContact))).all()
    assert contact.receivable_id == rid and contact.note == "Finance is away until Monday"


async def test_collection_visit_offers_payment_and_counts(local_bot: LocalBot) -> None:
    """A phone visit whose purpose is collection offers to record the payment, and counts as a
    phone visit in /week."""
    rep, rid, _card = await one_document(local_bot)
    await rep.send("/visit")
    await rep.tap("Far Harbour Pharma")
    await rep.tap("Phone")
    summary = await rep.send("Finance confirmed the transfer for today.")
    fields = await rep.tap("Edit a field", message_id=summary[-1].message_id)
    await rep.tap("Purpose", message_id=fields[-1].message_id)
    await rep.tap("Collection")
    saved = await rep.tap("Save")
    text = saved[-1].text or ""
    assert "Far Harbour Pharma still owes CN¥1,200.00 (1 document)." in text
    assert saved[-1].button_texts() == ["💰 Record a payment"]
    confirmation = saved[-2].message_id
    assert "Visit saved" in (saved[-2].text or "") and saved[-2].button_texts() == []
    await rep.tap("Record a payment", message_id=saved[-1].message_id)
    shown = {m.message_id: m.text or "" for m in await rep.bot_messages()}
    assert "INV-9" in shown[saved[-1].message_id]
    # The documents open in the offer's place: the visit's confirmation is still in the chat.
    assert "Visit saved" in shown[confirmation]
    card = await rep.tap("INV-9", message_id=saved[-1].message_id)
    await rep.tap("Collected in full", message_id=card[-1].message_id)
    await rep.tap("Bank transfer")
    await rep.tap("Skip")
    await rep.tap("Confirm")
    assert await balance(local_bot.runtime, rid) == 0
    week = (await rep.send("/week"))[-1].text or ""
    assert "📞 1/20 phone" in week
    # A visit of another purpose offers nothing.
    await rep.send("/visit")
    await rep.tap("Far Harbour Pharma")
    await rep.tap("Phone")
    await rep.send("Asked about the next order.")
    other = await rep.tap("Save")
    assert other[-1].button_texts() == [] and "still owes" not in (other[-1].text or "")


async def test_an_overdue_customer_starts_the_visit_as_collection(local_bot: LocalBot) -> None:
    """A customer with an overdue document: the visit's purpose starts as collection (one tap
    on the summary changes it) and Save offers the payment — /visit, customer, 📞, note, Save."""
    rep = await join(local_bot, 3012, "李娜", Role.REP, "north", lang="zh")
    customer = await add_customer_in(local_bot.runtime, "north", "远港制药", 3012)
    await add_receivable(local_bot.runtime, "INV-12", customer=customer, owner_tg=3012,
                         amount="800", due=DUE)  # fmt: skip
    await at_local(local_bot, "north", date(2026, 12, 4))
    await rep.send("/visit")
    await rep.tap("远港制药")
    await rep.tap("电话")
    summary = (await rep.send("财务说本周付款。"))[-1].text or ""
    assert "📞 电话拜访 · 催款" in summary and "照片" not in summary, summary
    saved = await rep.tap("保存")
    assert saved[-1].button_texts() == ["💰 登记回款"], saved[-1].button_texts()
    # Not yet due: the purpose comes from the last visit, as before.
    other = await add_customer_in(local_bot.runtime, "north", "近港贸易", 3012)
    await add_receivable(local_bot.runtime, "INV-13", customer=other, owner_tg=3012,
                         amount="500", due=date(2026, 12, 20))  # fmt: skip
    await rep.send("/visit")
    await rep.send("近港")
    await rep.tap("近港贸易")
    await rep.tap("电话")
    summary = (await rep.send("问了下一批订单。"))[-1].text or ""
    assert "催款" not in summary and "老客户回访" in summary, summary
