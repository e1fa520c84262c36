"""/visit and /visits as a rep experiences them, through the sandbox over HTTP.

The tap and message counts asserted here are the ones quoted in the issue's closing note:
a phone visit is /visit + 1 typed note + 5 taps; an in-person visit with a check-in and a
photo is /visit + note + location + photo + 6 taps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from telegram import Update

from models.common import Role
from models.visit import CheckinSource, VisitKind, VisitPurpose
from sandbox.client import SandboxMessage
from sandbox.harness import Chat, LocalBot
from tests.customer_helpers import (
    Counter,
    add_customer,
    attachments,
    audit_actions,
    check_in,
    choose_inline,
    count_customers,
    customer_named,
    inline_results,
    plans_of,
    refused_requests,
    search_button,
    visits_of,
)
from tests.helpers import join
from tests.report_helpers import phone_visit

SHOP = (30.276849, 120.160030)
CANCELLED = "Cancelled. Nothing was saved."


async def test_phone_visit_in_the_fewest_taps(local_bot: LocalBot) -> None:
    """/visit → customer → 📞 → note → Save: five interactions; the purpose comes from the
    customer's last visit and the next step is optional on the summary card."""
    rep = await join(local_bot, 3001, "Wang", Role.REP, "north")
    await add_customer(local_bot.runtime, "north", "杭州华丰建材", owner_tg=3001)
    flow = Counter(rep)
    assert "Which customer" in (await flow.send("/visit"))[-1].text
    await flow.tap("杭州华丰建材")  # own and recent customers are buttons
    await flow.tap("Phone")
    replies = await flow.send("Talked about the spring order, wants a quote.")
    assert "Visit summary" in replies[-1].text and "Revisit" in replies[-1].text
    assert "➕ Next step / follow-up" in replies[-1].button_texts()
    replies = await flow.tap("Save")
    assert len(replies) == 1, "saving sends exactly one confirmation"
    assert "Visit saved" in replies[0].text and "📞 1/20 phone" in replies[0].text
    assert (flow.sent, flow.taps) == (2, 3)
    assert flow.received == 5  # one prompt per step, plus the confirmation

    (visit,) = await visits_of(local_bot.runtime, 3001)
    assert visit.kind == VisitKind.PHONE and visit.purpose == VisitPurpose.REVISIT
    assert visit.notes.startswith("Talked about") and visit.checkin_latitude is None
    assert visit.visited_at == local_bot.runtime.clock.now()
    assert visit.follow_up_on is None
    assert [e.action for e in await audit_actions(local_bot.runtime, "visit")] == ["visit.created"]


async def test_a_rep_whose_telegram_id_needs_64_bits_logs_a_visit(local_bot: LocalBot) -> None:
    """Telegram ids of new accounts pass 2^31: every statement of the update's path (on
    PostgreSQL the person's lock too) takes them as 64-bit."""
    big = 7_123_456_789
    rep = await join(local_bot, big, "Zhao", Role.REP, "north")
    await add_customer(local_bot.runtime, "north", "宁波东升五金", owner_tg=big)
    await phone_visit(rep, "宁波东升五金")
    assert "Visit saved" in (await rep.last_reply()).text
    (visit,) = await visits_of(local_bot.runtime, big)
    assert visit.notes == "Called 宁波东升五金."


async def test_phone_visit_with_a_follow_up_from_the_summary(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 3012, "Wang", Role.REP, "north")
    await add_customer(local_bot.runtime, "north", "杭州华丰建材", owner_tg=3012)
    await rep.send("/visit")
    await rep.tap("杭州华丰建材")
    await rep.tap("Phone")
    await rep.send("Wants a quote.")
    await rep.tap("➕ Next step / follow-up")
    await rep.send("Send updated price list")
    replies = await rep.tap("In 3 days")
    assert "Visit summary" in replies[-1].text and "Fri 27 Nov 2026" in replies[-1].text
    assert "Send updated price list" in replies[-1].text
    await rep.tap("Save")
    (visit,) = await visits_of(local_bot.runtime, 3012)
    assert visit.next_step == "Send updated price list"
    assert visit.follow_up_on is not None and visit.follow_up_on.isoformat() == "2026-11-27"
    (plan,) = await plans_of(local_bot.runtime, 3012)
    assert plan.planned_on == visit.follow_up_on and plan.source == "follow_up"


