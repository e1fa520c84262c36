"""The dunning schedule end to end: each step on its day in the team's timezone, escalation."""

from __future__ import annotations

from datetime import date, time, timedelta

from models.common import Role
from sandbox.harness import LocalBot
from tests.collection_helpers import add_customer_in, add_receivable, at_local, last_id
from tests.helpers import join

# Only these scheduled jobs run: the others would run at every move of the clock (slow, noisy).
JOBS_UNDER_TEST = ("dunning",)


def tone_of(text: str) -> str:
    for marker, tone in (("Friendly reminder", "friendly"), ("Payment due", "due"),
                         ("Urgent", "urgent"), ("Final reminder", "final"),
                         ("Overdue", "firm")):  # fmt: skip
        if marker in text:
            return tone
    return "?"


async def test_each_step_arrives_on_its_day(local_bot: LocalBot) -> None:
    manager = await join(local_bot, 3001, "Mona", Role.MANAGER, "north")
    director = await join(local_bot, 3009, "Dora", Role.DIRECTOR, None)
    rep = await join(local_bot, 3002, "Rick", Role.REP, "north")
    runtime = local_bot.runtime
    customer = await add_customer_in(runtime, "north", "杭州远航医药", 3002)
    # Due Monday 30 November: steps on Fri 27 Nov (-3), 30 Nov, 7 Dec, 14 Dec and 30 Dec.
    await add_receivable(runtime, "INV-1", customer=customer, owner_tg=3002, amount="1200",
                         due=date(2026, 11, 30))  # fmt: skip
    seen: dict[str, str] = {}
    day = date(2026, 11, 24)
    while day <= date(2027, 1, 8):
        mark = await last_id(rep)
        await at_local(local_bot, "north", day)
        for message in await rep.bot_messages():
            if message.message_id > mark and "INV-1" in (message.text or ""):
                seen[day.isoformat()] = tone_of(message.text or "")
        day += timedelta(days=1)
    assert seen == {
        "2026-11-27": "friendly", "2026-11-30": "due", "2026-12-07": "firm",
        "2026-12-14": "urgent", "2026-12-30": "final",
    }  # fmt: skip
    reminders = [m for m in await rep.bot_messages() if "INV-1" in (m.text or "")]
    first = reminders[0]
    assert "INV-1" in (first.text or "") and "CN¥1,200.00" in (first.text or "")
    assert "due in 3 days" in (first.text or "") and "Last contact: none" in (first.text or "")
    assert first.button_texts() == [
        "✅ Collected in full", "💵 Partial payment", "📅 Promised a date", "⚖️ Disputed",
        "📞 Contacted, no result",
    ]  # fmt: skip
    escalations = [m for m in await manager.bot_messages() if "Escalation" in (m.text or "")]
    assert [tone_of(m.text or "") for m in escalations] == ["urgent", "final"]
    assert all("Rick" in (m.text or "") and "INV-1" in (m.text or "") for m in escalations)
    assert not any(m.buttons for m in escalations)
    to_director = [m for m in await director.bot_messages() if "Escalation" in (m.text or "")]
    assert [tone_of(m.text or "") for m in to_director] == ["final"]


async def test_the_run_follows_the_team_timezone(local_bot: LocalBot) -> None:
    await join(local_bot, 3101, "Sven", Role.REP, "south")
    rep = await join(local_bot, 3102, "Ada", Role.REP, "south")
    runtime = local_bot.runtime
    customer = await add_customer_in(runtime, "south", "Berlin Bau GmbH", 3102)
    await add_receivable(runtime, "RE-7", customer=customer, owner_tg=3102, amount="800",
                         due=date(2026, 11, 30), currency="EUR")  # fmt: skip
    # 09:29 in Berlin is 16:29 in Shanghai: north's run is long past, south's not yet.
    await at_local(local_bot, "south", date(2026, 11, 30), time(9, 29))
    texts = [m.text or "" for m in await rep.bot_messages() if "RE-7" in (m.text or "")]
    assert [tone_of(text) for text in texts] == ["friendly"]  # Friday's, 3 days before
    await at_local(local_bot, "south", date(2026, 11, 30), time(9, 31))
    texts = [m.text or "" for m in await rep.bot_messages() if "RE-7" in (m.text or "")]
    assert [tone_of(text) for text in texts] == ["friendly", "due"]
    assert "€800.00" in texts[-1] and "due today" in texts[-1]


async def test_reminders_speak_the_reps_language(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 3003, "王伟", Role.REP, "north", lang="zh")
    runtime = local_bot.runtime
    customer = await add_customer_in(runtime, "north", "成都康乐零售", 3003)
    await add_receivable(runtime, "INV-Z", customer=customer, owner_tg=3003, amount="18000",
                         due=date(2026, 11, 27))  # fmt: skip
    await at_local(local_bot, "north", date(2026, 11, 24))
    reminder = [m for m in await rep.bot_messages() if "INV-Z" in (m.text or "")][-1]
    assert "温馨提醒——成都康乐零售" in (reminder.text or "")
    assert "¥18,000.00" in (reminder.text or "") and "3 天后到期" in (reminder.text or "")
    assert reminder.button_texts()[0] == "✅ 已全额回款"
