"""Approvals on par with 钉钉审批: answering a question by typing or by replying to it, and the
additions the requester and approvers expect (comments, resubmission, transfer, CC)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import col, select

from core.clock import ManualClock
from core.db import transaction
from models.approval import ApprovalCc, RequestStatus
from models.common import Role
from sandbox.harness import Chat, LocalBot
from tests.approval_helpers import (
    OTHER_MANAGER,
    OTHER_REP,
    REP,
    audit_of,
    card_of,
    expense,
    forge,
    last_text,
    message,
    requests,
    team_of,
    text_of,
    texts,
)
from tests.customer_helpers import add_customer
from tests.helpers import join, user_by_tg

JOBS_UNDER_TEST = ("approvals_sweep", "approval_delegations")


async def _ask(bot: LocalBot, approver: Chat, request_id: int, question: str) -> None:
    card = await card_of(approver, request_id)
    await approver.tap("Ask for info", message_id=card.message_id)
    await approver.send(question)
    await bot.drain_outbox()


async def test_typed_answer_to_the_only_open_question(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "900")
    await local_bot.drain_outbox()
    await _ask(local_bot, people.manager, 1, "Which customer was the trip for?")

    replies = await people.rep.send("Hangzhou Huafeng, the spring order.")
    assert "answer has been sent" in texts(replies) and "#2026-0001" in texts(replies)
    assert "understand" not in texts(replies)
    await local_bot.drain_outbox()
    card = text_of(await card_of(people.manager, 1))
    assert "Wang Wei answered your question" in card and "the spring order" in card
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.PENDING
    trail = await audit_of(local_bot, 1)
    assert [e.action for e in trail][-1] == "approval.info_answered"
    assert trail[-1].reason == "Hangzhou Huafeng, the spring order."

    # Nothing waits for an answer any more: a stray text is not taken as one.
    replies = await people.rep.send("thanks")
    assert "answer has been sent" not in texts(replies)


async def test_answer_by_replying_when_two_questions_are_open(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "900")
    await expense(people.rep, "400")
    await local_bot.drain_outbox()
    await _ask(local_bot, people.manager, 1, "Which customer was the trip for?")
    await _ask(local_bot, people.manager, 2, "Was this the same trip?")

    # Typed without a reply: the bot cannot know which, and says how to choose.
    replies = await people.rep.send("Huafeng")
    assert "2 of your requests wait for your answer" in texts(replies)
    assert replies[-1].button_texts() == ["💬 Answer #2026-0001", "💬 Answer #2026-0002"]
    assert [r.status for r in await requests(local_bot)] == [RequestStatus.INFO] * 2

    # Swipe-to-reply on the question about #2 answers #2, even with a form open meanwhile.
    question = next(
        m for m in reversed(await people.rep.bot_messages())
        if "Was this the same trip?" in text_of(m)
    )  # fmt: skip
    await people.rep.send("/expense")
    replies = await people.rep.reply(question.message_id, "Yes, the return ride.")
    assert "answer has been sent; #2026-0002" in texts(replies)
    first, second = await requests(local_bot)
    assert first.status == RequestStatus.INFO and second.status == RequestStatus.PENDING
    assert (await audit_of(local_bot, 2))[-1].reason == "Yes, the return ride."

    # Now one question is left: typing answers it.
    await people.rep.send("/cancel")
    replies = await people.rep.send("Huafeng, the spring order.")
    assert "answer has been sent; #2026-0001" in texts(replies)
    assert (await audit_of(local_bot, 1))[-1].action == "approval.info_answered"


async def test_approve_with_a_comment(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "3000")
    await local_bot.drain_outbox()
    replies = await people.manager.tap("Approve with a comment")
    assert "Send your comment" in texts(replies)
    replies = await people.manager.send("OK this time; book the train next time.")
    assert "goes to the directors now" in texts(replies)
    await local_bot.drain_outbox()
    notice = text_of(await people.rep.last_reply())
    assert "step 1 of 2 approved by Chen Jing" in notice
    assert "Comment: <i>OK this time; book the train next time.</i>" in notice
    card = text_of(await card_of(people.director, 1))
    assert "approved — <i>OK this time; book the train next time.</i>" in card

    # The director approves with one tap: no comment, none on the requester's notice.
    await people.director.tap("Approve")
    await local_bot.drain_outbox()
    assert "Comment" not in text_of(await people.rep.last_reply())
    trail = await audit_of(local_bot, 1)
    assert [(e.action, e.reason) for e in trail] == [
        ("approval.submitted", ""),
        ("approval.approved", "OK this time; book the train next time."),
        ("approval.approved", ""),
    ]


async def test_edit_and_resubmit_after_a_rejection(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "800")
    await local_bot.drain_outbox()
    await people.manager.tap("Reject")
    await people.manager.send("Too much for a taxi; split it by trip.")
    await local_bot.drain_outbox()

    replies = await people.rep.tap("Edit and resubmit")
    summary = texts(replies)
    assert summary.startswith(
        "✏️ Editing #2026-0001 · Reason for rejection: "
        "<i>Too much for a taxi; split it by trip.</i>"
        "\n🧾 <b>Expense</b> — please check:"
    )
    assert "CN¥800.00" in summary and "Taxi to Hangzhou Huafeng" in summary and "📎 1" in summary
    await people.rep.tap("Change something")
    await people.rep.tap("Amount")
    await people.rep.send("450")
    replies = await people.rep.tap("Submit")
    assert "#2026-0002" in texts(replies)
    await local_bot.drain_outbox()

    first, second = await requests(local_bot)
    assert first.status == RequestStatus.REJECTED and first.amount_minor == 80_000
    assert second.status == RequestStatus.PENDING and second.amount_minor == 45_000
    assert second.details["description"] == first.details["description"]
    card = text_of(await card_of(people.manager, 2))
    assert "CN¥450.00" in card
    assert "Wang Wei: ✏️ resubmitted #2026-0001 with changes: Amount CN¥800.00 → CN¥450.00" in card
    assert "Receipts: 📎 1" in card
    old = await audit_of(local_bot, 1)
    assert old[-1].action == "approval.resubmitted" and old[-1].after is not None
    assert old[-1].after["resubmitted_as"] == 2
    assert [e.action for e in await audit_of(local_bot, 2)] == [
        "approval.submitted", "approval.resubmission",
    ]  # fmt: skip


async def test_resubmit_in_chinese_says_why_and_what_changed(local_bot: LocalBot) -> None:
    manager = await join(local_bot, 5002, "陈静", Role.MANAGER, "north", lang="zh")
    rep = await join(local_bot, REP, "王伟", Role.REP, "north", lang="zh")
    await _expense_zh(rep, "8000")
    await rep.tap("提交")
    await local_bot.drain_outbox()
    await manager.tap(
        "驳回", message_id=(await card_of(manager, 1, with_buttons=False)).message_id
    )
    await manager.send("金额太高，请按实际拆分")
    await local_bot.drain_outbox()

    summary = texts(await rep.tap("修改后重新提交"))
    assert summary.startswith("✏️ 修改 #2026-0001 · 驳回原因：<i>金额太高，请按实际拆分</i>\n")
    await rep.tap("修改")
    await rep.tap("金额")
    await rep.send("6000")
    await rep.tap("提交")
    await local_bot.drain_outbox()
    card = text_of(await card_of(manager, 2, with_buttons=False))
    assert "王伟：✏️ 修改 #2026-0001 后重新提交：金额 ¥8,000.00 → ¥6,000.00" in card
    opened = texts(await rep.tap("查看", message_id=(await rep.last_reply()).message_id))
    assert "金额 ¥8,000.00 → ¥6,000.00" in opened
    (entry,) = [e for e in await audit_of(local_bot, 2) if e.action == "approval.resubmission"]
    assert entry.after is not None and entry.after["changes"] == [["amount", "8000.00", "6000.00"]]


async def test_resubmit_instead_of_answering_closes_the_question(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "900")
    await local_bot.drain_outbox()
    await _ask(local_bot, people.manager, 1, "Is this one trip or two?")
    await people.rep.tap("Edit and resubmit")
    await people.rep.tap("Submit")
    await local_bot.drain_outbox()
    first, second = await requests(local_bot)
    assert first.status == RequestStatus.WITHDRAWN and second.status == RequestStatus.PENDING
    assert "edited and resubmitted as #2026-0002" in text_of(
        await card_of(people.manager, 1, with_buttons=False)
    )
    # The old question is gone: a typed text is no answer to anything now.
    replies = await people.rep.send("one trip")
    assert "answer has been sent" not in texts(replies)


async def _discount(chat: Chat, customer: str, list_price: str, price: str) -> None:
    await chat.send("/discount")
    await chat.tap(customer)
    await chat.send("Q-7")
    await chat.send(list_price)
    await chat.send(price)
    await chat.send("Competitor offered less")
    await chat.tap("Submit")


async def test_cards_and_lists_show_names_not_ids(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await add_customer(local_bot.runtime, "north", "Hangzhou Huafeng", owner_tg=REP)
    south_rep = await join(local_bot, OTHER_REP, "Li Na", Role.REP, "south")
    await join(local_bot, OTHER_MANAGER, "Sun Hao", Role.MANAGER, "south")
    await _discount(people.rep, "Hangzhou Huafeng", "100000", "77000")
    replies = await expense(south_rep, "300")
    assert "Request #2026-0001 has been sent" in texts(replies)  # numbers are per team
    replies = await expense(people.rep, "900")
    assert "Request #2026-0002 has been sent" in texts(replies)
    await local_bot.drain_outbox()
    assert [(r.team_id, r.number) for r in await requests(local_bot)] == [
        (1, "2026-0001"), (2, "2026-0001"), (1, "2026-0002"),
    ]  # fmt: skip

    card = text_of(await card_of(people.manager, 1))
    assert "🏷 <b>Discount #2026-0001</b>" in card
    assert "Customer: Hangzhou Huafeng" in card and "#C" not in card
    assert "Discount: <b>23%</b> (CN¥23,000.00 off)" in card

    clock = local_bot.runtime.clock
    assert isinstance(clock, ManualClock)
    await clock.advance(timedelta(days=2))
    listing = (await people.rep.send("/myrequests"))[-1]
    lines = text_of(listing).splitlines()
    # (Two days without a decision: the sweep handed both to the directors meanwhile.)
    assert lines[1] == "⏳ #2026-0002 🧾 Expense · CN¥900.00 · 2 days ago — waiting · Director"
    assert lines[2] == (
        "⏳ #2026-0001 🏷 Discount · Hangzhou Huafeng · 23% off · 2 days ago — waiting · Director"
    )
    assert listing.button_texts() == ["#2026-0002", "#2026-0001"]
    pending = text_of((await people.director.send("/pending"))[-1])
    assert "#2026-0001 🏷 Discount · Wang Wei · Hangzhou Huafeng · 23% off" in pending
    assert "#1 " not in pending and "#C" not in pending

    # The director reads Chinese: the same list, the same numbers.
    await people.director.send("/lang")
    await people.director.tap("中文")
    pending = text_of((await people.director.send("/pending"))[-1])
    assert "#2026-0001 🏷 折扣申请 · Wang Wei · Hangzhou Huafeng · 优惠 23% · 2 天前" in pending


async def test_transfer_to_another_manager_moves_the_card(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    other = await join(local_bot, OTHER_MANAGER, "Sun Hao", Role.MANAGER, "south")
    await expense(people.rep, "900")
    await local_bot.drain_outbox()
    old = await card_of(people.manager, 1)
    approve = next(b.callback_data for row in old.buttons for b in row if b.text == "✅ Approve")
    assert approve is not None

    replies = await people.manager.tap("Transfer", message_id=old.message_id)
    assert "Transfer: 🧾 Expense #2026-0001 · CN¥900.00\nWho should decide" in texts(replies)
    assert replies[-1].button_texts()[:1] == ["Sun Hao"]  # managers only, not the directors
    assert "Zhao Min" not in replies[-1].button_texts()
    await people.manager.tap("Sun Hao")
    replies = await people.manager.send("On a business trip until Friday")
    assert "You transferred #2026-0001 to Sun Hao. Wang Wei has been told." in texts(replies)
    await local_bot.drain_outbox()

    card = await card_of(other, 1)
    assert "Chen Jing transferred this request to you." in text_of(card)
    assert "Reason: <i>On a business trip until Friday</i>" in text_of(card)
    assert "Waiting for: <b>Sun Hao</b> (Manager, step 1 of 1)" in text_of(card)
    edited = await message(people.manager, old.message_id)
    assert "✅ Approve" not in edited.button_texts() and "↪️ Transfer" not in edited.button_texts()
    assert "Chen Jing: ↪️ transferred to Sun Hao — <i>On a business trip" in text_of(edited)
    notice = await last_text(people.rep)
    assert "Chen Jing transferred it to Sun Hao, who decides it now." in notice
    assert "Reason: <i>On a business trip until Friday</i>" in notice
    (entry,) = [e for e in await audit_of(local_bot, 1) if e.action == "approval.transferred"]
    assert entry.reason == "On a business trip until Friday" and entry.after is not None
    sun = await user_by_tg(local_bot.runtime, OTHER_MANAGER)
    assert sun is not None and entry.after["to"] == sun.id
    assert "#2026-0001" in texts(await other.send("/pending"))
    assert "nothing waits" in texts(await people.manager.send("/pending")).lower()

    # A stale button on the old card gets a friendly answer, and decides nothing.
    replies = await people.manager.tap_data(old.message_id, approve, forged=True)
    assert "#2026-0001 has been transferred to Sun Hao; they decide it now." in texts(replies)
    assert (await requests(local_bot))[0].status == RequestStatus.PENDING

    await other.tap("Approve", message_id=card.message_id)
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.APPROVED
    assert request.decided_by_id == entry.after["to"]


async def test_transfer_racing_a_decision_records_one(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await join(local_bot, 5007, "Zhou Min", Role.DIRECTOR, None)
    await expense(people.rep, "5000")
    await local_bot.drain_outbox()
    await people.manager.tap("Approve")
    await local_bot.drain_outbox()
    await people.director.tap(
        "Transfer", message_id=(await card_of(people.director, 1)).message_id
    )
    await people.director.tap("Zhou Min")
    first, second = await asyncio.gather(
        people.director.tap("Skip"), people.director_2.tap("Approve")
    )
    answers = texts(first) + texts(second)
    trail = [e.action for e in await audit_of(local_bot, 1)]
    (request,) = await requests(local_bot)
    if "approval.transferred" in trail:
        assert trail.count("approval.approved") == 1  # the manager's only
        assert request.status == RequestStatus.PENDING
        assert "has been transferred to Zhou Min" in answers
    else:
        assert trail.count("approval.approved") == 2
        assert request.status == RequestStatus.APPROVED
        assert "was already approved by Qian Li" in answers


async def test_cc_gets_a_copy_and_the_outcome(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    colleague = await join(local_bot, 5008, "Liu Yang", Role.REP, "north")
    # [teams.north.approvals.cc] expense = ["director"], as config.toml would say.
    local_bot.runtime.settings.team("north").approvals.cc["expense"] = ["director"]
    await expense(people.rep, "900", submit=False)
    replies = await people.rep.tap("CC someone")
    assert "Who should get a copy (CC)?" in texts(replies)
    assert (
        "Liu Yang" in replies[-1].button_texts() and "Wang Wei" not in replies[-1].button_texts()
    )
    picker = replies[-1]
    # A multi-select, as in 钉钉: ticking a name edits the list in place; Done goes back once.
    await people.rep.tap("Liu Yang", message_id=picker.message_id)
    ticked = await message(people.rep, picker.message_id)
    assert "✅ Liu Yang" in ticked.button_texts() and "✔️ Done" in ticked.button_texts()
    replies = await people.rep.tap("Done", message_id=picker.message_id)
    assert "👥 CC: Liu Yang" in texts(replies)
    replies = await people.rep.tap("Submit")
    assert "👥 CC: Liu Yang, Zhao Min, Qian Li" in texts(replies)
    await local_bot.drain_outbox()

    # The approver sees who else reads along, as on a 钉钉 card.
    manager_card = text_of(await card_of(people.manager, 1))
    assert "\n👥 CC: Liu Yang, Zhao Min, Qian Li\n" in manager_card
    copy = await card_of(colleague, 1, with_buttons=False)
    assert "👥 CC: Liu Yang, Zhao Min, Qian Li" in text_of(copy)
    assert "CC from Wang Wei</b>: for your information, no decision needed." in text_of(copy)
    assert copy.button_texts() == ["👁 View"]
    director_copy = await card_of(people.director, 1, with_buttons=False)
    assert "✅ Approve" not in director_copy.button_texts()
    assert "#2026-0001" in texts(await colleague.send("/cc"))

    await people.manager.tap("Reject")
    await people.manager.send("Take the bus next time")
    await local_bot.drain_outbox()
    line = await last_text(colleague)
    assert line == (
        "👥 CC: 🧾 Expense #2026-0001 · CN¥900.00 was <b>rejected</b> by Chen Jing. "
        "Reason: <i>Take the bus next time</i>"
    )
    assert "CC: 🧾 Expense #2026-0001" in await last_text(people.director)
    edited = await message(colleague, copy.message_id)
    assert "❌" in text_of(edited) and "Chen Jing" in text_of(edited)
    async with transaction(local_bot.runtime.sessions) as session:
        rows = (await session.exec(select(ApprovalCc).order_by(col(ApprovalCc.id)))).all()
    assert [row.source for row in rows] == ["chosen", "config", "config"]
    opened = texts(await colleague.tap("View", message_id=copy.message_id))
    assert "Take the bus next time" in opened


async def _expense_zh(rep: Chat, amount: str) -> None:
    """/expense in Chinese, up to its summary."""
    await rep.send("/expense")
    await rep.send(amount)
    await rep.tap("差旅")
    await rep.tap("今天")
    await rep.send("打车去华丰")
    await rep.send_photo()
    await rep.tap("完成")


async def test_a_chinese_office_reads_whose_request_and_what_to_do_next(
    local_bot: LocalBot,
) -> None:
    """What a team coming from 钉钉审批 checks first: the CC list does not offer the person who
    will approve anyway, /pending and /cc say whose request each line is, a question says it can
    be answered by typing, and a stale 撤回 says why nothing more can be done."""
    manager = await join(local_bot, 5002, "陈静", Role.MANAGER, "north", lang="zh")
    rep = await join(local_bot, REP, "王伟", Role.REP, "north", lang="zh")
    colleague = await join(local_bot, OTHER_REP, "张磊", Role.REP, "north", lang="zh")
    await _expense_zh(rep, "800")
    replies = await rep.tap("抄送")
    assert replies[-1].button_texts() == ["张磊", "✔️ 确定", "取消 ✖"]
    assert "选好后点“确定”" in texts(replies)
    await rep.tap("张磊")
    assert replies[-1].message_id == (await rep.last_reply()).message_id  # edited, not re-sent
    assert (await rep.last_reply()).button_texts()[0] == "✅ 张磊"
    await rep.tap("确定")
    submitted = (await rep.tap("提交"))[-1]
    assert "已提交给 陈静（经理）" in text_of(submitted) and "👥 抄送：张磊" in text_of(submitted)
    await local_bot.drain_outbox()

    pending = texts(await manager.send("/pending"))
    assert "⏳ #2026-0001 🧾 费用报销 · 王伟 · ¥800.00 · 今天 · 待审批 · 经理" in pending
    assert " — " not in pending
    listed = texts(await colleague.send("/cc"))
    assert "<b>抄送给我的申请</b>" in listed
    assert "#2026-0001 🧾 费用报销 · 王伟 · ¥800.00" in listed
    assert "王伟" not in texts(await rep.send("/myrequests"))

    card = await card_of(manager, 1, with_buttons=False)
    assert "\n👥 抄送：张磊\n" in text_of(card)
    # One level: the status says it once; no "（第 1/1 级）" and no route line repeating it.
    assert "⏳ 等待<b>经理</b>审批\n" in text_of(card) and "🧭" not in text_of(card)
    assert "票据：1 张" in text_of(card)
    # The only manager there is: no 转交 that could only answer "nobody to transfer to".
    assert card.button_texts() == [
        "✅ 批准", "❌ 驳回", "❓ 要求补充", "📎 票据（1）", "✍️ 批准并填写审批意见",
    ]  # fmt: skip
    await manager.tap("要求补充", message_id=card.message_id)
    await manager.send("哪天去的？")
    await local_bot.drain_outbox()
    assert "直接输入回复即可，也可以点“回复”。" in await last_text(rep)
    assert "已重新交由 陈静 审批" in texts(await rep.send("11月23日上午"))
    await local_bot.drain_outbox()
    card = await card_of(manager, 1, with_buttons=False)
    assert "批准" in "".join(card.button_texts())
    await manager.tap("✅ 批准", message_id=card.message_id)
    await local_bot.drain_outbox()

    # Decided: the confirmation's 撤回 is gone; a tap already on its way gets a true answer.
    assert (await message(rep, submitted.message_id)).button_texts() == ["👁 查看"]
    replies = await rep.tap_data(submitted.message_id, "apw|1", forged=True)
    assert texts(replies) == "#2026-0001 已批准，审批已结束，不能再撤回或回复。"
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.APPROVED


async def test_decided_view_lists_what_the_approver_decided(local_bot: LocalBot) -> None:
    """钉钉's 已处理: from /pending, the requests the approver decided, most recent first, each
    opening read-only; nobody else's decisions, and not for reps."""
    people = await team_of(local_bot)
    other = await join(local_bot, OTHER_MANAGER, "Sun Hao", Role.MANAGER, "south")
    for amount in ("300", "400", "500"):
        await expense(people.rep, amount)
    await local_bot.drain_outbox()
    clock = local_bot.runtime.clock
    assert isinstance(clock, ManualClock)
    await people.manager.tap("Approve", message_id=(await card_of(people.manager, 2)).message_id)
    await clock.advance(timedelta(minutes=5))
    await people.manager.tap("Reject", message_id=(await card_of(people.manager, 1)).message_id)
    await people.manager.send("Not a business trip")
    await local_bot.drain_outbox()

    listing = (await people.manager.send("/pending"))[-1]
    assert listing.button_texts() == ["#2026-0003", "✅ Decided"]
    replies = await people.manager.tap("Decided", message_id=listing.message_id)
    lines = text_of(replies[-1]).splitlines()
    assert lines[0] == "✅ <b>Decided by you</b> (most recent first); tap a number to open one:"
    assert lines[1].startswith("❌ #2026-0001 🧾 Expense · Wang Wei · CN¥300.00")
    assert lines[2].startswith("✅ #2026-0002 🧾 Expense · Wang Wei · CN¥400.00")
    assert replies[-1].button_texts() == ["#2026-0001", "#2026-0002"]
    opened = (await people.manager.tap("#2026-0001", message_id=replies[-1].message_id))[-1]
    assert "Not a business trip" in text_of(opened)
    assert "✅ Approve" not in opened.button_texts() and "↩️ Withdraw" not in opened.button_texts()

    # Another team's manager decided nothing; a rep has no such list.
    replies = await other.send("/pending")
    assert replies[-1].button_texts() == ["✅ Decided"]
    replies = await other.tap("Decided")
    assert texts(replies) == "You have not approved or rejected any request yet."
    replies = await forge(people.rep, "apd")
    assert "Decided by you" not in texts(replies) and "#2026-0001" not in texts(replies)

    # Nothing of this reached the director (one level each): an empty 已处理, in Chinese.
    await people.director.send("/lang")
    await people.director.tap("中文")
    replies = await people.director.tap(
        "已处理", message_id=((await people.director.send("/pending"))[-1].message_id)
    )
    assert texts(replies) == "您还没有批准或驳回过申请。"