async def test_visit_search_without_inline_mode(local_bot: LocalBot) -> None:
    """A bot whose inline mode is off (as BotFather leaves it): the first screen arrives, 🔍
    asks for a fragment, the matches are buttons, and the visit is saved."""
    rep = await join(local_bot, 3011, "Wang", Role.REP, "north")
    await add_customer(local_bot.runtime, "north", "成都康乐零售", owner_tg=3011)
    customer = await add_customer(local_bot.runtime, "north", "杭州华丰建材", contact="徐亮")
    first = (await rep.send("/visit"))[-1]
    assert "Which customer" in first.text and "成都康乐零售" in first.button_texts()
    assert "callback_data" in search_button(first)
    replies = await rep.tap("🔍 Search")
    assert [m.text for m in replies] == [
        "🔎 Type part of the customer's name, contact or phone number, and I'll list the matches."
    ]
    replies = await rep.send("徐亮")
    assert replies[-1].button_texts()[0] == "杭州华丰建材"
    assert "callback_data" in search_button(replies[-1])
    replies = await rep.tap("杭州华丰建材")
    assert "杭州华丰建材</b>: in person or by phone?" in replies[-1].raw_text
    await rep.tap("Phone")
    await rep.send("Asked for the spring price list.")
    await rep.tap("Save")
    (visit,) = await visits_of(local_bot.runtime, 3011)
    assert visit.customer_id == customer.id and visit.kind == VisitKind.PHONE
    assert await refused_requests(local_bot) == []


@pytest.mark.inline_mode
async def test_visit_search_with_inline_mode(local_bot: LocalBot) -> None:
    """With inline mode on, 🔍 opens inline search in the chat, pre-filled with what was typed."""
    rep = await join(local_bot, 3012, "Zhao", Role.REP, "north", lang="zh")
    customer = await add_customer(local_bot.runtime, "north", "上海鼎盛机械", contact="陈静")
    first = (await rep.send("/visit"))[-1]
    assert search_button(first) == {"text": "🔍 搜索", "switch_inline_query_current_chat": ""}
    replies = await rep.send("鼎")
    assert search_button(replies[-1])["switch_inline_query_current_chat"] == "鼎"
    query_id, results = await inline_results(local_bot, rep, "鼎盛")
    assert [r["id"] for r in results] == [f"c{customer.id}"]
    await choose_inline(local_bot, rep, query_id, f"c{customer.id}")
    kind = await rep.last_reply()
    assert kind.text == "上海鼎盛机械：上门拜访还是电话拜访？"
    assert "📞 电话拜访" in kind.button_texts()
    assert await refused_requests(local_bot) == []


async def test_check_in_then_check_out_stores_the_time_on_site(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 3002, "Li", Role.REP, "north")
    await add_customer(runtime, "north", "上海新天地零售", owner_tg=3002, location=SHOP)
    flow = Counter(rep)
    await flow.send("/visit")
    await flow.tap("上海新天地零售")
    replies = await flow.tap("In person")
    assert replies[0].reply_markup is not None
    assert replies[0].reply_markup["keyboard"][0][0]["request_location"] is True
    replies = await flow.share_location(30.2770, 120.1610, accuracy=12.0, live=True)
    assert "95 m from the customer ✅" in replies[0].text
    assert "live location, ±12 m" in replies[0].text
    assert replies[0].reply_markup == {"remove_keyboard": True}
    assert "Checked in at 上海新天地零售 at " in replies[-1].text
    # The distance was just said: the card does not repeat it.
    assert "from the customer" not in replies[-1].text
    assert replies[-1].button_texts() == ["🚪 Check out"]
    (visit,) = await visits_of(runtime, 3002)
    assert visit.is_open and visit.checked_out_at is None

    await runtime.clock.advance(timedelta(minutes=42))
    await flow.tap("🚪 Check out")
    replies = await flow.send("Showed the new range to the owner; liked the display stand.")
    replies = await flow.send_photo()
    assert "Photos added: 1" in replies[-1].text
    replies = await flow.tap("Done")
    assert "Time on site: 42 min" in replies[-1].text
    replies = await flow.tap("Save")
    assert len(replies) == 1 and "Visit saved" in replies[0].text
    assert "🤝 1/15 in person" in replies[0].text and "Time on site: 42 min" in replies[0].text
    assert (flow.sent, flow.taps) == (4, 5)

    (visit,) = await visits_of(runtime, 3002)
    assert visit.kind == VisitKind.IN_PERSON and visit.purpose == VisitPurpose.REVISIT
    assert not visit.is_open and visit.on_site_minutes == 42 and not visit.short_visit
    assert visit.checkin_accuracy_m == 12.0 and visit.checkin_source == CheckinSource.LIVE
    assert visit.distance_m == pytest.approx(94.6, abs=0.5) and not visit.flagged
    photos = await attachments(runtime, visit.id or 0)
    assert [a.kind for a in photos] == ["photo"] and photos[0].file_id
    assert [e.action for e in await audit_actions(runtime, "visit")] == [
        "visit.checked_in", "visit.checked_out",
    ]  # fmt: skip


