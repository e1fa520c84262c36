"""Reminders and escalation in the team's working hours, driven by the manual clock: the sweep
runs every quarter hour of the working day and never repeats a reminder or an escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, func, select

from core.clock import ManualClock
from core.db import transaction
from models.approval import RequestStatus, StepStatus
from models.outbox import OutboxMessage
from sandbox.harness import LocalBot
from tests.approval_helpers import (
    audit_of,
    card_of,
    expense,
    message,
    requests,
    steps,
    team_of,
    text_of,
    texts,
)

# Only the approvals jobs run here: other areas' reminders would land among the cards.
JOBS_UNDER_TEST = ("approvals_sweep", "approval_delegations")


def clock_of(bot: LocalBot) -> ManualClock:
    clock = bot.runtime.clock
    assert isinstance(clock, ManualClock)
    return clock


async def count_kind(bot: LocalBot, kind: str) -> int:
    async with transaction(bot.runtime.sessions) as session:
        query = (
            select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.kind) == kind)
        )
        return int((await session.exec(query)).one())


async def test_reminder_then_escalation_to_the_directors(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    clock = clock_of(local_bot)
    await expense(people.rep, "1500")  # Tuesday 09:00, manager only
    await local_bot.drain_outbox()
    manager_card = await card_of(people.manager, 1)

    await clock.advance(timedelta(hours=3))
    await local_bot.drain_outbox()
    assert await count_kind(local_bot, "approval.reminder") == 0

    await clock.advance(timedelta(hours=2))  # 14:00: five working hours
    await local_bot.drain_outbox()
    reminder = await card_of(people.manager, 1)
    assert reminder.message_id != manager_card.message_id
    assert "<b>Reminder</b>: this has waited 4 working hours" in text_of(reminder)
    await clock.advance(timedelta(minutes=45))  # more sweeps: no second reminder
    await local_bot.drain_outbox()
    assert await count_kind(local_bot, "approval.reminder") == 1

    await clock.advance(timedelta(hours=3, minutes=15))  # 18:00: nine working hours
    await local_bot.drain_outbox()
    (request,) = await requests(local_bot)
    assert request.chain == ["manager", "director"] and request.step_no == 1
    assert [s.status for s in await steps(local_bot, 1)] == [
        StepStatus.ESCALATED, StepStatus.PENDING,
    ]  # fmt: skip
    for director in (people.director, people.director_2):
        card = await card_of(director, 1)
        assert "Escalated to you</b>: no decision from Chen Jing in 8 working hours" in text_of(
            card
        )
    # (18:00 is also when the daily-report reminder arrives: look among the latest messages.)
    latest = [text_of(m) for m in (await people.rep.bot_messages())[-3:]]
    assert any("went to the directors" in text for text in latest)
    assert "waited 8 working hours for your decision" in text_of(await people.manager.last_reply())
    for copy in (manager_card, reminder):
        now = await message(people.manager, copy.message_id)
        assert now.button_texts() == ["👁 View"] and "1. Manager ⏫" in text_of(now)
    escalation = (await audit_of(local_bot, 1))[-1]
    assert escalation.action == "approval.escalated" and escalation.actor_id is None
    assert "8 working hours" in escalation.reason

    # Later sweeps change nothing; the directors decide.
    await clock.advance(timedelta(hours=16))
    await local_bot.drain_outbox()
    assert await count_kind(local_bot, "approval.escalated") == 2
    replies = await people.director.tap("Approve")
    assert "No further approval is needed;" in texts(replies)
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.APPROVED


async def test_waiting_is_counted_in_working_hours_only(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    clock = clock_of(local_bot)
    # Friday 17:30 in Shanghai.
    await clock.set(datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    await expense(people.rep, "3000")
    await local_bot.drain_outbox()
    # Monday 12:00: half an hour on Friday and three on Monday.
    await clock.set(datetime(2026, 11, 30, 4, 0, tzinfo=UTC))
    await local_bot.drain_outbox()
    assert await count_kind(local_bot, "approval.reminder") == 0
    await clock.advance(timedelta(minutes=45))
    await local_bot.drain_outbox()
    assert await count_kind(local_bot, "approval.reminder") == 1
    # Escalated after eight working hours: Monday 16:30, to the director level of its chain.
    await clock.advance(timedelta(hours=3, minutes=30))
    await local_bot.drain_outbox()
    (request,) = await requests(local_bot)
    assert request.step_no == 0
    await clock.advance(timedelta(minutes=30))
    await local_bot.drain_outbox()
    (request,) = await requests(local_bot)
    assert request.chain == ["manager", "director"] and request.step_no == 1


async def test_directors_are_reminded_but_not_escalated_past(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    clock = clock_of(local_bot)
    await expense(people.manager, "400")  # a manager's own request: directors only
    await local_bot.drain_outbox()
    await clock.advance(timedelta(hours=5))
    await local_bot.drain_outbox()
    for director in (people.director, people.director_2):
        assert "<b>Reminder</b>" in text_of(await card_of(director, 1))
    await clock.advance(timedelta(days=2))
    await local_bot.drain_outbox()
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.PENDING and request.chain == ["director"]
    assert await count_kind(local_bot, "approval.reminder") == 2


async def test_an_answer_restarts_the_wait(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    clock = clock_of(local_bot)
    await expense(people.rep, "600")
    await local_bot.drain_outbox()
    await clock.advance(timedelta(hours=5))
    await local_bot.drain_outbox()
    assert await count_kind(local_bot, "approval.reminder") == 1
    await people.manager.tap("Ask for info")
    await people.manager.send("Receipt is blurry, which taxi company?")
    await clock.advance(timedelta(hours=4))  # 18:00: the question waits, no escalation
    await local_bot.drain_outbox()
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.INFO and request.step_no == 0
    await people.rep.tap("Answer")
    await people.rep.send("Didi, the receipt is attached again.")
    # Wednesday 14:00: five working hours of a new wait: a new reminder, no escalation yet.
    await clock.set(datetime(2026, 11, 25, 6, 0, tzinfo=UTC))
    await local_bot.drain_outbox()
    assert await count_kind(local_bot, "approval.reminder") == 2
    (request,) = await requests(local_bot)
    assert request.step_no == 0 and request.status == RequestStatus.PENDING


async def test_one_sweep_reminds_a_manager_of_three_requests_at_most(local_bot: LocalBot) -> None:
    """Five requests reach their reminder time in the same quarter hour: the manager is
    reminded of the three oldest in that sweep and of the other two in the next one."""
    people = await team_of(local_bot)
    clock = clock_of(local_bot)
    for amount in ("100", "200", "300", "400", "500"):
        await expense(people.rep, amount)  # Tuesday 09:00
    await local_bot.drain_outbox()
    # (One quarter hour at a time: a jump of hours would also make up a missed sweep.)
    await clock.advance(timedelta(hours=3, minutes=55))  # 12:55
    await local_bot.drain_outbox()
    assert await count_kind(local_bot, "approval.reminder") == 0
    await clock.advance(timedelta(minutes=5))  # the 13:00 sweep
    await local_bot.drain_outbox()
    assert await count_kind(local_bot, "approval.reminder") == 3
    await clock.advance(timedelta(minutes=15))  # the 13:15 sweep
    await local_bot.drain_outbox()
    assert await count_kind(local_bot, "approval.reminder") == 5
    async with transaction(local_bot.runtime.sessions) as session:
        rows = (
            await session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.kind) == "approval.reminder")
                .order_by(col(OutboxMessage.id))
            )
        ).all()
    assert len({row.created_at for row in rows[:3]}) == 1
    assert rows[3].created_at == rows[4].created_at > rows[0].created_at
