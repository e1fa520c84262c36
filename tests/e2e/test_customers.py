"""Customers in the chat: search, the card, a new customer, edits, inline mode, team walls."""

from __future__ import annotations

import pytest

from models.common import Role
from sandbox.harness import LocalBot
from tests.customer_helpers import (
    add_customer,
    audit_actions,
    choose_inline,
    count_customers,
    customer_named,
    forge_button,
    form_callback,
    inline_results,
    refused_requests,
    search_button,
    visits_of,
)
from tests.helpers import join


async def test_search_by_name_contact_or_phone_and_the_card(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 4001, "Wang", Role.REP, "north")
    await add_customer(runtime, "north", "杭州华丰建材", contact="徐亮", phone="137-0404-9619",
                       region="华东", location=(30.27, 120.16))  # fmt: skip
    await add_customer(runtime, "north", "成都康乐零售", contact="杨磊", phone="13329711691")
    replies = await rep.send("/customers")
    assert "Type part of a customer's name" in replies[-1].text
    replies = await rep.send("徐")  # the contact
    assert replies[-1].button_texts()[0] == "杭州华丰建材"
    replies = await rep.send("０４０４９６")  # full-width digits of the phone
    assert "杭州华丰建材" in replies[-1].button_texts()
    assert "成都康乐零售" not in replies[-1].button_texts()
    replies = await rep.tap("杭州华丰建材")
    card = replies[-1].text
    assert "杭州华丰建材" in card and "徐亮 · 137 0404 9619" in card and "华东" in card
    assert "Location stored" in card and "Not visited yet" in card
    assert replies[-1].button_texts() == ["📝 Log a visit", "🗓 Plan a visit", "✏️ Edit"]
    replies = await rep.tap("Log a visit")
    assert "杭州华丰建材: in person or by phone?" in replies[-1].text

    replies = await rep.send("/customers 康乐")
    assert replies[-1].button_texts()[0] == "成都康乐零售"


async def test_search_button_without_inline_mode_asks_for_a_fragment(
    local_bot: LocalBot,
) -> None:
    """A new bot has inline mode off: 🔍 must not open inline mode (Telegram refuses such a
    button), it asks for a typed fragment."""
    runtime = local_bot.runtime
    rep = await join(local_bot, 4011, "Zhou", Role.REP, "north", lang="zh")
    await add_customer(runtime, "north", "杭州华丰建材", contact="徐亮", phone="13704049619")
    first = (await rep.send("/customers"))[-1]
    button = search_button(first)
    assert button["text"] == "🔍 搜索" and button["callback_data"].startswith("f|")
    replies = await rep.tap("🔍 搜索")
    assert [m.text for m in replies] == [
        "🔎 请输入客户名称、联系人或电话的一部分，即可列出匹配的客户。"
    ]
    replies = await rep.send("徐亮")
    assert replies[-1].button_texts()[0] == "杭州华丰建材"
    assert "callback_data" in search_button(replies[-1])
    replies = await rep.send("搜索")  # typing the button's label works like tapping it
    assert "请输入客户名称" in replies[-1].text
    replies = await rep.tap("杭州华丰建材")
    assert "杭州华丰建材" in replies[-1].text and "📝 记录拜访" in replies[-1].button_texts()
    assert await refused_requests(local_bot) == []


@pytest.mark.inline_mode
async def test_search_button_with_inline_mode_opens_inline_search(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 4012, "Qian", Role.REP, "north")
    customer = await add_customer(runtime, "north", "上海鼎盛机械", contact="陈静")
    first = (await rep.send("/customers"))[-1]
    assert search_button(first) == {"text": "🔍 Search", "switch_inline_query_current_chat": ""}
    query_id, results = await inline_results(local_bot, rep, "陈静")
    assert [r["title"] for r in results] == ["上海鼎盛机械"]
    await choose_inline(local_bot, rep, query_id, f"c{customer.id}")
    card = await rep.last_reply()
    assert "上海鼎盛机械" in card.text and "📝 Log a visit" in card.button_texts()
    assert await refused_requests(local_bot) == []