async def test_a_check_out_cancelled_leaves_the_visit_open_and_its_card_as_it_was(
    local_bot: LocalBot,
) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 3003, "Qian", Role.REP, "north")
    await add_customer(runtime, "north", "上海新天地零售", owner_tg=3003, location=SHOP)
    card = await check_in(rep, "上海新天地零售", SHOP)
    await runtime.clock.advance(timedelta(minutes=20))
    await rep.tap("🚪 Check out")
    await rep.send("Owner was busy.")
    told = (await rep.send("/cancel"))[-1].text
    assert told == (
        "Check-out cancelled: you are still checked in at 上海新天地零售. "
        "Tap 🚪 Check out on its card when you leave."
    ), told

    (shown,) = [m for m in await rep.messages() if m.message_id == card.message_id]
    assert shown.text == card.text and shown.button_texts() == ["🚪 Check out"]
    (visit,) = await visits_of(runtime, 3003)
    assert visit.is_open and visit.checked_out_at is None

    # Checked out later from the same card: the time on site counts to then.
    await runtime.clock.advance(timedelta(minutes=10))
    await rep.tap("🚪 Check out")
    await rep.send("Owner free now; order agreed.")
    await rep.tap("Skip")
    assert "Visit saved" in (await rep.tap("Save"))[-1].text
    (shown,) = [m for m in await rep.messages() if m.message_id == card.message_id]
    assert "🚪 Checked out" in shown.text and "30 min on site" in shown.text, shown.text
    assert shown.button_texts() == []
    (visit,) = await visits_of(runtime, 3003)
    assert not visit.is_open and visit.on_site_minutes == 30


async def test_checked_out_from_visits_the_card_loses_its_button_too(
    local_bot: LocalBot,
) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 3009, "Sun", Role.REP, "north")
    await add_customer(runtime, "north", "上海新天地零售", owner_tg=3009, location=SHOP)
    card = await check_in(rep, "上海新天地零售", SHOP)
    await runtime.clock.advance(timedelta(minutes=25))
    listing = (await rep.send("/visits"))[-1]
    await rep.tap("🚪 Check out", message_id=listing.message_id)
    await rep.send("Owner agreed to the display stand.")
    await rep.tap("Skip")
    assert "Visit saved" in (await rep.tap("Save"))[-1].text
    await local_bot.drain_outbox()
    (shown,) = [m for m in await rep.messages() if m.message_id == card.message_id]
    assert shown.text == (
        "📍 Checked in at 上海新天地零售 at 09:00.\n🚪 Checked out 09:25 · 25 min on site"
    )
    assert shown.button_texts() == []


async def _location_question(rep: Chat) -> SandboxMessage:
    """/visit up to the location question: its "…or:" message, with Skip and Cancel."""
    await rep.send("/visit")
    await rep.tap("上海新天地零售")
    asked = await rep.tap("In person")
    (buttons,) = [m for m in asked if m.text == "…or:"]
    assert buttons.button_texts() == ["Skip ⏭", "Cancel ✖"]
    return buttons


