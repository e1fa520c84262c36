"""The rep's field day through the sandbox: proof the manager keeps, check-in from a shared
location, /nearby, and /today as a route with navigation links."""

from __future__ import annotations

import re
from datetime import timedelta

from core.clock import ManualClock
from models.common import Role
from sandbox.client import SandboxMessage
from sandbox.harness import Chat, LocalBot
from tests.customer_helpers import Counter, add_customer, audit_actions, check_in, visits_of
from tests.helpers import join

SHOP = (30.276849, 120.160030)
# Only this scheduled job runs (the morning message would land in the middle of the chats).
JOBS_UNDER_TEST = ("close_open_visits",)


def _clock(local_bot: LocalBot) -> ManualClock:
    clock = local_bot.runtime.clock
    assert isinstance(clock, ManualClock)
    return clock


async def _phone_visit(chat: Chat, customer: str, note: str) -> None:
    await chat.send("/visit")
    await chat.tap(customer)
    await chat.tap("Phone")
    await chat.send(note)
    await chat.tap("Save")


async def test_a_deleted_visit_stays_visible_to_the_manager(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    manager = await join(local_bot, 7001, "Chen", Role.MANAGER, "north")
    rep = await join(local_bot, 7002, "Wang", Role.REP, "north")
    await add_customer(runtime, "north", "Alpha Co", owner_tg=7002)
    await _phone_visit(rep, "Alpha Co", "Called about the order.")
    await _clock(local_bot).advance(timedelta(minutes=30))
    await rep.send("/visits")
    await rep.tap("🗑 1")
    await rep.tap("Yes, delete")
    assert "Visit deleted" in (await rep.last_reply()).text
    assert await visits_of(runtime, 7002) == []

    replies = await manager.send("/team")
    assert "Wang: 🤝 0/15 · 📞 0/20 · 🆕 0/8 · 🗑 1 deleted" in replies[-1].text
    await manager.tap("Wang")
    detail = await manager.last_reply()
    assert "Wang — 0 visits this week" in detail.text
    assert "Alpha Co" in detail.text and "<s>" in (detail.raw_text or "")
    assert "🗑 Deleted by Wang on Tue 24 Nov at 09:30" in detail.text
    entries = await audit_actions(runtime, "visit")
    assert [e.action for e in entries] == ["visit.created", "visit.deleted"]


async def test_a_shared_location_checks_in_at_the_nearest_customer(local_bot: LocalBot) -> None:
    """From a location shared outside any form: tap the customer (1), Check out (2), type the
    note (3), Skip the photos (4), Save (5) — the location and photos not counted."""
    runtime = local_bot.runtime
    rep = await join(local_bot, 7011, "Li", Role.REP, "north")
    await join(local_bot, 7012, "Zhao", Role.REP, "south")
    await add_customer(runtime, "north", "上海新天地零售", location=SHOP, address="黄陂南路 1 号")
    await add_customer(runtime, "north", "隔壁五金", location=(30.2775, 120.1602))
    await add_customer(runtime, "north", "远处建材", location=(30.3000, 120.1600))
    await add_customer(runtime, "south", "别队客户", location=SHOP)
    flow = Counter(rep)
    replies = await flow.share_location(30.2770, 120.1601, accuracy=9.0)
    text = replies[-1].text
    assert "Customers within 200 m of you, nearest first" in text
    assert text.index("上海新天地零售") < text.index("隔壁五金")
    assert "黄陂南路 1 号" in text and "远处建材" not in text and "别队客户" not in text
    assert replies[-1].button_texts() == ["📍 Check in: 上海新天地零售", "📍 Check in: 隔壁五金"]
    replies = await flow.tap("📍 Check in: 上海新天地零售")
    assert "Checked in at 上海新天地零售" in replies[-1].text and "✅" in replies[-1].text
    (visit,) = await visits_of(runtime, 7011)
    assert visit.is_open and visit.checkin_accuracy_m == 9.0 and not visit.flagged

    card_id = replies[-1].message_id
    await _clock(local_bot).advance(timedelta(minutes=25))
    replies = await flow.tap("🚪 Check out")
    asked = r"🚪 Checked out (\d\d:\d\d) · 25 min on site\nWhat happened\?"
    out = re.search(asked, replies[-1].text)
    assert out is not None, replies[-1].text
    # Nothing is saved yet: the card still says checked in.
    (card,) = [m for m in await rep.messages() if m.message_id == card_id]
    assert "Checked out" not in card.text and card.button_texts() == ["🚪 Check out"]
    await flow.send("Restocked the display; order next week.")
    summary = (await flow.tap("Skip"))[-1].text
    assert "Time on site: 25 min" in summary and "Photos" not in summary, summary
    replies = await flow.tap("Save")
    assert "Visit saved" in replies[-1].text and "Time on site: 25 min" in replies[-1].text
    # Saved: the card says when, and how long on site; its button is gone.
    (card,) = [m for m in await rep.messages() if m.message_id == card_id]
    assert f"🚪 Checked out {out.group(1)} · 25 min on site" in card.text, card.text
    assert "Checked in at 上海新天地零售" in card.text and card.button_texts() == []
    assert flow.taps == 4 and flow.sent == 2  # 5 interactions besides the location
    (visit,) = await visits_of(runtime, 7011)
    assert visit.on_site_minutes == 25 and not visit.is_open

    # /nearby lists around the last location, wider; a stale location offers no check-in.
    await _clock(local_bot).advance(timedelta(minutes=30))
    replies = await rep.send("/nearby")
    text = replies[-1].text
    assert "within 3.0 km of where you were at" in text and "远处建材" in text
    assert replies[-1].button_texts() == []


async def test_nearby_without_a_location_asks_for_one(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 7021, "Ma", Role.REP, "north")
    replies = await rep.send("/nearby")
    assert "Share your location first" in replies[-1].text
    assert replies[-1].reply_markup["keyboard"][0][0]["request_location"] is True
    replies = await rep.share_location(10.0, 10.0, accuracy=5.0)
    assert "No customer of your team" in replies[-1].text


async def _follow_up_call(chat: Chat, customer: str, next_step: str) -> None:
    await chat.send("/visit")
    await chat.tap(customer)
    await chat.tap("Phone")
    await chat.send(f"Called {customer}.")
    await chat.tap("Next step")
    await chat.send(next_step)
    await chat.tap("Tomorrow")
    await chat.tap("Save")


async def test_today_is_a_route_with_addresses_follow_ups_and_navigation(
    local_bot: LocalBot,
) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 7031, "Li", Role.REP, "north")
    # Due north of the rep's position at 3, 1 and 2 km; the solver must go 1 → 2 → 3 km.
    here = (30.2700, 120.1600)
    north = {"Alpha Co": 3, "Bravo Co": 1, "Charlie Co": 2}
    for name, km in north.items():
        await add_customer(
            runtime, "north", name, owner_tg=7031, location=(here[0] + km / 111.2, here[1]),
            address=f"{km} Wensan Road",
        )  # fmt: skip
    await _follow_up_call(rep, "Alpha Co", "Send updated price list")
    await _follow_up_call(rep, "Bravo Co", "月底前再电话确认付款")
    await _follow_up_call(rep, "Charlie Co", "Bring samples")
    await _clock(local_bot).advance(timedelta(days=1))

    replies = await rep.send("/today")
    assert "Share your location to get the day as a route" in replies[-1].text
    await rep.share_location(*here, accuracy=10.0)
    replies = await rep.send("/today")
    text = replies[-1].text
    assert "3 Wensan Road · 3.0 km away" in text and "1 Wensan Road · 1000 m away" in text
    assert "↪ Send updated price list" in text and "↪ 月底前再电话确认付款" in text
    assert replies[-1].button_texts()[0] == "🧭 Route from here"

    replies = await rep.tap("🧭 Route from here")
    route = replies[-1]
    assert "Today's route: 3 stops, 3.0 km in a straight line. Links open Amap." in route.text
    order = [route.text.index(name) for name in ("Bravo Co", "Charlie Co", "Alpha Co")]
    assert order == sorted(order), route.text
    assert "1. Bravo Co · +1.0 km" in route.text and "2. Charlie Co · +1.0 km" in route.text
    links = [e["url"] for e in route.entities if e.get("type") == "text_link"]
    assert len(links) == 3 and all(u.startswith("https://uri.amap.com/navigation?") for u in links)
    from services.geo import wgs84_to_gcj02

    lat, lon = wgs84_to_gcj02(here[0] + 1 / 111.2, here[1])
    assert f"to={lon:.6f},{lat:.6f},Bravo%20Co" in links[0]

    # /visit offers today's planned customers first.
    replies = await rep.send("/visit")
    assert replies[-1].button_texts()[:3] == ["🗓 Alpha Co", "🗓 Bravo Co", "🗓 Charlie Co"]