async def test_new_customer_in_a_short_form_with_skips(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 4002, "Li", Role.REP, "north")
    await rep.send("/customers")
    replies = await rep.tap("New customer")
    assert "customer's name" in replies[-1].text and "Skip ⏭" not in replies[-1].button_texts()
    await rep.send("Hotel Pacific")
    await rep.tap("Skip")  # contact
    await rep.send("(021) 6234-5678")
    await rep.tap("A")
    replies = await rep.send("88 Nanjing Road")
    assert "✅ Save now" in replies[-1].button_texts()
    replies = await rep.tap("Save now")
    assert "Customer Hotel Pacific added" in replies[0].text
    hotel = await customer_named(runtime, "Hotel Pacific")
    assert hotel.contact is None and hotel.phone == "(021) 6234-5678" and hotel.tier == "A"
    assert hotel.address == "88 Nanjing Road" and hotel.status == "prospect"
    user_actions = [e.action for e in await audit_actions(runtime, "customer")]
    assert user_actions == ["customer.created"]

    await rep.send("/customers")
    await rep.tap("New customer")
    replies = await rep.send("HOTEL  pacific")  # the same name once case and spaces are folded
    assert "already exists" in replies[-1].text
    replies = await rep.tap("Use Hotel Pacific")
    assert "Hotel Pacific" in replies[-1].text and "📝 Log a visit" in replies[-1].button_texts()
    assert await count_customers(runtime) == 1


async def test_editing_a_customer_is_audited(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 4003, "Zhang", Role.REP, "north")
    manager = await join(local_bot, 4004, "Chen", Role.MANAGER, "north")
    await add_customer(runtime, "north", "Delta Foods", phone="13800000001")
    await rep.send("/customers Delta")
    await rep.tap("Delta Foods")
    replies = await rep.tap("Edit")
    assert "Owner" not in replies[-1].button_texts()  # only managers reassign customers
    replies = await rep.tap("Phone")
    assert "Now: 138 0000 0001" in replies[-1].text
    replies = await rep.send("not a number")
    assert "does not look like a phone number" in replies[0].text
    replies = await rep.send("139 0000 0002")
    assert "updated" in replies[0].text and "139 0000 0002" in replies[-1].text
    await rep.tap("Edit")
    await rep.tap("Location")
    replies = await rep.share_location(30.1, 120.1, accuracy=5.0)
    assert "Location stored" in replies[-1].text

    await manager.send("/customers Delta")
    await manager.tap("Delta Foods")
    await manager.tap("Edit")
    replies = await manager.tap("Owner")
    assert "Zhang" in replies[-1].button_texts()
    replies = await manager.tap("Zhang")
    assert "Owner: Zhang" in replies[-1].text

    delta = await customer_named(runtime, "Delta Foods")
    assert delta.phone_key == "13900000002" and delta.latitude == 30.1
    updates = [
        e for e in await audit_actions(runtime, "customer") if e.action != "customer.created"
    ]
    assert [e.after for e in updates] == [
        {"phone": "139 0000 0002"}, {"latitude": 30.1, "longitude": 120.1},
        {"owner_id": delta.owner_id},
    ]  # fmt: skip
    assert updates[0].before == {"phone": "138 0000 0001"}


@pytest.mark.inline_mode
async def test_inline_search_picks_a_customer_anywhere(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 4005, "Sun", Role.REP, "north")
    own = await add_customer(runtime, "north", "上海鼎盛机械", contact="陈静", owner_tg=4005)
    _, results = await inline_results(local_bot, rep, "鼎盛")
    assert [r["title"] for r in results] == ["上海鼎盛机械"]
    assert "陈静" in results[0]["description"]
    _, recent = await inline_results(local_bot, rep, "")  # no query: the rep's own customers
    assert [r["id"] for r in recent] == [f"c{own.id}"]

    # Picking a result inside /visit selects the customer.
    await rep.send("/visit")
    query_id, _ = await inline_results(local_bot, rep, "鼎盛")
    update_id = await local_bot.client.choose_inline_result(rep.user_id, query_id, f"c{own.id}")
    await local_bot.tracker.wait(update_id)
    assert "上海鼎盛机械: in person or by phone?" in (await rep.last_reply()).text
    await rep.send("/cancel")

    # Outside a form, the chosen result shows the card.
    query_id, _ = await inline_results(local_bot, rep, "鼎盛")
    update_id = await local_bot.client.choose_inline_result(rep.user_id, query_id, f"c{own.id}")
    await local_bot.tracker.wait(update_id)
    assert "📝 Log a visit" in (await rep.last_reply()).button_texts()

    stranger = await local_bot.chat(4999, "Nobody")
    query_id, results = await inline_results(local_bot, stranger, "鼎盛")
    assert results == []