async def test_a_shared_location_retires_the_questions_buttons(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 3010, "Zhou", Role.REP, "north")
    await add_customer(local_bot.runtime, "north", "上海新天地零售", owner_tg=3010, location=SHOP)
    buttons = await _location_question(rep)
    card = (await rep.share_location(*SHOP, accuracy=8.0))[-1]
    assert card.button_texts() == ["🚪 Check out"]
    (gone,) = [m for m in await rep.messages() if m.message_id == buttons.message_id]
    assert gone.deleted  # nothing left to tap that would only answer "no longer valid"


async def test_cancel_at_the_location_question_retires_its_buttons(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 3011, "Wu", Role.REP, "north")
    await add_customer(local_bot.runtime, "north", "上海新天地零售", owner_tg=3011, location=SHOP)
    buttons = await _location_question(rep)
    assert "Nothing was saved" in (await rep.send("/cancel"))[-1].text
    (gone,) = [m for m in await rep.messages() if m.message_id == buttons.message_id]
    assert gone.deleted


async def test_a_check_out_cancelled_by_its_button_says_so_in_chinese(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 3008, "钱明", Role.REP, "north", lang="zh")
    await add_customer(runtime, "north", "上海新天地零售", owner_tg=3008, location=SHOP)
    await check_in(rep, "上海新天地零售", SHOP, in_person="上门拜访")
    await rep.tap("🚪 签退")
    told = (await rep.tap("取消"))[-1].text
    assert told == "已取消签退，上海新天地零售 的签到仍然有效。离开时点签到卡片上的“🚪 签退”即可。"
    (visit,) = await visits_of(runtime, 3008)
    assert visit.is_open


async def test_check_out_tapped_again_keeps_the_notes_typed(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 3005, "Zhou", Role.REP, "north")
    await add_customer(runtime, "north", "上海新天地零售", owner_tg=3005, location=SHOP)
    card = await check_in(rep, "上海新天地零售", SHOP)
    await runtime.clock.advance(timedelta(minutes=15))
    await rep.tap("🚪 Check out")
    asked = (await rep.send("Owner ordered 20 cases."))[-1]
    # A stray tap on the card further up: the same question again, nothing lost.
    again = await rep.tap("🚪 Check out", message_id=card.message_id)
    assert again[-1].text == asked.text and again[-1].button_texts() == asked.button_texts()
    await rep.tap("Skip")
    assert "Visit saved" in (await rep.tap("Save"))[-1].text
    (visit,) = await visits_of(runtime, 3005)
    assert visit.notes == "Owner ordered 20 cases." and visit.on_site_minutes == 15


async def test_a_short_visit_is_flagged_and_cannot_be_deleted(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 3004, "Sun", Role.REP, "north")
    await add_customer(runtime, "north", "上海新天地零售", owner_tg=3004, location=SHOP)
    await check_in(rep, "上海新天地零售", SHOP)
    await runtime.clock.advance(timedelta(minutes=3))
    await rep.tap("🚪 Check out")
    await rep.send("Owner was out.")
    await rep.tap("Skip")
    replies = await rep.tap("Save")
    assert "Time on site: 3 min" in replies[0].text
    assert "Shorter than the team's minimum" in replies[0].text
    (visit,) = await visits_of(runtime, 3004)
    assert visit.short_visit and visit.on_site_minutes == 3

    replies = await rep.send("/visits")
    assert "⚠️ ⏱ 3 min" in replies[-1].text
    await rep.tap("🗑 1")
    replies = await rep.tap("Delete")
    assert "A flagged visit cannot be deleted" in replies[-1].text
    (visit,) = await visits_of(runtime, 3004)
    assert visit.deleted_at is None