async def test_a_visit_left_open_is_checked_out_at_the_end_of_the_day(
    local_bot: LocalBot,
) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 7041, "Gu", Role.REP, "north")
    await add_customer(runtime, "north", "Delta Co", owner_tg=7041, location=SHOP)
    card = await check_in(rep, "Delta Co", SHOP, accuracy=6.0)  # 09:00 in Shanghai
    assert card.button_texts() == ["🚪 Check out"]
    await _clock(local_bot).advance(timedelta(hours=15))  # past the 23:30 run
    (visit,) = await visits_of(runtime, 7041)
    assert not visit.is_open and visit.auto_closed
    assert visit.on_site_minutes == 9 * 60  # until the end of the working day, 18:00
    # The card says so, and its Check out button is gone.
    await local_bot.drain_outbox()
    closed = await _message(rep, card.message_id)
    assert closed.text == (
        "📍 Checked in at Delta Co at 09:00.\n🚪 Checked out 18:00 · 540 min on site\n"
        "🌙 You did not check out: the visit was closed automatically at the end of the day."
    )
    assert closed.button_texts() == []
    replies = await rep.send("/visits")
    assert "Delta Co" in replies[-1].text and "⏱ 540 min" in replies[-1].text
    assert "visit.auto_closed" in [e.action for e in await audit_actions(runtime, "visit")]