@pytest.mark.inline_mode
async def test_a_rep_cannot_see_or_pick_another_teams_customer(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 4006, "North Rep", Role.REP, "north")
    south_rep = await join(local_bot, 4007, "South Rep", Role.REP, "south")
    secret = await add_customer(runtime, "south", "South Secret Co", phone="13911112222")
    mine = await add_customer(runtime, "north", "North Open Co", owner_tg=4006)
    del south_rep

    # Search, inline search and /due show nothing of the other team.
    replies = await rep.send("/customers South Secret")
    assert "No customer matches" in replies[-1].text
    replies = await rep.send("13911112222")
    assert "No customer matches" in replies[-1].text
    _, results = await inline_results(local_bot, rep, "South Secret")
    assert results == []
    _, results = await inline_results(local_bot, rep, "")
    assert [r["title"] for r in results] == ["North Open Co"]

    # A typed inline-result text naming the other team's customer: in the search form...
    replies = await rep.send(f"🏢 South Secret Co · #C{secret.id}")
    assert "not found among your team's customers" in replies[0].text
    # ... and outside any form.
    await rep.send("/cancel")
    replies = await rep.send(f"🏢 South Secret Co · #C{secret.id}")
    assert len(replies) == 1 and "not found among your team's customers" in replies[0].text
    await rep.send("/visit")
    replies = await rep.send(f"🏢 South Secret Co · #C{secret.id}")
    assert "not found among your team's customers" in replies[0].text
    assert "Which customer" in replies[-1].text

    # Forged callback data: a form choice with the current token, and the card's buttons.
    prompt = await rep.last_reply()
    await forge_button(rep, form_callback(prompt, f"c:{secret.id}"))
    replies = await rep.tap("Forged")
    assert "not found among your team's customers" in replies[0].text
    for action in ("s", "v", "p", "e"):
        await forge_button(rep, f"cu|{secret.id}|{action}", f"Forged {action}")
        replies = await rep.tap(f"Forged {action}")
        assert "not found among your team's customers" in replies[-1].text, action
    await forge_button(rep, "cu|abc|v", "Garbage")
    assert "no longer works" in (await rep.tap("Garbage"))[-1].text

    # The rep's own customer still works, and nothing was logged for the other team.
    replies = await rep.send("/visit")
    assert "North Open Co" in replies[-1].button_texts()
    assert "South Secret Co" not in str(replies[-1].button_texts())
    assert await visits_of(runtime, 4006) == []
    assert mine.id is not None


async def test_director_sees_every_team_but_does_not_log_visits(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    director = await join(local_bot, 4008, "Zhou", Role.DIRECTOR, None)
    await add_customer(runtime, "north", "North One")
    await add_customer(runtime, "south", "South One")
    replies = await director.send("/customers One")
    assert sorted(replies[-1].button_texts()[:2]) == ["North One", "South One"]
    replies = await director.tap("South One")
    assert replies[-1].button_texts() == ["✏️ Edit"]
    assert "not available for your role" in (await director.send("/visit"))[-1].text


async def test_chinese_rep_logs_a_visit_in_chinese(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 4009, "王伟", Role.REP, "north", lang="zh")
    await add_customer(local_bot.runtime, "north", "广州宏达食品", owner_tg=4009)
    replies = await rep.send("/visit")
    assert "拜访了哪个客户" in replies[-1].text
    await rep.tap("广州宏达食品")
    replies = await rep.tap("电话拜访")
    assert "拜访情况" in replies[-1].text
    replies = await rep.send("客户计划下月补货")
    assert "老客户回访" in replies[-1].text
    await rep.tap("下一步计划")
    await rep.send("下周再联系")
    replies = await rep.send("下周五")
    assert "已识别日期：2026年12月4日 周五" in replies[0].text
    replies = await rep.tap("保存")
    assert "拜访已保存" in replies[-1].text and "📞 电话 1/20" in replies[-1].text