async def test_far_check_in_on_a_picked_point_is_flagged(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 3003, "Zhao", Role.REP, "north")
    await add_customer(local_bot.runtime, "north", "杭州远航医药", location=SHOP)
    await rep.send("/visit")
    await rep.send("远航")
    await rep.tap("杭州远航医药")
    await rep.tap("In person")
    # A point picked on the map carries no accuracy; this one is about 1.1 km away.
    replies = await rep.share_location(30.2868, 120.1600)
    assert "⚠️ Check-in 1.1 km from the customer, more than 200 m" in replies[0].text
    assert "a point picked on the map" in replies[0].text
    assert "the visit will be flagged for your manager" in replies[0].text
    assert "flagged" not in replies[-1].text  # said once, just above
    await rep.tap("🚪 Check out")
    await rep.send("Collected half of the invoice.")
    await rep.tap("Skip")
    replies = await rep.tap("Save")
    assert "Flagged: the check-in was 1.1 km from the customer" in replies[-1].text
    (visit,) = await visits_of(local_bot.runtime, 3003)
    assert visit.flagged and visit.checkin_source == CheckinSource.PICKED
    assert visit.checkin_accuracy_m is None
    assert visit.distance_m == pytest.approx(1106.5, abs=1)
    # Its rep cannot erase it.
    await rep.send("/visits")
    await rep.tap("🗑 1")
    replies = await rep.tap("Delete")
    assert "A flagged visit cannot be deleted" in replies[-1].text


async def test_creating_a_customer_inside_visit_and_storing_its_location(
    local_bot: LocalBot,
) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 3004, "Sun", Role.REP, "north")
    await add_customer(runtime, "north", "Acme Trading", phone="13800138000")
    await rep.send("/visit")
    replies = await rep.send("Nova Farm Supplies")
    assert "No customer matches" in replies[-1].text
    await rep.tap("New customer “Nova Farm Supplies”")
    replies = await rep.tap("✓ Nova Farm Supplies")  # the typed search is the name: one tap
    assert "Contact person" in replies[-1].text
    await rep.send("Ms Chen")
    # The phone of an existing customer: the bot offers that customer instead.
    replies = await rep.send("+86 138-0013-8000")
    assert "already belongs to Acme Trading" in replies[-1].text
    assert "Use Acme Trading" in replies[-1].button_texts()
    await rep.tap("different customer")
    await rep.tap("A")
    await rep.tap("In person")
    replies = await rep.share_location(31.2000, 121.4000, accuracy=8.0)
    assert "no stored location to compare with" in replies[0].text
    assert "no stored location yet" in replies[-1].text
    replies = await rep.tap("Yes, save it")
    text = replies[-1].text
    assert "Checked in at Nova Farm Supplies" in text
    assert "New customer Nova Farm Supplies added" in text
    # The check-in became the customer's location: no "0 m ✅" that would prove nothing.
    assert "location set at this visit" in text and "0 m ✅" not in text
    await rep.tap("Check out")
    await rep.send("First visit, they buy seeds twice a year.")
    await rep.tap("Skip")
    await rep.tap("Next step")
    replies = await rep.tap("Tomorrow")
    assert "New development" in replies[-1].text  # a new customer's first visit
    assert "location set at this visit" in replies[-1].text and "0 m ✅" not in replies[-1].text
    replies = await rep.tap("Save")
    assert "🆕 1/8" in replies[-1].text

    nova = await customer_named(runtime, "Nova Farm Supplies")
    assert nova.contact == "Ms Chen" and nova.phone == "138 0013 8000" and nova.tier == "A"
    assert (nova.latitude, nova.longitude) == (31.2, 121.4) and nova.source == "chat"
    (visit,) = await visits_of(runtime, 3004)
    assert visit.customer_id == nova.id and visit.location_set_here and not visit.flagged
    assert visit.distance_m is None and visit.purpose == VisitPurpose.NEW
    replies = await rep.send("/visits")
    assert "📌 location set here" in replies[-1].text and "0 m ✅" not in replies[-1].text
    actions = [e.action for e in await audit_actions(runtime, "customer")]
    assert actions[-2:] == ["customer.created", "customer.updated"]


async def test_duplicate_name_offers_the_existing_customer(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 3005, "Qian", Role.REP, "north")
    await add_customer(runtime, "north", "杭州华丰建材股份有限公司")
    await rep.send("/visit")
    await rep.send("zzz")
    await rep.tap("New customer")
    # Spacing and full-width letters do not make a new customer.
    replies = await rep.send("杭州华丰建材 股份有限公司")
    assert "already exists" in replies[-1].text
    replies = await rep.tap("Use 杭州华丰建材股份有限公司")
    assert "in person or by phone" in replies[-1].text
    assert await count_customers(runtime) == 1


