"""The Friday weekly report: drafted from the week, key visits that become next week's plan."""

from __future__ import annotations

from datetime import date, time

from sqlmodel import select

from bot.app import Runtime
from core.db import transaction
from models.common import Role
from models.outbox import OutboxMessage
from sandbox.harness import LocalBot
from tests.customer_helpers import add_customer, plans_of
from tests.helpers import join
from tests.report_helpers import phone_visit, set_local, weekly_reports

FRIDAY = date(2026, 11, 27)


async def test_the_weekly_report_becomes_next_weeks_plan(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 6301, "Li", Role.REP, "north")
    slow = await join(local_bot, 6302, "Wang", Role.REP, "north")
    manager = await join(local_bot, 6399, "Chen", Role.MANAGER, "north")
    for name in ("Alpha Co", "Bravo Co", "Charlie Co"):
        await add_customer(runtime, "north", name, owner_tg=6301)
    replies = await rep.send("/weekly")
    assert "opens on the last working day of the week: Fri 27 Nov 2026" in replies[-1].text
    await phone_visit(rep, "Alpha Co")

    await set_local(runtime, FRIDAY, time(16, 0))
    replies = await rep.send("/weekly")
    draft = replies[-1].text
    assert "Weekly report · Mon 23 Nov – Sun 29 Nov" in draft
    assert "In person 0/15 · by phone 1/20 (weekly targets)" in draft
    assert "Customers (1): Alpha Co" in draft
    await rep.send("Alpha reordered; two new leads.")
    replies = await rep.send("Competitor Z cut prices by 5%.")
    assert "Next week's key visits (from Mon 30 Nov)" in replies[-1].text
    await rep.send("Bravo")
    replies = await rep.tap("Bravo Co")
    assert replies == []  # ticking updates the list in place
    await rep.send("Charlie")
    await rep.tap("Charlie Co")
    ticked = (await rep.last_reply()).button_texts()
    assert "✅ Bravo Co" in ticked and "✅ Charlie Co" in ticked and "✅ Done (2 picked)" in ticked
    replies = await rep.tap("Done (2 picked)")
    assert replies[-1].button_texts()[:5] == [
        "Mon 30 Nov", "Tue 1 Dec", "Wed 2 Dec", "Thu 3 Dec", "Fri 4 Dec"
    ]  # fmt: skip
    replies = await rep.tap("Spread over the week")
    card = replies[-1].text
    assert "Competitor Z cut prices by 5%." in card
    assert "• Mon 30 Nov: Bravo Co\n• Tue 1 Dec: Charlie Co" in card
    replies = await rep.tap("Submit")
    assert "Weekly report submitted" in replies[-1].text
    assert "Next week's plan now has your 2 key visits" in replies[-1].text
    plans = await plans_of(runtime, 6301)
    assert [p.planned_on.isoformat() for p in plans] == ["2026-11-30", "2026-12-01"]
    [weekly] = await weekly_reports(runtime, 6301)
    assert not weekly.late and weekly.week_start == date(2026, 11, 23)

    # Changing the key visits moves the plan entries the report made.
    replies = await rep.send("/weekly")
    assert "You already submitted this week's report" in replies[0].text
    await rep.tap("Edit a part")
    replies = await rep.tap("Key visits")
    assert "✅ Charlie Co" in replies[-1].button_texts()
    await rep.tap("✅ Charlie Co")
    await rep.tap("Done (1 picked)")
    replies = await rep.tap("Wed 2 Dec")
    assert "• Wed 2 Dec: Bravo Co" in replies[-1].text and "Charlie" not in replies[-1].text
    replies = await rep.tap("Save changes")
    assert "Weekly report updated" in replies[-1].text
    plans = await plans_of(runtime, 6301)
    assert [(p.planned_on.isoformat(), p.customer_id) for p in plans] == [
        ("2026-12-02", weekly.key_visits[0]["customer_id"])
    ]
    assert len(await weekly_reports(runtime, 6301)) == 1

    # The manager reads it; Friday's digest says who still owes the weekly report.
    await set_local(runtime, FRIDAY, time(20, 31))
    await local_bot.drain_outbox()
    digest = (await manager.last_reply()).text
    assert "📅 Weekly reports: 1/2 submitted; still missing: Wang" in digest
    await manager.send("/reports")
    await manager.tap("Weekly reports")
    page = await manager.last_reply()
    assert "Weekly reports · North · Mon 23 Nov – Sun 29 Nov" in page.text
    assert "✅ Li — Fri 27 Nov 16:00" in page.text and "❌ Wang — not submitted" in page.text
    replies = await manager.tap("Li")
    assert "Competitor Z cut prices by 5%." in replies[-1].text
    assert "• Wed 2 Dec: Bravo Co" in replies[-1].text

    # Written on Saturday, a weekly report is late.
    await set_local(runtime, date(2026, 11, 28), time(10, 0))
    replies = await slow.send("/weekly")
    assert "will be marked late" in replies[-1].text
    await slow.send("Quiet week.")
    await slow.tap("Skip")
    await slow.tap("Skip")  # no key visits
    replies = await slow.tap("Submit")
    assert "marked late" in replies[-1].text
    [late] = await weekly_reports(runtime, 6302)
    assert late.late and late.key_visits == []
    # Next week, the new weekly report waits for Friday again.
    await set_local(runtime, date(2026, 11, 30), time(9, 0))
    replies = await slow.send("/weekly")
    assert "Fri 4 Dec 2026" in replies[-1].text


