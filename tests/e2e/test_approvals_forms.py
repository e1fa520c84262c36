"""Every request type, submitted through its shortcut with a bad value at each field first:
each bad value is answered with what was wrong and the field is asked again."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from models.approval import RequestStatus
from models.common import Role
from sandbox.harness import Chat, LocalBot
from tests.approval_helpers import REP, requests, team_of, text_of, texts
from tests.customer_helpers import add_customer
from tests.helpers import join


@dataclass(frozen=True)
class Step:
    """One field: bad answers with the error each must produce, then the good answer."""

    good: str
    bad: list[tuple[str, str]] = field(default_factory=list)
    how: str = "send"  # "send", "tap", "photo" or "skip"


# Only the approvals jobs run here: other areas' reminders would land among the cards.
JOBS_UNDER_TEST = ("approvals_sweep", "approval_delegations")

LONG = "x" * 501
OTHER_TEAM = "#C{other}"

TYPES: dict[str, tuple[list[Step], list[str]]] = {
    "expense": (
        [
            Step("1,280.50", [("-50", "cannot be negative"), ("0", "more than zero"),
                              ("abc", "not an amount"), ("99999999999", "looks like a typo"),
                              ("12.345", "two decimals"), ("1,23", "cannot read that amount")]),
            Step("Meals", [("food", "use the buttons")], how="tap"),
            Step("Yesterday", [("tomorrow", "in the future"), ("banana", "cannot read that date"),
                               ("2026-01-02", "more than 90 days ago")], how="tap"),
            Step("Client dinner, 4 people", [("<photo>", "type your answer as text")]),
            Step("<photo>", [("here it is", "A receipt is required")], how="photo"),
        ],
        ["CN¥1,280.50", "Meals", "Client dinner, 4 people", "Receipts: 📎 1"],
    ),
    "discount": (
        [
            Step("Hangzhou Huafeng", [("Nowhere Trading", "No customer of your team matches"),
                                      (OTHER_TEAM, "not found among your team")], how="tap"),
            Step("Q-2026-118", [("R" * 101, "keep it under 100")]),
            Step("10000", [("-1", "cannot be negative"), ("0", "more than zero"),
                           ("ten thousand", "not an amount")]),
            Step("8,000", [("12000", "above the list price"), ("10000", "equals the list price"),
                           ("cheap", "neither an amount nor a discount"),
                           ("150%", "cannot read “150%” as a discount")]),
            Step("", how="skip"),
        ],
        ["Hangzhou Huafeng", "Q-2026-118", "CN¥10,000.00", "CN¥8,000.00", "<b>20%</b>",
         "Manager → Director"],
    ),
    "fee": (
        [
            Step("Hangzhou Huafeng", how="tap"),
            Step("¥3000", [("1e5", "not an amount"), ("0.001", "two decimals"),
                           ("-200", "cannot be negative")]),
            Step("Exhibition booth at the spring fair", [(LONG, "keep it under 500")]),
        ],
        ["CN¥3,000.00", "Exhibition booth", "Goes to: Manager"],
    ),
    "bid": (
        [
            Step("Hangzhou Huafeng", how="tap"),
            Step("80万", [("-5万", "cannot be negative"), ("999999999", "looks like a typo"),
                         ("lots", "not an amount")]),
            Step("In 7 days", [("yesterday", "has passed"), ("2028-06-01", "more than 366 days"),
                               ("soonish", "cannot read that date")], how="tap"),
            Step("", how="skip"),
        ],
        ["CN¥800,000.00", "Manager → Director"],
    ),
    "return": (
        [
            Step("Hangzhou Huafeng", how="tap"),
            Step("Pump P-200", [(LONG, "keep it under 500")]),
            Step("3", [("0", "between 1 and"), ("-3", "between 1 and"), ("two", "between 1 and"),
                       ("2.5", "between 1 and")]),
            Step("Leaking seal after a week", [("<photo>", "type your answer as text")]),
        ],
        ["Pump P-200", "Quantity: 3", "Leaking seal", "Goes to: Manager"],
    ),
    "invoice": (
        [
            Step("Hangzhou Huafeng", how="tap"),
            Step("HT-2026-042", [("H" * 101, "keep it under 100")]),
            Step("45000", [("12,34", "cannot read that amount"), ("0", "more than zero"),
                           ("-45000", "cannot be negative"), ("abc", "not an amount")]),
        ],
        ["HT-2026-042", "CN¥45,000.00", "Goes to: Manager"],
    ),
}  # fmt: skip


async def answer(chat: Chat, how: str, value: str) -> str:
    if value == "<photo>":
        return texts(await chat.send_photo())
    if how == "tap":
        return texts(await chat.tap(value))
    return texts(await chat.send(value))


@pytest.mark.parametrize("command", list(TYPES))
async def test_each_type_refuses_bad_values_then_submits(
    local_bot: LocalBot, command: str
) -> None:
    people = await team_of(local_bot)
    await add_customer(local_bot.runtime, "north", "Hangzhou Huafeng", owner_tg=REP)
    other = await add_customer(local_bot.runtime, "south", "Berlin Bau GmbH")
    fields, summary = TYPES[command]
    reply = texts(await people.rep.send(f"/{command}"))
    assert "1/" in reply
    for step in fields:
        for bad, error in step.bad:
            reply = await answer(people.rep, "send", bad.format(other=other.id))
            assert error in reply, (command, bad, reply)
            # The same field is asked again, with its buttons.
            buttons = (await people.rep.last_reply()).button_texts()
            assert any("Cancel" in label for label in buttons), buttons
        if step.how == "skip":
            reply = texts(await people.rep.tap("Skip"))
        elif step.how == "photo":
            await people.rep.send_photo()
            reply = texts(await people.rep.tap("Done"))
        else:
            reply = await answer(people.rep, step.how, step.good)
    assert "please check" in reply
    for shown in summary:
        assert shown in reply, (command, shown, reply)
    replies = await people.rep.tap("Submit")
    assert "Request #2026-0001 has been sent" in texts(replies)
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.PENDING
    await local_bot.drain_outbox()
    card = await people.manager.last_reply()
    assert "#2026-0001</b>" in text_of(card) and "✅ Approve" in card.button_texts()


async def test_errors_are_in_the_requesters_language(local_bot: LocalBot) -> None:
    manager = await join(local_bot, 5002, "陈静", Role.MANAGER, "north", lang="zh")
    rep = await join(local_bot, 5001, "王伟", Role.REP, "north", lang="zh")
    reply = texts(await rep.send("/expense"))
    assert "花了多少钱（元）" in reply
    assert "金额不能为负数" in texts(await rep.send("-5"))
    assert "这不是金额" in texts(await rep.send("很多"))
    await rep.send("２，０００元")
    await rep.tap("差旅")
    await rep.tap("今天")
    await rep.send("出租车")
    assert "必须提供票据" in texts(await rep.send("没有票"))
    await rep.send_photo()
    summary = texts(await rep.tap("完成"))
    assert "¥2,000.00" in summary and "经理" in summary
    assert "已提交给 陈静（经理）" in texts(await rep.tap("提交"))
    await local_bot.drain_outbox()
    card = await manager.last_reply()
    assert "费用报销 #2026-0001" in text_of(card) and "金额：<b>¥2,000.00</b>" in text_of(card)
    assert "类别：✈️ 差旅" in text_of(card) and "本月已批准的费用报销：暂无" in text_of(card)
    assert card.button_texts()[:3] == ["✅ 批准", "❌ 驳回", "❓ 要求补充"]
    await manager.tap("驳回")
    await manager.send("请走差旅系统")
    await local_bot.drain_outbox()
    assert "被 陈静 <b>驳回</b>" in text_of(await rep.last_reply())


async def _discount_to_list_price(chat: Chat, customer: str, reference: str, price: str) -> str:
    """Open /discount and answer up to the list price; what the bot asked next."""
    await chat.send("/discount")
    await chat.tap(customer)
    await chat.send(reference)
    return texts(await chat.send(price))


async def test_edit_a_field_from_the_summary(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await add_customer(local_bot.runtime, "north", "Hangzhou Huafeng", owner_tg=REP)
    rep = people.rep
    await _discount_to_list_price(rep, "Hangzhou Huafeng", "Q-1", "1000")
    await rep.send("900")
    summary = texts(await rep.tap("Skip"))
    assert "10%" in summary and "Goes to: Manager\n" in summary + "\n"
    await rep.tap("Change something")
    await rep.tap("List price")
    # A list price below the requested price sends the rep to the requested price.
    reply = texts(await rep.send("800"))
    assert "above the list price" in reply and "price you want to give" in reply
    summary = texts(await rep.send("500"))
    assert "37.5%" in summary and "Manager → Director" in summary
    await rep.tap("Submit")
    (request,) = await requests(local_bot)
    assert request.chain == ["manager", "director"] and request.discount_bp == 3750
    assert request.details["list_price"] == "800.00" and request.amount_minor == 30_000


async def test_back_to_the_summary_keeps_the_draft(local_bot: LocalBot) -> None:
    """A field opened from the summary offers Back as well as Cancel: Back returns to the
    summary with the draft as it was (receipts cleared for re-sending come back too)."""
    await join(local_bot, 5002, "陈静", Role.MANAGER, "north", lang="zh")
    rep = await join(local_bot, 5001, "王伟", Role.REP, "north", lang="zh")
    await add_customer(local_bot.runtime, "north", "杭州华丰", owner_tg=5001)
    await _discount_to_list_price(rep, "杭州华丰", "Q-1", "1000")
    await rep.send("900")
    summary = texts(await rep.tap("跳过"))
    assert "¥900.00" in summary and "10%" in summary
    await rep.tap("✏️ 修改")
    asked = await rep.tap("申请价")
    assert "💰 申请价" in texts(asked)
    assert asked[-1].button_texts() == ["↩️ 返回汇总", "取消 ✖"]
    back = texts(await rep.tap("↩️ 返回汇总"))
    assert "请核对" in back and "¥900.00" in back and "10%" in back and "已取消" not in back
    closed = [m for m in await rep.messages() if m.message_id == asked[-1].message_id]
    assert "✓ ↩️ 返回汇总" in text_of(closed[0]) and not closed[0].button_texts()
    # Typing the label works too, after a change typed halfway is refused.
    await rep.tap("✏️ 修改")
    await rep.tap("申请价")
    assert "高于标准价" in texts(await rep.send("1200"))
    assert "¥900.00" in texts(await rep.send("返回汇总"))
    assert "已提交" in texts(await rep.tap("提交"))
    (request,) = await requests(local_bot)
    assert request.details["requested_price"] == "900.00"
    # Receipts are cleared when the rep chooses to send them again; Back brings them back.
    await rep.send("/expense")
    await rep.send("300")
    await rep.tap("交通")
    await rep.tap("今天")
    await rep.send("出租车")
    await rep.send_photo()
    assert "票据：1 张" in texts(await rep.tap("完成"))
    await rep.tap("✏️ 修改")
    await rep.tap("票据")
    assert "票据：1 张" in texts(await rep.tap("返回汇总"))
    assert "已提交" in texts(await rep.tap("提交"))
    assert len(await requests(local_bot)) == 2


async def test_a_half_filled_request_survives_a_restart(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await people.rep.send("/request")
    await people.rep.tap("Expense")
    await people.rep.send("650")
    await local_bot.restart()
    reply = texts(await people.rep.tap("Transport"))
    assert "When did you spend it" in reply


async def test_only_reps_and_managers_request(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    reply = texts(await people.director.send("/expense"))
    assert "not available for your role" in reply
    reply = texts(await people.manager.send("/expense"))
    assert "How much did you spend" in reply


async def test_typing_a_buttons_label_works_like_tapping_it(local_bot: LocalBot) -> None:
    """One-handed, people type "完成" or "skip" rather than find the button."""
    manager = await join(local_bot, 5002, "陈静", Role.MANAGER, "north", lang="zh")
    rep = await join(local_bot, 5001, "王伟", Role.REP, "north", lang="zh")
    assert manager.user_id == 5002
    await rep.send("/expense")
    await rep.send("300")
    await rep.send("交通")  # the category button "🚕 交通"
    await rep.send("今天")
    await rep.send("出租车")
    await rep.send_photo()
    summary = texts(await rep.send("完成"))  # "✅ 完成"
    assert "类别：🚕 交通" in summary and "票据：1 张" in summary, summary
    assert "已提交" in texts(await rep.send("提交"))
    (request,) = await requests(local_bot)
    assert request.details["category"] == "transport"
    # Skip and Cancel too, without their emoji; and in any case in English.
    await add_customer(local_bot.runtime, "north", "Hangzhou Huafeng", owner_tg=5001)
    await rep.send("/discount")
    await rep.send("hangzhou huafeng")
    await rep.send("Q-9")
    await rep.send("100")
    await rep.send("90")
    assert "请核对" in texts(await rep.send("跳过")), "skip by its label"
    assert "已取消" in texts(await rep.send("取消"))
    assert len(await requests(local_bot)) == 1
    await rep.send("/lang")
    await rep.tap("English")
    await rep.send("/fee")
    assert "Cancelled" in texts(await rep.send("CANCEL"))


async def test_discount_request_reads_9zhe_and_percent_words(local_bot: LocalBot) -> None:
    """A requested price typed as a discount is read, repeated as read, and stored as a price."""
    people = await team_of(local_bot)
    await add_customer(local_bot.runtime, "north", "Hangzhou Huafeng", owner_tg=REP)
    rep = people.rep
    reply = await _discount_to_list_price(rep, "Hangzhou Huafeng", "Q-7", "5万")  # 50,000
    assert "Or the discount: 10%, 9折" in reply
    for bad, error in (("150%", "cannot read “150%” as a discount"),
                       ("100%", "cannot read “100%” as a discount"),
                       ("打个折", "cannot read “打个折” as a discount")):  # fmt: skip
        reply = texts(await rep.send(bad))
        assert error in reply and "The price you want to give" in reply, reply
    reply = texts(await rep.send("9折"))
    assert "🏷 9折 → 10% off: requested price CN¥45,000.00" in reply, reply
    summary = texts(await rep.tap("Skip"))
    assert "CN¥50,000.00" in summary and "CN¥45,000.00" in summary and "<b>10%</b>" in summary
    for typed, read, price in (
        ("九五折", "5% off", "CN¥47,500.00"),
        ("8.5%", "8.5% off", "CN¥45,750.00"),
        ("10% off", "10% off", "CN¥45,000.00"),
        ("百分之八", "8% off", "CN¥46,000.00"),
    ):
        await rep.tap("Change something")
        await rep.tap("Requested price")
        reply = texts(await rep.send(typed))
        # Typed as it reads ("10% off", "8.5%"): said once, not "10% off → 10% off".
        echo = f"🏷 {typed} → {read}" if typed in ("九五折", "百分之八") else f"🏷 {read}"
        assert f"\n{echo}: requested price {price}" in f"\n{reply}", reply
        assert reply.count(read) == 1, reply
        assert "please check" in reply and price in reply
    await rep.tap("Submit")
    (request,) = await requests(local_bot)
    assert request.discount_bp == 800 and request.details["requested_price"] == "46000.00"
    assert request.details["list_price"] == "50000.00" and request.amount_minor == 400_000

    # In Chinese: a list price in Chinese numerals, 九五折 and a refusal in Chinese.
    zh = await join(local_bot, 5011, "李娜", Role.REP, "north", lang="zh")
    await add_customer(local_bot.runtime, "north", "西湖建材", owner_tg=5011)
    reply = await _discount_to_list_price(zh, "西湖建材", "Q-8", "三万五")
    assert "也可以直接输入优惠，如 9折、10%" in reply
    reply = texts(await zh.send("120%"))
    assert "无法把“120%”识别为优惠" in reply, reply
    reply = texts(await zh.send("九五折"))
    assert "🏷 九五折，即优惠 5%，申请价 ¥33,250.00" in reply, reply
    summary = texts(await zh.tap("跳过"))
    assert "¥35,000.00" in summary and "¥33,250.00" in summary and "<b>5%</b>" in summary
    await zh.tap("修改")
    await zh.tap("申请价")
    reply = texts(await zh.send("优惠 5%"))
    assert "🏷 优惠 5%，申请价 ¥33,250.00" in reply and "即优惠" not in reply, reply
    await zh.tap("提交")
    assert (await requests(local_bot))[-1].discount_bp == 500
