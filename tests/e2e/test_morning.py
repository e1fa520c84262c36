"""The morning message: each rep's plan for the day arrives at the team's 08:30, once."""

from __future__ import annotations

from datetime import timedelta

from models.common import Role
from sandbox.client import SandboxMessage
from sandbox.harness import Chat, LocalBot
from tests.customer_helpers import add_customer
from tests.helpers import join


async def _plan_messages(chat: Chat) -> list[SandboxMessage]:
    """The bot's messages other than the evening reminders to write the daily report."""
    return [m for m in await chat.bot_messages() if "📝 Write my report" not in m.button_texts()]


async def test_morning_message_lists_the_days_plan_with_log_buttons(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 5102, "Li", Role.REP, "north")
    idle = await join(local_bot, 5103, "Idle", Role.REP, "north")
    await add_customer(runtime, "north", "Echo Co", owner_tg=5102)
    await rep.send("/visit")
    await rep.tap("Echo Co")
    await rep.tap("Phone")
    await rep.send("Asked for samples.")
    await rep.tap("Next step")
    await rep.send("Bring samples")
    await rep.tap("Tomorrow")
    await rep.tap("Save")
    before = len(await _plan_messages(rep))
    idle_before = len(await _plan_messages(idle))

    # Tuesday 09:00 in Shanghai -> Wednesday 08:31: the morning run is due.
    await runtime.clock.advance(timedelta(hours=23, minutes=31))  # type: ignore[attr-defined]
    await local_bot.drain_outbox()
    morning = (await _plan_messages(rep))[before:]
    assert len(morning) == 1
    assert "Echo Co" in (morning[0].text or "")
    assert any("Log Echo Co" in label for label in morning[0].button_texts())
    assert len(await _plan_messages(idle)) == idle_before  # nothing planned: no message

    await runtime.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    await local_bot.drain_outbox()
    assert len(await _plan_messages(rep)) == before + 1  # once per day

    replies = await rep.tap("Log Echo Co")
    assert "Echo Co: in person or by phone?" in replies[-1].text