async def test_bad_input_at_each_step_of_the_weekly_report(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 6303, "Sun", Role.REP, "north")
    await add_customer(runtime, "north", "Echo Co", owner_tg=6303)
    await add_customer(runtime, "south", "Berlin GmbH")
    await set_local(runtime, FRIDAY, time(15, 0))
    await rep.send("/weekly")
    replies = await rep.send_photo()
    assert "Please type your answer as text." in replies[0].text
    replies = await rep.send("s" * 2001)
    assert "please keep it under 2000" in replies[0].text
    await rep.send("Fine week.")
    replies = await rep.send_voice()
    assert "Please type your answer as text." in replies[0].text
    replies = await rep.send("f" * 2001)
    assert "please keep it under 2000" in replies[0].text
    await rep.send("Prices stable.")
    replies = await rep.send("zzz")
    assert "No customer matches “zzz”" in replies[0].text
    replies = await rep.send("Berlin")  # another team's customer is not found either
    assert "No customer matches" in replies[0].text
    replies = await rep.send_photo()
    assert "Please type your answer as text." in replies[0].text
    replies = await rep.tap("Done (0 picked)")  # nothing picked: straight to the card
    assert "⭐ Next week's key visits\nNone" in replies[-1].text
    await rep.tap("Edit a part")
    await rep.tap("Key visits")
    await rep.send("Echo")
    await rep.tap("Echo Co")
    await rep.tap("Done (1 picked)")
    replies = await rep.send("Monday")
    assert "Please choose one of the buttons below." in replies[0].text
    await rep.tap("Mon 30 Nov")
    replies = await rep.send("ok")
    assert "Please choose one of the buttons below." in replies[0].text
    replies = await rep.tap("Cancel")
    assert "Cancelled. Nothing was saved." in replies[-1].text
    assert await weekly_reports(runtime, 6303) == []
    assert await plans_of(runtime, 6303) == []


async def test_the_last_working_day_reminds_reps_without_the_weekly_report(
    local_bot: LocalBot,
) -> None:
    runtime = local_bot.runtime
    done = await join(local_bot, 6311, "Done", Role.REP, "north")
    owing = await join(local_bot, 6312, "Owing", Role.REP, "north", lang="zh")
    manager = await join(local_bot, 6319, "Boss", Role.MANAGER, "north")
    # Thursday 16:00: not the week's last working day, nothing is sent.
    await set_local(runtime, date(2026, 11, 26), time(16, 1))
    await local_bot.drain_outbox()
    assert await weekly_reminders(runtime) == []
    # Friday: Done writes the report before 16:00, Owing does not.
    await set_local(runtime, FRIDAY, time(15, 0))
    await done.send("/weekly")
    await done.send("Quiet week.")
    await done.send("No feedback.")
    await done.tap("Done (0 picked)")
    await done.tap("Submit")
    await set_local(runtime, FRIDAY, time(16, 1))
    await local_bot.drain_outbox()
    assert [row.chat_id for row in await weekly_reminders(runtime)] == [6312]
    reminder = await owing.last_reply()
    assert "今天是本周（11月23日 周一 至 11月29日 周日）最后一个工作日" in reminder.text, (
        reminder.text
    )
    assert manager.user_id not in [row.chat_id for row in await weekly_reminders(runtime)]
    # The button opens the weekly report form.
    replies = await owing.tap("填写周报")
    assert "周报" in replies[-1].text
    await owing.send("/cancel")
    # A restart later that day sends nothing again; next week the old button is refused.
    await local_bot.restart()
    await set_local(runtime, date(2026, 12, 4), time(9, 0))
    await local_bot.drain_outbox()
    assert len(await weekly_reminders(runtime)) == 1
    replies = await owing.tap("填写周报", message_id=reminder.message_id)
    assert "该提醒属于之前的一周" in replies[-1].text


async def weekly_reminders(runtime: Runtime) -> list[OutboxMessage]:
    async with transaction(runtime.sessions) as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "weekly_reminder")
        return list((await session.exec(query)).all())