STEPS: list[tuple[str, Callable[[Chat], Awaitable[object]]]] = [
    ("customer", lambda c: c.send("/visit")),
    ("pick", lambda c: c.send("Nowhere Ltd")),
    ("c_name", lambda c: c.tap("New customer")),
    ("c_contact", lambda c: c.send("Nowhere Ltd")),
    ("c_phone", lambda c: c.send("Mr Hu")),
    ("c_tier", lambda c: c.send("021 6234 5678")),
    ("kind", lambda c: c.tap("B")),
    ("notes", lambda c: c.tap("Phone")),
    ("summary", lambda c: c.send("Met Mr Hu")),
    ("next", lambda c: c.tap("Next step")),
    ("follow_up", lambda c: c.send("Send samples")),
    ("date", lambda c: c.tap("Pick a date")),
    ("summary_again", lambda c: c.send("下周五")),
    ("edit", lambda c: c.tap("Edit a field")),
    ("time", lambda c: c.tap("Time")),
]
# In person: cancelled before the check-in is saved, nothing is (not even the new customer).
IN_PERSON_STEPS = [
    *STEPS[:7],
    ("location", lambda c: c.tap("In person")),
    ("store_loc", lambda c: c.share_location(31.2, 121.4, accuracy=20.0)),
]


@pytest.mark.parametrize(
    "steps", [STEPS[: n + 1] for n in range(len(STEPS))] + [IN_PERSON_STEPS[-2:]],
    ids=[name for name, _ in STEPS] + ["location"],
)  # fmt: skip
async def test_cancel_at_every_step_saves_nothing(
    local_bot: LocalBot, steps: list[tuple[str, Callable[[Chat], Awaitable[object]]]]
) -> None:
    rep = await join(local_bot, 3006, "Hu", Role.REP, "north")
    if steps[0][0] != "customer":
        steps = IN_PERSON_STEPS[:-2] + steps[-2:] if steps[-1][0] == "store_loc" else steps
    for _, act in steps:
        await act(rep)
    replies = await rep.tap("Cancel")
    assert CANCELLED in replies[-1].text
    assert replies[-1].reply_markup == {"remove_keyboard": True}
    assert await visits_of(local_bot.runtime, 3006) == []
    assert await count_customers(local_bot.runtime) == 0
    assert "not understand" in (await rep.send("hello"))[-1].text  # no form left open


async def test_cancel_command_in_the_middle(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 3007, "Ma", Role.REP, "north")
    await add_customer(local_bot.runtime, "north", "Beta Co", owner_tg=3007)
    await rep.send("/visit")
    await rep.tap("Beta Co")
    await rep.tap("Phone")
    assert CANCELLED in (await rep.send("/cancel"))[-1].text
    assert await visits_of(local_bot.runtime, 3007) == []


async def _inject_text(local_bot: LocalBot, user_id: int, text: str) -> None:
    """Deliver a text longer than Telegram allows, as a raw update (the sandbox refuses it)."""
    app = local_bot.app
    assert app is not None
    update_id = 9_000_000 + len(text)
    payload = {
        "update_id": update_id,
        "message": {
            "message_id": 900_000, "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": user_id, "type": "private", "first_name": "Gu"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Gu"}, "text": text,
        },
    }  # fmt: skip
    await app.update_queue.put(Update.de_json(payload, app.bot))
    await local_bot.tracker.wait(update_id)


