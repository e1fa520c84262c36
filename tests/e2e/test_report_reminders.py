"""Evening reminders to reps without the day's report, and the managers' compliance digest."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, time
from pathlib import Path

import pytest
from sqlmodel import select

from core.db import transaction
from models.common import Role
from models.team import Team
from sandbox.harness import LocalBot
from services import users
from tests.conftest import write_config
from tests.helpers import join, user_by_tg
from tests.report_helpers import daily_reports, outbox_rows, problems, replies, set_local

# Only these scheduled jobs run: the others would run at every move of the clock (slow, noisy).
JOBS_UNDER_TEST = ("report_reminder", "report_reminder_again", "report_digest")

TUESDAY = date(2026, 11, 24)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """North has a holiday of its own on Thursday 26 Nov; South (Berlin) works that day. (A
    team's list replaces the default one, so North repeats the company holiday of 25 Dec.)"""
    path = write_config(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        '[teams.north]\nname = "North"',
        '[teams.north]\nname = "North"\nholidays = ["2026-11-26", "2026-12-25"]',
    )
    path.write_text(text, encoding="utf-8")
    return path


async def _deactivate(local_bot: LocalBot, telegram_id: int) -> None:
    runtime = local_bot.runtime
    user = await user_by_tg(runtime, telegram_id)
    assert user is not None and user.id is not None
    async with transaction(runtime.sessions) as session:
        await users.deactivate(session, actor=None, target_id=user.id, now=runtime.clock.now())


async def test_reminders_go_only_to_reps_without_a_report(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    reported = await join(local_bot, 6201, "An", Role.REP, "north")
    missing = await join(local_bot, 6202, "Bai", Role.REP, "north")
    gone = await join(local_bot, 6203, "Cao", Role.REP, "north")
    manager = await join(local_bot, 6299, "Chen", Role.MANAGER, "north")
    await _deactivate(local_bot, 6203)
    await set_local(runtime, TUESDAY, time(17, 0))
    await reported.send("/report")
    await reported.send("Calls all afternoon.")
    await reported.tap("No problems")
    await reported.tap("Skip")
    await reported.tap("Submit")
    counts = {chat.user_id: len(await chat.bot_messages())
              for chat in (reported, missing, gone, manager)}  # fmt: skip

    await set_local(runtime, TUESDAY, time(18, 1))
    await local_bot.drain_outbox()
    first = (await missing.bot_messages())[counts[6202] :]
    assert len(first) == 1
    assert "Time for your daily report of Tue 24 Nov 2026" in first[0].text
    assert first[0].button_texts() == ["📝 Write my report"]
    for chat in (reported, gone, manager):
        assert len(await chat.bot_messages()) == counts[chat.user_id]

    await set_local(runtime, TUESDAY, time(20, 1))
    await local_bot.drain_outbox()
    second = (await missing.bot_messages())[counts[6202] + 1 :]
    assert len(second) == 1 and "still missing" in second[0].text
    for chat in (reported, gone):
        assert len(await chat.bot_messages()) == counts[chat.user_id]
    keys = [row.idempotency_key for row in await outbox_rows(runtime, "report_reminder")]
    bai = await user_by_tg(runtime, 6202)
    assert bai is not None
    assert keys == [
        f"report-reminder:{bai.id}:2026-11-24:1",
        f"report-reminder:{bai.id}:2026-11-24:2",
    ]

    # The reminder's button opens the report of its day.
    replies_ = await missing.tap("Write my report")
    assert "Daily report · Tue 24 Nov 2026" in replies_[-1].text
    assert "will be marked late" in replies_[-1].text
    await missing.send("Sorry, late: visited two shops.")
    await missing.tap("No problems")
    await missing.tap("Skip")
    await missing.tap("Submit")
    [report] = await daily_reports(runtime, 6202)
    assert report.late

    # A new day: whoever has not reported is reminded again.
    await set_local(runtime, date(2026, 11, 25), time(18, 1))
    await local_bot.drain_outbox()
    assert "Wed 25 Nov 2026" in (await reported.last_reply()).text
    assert "Wed 25 Nov 2026" in (await missing.last_reply()).text
    assert len(await gone.bot_messages()) == counts[6203]


async def test_nothing_is_sent_on_holidays_and_weekends(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    await join(local_bot, 6211, "North rep", Role.REP, "north")
    await join(local_bot, 6212, "North boss", Role.MANAGER, "north")
    await join(local_bot, 6221, "South rep", Role.REP, "south")
    await join(local_bot, 6222, "South boss", Role.MANAGER, "south")
    # Through Monday 30 Nov (Berlin's evening runs end at 03:30 Shanghai time).
    await set_local(runtime, date(2026, 12, 1), time(4, 0))

    sent: dict[tuple[str, str], set[str]] = defaultdict(set)
    names = {}
    for tg in (6211, 6212, 6221, 6222):
        user = await user_by_tg(runtime, tg)
        assert user is not None
        names[str(user.id)] = user.display_name
    for row in await outbox_rows(runtime, "report_reminder"):
        _, rep_id, day, step = row.idempotency_key.split(":")
        sent[(names[rep_id], step)].add(day)
    for row in await outbox_rows(runtime, "report_digest"):
        _, _, day, manager_id = row.idempotency_key.split(":")
        sent[(names[manager_id], "digest")].add(day)
    north = {"2026-11-24", "2026-11-25", "2026-11-27", "2026-11-30"}  # not Thu 26 (holiday)
    south = north | {"2026-11-26"}  # South's holidays are the defaults: it worked Thursday
    assert sent[("North rep", "1")] == sent[("North rep", "2")] == north
    assert sent[("North boss", "digest")] == north
    assert sent[("South rep", "1")] == sent[("South rep", "2")] == south
    assert sent[("South boss", "digest")] == south
    assert ("North boss", "1") not in sent and ("South boss", "1") not in sent

    # The default holiday (Fri 25 Dec) is quiet too; /report then has nothing due.
    await set_local(runtime, date(2026, 12, 25), time(21, 0))
    days = {
        row.idempotency_key.split(":")[2] for row in await outbox_rows(runtime, "report_reminder")
    }
    assert "2026-12-24" in days and "2026-12-25" not in days
    north_rep = await local_bot.chat(6211, "North rep")
    await north_rep.send("/report")  # writes Thursday's missing report (late) instead
    assert "Daily report · Thu 24 Dec 2026" in (await north_rep.last_reply()).text


async def test_the_managers_digest(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    on_time = await join(local_bot, 6231, "An", Role.REP, "north")
    late = await join(local_bot, 6232, "Bai", Role.REP, "north")
    await join(local_bot, 6233, "Cao", Role.REP, "north")
    await join(local_bot, 6234, "Ding", Role.REP, "north")
    manager = await join(local_bot, 6239, "Chen", Role.MANAGER, "north")
    director = await join(local_bot, 6240, "Gao", Role.DIRECTOR, None)
    south_manager = await join(local_bot, 6241, "Müller", Role.MANAGER, "south")
    await _deactivate(local_bot, 6234)
    await set_local(runtime, TUESDAY, time(17, 0))
    await on_time.send("/report")
    await on_time.send("Three visits.")
    await on_time.tap("No problems")
    await on_time.tap("Skip")
    await on_time.tap("Submit")
    await set_local(runtime, TUESDAY, time(18, 30))
    newcomer = await join(local_bot, 6235, "Fang", Role.REP, "north")  # joined after 18:00
    await set_local(runtime, TUESDAY, time(19, 0))
    await late.send("/report")
    await late.send("Trade fair all day.")
    await late.send("Customer Hotel Co disputes the October invoice")
    await late.tap("Skip")
    await late.tap("Submit")
    director_before = len(await director.bot_messages())
    south_before = len(await south_manager.bot_messages())
    # The times read in the config's timezone (Shanghai), whatever the teams column says.
    async with transaction(runtime.sessions) as session:
        north = (await session.exec(select(Team).where(Team.key == "north"))).one()
        north.timezone = "UTC"
        session.add(north)

    await set_local(runtime, TUESDAY, time(20, 31))
    await local_bot.drain_outbox()
    digest = await manager.last_reply()
    text = digest.text
    assert "Daily reports · North · Tue 24 Nov 2026" in text
    assert "✅ On time (1): An (17:00)" in text
    assert "⏰ Late (1): Bai (19:00)" in text
    assert "❌ Missing (1): Cao" in text
    assert "Ding" not in text and "Fang" not in text  # deactivated; joined after the due time
    assert "Problems flagged (1)" in text
    assert "• Bai: Customer Hotel Co disputes the October invoice" in text
    assert digest.button_texts() == ["💬 Answer Bai", "📋 Open the reports"]
    assert len(await director.bot_messages()) == director_before
    assert len(await south_manager.bot_messages()) == south_before
    assert len(await newcomer.bot_messages()) == 1  # the welcome only: no reminder owed

    # Answer the rep from the digest: bad input first.
    replies_ = await manager.tap("Answer Bai")
    assert "Your answer to Bai about the problem of Tue 24 Nov" in replies_[-1].text
    replies_ = await manager.send_photo()
    assert "Please type your answer as text." in replies_[0].text
    replies_ = await manager.send("a" * 1001)
    assert "please keep it under 1000" in replies_[0].text
    replies_ = await manager.send("I'll call Hotel Co tomorrow; send me the invoice.")
    assert "Your answer was sent to Bai." in replies_[-1].text
    await local_bot.drain_outbox()
    notice = (await late.last_reply()).text
    assert "Chen answered the problem in your report of Tue 24 Nov 2026" in notice
    assert "I'll call Hotel Co tomorrow; send me the invoice." in notice
    [problem] = await problems(runtime)
    assert problem.status == "answered"
    [reply] = await replies(runtime)
    assert reply.text == "I'll call Hotel Co tomorrow; send me the invoice."

    replies_ = await manager.tap("Open the reports")  # a new message: the digest stays
    assert "Reports · North · Tue 24 Nov 2026" in replies_[-1].text
    assert "🆘 Open problems (0)" in replies_[-1].button_texts()
    [kept] = [m for m in await manager.bot_messages() if m.message_id == digest.message_id]
    assert kept.text == digest.text
    await set_local(runtime, TUESDAY, time(22, 0))
    assert len(await outbox_rows(runtime, "report_digest")) == 1  # once a day