async def test_a_card_closed_at_the_end_of_the_day_reads_in_chinese(
    local_bot: LocalBot,
) -> None:
    rep = await join(local_bot, 7042, "Gu", Role.REP, "north", lang="zh")
    await add_customer(local_bot.runtime, "north", "杭州西湖茶行", owner_tg=7042, location=SHOP)
    card = await check_in(rep, "杭州西湖茶行", SHOP, accuracy=6.0, in_person="上门拜访")
    assert card.button_texts() == ["🚪 签退"]
    await _clock(local_bot).advance(timedelta(hours=15))
    await local_bot.drain_outbox()
    closed = await _message(rep, card.message_id)
    assert closed.text == (
        "📍 已在 杭州西湖茶行 签到，09:00。\n🚪 签退 18:00 · 停留 540 分钟\n"
        "🌙 您当天未签退，下班时系统已自动签退。"
    )
    assert closed.button_texts() == []


async def _message(chat: Chat, message_id: int) -> SandboxMessage:
    return next(m for m in await chat.bot_messages() if m.message_id == message_id)


async def test_a_visit_logged_for_yesterday_and_dates_reps_type(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 7051, "Fan", Role.REP, "north")
    await add_customer(runtime, "north", "Echo Co", owner_tg=7051)
    await rep.send("/visit")
    await rep.tap("Echo Co")
    await rep.tap("Phone")
    await rep.send("Forgot to log this one.")
    await rep.tap("Edit a field")
    await rep.tap("Time")
    replies = await rep.send("明天 10:00")
    assert "has not come yet" in replies[0].text
    replies = await rep.send("上周三 10:00")
    assert "today or yesterday only" in replies[0].text
    replies = await rep.send("yesterday 16:00")
    assert "Visit summary" in replies[-1].text and "16:00" in replies[-1].text
    await rep.tap("Next step")
    await rep.send("月底前再电话确认付款")
    replies = await rep.send("前天")
    assert "is in the past" in replies[0].text
    replies = await rep.send("月底")
    assert "Understood: Mon 30 Nov 2026" in replies[0].text
    await rep.tap("Save")
    (visit,) = await visits_of(runtime, 7051)
    assert visit.visited_at.isoformat() == "2026-11-23T08:00:00+00:00"  # 16:00 in Shanghai
    assert visit.follow_up_on is not None and visit.follow_up_on.isoformat() == "2026-11-30"

    # On Friday, "明天" is a Saturday: the follow-up moves to Monday and the rep is told.
    await _clock(local_bot).advance(timedelta(days=3))
    await rep.send("/visit")
    await rep.tap("Echo Co")
    await rep.tap("Phone")
    await rep.send("Agreed on the delivery.")
    await rep.tap("Next step")
    await rep.send("Confirm the delivery date")
    replies = await rep.send("明天")
    assert "Sat 28 Nov 2026 is not a working day" in replies[0].text
    assert "moves to Mon 30 Nov 2026" in replies[0].text
    await rep.tap("Save")
    visits = await visits_of(runtime, 7051)
    assert {v.follow_up_on.isoformat() for v in visits if v.follow_up_on} == {"2026-11-30"}