async def test_wrong_input_at_each_step_is_explained_and_asked_again(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 3008, "Gu", Role.REP, "north")
    await rep.send("/visit")
    replies = await rep.send_photo()
    # A photo where the customer is asked is read as a business card; this one is none.
    assert "does not look like a business card" in replies[0].text
    assert "customer's name" in replies[-1].text
    await rep.send("/visit")
    await rep.send("Gamma")
    await rep.tap("New customer")
    replies = await rep.send("…")  # a name with no letters or digits is empty
    assert "cannot be empty" in replies[0].text and "customer's name" in replies[-1].text
    replies = await rep.send("Gamma Foods")
    replies = await rep.send("Mr Gao")
    replies = await rep.send("call the front desk")
    assert "does not look like a phone number" in replies[0].text
    await rep.tap("Skip")
    await rep.tap("C")
    replies = await rep.send("we met")
    assert "choose one of the buttons" in replies[0].text and "by phone" in replies[-1].text
    replies = await rep.send("in person")  # a button's label typed works like the button
    assert "Check in" in replies[0].text
    replies = await rep.send("I am at the shop")
    assert "share your location" in replies[0].text and "Check in" in replies[-2].text
    await rep.tap("Skip")  # logged afterwards, without a check-in
    replies = await rep.send_photo()
    assert "type what happened" in replies[0].text and "What happened" in replies[-1].text
    replies = await rep.send("x" * 4096)  # the longest text Telegram delivers
    assert "That note is 4096 characters; at most 2000 fit" in replies[0].text
    mark = (await rep.last_reply()).message_id
    await _inject_text(local_bot, 3008, "y" * 10_000)
    replies = await rep.replies_since(mark)
    assert "That note is 10000 characters" in replies[0].text
    assert "What happened" in replies[-1].text
    await rep.send_voice()
    replies = await rep.send("here is a text, not a photo")
    assert "send a photo" in replies[0].text
    await rep.tap("Skip")
    await rep.tap("Next step")
    await rep.send("Call back about prices")
    replies = await rep.send("when pigs fly")
    assert "could not read a date in “when pigs fly”" in replies[0].text
    assert "follow up" in replies[-1].text
    replies = await rep.send("11月20日")  # last week
    assert "Fri 20 Nov 2026 is in the past" in replies[0].text
    replies = await rep.send("下周五")
    assert "Understood: Fri 4 Dec 2026" in replies[0].text
    assert "Visit summary" in replies[-1].text and "🎤 Voice note attached" in replies[-1].text
    replies = await rep.tap("Save")
    assert "Visit saved" in replies[-1].text
    (visit,) = await visits_of(local_bot.runtime, 3008)
    assert visit.notes == "" and visit.next_step == "Call back about prices"
    assert [a.kind for a in await attachments(local_bot.runtime, visit.id or 0)] == ["voice"]
    assert visit.follow_up_on is not None and visit.follow_up_on.isoformat() == "2026-12-04"


async def test_half_filled_visit_survives_a_restart(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 3009, "Xu", Role.REP, "north")
    await add_customer(local_bot.runtime, "north", "Delta Ltd", owner_tg=3009)
    await rep.send("/visit")
    await rep.tap("Delta Ltd")
    await rep.tap("Phone")
    await local_bot.restart()
    await rep.send("Replaced a faulty unit.")
    await local_bot.restart()
    await rep.tap("Edit a field")
    await rep.tap("Purpose")
    await rep.tap("After-sales")
    replies = await rep.tap("Save")
    assert "Visit saved" in replies[-1].text
    (visit,) = await visits_of(local_bot.runtime, 3009)
    assert visit.purpose == VisitPurpose.AFTER_SALES and visit.notes == "Replaced a faulty unit."


async def test_a_form_past_its_time_to_live_is_dropped(local_bot: LocalBot) -> None:
    """The form row comes with the update-id INSERT: an expired one is dropped all the same,
    and the next update starts from nothing."""
    rep = await join(local_bot, 3010, "Lu", Role.REP, "north")
    await add_customer(local_bot.runtime, "north", "Echo Ltd", owner_tg=3010)
    await rep.send("/visit")
    await rep.tap("Echo Ltd")
    await rep.tap("Phone")
    ttl = local_bot.runtime.settings.runtime.form_ttl_hours
    await local_bot.runtime.clock.advance(timedelta(hours=ttl, minutes=1))
    replies = await rep.send("Replaced a faulty unit.")
    assert replies[-1].text.startswith("I did not understand that")
    replies = await rep.send("Still nothing open.")
    assert replies[-1].text.startswith("I did not understand that")
    assert await visits_of(local_bot.runtime, 3010) == []


