"""/plan, /today, /week, /due and the manager's /team, as people use them."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from core.clock import ManualClock
from core.periods import format_short_day
from models.common import Role
from models.customer import Tier
from sandbox.harness import Chat, LocalBot
from tests.customer_helpers import (
    add_customer,
    audit_actions,
    forge_button,
    plans_of,
    visits_of,
)
from tests.helpers import join
from tests.report_helpers import set_local

# Only these scheduled jobs run: the others would run at every move of the clock (slow, noisy).
JOBS_UNDER_TEST = ("morning_plan",)


async def _phone_visit(chat: Chat, customer: str, purpose: str = "Revisit") -> None:
    await chat.send("/visit")
    await chat.send(customer)
    await chat.tap(customer)
    await chat.tap("Phone")
    await chat.send("Called.")
    if purpose != "Revisit":
        await chat.tap("Edit a field")
        await chat.tap("Purpose")
        await chat.tap(purpose)
    await chat.tap("Save")


async def _in_person_visit(
    chat: Chat, customer: str, at: tuple[float, float], clock: ManualClock
) -> None:
    await chat.send("/visit")
    await chat.send(customer)
    await chat.tap(customer)
    await chat.tap("In person")
    await chat.share_location(*at, accuracy=10.0)
    await clock.advance(timedelta(minutes=20))
    await chat.tap("Check out")
    await chat.send("Visited.")
    await chat.tap("Skip")
    await chat.tap("Save")


async def test_plan_a_day_then_today_and_week(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 5001, "Wang", Role.REP, "north")
    for name, tier in (("Alpha Co", Tier.A), ("Bravo Co", Tier.B), ("Charlie Co", Tier.C)):
        await add_customer(runtime, "north", name, owner_tg=5001, tier=tier)
    await runtime.clock.advance(timedelta(days=29))  # type: ignore[attr-defined]
    # Now Wed 23 Dec 2026: A (14 days) and B (28 days) are overdue, C (90 days) is not.

    replies = await rep.send("/due")
    text = replies[-1].text
    assert "2 customers due for a visit" in text
    assert text.index("Alpha Co (A) — 15 days overdue") < text.index("Bravo Co (B) — 1 day ")
    assert "Charlie" not in text

    replies = await rep.send("/plan")
    assert replies[-1].button_texts()[:2] == ["Wed 23 Dec", "Thu 24 Dec"]
    replies = await rep.tap("Thu 24 Dec")
    prompt = replies[-1]
    assert "Thu 24 Dec 2026" in prompt.text
    assert prompt.button_texts()[:2] == ["⏰ Alpha Co", "⏰ Bravo Co"]
    replies = await rep.tap("⏰ Alpha Co")
    assert replies == []  # ticking edits the list in place
    replies = await rep.send("Charlie")  # a customer who is not due: search for it
    replies = await rep.tap("Charlie Co")
    ticked = (await rep.last_reply()).button_texts()
    assert "✅ Alpha Co" in ticked and "✅ Charlie Co" in ticked and "✅ Done (2 chosen)" in ticked
    await rep.tap("Done")
    replies = await rep.tap("Demo / quote")
    assert "Planned for Thu 24 Dec 2026 (2)" in replies[0].text
    replies = await rep.tap("Plan Mon 28 Dec")  # the next working day (Fri 25 is a holiday)
    await rep.tap("⏰ Bravo Co")
    await rep.tap("Done")
    await rep.tap("Skip")
    replies = await rep.tap("Finish")
    assert "Your plan is saved" in replies[-1].text
    plans = await plans_of(runtime, 5001)
    assert [(p.planned_on.isoformat(), p.purpose) for p in plans] == [
        ("2026-12-24", "demo"), ("2026-12-24", "demo"), ("2026-12-28", None)
    ]  # fmt: skip

    await runtime.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    replies = await rep.send("/today")
    assert "Today, Thu 24 Dec 2026 — plan: 0/2 done" in replies[-1].text
    assert "📝 Log Alpha Co" in replies[-1].button_texts()
    replies = await rep.tap("📝 Log Alpha Co")
    assert "Alpha Co: in person or by phone?" in replies[-1].text
    await rep.tap("Phone")
    replies = await rep.send("Sent the quote by mail.")
    assert "Demo / quote" in replies[-1].text  # the purpose of the plan
    await rep.tap("Save")
    # An unplanned visit shows up under "Also visited".
    await add_customer(runtime, "north", "Delta Co", owner_tg=5001)
    await _phone_visit(rep, "Delta Co")
    replies = await rep.send("/today")
    text = replies[-1].text
    assert "plan: 1/2 done" in text and "✅ Alpha Co" in text and "⬜ Charlie Co" in text
    assert "Also visited:" in text and "Delta Co" in text
    assert replies[-1].button_texts() == ["📝 Log Charlie Co"]
    replies = await rep.send("/week")
    text = replies[-1].text
    assert "Week Mon 21 Dec – Sun 27 Dec" in text
    assert re.search(r"▶ Thu 24 Dec: 1/2 · 🤝 0 · 📞 2", text), text
    # An empty working day reads "—"; the Christmas holiday and the weekend, empty, are left out.
    assert "Mon 28 Dec" not in text and "Mon 21 Dec: —" in text and "0/0" not in text
    days = [line.split(":")[0] for line in text.splitlines()[1:6]]
    assert days == ["Mon 21 Dec", "Tue 22 Dec", "Wed 23 Dec", "▶ Thu 24 Dec", ""], text
    assert "📞 2/20 phone" in text
    replies = await rep.send("/due")
    assert "Alpha Co" not in replies[-1].text and "Bravo Co" in replies[-1].text


async def test_follow_up_dates_appear_in_the_plan_and_the_morning_list(
    local_bot: LocalBot,
) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 5002, "Li", Role.REP, "north")
    await add_customer(runtime, "north", "Echo Co", owner_tg=5002)
    await rep.send("/visit")
    await rep.tap("Echo Co")
    await rep.tap("Phone")
    await rep.send("Asked for samples.")
    await rep.tap("Next step")
    await rep.send("Bring samples")
    await rep.tap("Tomorrow")
    await rep.tap("Save")
    await runtime.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    replies = await rep.send("/today")
    assert "⬜ Echo Co (follow-up)" in replies[-1].text
    await runtime.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    replies = await rep.send("/today")
    assert "Overdue follow-ups" in replies[-1].text and "Echo Co (Wed 25 Nov)" in replies[-1].text
    replies = await rep.tap("📝 Log Echo Co")
    assert "Echo Co: in person or by phone?" in replies[-1].text


async def test_plan_buttons_belong_to_their_rep(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    owner = await join(local_bot, 5003, "Owner", Role.REP, "north")
    other = await join(local_bot, 5004, "Other", Role.REP, "north")
    await add_customer(runtime, "north", "Foxtrot Co", owner_tg=5003)
    await owner.send("/plan")
    await owner.tap("Tue 24 Nov")
    await owner.send("Foxtrot")
    await owner.tap("Foxtrot Co")
    await owner.tap("Done")
    await owner.tap("Skip")
    (plan,) = await plans_of(runtime, 5003)
    await forge_button(other, f"pl|{plan.id}|v")
    replies = await other.tap("Forged")
    assert "not found among yours" in replies[-1].text


async def test_manager_team_figures_match_the_visits_logged(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    manager = await join(local_bot, 5101, "Chen", Role.MANAGER, "north")
    wang = await join(local_bot, 5102, "Wang", Role.REP, "north")
    li = await join(local_bot, 5103, "Li", Role.REP, "north")
    zhao = await join(local_bot, 5104, "Zhao", Role.REP, "south")
    shop = (30.276849, 120.160030)
    await add_customer(runtime, "north", "Golf Co", owner_tg=5102, location=shop)
    await add_customer(runtime, "north", "Hotel Co", owner_tg=5103)
    await add_customer(runtime, "south", "India Co", owner_tg=5104)

    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    await _in_person_visit(wang, "Golf Co", (30.2770, 120.1605), clock)  # near
    await _in_person_visit(wang, "Golf Co", (30.2900, 120.1600), clock)  # 1.5 km: flagged
    await _phone_visit(wang, "Golf Co")
    # Wang develops a new customer inside /visit.
    await wang.send("/visit")
    await wang.send("Juliet Co")
    await wang.tap("New customer")
    await wang.tap("✓ Juliet Co")
    await wang.tap("Skip")
    await wang.tap("Skip")
    await wang.tap("Skip")
    await wang.tap("Phone")
    await wang.send("Intro call.")
    await wang.tap("Save")
    await _phone_visit(li, "Hotel Co")
    await _phone_visit(zhao, "India Co")  # another team: not in North's figures
    # A visit of last week does not count this week.
    assert len(await visits_of(runtime, 5102)) == 4

    replies = await manager.send("/team")
    text = replies[-1].text
    assert "North — week Mon 23 Nov – Sun 29 Nov" in text
    assert "Li: 🤝 0/15 · 📞 1/20 · 🆕 0/8" in text
    assert "Wang: 🤝 2/15 · 📞 2/20 · 🆕 1/8 · ⚠️ 1 flagged" in text
    assert "Total: 🤝 2 · 📞 3 · 🆕 1 · ⚠️ 1 flagged\n" in text or text.endswith(
        "Total: 🤝 2 · 📞 3 · 🆕 1 · ⚠️ 1 flagged"
    ), text
    assert "Zhao" not in text
    replies = await manager.tap("Wang")
    detail = (await manager.last_reply()).text
    assert "Wang — 4 visits this week" in detail
    assert "⚠️ Check-in 1.5 km from the customer" in detail and "±10 m" in detail
    await manager.tap("Team")
    assert "Wang: 🤝 2/15" in (await manager.last_reply()).text

    # Next week (Mon 30 Nov, still November) the weekly figures start from zero.
    await runtime.clock.advance(timedelta(days=6))  # type: ignore[attr-defined]
    replies = await manager.send("/team")
    assert "Wang: 🤝 0/15 · 📞 0/20 · 🆕 1/8" in replies[-1].text
    # No flag this week: the total leaves the zero out rather than ending in a bare "⚠️ 0".
    assert replies[-1].text.endswith("Total: 🤝 0 · 📞 0 · 🆕 1"), replies[-1].text

    # A manager cannot open another team or its reps, even with forged buttons.
    south_manager = await join(local_bot, 5105, "Sun", Role.MANAGER, "south")
    await forge_button(south_manager, "tm|r|1")
    replies = await south_manager.tap("Forged")
    assert "not found in your team" in replies[-1].text
    north_team_id = 1
    await forge_button(south_manager, f"tm|t|{north_team_id}", "Forged team")
    replies = await south_manager.tap("Forged team")
    assert "not yours" in replies[-1].text
    assert "not available for your role" in (await wang.send("/team"))[-1].text


async def test_director_picks_a_team(local_bot: LocalBot) -> None:
    director = await join(local_bot, 5201, "Zhou", Role.DIRECTOR, None)
    rep = await join(local_bot, 5202, "Qian", Role.REP, "south")
    await add_customer(local_bot.runtime, "south", "Kilo Co", owner_tg=5202)
    await _phone_visit(rep, "Kilo Co")
    replies = await director.send("/team")
    assert replies[-1].button_texts() == ["North", "South"]
    await director.tap("South")
    assert "Qian: 🤝 0/15 · 📞 1/20" in (await director.last_reply()).text
    zh_director = await join(local_bot, 5203, "周总", Role.DIRECTOR, None, lang="zh")
    await zh_director.send("/team south")
    south = (await zh_director.last_reply()).text
    print(south)
    assert south.endswith("合计：🤝 0 · 📞 1 · 🆕 0") and "⚠️" not in south, south
    replies = await director.send("/team north")
    assert "No reps in this team yet" in replies[-1].text


async def _plan_day(chat: Chat, day: str, names: list[str], lang: str = "en") -> None:
    done, skip, finish = ("Done", "Skip", "Finish") if lang == "en" else ("完成", "跳过", "结束")
    await chat.send("/plan")
    await chat.tap(day)
    for name in names:
        await chat.send(name)
        await chat.tap(name)
    await chat.tap(done)
    await chat.tap(skip)
    await chat.tap(finish)


async def test_plan_reopened_shows_the_day_and_removes_a_visit(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 5301, "Wang", Role.REP, "north")
    for name in ("Alpha Co", "Bravo Co", "Charlie Co", "Delta Co", "Echo Co"):
        await add_customer(runtime, "north", name, owner_tg=5301)
    await _plan_day(rep, "Mon 30 Nov", ["Alpha Co", "Bravo Co", "Charlie Co"])
    await _plan_day(rep, "Tue 1 Dec", ["Echo Co"])
    # Monday 30 Nov, 08:00: Alpha Co is called before the morning message.
    await set_local(runtime, date(2026, 11, 30), time(8, 0))
    await rep.send("/visit")
    await rep.tap("🗓 Alpha Co")  # today's planned customers come first
    await rep.tap("Phone")
    await rep.send("Called.")
    await rep.tap("Save")

    replies = await rep.send("/plan")
    replies = await rep.tap("Mon 30 Nov")
    prompt = replies[-1]
    assert "3 already planned" in prompt.text
    assert prompt.button_texts() == [
        "✅ Bravo Co", "✅ Charlie Co", "✅ Alpha Co · visited", "✅ Done (3 chosen)", "Cancel ✖"
    ]  # fmt: skip
    replies = await rep.tap("✅ Alpha Co · visited")
    said = "\n".join(r.text for r in replies)
    assert "Alpha Co has already been visited: a visit that is done stays on the plan" in said
    await rep.tap("✅ Charlie Co")  # unticked: taken off at Done
    await rep.send("Delta")
    await rep.tap("Delta Co")
    ticked = (await rep.last_reply()).button_texts()
    assert "Charlie Co" in ticked and "✅ Delta Co" in ticked and "✅ Done (3 chosen)" in ticked
    await rep.tap("Done")
    replies = await rep.tap("Skip")  # the purpose of the added visit
    saved = replies[0].text
    assert "✅ Plan for Mon 30 Nov 2026 updated, 3 in all:" in saved, saved
    assert "✅ Alpha Co · visited" in saved and "• Delta Co (new)" in saved
    assert "✖️ Charlie Co (removed)" in saved
    plans = await plans_of(runtime, 5301)
    monday = {p.customer_id: p for p in plans if p.planned_on == date(2026, 11, 30)}
    assert len(monday) == 3 and sum(1 for p in monday.values() if p.done_visit_id) == 1
    entries = await audit_actions(runtime, "planned_visit")
    removed = [e for e in entries if e.action == "plan.removed"]
    assert len(removed) == 1 and removed[0].before["day"] == "2026-11-30"

    # The next day's plan opens with its own entries; taking the only one off needs no purpose.
    replies = await rep.tap("Plan Tue 1 Dec")
    assert "1 already planned" in replies[-1].text
    assert replies[-1].button_texts()[0] == "✅ Echo Co"
    await rep.tap("✅ Echo Co")
    replies = await rep.tap("Done (0 chosen)")
    assert "🗑 Nothing planned for Tue 1 Dec 2026 any more (1 removed):" in replies[0].text
    assert "✖️ Echo Co (removed)" in replies[0].text
    assert "Plan another day?" in replies[-1].text
    await rep.tap("Finish")
    assert [p.planned_on for p in await plans_of(runtime, 5301)].count(date(2026, 12, 1)) == 0

    # The morning message follows the new plan: Bravo and Delta, not Charlie (nor Alpha, done).
    before = len(await rep.bot_messages())
    await set_local(runtime, date(2026, 11, 30), time(8, 31))
    await local_bot.drain_outbox()
    (morning,) = (await rep.bot_messages())[before:]
    assert "Good morning" in morning.text
    assert "Bravo Co" in morning.text and "Delta Co" in morning.text
    assert "Charlie Co" not in morning.text and "Alpha Co" not in morning.text

    # In Chinese, the same re-opened day.
    zh = await join(local_bot, 5302, "李娜", Role.REP, "north", lang="zh")
    for name in ("华东五金", "西湖建材"):
        await add_customer(runtime, "north", name, owner_tg=5302)
    await _plan_day(zh, format_short_day(date(2026, 12, 2), "zh"), ["华东五金", "西湖建材"], "zh")
    await zh.send("/plan")
    replies = await zh.tap(format_short_day(date(2026, 12, 2), "zh"))
    assert "已安排 2 个客户：点选 ✅ 客户即可从计划中移除" in replies[-1].text
    await zh.tap("✅ 西湖建材")
    replies = await zh.tap("完成")
    # A date ends in 周三: no space before 的; the header gives the total, each line its change
    # (no "新增 0 个").
    assert replies[0].text.startswith("✅ 已更新 2026年12月2日 周三的拜访计划，共 1 个客户：\n")
    assert "新增 0" not in replies[0].text
    assert "✖️ 西湖建材（已移除）" in replies[0].text


async def test_plan_answers_a_location_a_photo_and_a_stray_number(local_bot: LocalBot) -> None:
    """What /plan cannot use is answered as such; the form stays open with its ticks."""
    runtime = local_bot.runtime
    rep = await join(local_bot, 5401, "Wang", Role.REP, "north")
    for name in ("Alpha Co", "Bravo Co"):
        await add_customer(runtime, "north", name, owner_tg=5401)
    await rep.send("/plan")
    await rep.tap("Mon 30 Nov")
    await rep.send("Alpha")
    await rep.tap("Alpha Co")
    replies = await rep.share_location(30.27, 120.15, accuracy=10.0)
    said = "\n".join(r.text for r in replies)
    assert "Tap a customer, or type a name to search." in said
    assert (
        "📍 This location was not used: you are in the middle of /plan. Finish it or tap "
        "Cancel, then share the location again." in said
    )
    assert "type your answer as text" not in said
    assert "✅ Alpha Co" in replies[-1].button_texts() and "Cancel ✖" in replies[-1].button_texts()
    said = "\n".join(r.text for r in await rep.send_photo())
    assert "📷 This photo was not used: you are in the middle of /plan." in said
    replies = await rep.send("9")
    assert "There is no 9 here: tap a customer or type a name." in replies[0].text
    assert "Search: “9”" not in replies[-1].text and "Search: “Alpha”" in replies[-1].text
    assert "✅ Alpha Co" in replies[-1].button_texts()
    await rep.tap("Done (1 chosen)")
    await rep.tap("Skip")
    assert len(await plans_of(runtime, 5401)) == 1
    # In Chinese, the visit form names itself the same way.
    zh = await join(local_bot, 5402, "李娜", Role.REP, "north", lang="zh")
    await add_customer(runtime, "north", "华东五金", owner_tg=5402)
    await zh.send("/visit")
    await zh.send("华东五金")
    await zh.tap("华东五金")
    await zh.tap("电话")
    said = "\n".join(r.text for r in await zh.share_location(30.27, 120.15))
    assert "📍 这个位置没有用上：您正在填写 /visit。请先完成或点“取消”，再重新发送位置。" in said
    assert "已取消" not in said
    await zh.send("已电话沟通。")
    assert "已保存" in "\n".join(r.text for r in await zh.tap("保存"))


async def test_week_header_matches_its_figures_in_both_languages(local_bot: LocalBot) -> None:
    """Three planned today, one of them visited, and one unplanned call: 1/3 reads done/planned
    as the header says, in English and in Chinese."""
    runtime = local_bot.runtime
    for tg, name, lang, customers in (
        (5401, "Wang", "en", ("Alpha Co", "Bravo Co", "Charlie Co", "Delta Co")),
        (5402, "李娜", "zh", ("华东五金", "西湖建材", "钱塘贸易", "滨江电器")),
    ):
        chat = await join(local_bot, tg, name, Role.REP, "north", lang=lang)
        for customer in customers:
            await add_customer(runtime, "north", customer, owner_tg=tg)
        day = format_short_day(date(2026, 11, 24), lang)
        await _plan_day(chat, day, list(customers[:3]), lang)
        for customer in (customers[0], customers[3]):
            await chat.send("/visit")
            await chat.send(customer)
            await chat.tap(customer)
            await chat.tap("📞")
            await chat.send("Called." if lang == "en" else "电话沟通了报价。")
            await chat.tap("✅")
    english = (await (await local_bot.chat(5401, "Wang")).send("/week"))[-1].text
    assert "Week Mon 23 Nov – Sun 29 Nov (done / planned · in person · phone)" in english
    assert "▶ Tue 24 Nov: 1/3 · 🤝 0 · 📞 2" in english, english
    assert "Mon 23 Nov: —\n" in english and "Wed 25 Nov: —" in english and "0/0" not in english
    assert "\nSat 28 Nov" not in english and "\nSun 29 Nov" not in english
    chinese = (await (await local_bot.chat(5402, "李娜")).send("/week"))[-1].text
    assert "（完成/计划 · 上门 · 电话）" in chinese
    assert f"▶ {format_short_day(date(2026, 11, 24), 'zh')}：1/3 · 🤝 0 · 📞 2" in chinese, chinese
    assert f"{format_short_day(date(2026, 11, 23), 'zh')}：无" in chinese and "0/0" not in chinese
    assert "\n" + format_short_day(date(2026, 11, 28), "zh") not in chinese
    print(english, chinese, sep="\n\n")

    # A call made on Saturday shows that day; Sunday, empty, stays out.
    await runtime.clock.advance(timedelta(days=4))  # type: ignore[attr-defined]
    wang = await local_bot.chat(5401, "Wang")
    await wang.send("/visit")
    await wang.send("Bravo Co")
    await wang.tap("Bravo Co")
    await wang.tap("📞")
    await wang.send("Weekend call.")
    await wang.tap("✅")
    english = (await wang.send("/week"))[-1].text
    assert "▶ Sat 28 Nov: — · 🤝 0 · 📞 1" in english, english
    assert "\nSun 29 Nov" not in english
