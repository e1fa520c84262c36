"""Approvals end to end: two levels, rejection with a reason, the ask-for-info round trip,
withdrawal, and every copy of a card edited to show the decision and who made it."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from core.db import transaction
from models.approval import RequestStatus, StepStatus
from models.outbox import OutboxMessage
from sandbox.harness import LocalBot
from tests.approval_helpers import (
    DIRECTOR_2,
    REP,
    audit_of,
    card_of,
    cards,
    expense,
    forge,
    last_text,
    message,
    requests,
    steps,
    team_of,
    text_of,
    texts,
)
from tests.customer_helpers import add_customer

# Only the approvals jobs run here: other areas' reminders would land among the cards.
JOBS_UNDER_TEST = ("approvals_sweep", "approval_delegations")


async def test_two_level_approval_edits_every_copy(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    replies = await expense(people.rep, "3000")
    assert "#2026-0001" in texts(replies) and "Chen Jing (manager)" in texts(replies)
    await local_bot.drain_outbox()

    receipt, manager_card = (await people.manager.bot_messages())[-2:]
    assert receipt.kind == "photo" and "receipt 1 of 1" in (receipt.caption or "")
    card = text_of(manager_card)
    shown = (
        "Expense #2026-0001",
        "Wang Wei",
        "CN¥3,000.00",
        "Travel",
        "Taxi to Hangzhou Huafeng",
        "Receipts: 📎 1",
        "approved this month: none",
        "1. Manager ⏳ → 2. Director",
    )
    for part in shown:
        assert part in card, part
    assert manager_card.button_texts() == [
        "✅ Approve",
        "❌ Reject",
        "❓ Ask for info",
        "📎 Receipts (1)",
        "✍️ Approve with a comment",
    ]  # fmt: skip  (the only manager: nobody to transfer to, so no ↪️ Transfer)

    replies = await people.manager.tap("Approve")
    assert "goes to the directors now (Zhao Min, Qian Li)" in texts(replies)
    await local_bot.drain_outbox()
    assert "step 1 of 2 approved by Chen Jing" in await last_text(people.rep)
    first_copy = await card_of(people.director, 1)
    second_copy = await card_of(people.director_2, 1)
    assert "Waiting for: <b>Director</b>" in text_of(first_copy)
    assert first_copy.button_texts()[-1] == "↪️ Transfer"  # to the other director
    manager_now = await message(people.manager, manager_card.message_id)
    assert manager_now.button_texts() == ["👁 View"] and "Manager ✅ Chen Jing" in text_of(
        manager_now
    )

    # The edit of the other director's copy is slow to arrive: meanwhile they tap their card.
    await local_bot.client.add_fault("slow", "editMessageText", chat_id=DIRECTOR_2, delay=3)
    replies = await people.director.tap("Approve")
    assert "approved #2026-0001. No further approval is needed" in texts(replies)
    replies = await people.director_2.tap("Approve", message_id=second_copy.message_id)
    assert "#2026-0001 was already approved by Zhao Min" in texts(replies)
    await local_bot.drain_outbox()
    assert "Zhao Min <b>approved</b>" in await last_text(people.rep)
    for chat, copy in (
        (people.director, first_copy), (people.director_2, second_copy),
        (people.manager, manager_card),
    ):  # fmt: skip
        now = await message(chat, copy.message_id)
        assert "<b>Approved</b> by Zhao Min" in text_of(now), chat.user_id
        assert now.button_texts() == ["👁 View"]

    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.APPROVED and request.amount_minor == 300_000
    assert [(s.level, s.status) for s in await steps(local_bot, 1)] == [
        ("manager", StepStatus.APPROVED), ("director", StepStatus.APPROVED),
    ]  # fmt: skip
    trail = await audit_of(local_bot, 1)
    assert [e.action for e in trail] == [
        "approval.submitted", "approval.approved", "approval.approved",
    ]  # fmt: skip
    assert trail[1].before == {"status": "pending", "step": 0, "level": "manager"}
    assert trail[1].after == {"status": "pending", "step": 1, "level": "director"}
    assert trail[2].after is not None and trail[2].after["status"] == "approved"


async def test_small_expense_needs_the_manager_only(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "1,999.50")
    await local_bot.drain_outbox()
    replies = await people.manager.tap("Approve")
    assert "No further approval is needed;" in texts(replies)
    (request,) = await requests(local_bot)
    assert request.chain == ["manager"] and request.status == RequestStatus.APPROVED
    assert [m for m in await people.director.bot_messages() if "#2026-0001" in text_of(m)] == []


async def test_rejection_needs_a_reason_and_tells_the_requester(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "800")
    await local_bot.drain_outbox()
    replies = await people.manager.tap("Reject")
    assert "Why do you reject" in texts(replies)
    replies = await people.manager.send_photo()
    assert "Please send text" in texts(replies) or "text" in texts(replies).lower()
    replies = await people.manager.send("Taxi is not covered for trips inside the city.")
    assert "You rejected #2026-0001" in texts(replies)
    await local_bot.drain_outbox()
    notice = await last_text(people.rep)
    assert "Chen Jing <b>rejected</b>" in notice and "not covered" in notice
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.REJECTED
    (step,) = await steps(local_bot, 1)
    assert step.status == StepStatus.REJECTED and "not covered" in step.reason
    assert (await audit_of(local_bot, 1))[-1].reason.startswith("Taxi is not covered")
    card = await card_of(people.manager, 1, with_buttons=False)
    assert "<b>Rejected</b> by Chen Jing" in text_of(card) and card.button_texts() == ["👁 View"]


async def test_ask_for_info_round_trip(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "900")
    await local_bot.drain_outbox()
    first_card = await card_of(people.manager, 1)
    await people.manager.tap("Ask for info")
    replies = await people.manager.send("Which customer was the trip for?")
    assert "question has been sent to Wang Wei" in texts(replies)
    await local_bot.drain_outbox()
    notice = await people.rep.last_reply()
    assert "Which customer was the trip for?" in text_of(notice)
    assert notice.button_texts() == ["💬 Answer", "✏️ Edit and resubmit", "↩️ Withdraw"]
    waiting = await message(people.manager, first_card.message_id)
    assert waiting.button_texts() == ["👁 View"] and "answer to a question" in text_of(waiting)
    # Deciding while the question is open is refused.
    replies = await forge(people.manager, "ap|1|a|0")
    assert "waits for the requester's answer" in texts(replies)

    await people.rep.tap("Answer")
    replies = await people.rep.send("Hangzhou Huafeng, the spring order.")
    assert "answer has been sent" in texts(replies)
    await local_bot.drain_outbox()
    answer_card = await card_of(people.manager, 1)
    assert "Wang Wei answered your question" in text_of(answer_card)
    assert "Hangzhou Huafeng, the spring order." in text_of(answer_card)
    replies = await people.manager.tap("Approve", message_id=answer_card.message_id)
    assert "No further approval is needed;" in texts(replies)
    actions = [e.action for e in await audit_of(local_bot, 1)]
    assert actions == [
        "approval.submitted", "approval.info_requested", "approval.info_answered",
        "approval.approved",
    ]  # fmt: skip


async def test_withdraw_while_pending(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "700")
    await local_bot.drain_outbox()
    manager_card = await card_of(people.manager, 1)
    await people.rep.send("/myrequests")
    await people.rep.tap("#2026-0001")
    replies = await people.rep.tap("Withdraw")
    assert "Withdraw 🧾 Expense #2026-0001" in texts(replies)
    replies = await people.rep.tap("Yes, withdraw")
    assert "#2026-0001 has been withdrawn" in texts(replies)
    await local_bot.drain_outbox()
    now = await message(people.manager, manager_card.message_id)
    assert "<b>Withdrawn</b> by Wang Wei" in text_of(now) and now.button_texts() == ["👁 View"]
    replies = await forge(people.manager, "ap|1|a|0")
    assert "withdrawn by the requester" in texts(replies)
    replies = await forge(people.rep, "apwy|1")
    assert "already withdrawn" in texts(replies)
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.WITHDRAWN
    # The manager's copy and the requester's confirmation, both edited; nothing new was sent.
    assert [card.kind for card, _ in await cards(local_bot, 1)] == ["card", "submitted"]
    (confirmation,) = [m for m in await people.rep.bot_messages() if "has been sent to" in m.text]
    assert confirmation.button_texts() == ["👁 View"]


async def test_discount_card_shows_earlier_discounts_and_the_month(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await add_customer(local_bot.runtime, "north", "Hangzhou Huafeng", owner_tg=REP)
    for list_price, price in (("1000", "900"), ("2000", "1500")):
        await people.rep.send("/discount")
        await people.rep.tap("Hangzhou Huafeng")
        await people.rep.send("Q-7")
        await people.rep.send(list_price)
        await people.rep.send(price)
        await people.rep.send("Competitor offered less")
        await people.rep.tap("Submit")
    await local_bot.drain_outbox()
    await people.manager.tap("Approve", message_id=(await card_of(people.manager, 1)).message_id)
    await people.manager.tap("Approve", message_id=(await card_of(people.manager, 2)).message_id)
    await local_bot.drain_outbox()
    card = text_of(await card_of(people.director, 2))
    assert "Discount: <b>25%</b> (CN¥500.00 off)" in card
    earlier = "1 earlier approved discount, on average 10%; latest: 10% (#2026-0001, Tue 24 Nov)"
    assert earlier in card
    assert "Discount approved this month: CN¥100.00 (1)" in card
    assert "Open balance" not in card  # the customer owes nothing (see test_invoice_rule)


async def test_receipts_as_photos_and_files_reach_the_approver(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await people.rep.send("/expense")
    await people.rep.send("260")
    await people.rep.tap("Meals")
    await people.rep.tap("Today")
    await people.rep.send("Lunch with the buyer")
    await people.rep.send_photo()
    await people.rep.send_document("fapiao.pdf", b"%PDF-1.4 receipt")
    await people.rep.tap("Done")
    await people.rep.tap("Submit")
    await local_bot.drain_outbox()
    photo, document, card = (await people.manager.bot_messages())[-3:]
    assert photo.kind == "photo" and "receipt 1 of 2" in (photo.caption or "")
    assert document.kind == "document" and "receipt 2 of 2" in (document.caption or "")
    assert document.file is not None
    content = await local_bot.client.file_bytes(document.file["file_id"])
    assert content == b"%PDF-1.4 receipt"
    replies = await people.manager.tap("Receipts (2)", message_id=card.message_id)
    assert "Sending the 2 receipts of #2026-0001" in texts(replies)
    await local_bot.drain_outbox()
    assert [m.kind for m in (await people.manager.bot_messages())[-2:]] == ["photo", "document"]


async def edits_of(bot: LocalBot, outbox_id: int) -> int:
    """How many edits of the message ``outbox_id`` were queued."""
    async with transaction(bot.runtime.sessions) as session:
        rows = await session.exec(
            select(OutboxMessage).where(OutboxMessage.edit_of_id == outbox_id)
        )
        return len(rows.all())


async def test_the_requesters_confirmation_loses_withdraw_once_decided(
    local_bot: LocalBot,
) -> None:
    people = await team_of(local_bot)
    (confirmation,) = await expense(people.rep, "3000")
    assert "Chen Jing (manager)" in text_of(confirmation)
    assert confirmation.button_texts() == ["👁 View", "↩️ Withdraw"]
    await local_bot.drain_outbox()

    # Step 1 of 2: still open, still withdrawable; the confirmation is left alone.
    await people.manager.tap("Approve")
    await local_bot.drain_outbox()
    now = await message(people.rep, confirmation.message_id)
    assert now.button_texts() == ["👁 View", "↩️ Withdraw"]
    (kept,) = [row for card, row in await cards(local_bot, 1) if card.kind == "submitted"]
    assert await edits_of(local_bot, kept.id or 0) == 0

    await people.director.tap("Approve")
    await local_bot.drain_outbox()
    now = await message(people.rep, confirmation.message_id)
    assert now.button_texts() == ["👁 View"] and now.text == confirmation.text
    assert await edits_of(local_bot, kept.id or 0) == 1


async def test_a_decision_before_the_confirmation_arrives_still_reaches_it(
    local_bot: LocalBot,
) -> None:
    """The manager rejects while Telegram is slow to accept the requester's confirmation:
    once it is accepted, it is edited at once."""
    people = await team_of(local_bot)
    await expense(people.rep, "300", submit=False)
    await local_bot.client.add_fault("slow", "sendMessage", chat_id=REP, delay=2)
    submitting = asyncio.create_task(people.rep.tap("Submit"))
    async with asyncio.timeout(10):
        while not any("Reject" in str(m.buttons) for m in await people.manager.bot_messages()):
            await asyncio.sleep(0.05)
    await people.manager.tap("Reject")
    await people.manager.send("Over the monthly budget.")
    (confirmation,) = [m for m in await submitting if "has been sent to" in text_of(m)]
    await local_bot.drain_outbox()
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.REJECTED
    now = await message(people.rep, confirmation.message_id)
    assert now.button_texts() == ["👁 View"]