async def test_visit_for_an_earlier_time_today(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 3010, "Lu", Role.REP, "north")
    await add_customer(local_bot.runtime, "north", "Echo Ltd", owner_tg=3010)
    await local_bot.runtime.clock.advance(timedelta(hours=6))  # 15:00 in Shanghai
    await rep.send("/visit")
    await rep.tap("Echo Ltd")
    await rep.tap("Phone")
    await rep.send("Agreed on the delivery date.")
    await rep.tap("Edit a field")
    replies = await rep.tap("Time")
    assert "2 h ago (13:00)" in replies[-1].button_texts()
    replies = await rep.send("16:30")
    assert "has not come yet" in replies[0].text
    replies = await rep.send("上午10点半")
    assert "Today 10:30" in replies[-1].text
    await rep.tap("Save")
    (visit,) = await visits_of(local_bot.runtime, 3010)
    assert visit.visited_at == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)


async def test_edit_and_delete_within_24_hours_are_audited(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 3011, "Fan", Role.REP, "north")
    await add_customer(runtime, "north", "Foxtrot Ltd", owner_tg=3011)
    for purpose in ("Revisit", "Collection"):
        await rep.send("/visit")
        await rep.tap("Foxtrot Ltd")
        await rep.tap("Phone")
        await rep.send(f"{purpose} call")
        if purpose != "Revisit":  # the purpose starts as the last visit's: a revisit
            await rep.tap("Edit a field")
            await rep.tap("Purpose")
            await rep.tap(purpose)
        await rep.tap("Next step")
        await rep.tap("Tomorrow")
        await rep.tap("Save")
    replies = await rep.send("/visits")
    assert "1. " in replies[-1].text and "Collection" in replies[-1].text
    replies = await rep.tap("✏️ 1")
    assert "Visit summary" in replies[-1].text
    await rep.tap("Edit a field")
    await rep.tap("Purpose")
    replies = await rep.tap("Demo / quote")
    assert "Demo / quote" in replies[-1].text and "Visit summary" in replies[-1].text
    replies = await rep.tap("Save")
    assert "Visit updated" in replies[-1].text
    first, second = await visits_of(runtime, 3011)
    assert first.purpose == VisitPurpose.REVISIT and second.purpose == VisitPurpose.DEMO

    await rep.send("/visits")
    replies = await rep.tap("🗑 2")
    assert "Delete this visit?" in replies[-1].text and "Revisit" in replies[-1].text
    await rep.tap("Yes, delete")
    assert "Visit deleted" in (await rep.last_reply()).text
    assert [v.id for v in await visits_of(runtime, 3011)] == [second.id]
    assert len(await plans_of(runtime, 3011)) == 1  # the deleted visit's follow-up is gone

    entries = await audit_actions(runtime, "visit")
    assert [e.action for e in entries] == [
        "visit.created", "visit.created", "visit.edited", "visit.deleted"
    ]  # fmt: skip
    edited = entries[2]
    assert edited.before == {"purpose": "collection"} and edited.after == {"purpose": "demo"}
    assert entries[3].before is not None and entries[3].before["purpose"] == "revisit"

    await runtime.clock.advance(timedelta(hours=25))  # type: ignore[attr-defined]
    replies = await rep.send("/visits")
    assert replies[-1].buttons == []
    from tests.customer_helpers import forge_button

    await forge_button(rep, f"vi|{second.id}|e")
    replies = await rep.tap("Forged")
    assert "more than 24 hours ago" in replies[-1].text
    await forge_button(rep, f"vi|{second.id}|D", "Forged delete")
    replies = await rep.tap("Forged delete")
    assert "more than 24 hours ago" in replies[-1].text
    assert len(await visits_of(runtime, 3011)) == 1


async def test_a_rep_cannot_touch_another_reps_visit(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    owner = await join(local_bot, 3012, "Owner", Role.REP, "north")
    other = await join(local_bot, 3013, "Other", Role.REP, "north")
    await add_customer(runtime, "north", "Golf Ltd", owner_tg=3012)
    await owner.send("/visit")
    await owner.tap("Golf Ltd")
    await owner.tap("Phone")
    await owner.send("ok")
    await owner.tap("Save")
    (visit,) = await visits_of(runtime, 3012)
    from tests.customer_helpers import forge_button

    for action in ("e", "d", "D"):
        await forge_button(other, f"vi|{visit.id}|{action}", f"Forged {action}")
        replies = await other.tap(f"Forged {action}")
        assert "not found among yours" in replies[-1].text
    assert len(await visits_of(runtime, 3012)) == 1
