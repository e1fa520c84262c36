"""The daily report as reps and managers use it: drafted from the day, edited, one a day, late."""

from __future__ import annotations

from datetime import date, time

from core.db import transaction
from models.common import Role
from sandbox.harness import LocalBot
from services import reports, team_context
from services.users import Actor
from tests.customer_helpers import add_customer, forge_button
from tests.helpers import join, user_by_tg
from tests.report_helpers import audit_of, daily_reports, phone_visit, problems, set_local
from views.reports import REPLY, TEAM_DAY, VIEW_DAILY, WRITE_DAILY, DayRef, Ref, TeamDay

TUESDAY = date(2026, 11, 24)


async def test_a_report_is_drafted_from_a_day_with_visits(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 6001, "Li", Role.REP, "north")
    await add_customer(runtime, "north", "Echo Co", owner_tg=6001)
    await add_customer(runtime, "north", "Foxtrot Ltd", owner_tg=6001)
    await phone_visit(rep, "Echo Co", follow_up="Tomorrow")
    await set_local(runtime, TUESDAY, time(11, 0))
    await phone_visit(rep, "Foxtrot Ltd")
    await set_local(runtime, TUESDAY, time(17, 30))

    replies = await rep.send("/report")
    draft = replies[-1].text
    assert "Daily report · Tue 24 Nov 2026" in draft
    assert "0 in person · 2 by phone" in draft
    assert "Customers (2): Echo Co, Foxtrot Ltd" in draft
    assert "how did the day go?" in draft
    replies = await rep.send("Two calls; Foxtrot wants a quote.")
    assert "manager's help" in replies[-1].text
    replies = await rep.send("Foxtrot asks for 12% off: can we?")
    assert "Your plan for tomorrow (Wed 25 Nov)" in replies[-1].text
    assert "• Echo Co" in replies[-1].text  # the follow-up became tomorrow's plan
    replies = await rep.tap("Keep this plan")
    card = replies[-1].text
    assert "Two calls; Foxtrot wants a quote." in card
    assert "Foxtrot asks for 12% off: can we?" in card
    assert "Plan for tomorrow\n• Echo Co" in card
    assert replies[-1].button_texts()[:2] == ["✅ Submit", "✏️ Edit a part"]
    replies = await rep.tap("Submit")
    assert "Report of Tue 24 Nov 2026 submitted" in replies[-1].text
    assert "Your manager will see the problem" in replies[-1].text

    [report] = await daily_reports(runtime, 6001)
    assert report.day == TUESDAY and not report.late
    assert report.summary == "Two calls; Foxtrot wants a quote."
    assert report.tomorrow_plan == "• Echo Co"
    assert [s["area"] for s in report.sections] == ["visits"]  # nothing was planned today
    [problem] = await problems(runtime)
    assert problem.text == "Foxtrot asks for 12% off: can we?" and problem.status == "open"
    assert [a.action for a in await audit_of(runtime, "daily_report")] == ["report.submitted"]


async def test_a_report_can_be_edited_until_the_end_of_its_day(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 6002, "Wang", Role.REP, "north")
    await set_local(runtime, TUESDAY, time(17, 0))
    await rep.send("/report")
    await rep.send("Office day: quotes.")
    await rep.send("Need samples of the new tiles")
    await rep.tap("Skip")  # nothing planned for tomorrow, and nothing typed
    replies = await rep.tap("Submit")
    assert "submitted. Thank you!" in replies[-1].text

    # /report again opens the submitted report: one report a day, changed in place.
    replies = await rep.send("/report")
    assert "You already submitted the report of Tue 24 Nov 2026" in replies[0].text
    assert "Office day: quotes." in replies[-1].text
    assert replies[-1].button_texts()[:2] == ["✅ Save changes", "✏️ Edit a part"]
    replies = await rep.tap("Edit a part")
    assert replies[-1].button_texts()[:3] == ["Summary", "Problem", "Tomorrow's plan"]
    await rep.tap("Problem")
    replies = await rep.tap("No problems")  # back to the card, not on to tomorrow's plan
    assert "🆘 Needs the manager's help\nNone" in replies[-1].text
    await rep.tap("Edit a part")
    await rep.tap("Summary")
    replies = await rep.send("Office day: three quotes sent.")
    assert "Office day: three quotes sent." in replies[-1].text
    replies = await rep.tap("Save changes")
    assert "Report of Tue 24 Nov 2026 updated" in replies[-1].text
    [report] = await daily_reports(runtime, 6002)
    assert report.summary == "Office day: three quotes sent." and not report.late
    [problem] = await problems(runtime)
    assert problem.status == "withdrawn"  # taken out before the manager answered
    actions = [a.action for a in await audit_of(runtime, "daily_report")]
    assert actions == ["report.submitted", "report.edited"]

    # Still editable late in the evening, but not once the day is over.
    await set_local(runtime, TUESDAY, time(23, 55))
    await rep.send("/report")
    await rep.tap("Edit a part")
    await rep.tap("Summary")
    await rep.send("Changed after midnight?")
    await set_local(runtime, date(2026, 11, 25), time(0, 5))
    replies = await rep.tap("Save changes")
    assert "can no longer be changed" in replies[-1].text
    [report] = await daily_reports(runtime, 6002)
    assert report.summary == "Office day: three quotes sent."
    # The new day has a report of its own.
    replies = await rep.send("/report")
    assert "Daily report · Wed 25 Nov 2026" in replies[-1].text


async def test_one_report_per_rep_and_day(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 6003, "Zhao", Role.REP, "north")
    await set_local(runtime, TUESDAY, time(16, 0))
    await rep.send("/report")
    await rep.send("Visited the market.")
    await rep.tap("No problems")
    await rep.tap("Skip")
    # Meanwhile the same rep's report of the day arrives another way (a second device or
    # instance): the draft's Submit must not create a second report.
    user = await user_by_tg(runtime, 6003)
    assert user is not None
    async with transaction(runtime.sessions) as session:
        await reports.submit_daily(
            session, actor=Actor.of(user), day=TUESDAY,
            content=reports.DailyContent("From the other phone.", None, None),
            team=await team_context.resolve(
                session, runtime.settings, user.team_id or 0, runtime.clock.now()
            ),
        )  # fmt: skip
    replies = await rep.tap("Submit")
    assert "already submitted — there is one report per day" in replies[-1].text
    [report] = await daily_reports(runtime, 6003)
    assert report.summary == "From the other phone."
    replies = await rep.send("/report")
    assert "From the other phone." in replies[-1].text  # /report opens it to edit


async def test_a_late_report_is_marked_late(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    late = await join(local_bot, 6004, "Sun", Role.REP, "north")
    forgetful = await join(local_bot, 6005, "Qian", Role.REP, "north")
    manager = await join(local_bot, 6100, "Chen", Role.MANAGER, "north")
    await set_local(runtime, TUESDAY, time(19, 5))
    replies = await late.send("/report")
    assert "past its due time and will be marked late" in replies[-1].text
    await late.send("Long day at the fair.")
    await late.tap("No problems")
    await late.tap("Skip")
    replies = await late.tap("Submit")
    assert "after its due time, so it is marked late" in replies[-1].text
    replies = await manager.send("/reports")
    assert "⏰ Sun — 19:05 (late)" in replies[-1].text
    assert "❌ Qian — missing" in replies[-1].text

    # The next morning the missed report can still be written: it is late.
    await set_local(runtime, date(2026, 11, 25), time(9, 30))
    replies = await forgetful.send("/report")
    assert replies[-1].button_texts()[:2] == [
        "Today, Wed 25 Nov", "Tue 24 Nov — missing (will be marked late)"
    ]  # fmt: skip
    replies = await forgetful.tap("Tue 24 Nov")
    assert "Daily report · Tue 24 Nov 2026" in replies[-1].text
    assert "will be marked late" in replies[-1].text
    await forgetful.send("Forgot to write it: two calls.")
    await forgetful.tap("No problems")
    await forgetful.tap("Skip")
    replies = await forgetful.tap("Submit")
    assert "Report of Tue 24 Nov 2026 submitted — after its due time" in replies[-1].text
    [report] = await daily_reports(runtime, 6005)
    assert report.day == TUESDAY and report.late
    replies = await forgetful.send("/report")
    assert "Daily report · Wed 25 Nov 2026" in replies[-1].text  # nothing missing any more
    replies = await manager.send("/reports")
    assert "⏳ Qian — not yet (due 18:00)" in replies[-1].text
    await manager.tap("Day before")  # the page is updated in place
    assert "⏰ Qian — Wed 25 Nov 09:30 (late)" in (await manager.last_reply()).text

    # Beyond the late window (7 days) a missed day can no longer be reported.
    await set_local(runtime, date(2026, 12, 3), time(9, 0))
    # The reminders due by then arrive first: a tap does not wait for them.
    await local_bot.drain_outbox()
    await forge_button(
        forgetful, WRITE_DAILY.pack(DayRef(20261125)), "Old reminder"
    )  # the button of 25 Nov
    replies = await forgetful.tap("Old reminder")
    assert "too late to write the report of Wed 25 Nov 2026" in replies[-1].text


async def test_bad_input_at_each_step_of_the_daily_report(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 6006, "Zhou", Role.REP, "north")
    await add_customer(runtime, "north", "Golf Co", owner_tg=6006)
    await phone_visit(rep, "Golf Co", follow_up="Tomorrow")
    await rep.send("/report")
    # Summary: a photo, a voice note, too long, a stale button.
    replies = await rep.send_photo()
    assert "Please type your answer as text." in replies[0].text
    assert "how did the day go?" in replies[-1].text  # asked again
    replies = await rep.send_voice()
    assert "Please type your answer as text." in replies[0].text
    replies = await rep.send("x" * 2001)
    assert "That is 2001 characters; please keep it under 2000." in replies[0].text
    replies = await rep.send("Good day.")
    # Problem: a location, then too long.
    replies = await rep.share_location(31.2, 121.5)
    assert "Please type your answer as text." in replies[0].text
    replies = await rep.send("p" * 1001)
    assert "please keep it under 1000" in replies[0].text
    await rep.send("Stock is short")
    # Tomorrow's plan: a photo, then too long.
    replies = await rep.send_photo()
    assert "Please type your answer as text." in replies[0].text
    assert "Keep this plan" in replies[-1].button_texts()[0]
    replies = await rep.send("t" * 1001)
    assert "please keep it under 1000" in replies[0].text
    replies = await rep.send("Golf Co, then the office.")
    # The card wants a button.
    replies = await rep.send("send it")
    assert "Please choose one of the buttons below." in replies[0].text
    assert replies[-1].button_texts()[:2] == ["✅ Submit", "✏️ Edit a part"]
    replies = await rep.tap("Cancel")
    assert "Cancelled. Nothing was saved." in replies[-1].text
    assert await daily_reports(runtime, 6006) == []
    # An old button of the cancelled form does nothing.
    replies = await rep.tap("Submit")
    assert "no longer works" in replies[-1].text
    assert await daily_reports(runtime, 6006) == []


async def test_who_may_write_and_read_reports(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 6007, "Wu", Role.REP, "north")
    other = await join(local_bot, 6008, "Zheng", Role.REP, "north")
    manager = await join(local_bot, 6101, "Chen", Role.MANAGER, "north")
    south_manager = await join(local_bot, 6102, "Müller", Role.MANAGER, "south")
    director = await join(local_bot, 6103, "Gao", Role.DIRECTOR, None)
    replies = await manager.send("/report")
    assert "not available for your role" in replies[-1].text
    replies = await rep.send("/reports")
    assert "not available for your role" in replies[-1].text
    await rep.send("/report")
    await rep.send("Done.")
    await rep.send("Need a discount")
    await rep.tap("Skip")
    await rep.tap("Submit")
    [report] = await daily_reports(runtime, 6007)
    [problem] = await problems(runtime)

    # Buttons carry ids, not permissions: each press is checked again.
    await forge_button(other, VIEW_DAILY.pack(Ref(report.id or 0)), "Peek")
    replies = await other.tap("Peek")
    assert "not available for your role" in replies[-1].text
    await forge_button(other, REPLY.pack(Ref(problem.id or 0)), "Answer")
    replies = await other.tap("Answer")
    assert "not available for your role" in replies[-1].text
    await forge_button(south_manager, VIEW_DAILY.pack(Ref(report.id or 0)), "Peek")
    replies = await south_manager.tap("Peek")
    assert "That report was not found." in replies[-1].text
    await forge_button(south_manager, REPLY.pack(Ref(problem.id or 0)), "Answer")
    replies = await south_manager.tap("Answer")
    assert "That problem was not found." in replies[-1].text
    await forge_button(south_manager, TEAM_DAY.pack(TeamDay(report.team_id)), "North")
    replies = await south_manager.tap("North")
    assert "not found, or it is not yours" in replies[-1].text
    await forge_button(rep, WRITE_DAILY.pack(DayRef(20261399)), "Bad day")
    replies = await rep.tap("Bad day")
    assert "no longer works" in replies[-1].text
    await forge_button(manager, f"rpv|{report.id}|x", "Too long")
    replies = await manager.tap("Too long")
    assert "no longer works" in replies[-1].text
    await forge_button(manager, f"rp|{report.id}|v", "Before the redesign")
    replies = await manager.tap("Before the redesign")
    assert "no longer works" in replies[-1].text

    # The north manager and a director read it.
    replies = await manager.send("/reports")
    assert "✅ Wu — 09:00 🆘" in replies[-1].text and "⏳ Zheng — not yet" in replies[-1].text
    replies = await director.send("/reports")
    await director.tap("North")
    assert "✅ Wu — 09:00" in (await director.last_reply()).text
    replies = await director.tap("Wu")
    assert "Need a discount" in replies[-1].text
    assert "💬 Answer Wu" in replies[-1].button_texts()


async def test_a_report_in_chinese(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 6009, "小王", Role.REP, "north", lang="zh")
    manager = await join(local_bot, 6104, "陈经理", Role.MANAGER, "north", lang="zh")
    await add_customer(runtime, "north", "华丰建材", owner_tg=6009)
    await add_customer(runtime, "north", "东方陶瓷", owner_tg=6009)
    await phone_visit(rep, "华丰建材", lang="zh")
    await phone_visit(rep, "东方陶瓷", lang="zh")
    replies = await rep.send("/report")
    draft = replies[-1].text
    assert "工作日报 · 2026年11月24日 周二" in draft
    assert "上门 0 · 电话 2" in draft and "客户（2）：华丰建材、东方陶瓷" in draft
    await rep.send("拜访了两家客户。")
    await rep.tap("没有问题")
    await rep.tap("跳过")
    replies = await rep.tap("提交")
    assert "2026年11月24日 周二的日报已提交" in replies[-1].text
    replies = await manager.send("/reports")
    assert "✅ 小王：09:00" in replies[-1].text
