"""Delegation (start, what the delegate gets, expiry by itself, ending early) and /pending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from core.clock import ManualClock
from core.db import transaction
from models.approval import Delegation, RequestStatus
from models.audit import AuditEntry
from models.common import Role
from sandbox.harness import LocalBot
from tests.approval_helpers import (
    OTHER_MANAGER,
    card_of,
    expense,
    forge,
    message,
    requests,
    team_of,
    text_of,
    texts,
)
from tests.conftest import write_config
from tests.helpers import join

# Only the approvals jobs run here: other areas' reminders would land among the cards.
JOBS_UNDER_TEST = ("approvals_sweep", "approval_delegations")


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """Slow reminders here, so that moving the clock a day does not escalate anything."""
    return write_config(
        tmp_path, "\n[defaults.approvals]\nremind_after_hours = 20\nescalate_after_hours = 40\n"
    )


async def delegations(bot: LocalBot) -> list[Delegation]:
    async with transaction(bot.runtime.sessions) as session:
        rows = await session.exec(select(Delegation).order_by(col(Delegation.id)))
        return list(rows.all())


async def test_delegation_starts_works_and_ends_by_itself(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    delegate = await join(local_bot, OTHER_MANAGER, "Sun Hao", Role.MANAGER, "south")
    await expense(people.rep, "300")  # waiting before the delegation starts
    await local_bot.drain_outbox()

    reply = texts(await people.manager.send("/delegate"))
    assert "Who should decide" in reply
    reply = texts(await people.manager.tap("Sun Hao · South"))
    assert "Until which day" in reply
    assert "in the past" not in texts(await people.manager.send("yesterday"))
    reply = texts(await people.manager.tap("Wed 25 Nov"))
    assert "until the end of Wed 25 Nov 2026" in reply
    reply = texts(await people.manager.tap("Confirm"))
    assert "Sun Hao decides your team's approvals" in reply
    await local_bot.drain_outbox()

    bot_texts = texts(await delegate.bot_messages())
    assert "Chen Jing (North) handed you their approvals until the end of Wed 25 Nov" in bot_texts
    first = await card_of(delegate, 1)
    assert "Delegated to you</b> by Chen Jing" in text_of(first)
    await expense(people.rep, "450")  # during the delegation: both get the card
    await local_bot.drain_outbox()
    await card_of(people.manager, 2)
    second = await card_of(delegate, 2)
    assert "#2026-0001" in texts(await delegate.send("/pending"))

    replies = await delegate.tap("Approve", message_id=first.message_id)
    assert "No further approval is needed;" in texts(replies)
    (decided, _) = await requests(local_bot)
    assert decided.status == RequestStatus.APPROVED
    await local_bot.drain_outbox()
    assert "Sun Hao <b>approved</b>" in text_of(await people.rep.last_reply())

    # Thursday 00:05 in Shanghai: the delegation has ended by itself; both are told.
    clock = local_bot.runtime.clock
    assert isinstance(clock, ManualClock)
    await clock.set(datetime(2026, 11, 25, 16, 10, tzinfo=UTC))
    await local_bot.drain_outbox()
    assert "delegation from Chen Jing has ended" in text_of(await delegate.last_reply())
    assert "Your delegation to Sun Hao has ended" in text_of(await people.manager.last_reply())
    (delegation,) = await delegations(local_bot)
    assert delegation.end_reason == "expired" and delegation.ended_at is not None
    now = await message(delegate, second.message_id)
    assert now.button_texts() == ["👁 View"]
    # Once the delegation is over, the request is another team's again: nothing to say about it.
    assert "not yours to see" in texts(await forge(delegate, "ap|2|a|0"))
    assert "Who should decide" in texts(await people.manager.send("/delegate"))
    async with transaction(local_bot.runtime.sessions) as session:
        rows = await session.exec(
            select(AuditEntry.action).where(AuditEntry.entity == "delegation")
        )
        assert list(rows.all()) == ["delegation.started", "delegation.expired"]


async def test_ending_early_and_handing_to_a_director(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await people.manager.send("/delegate")
    await people.manager.tap("Zhao Min · Director")
    await people.manager.tap("Fri 27 Nov")
    await people.manager.tap("Confirm")
    reply = texts(await people.manager.send("/delegate"))
    assert "Your approvals go to Zhao Min until the end of Fri 27 Nov 2026" in reply
    await expense(people.rep, "700")
    await local_bot.drain_outbox()
    card = await card_of(people.director, 1)  # the manager level, by delegation
    reply = texts(await people.manager.tap("End now"))
    assert "delegation to Zhao Min has ended" in reply
    await local_bot.drain_outbox()
    assert "Chen Jing ended the delegation" in text_of(await people.director.last_reply())
    assert (await message(people.director, card.message_id)).button_texts() == ["👁 View"]
    (delegation,) = await delegations(local_bot)
    assert delegation.end_reason == "ended"


async def test_delegation_is_for_managers_and_dates_are_checked(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    assert "not available for your role" in texts(await people.rep.send("/delegate"))
    assert "not available for your role" in texts(await people.director.send("/delegate"))
    reply = texts(await people.manager.send("/delegate"))
    labels = (await people.manager.last_reply()).button_texts()
    assert "Chen Jing" not in " ".join(labels) and "Wang Wei" not in " ".join(labels)
    assert "Who should decide" in reply
    await people.manager.tap("Qian Li")
    assert "has passed" in texts(await people.manager.send("2026-11-20"))
    assert "At most 92 days" in texts(await people.manager.send("2027-06-01"))
    assert "cannot read that date" in texts(await people.manager.send("whenever"))
    reply = texts(await people.manager.send("2026-11-30"))
    assert "until the end of Mon 30 Nov 2026" in reply


async def test_pending_lists_oldest_first_with_buttons(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    assert "Nothing waits for your decision" in texts(await people.manager.send("/pending"))
    assert "not available for your role" in texts(await people.rep.send("/pending"))
    clock = local_bot.runtime.clock
    assert isinstance(clock, ManualClock)
    for amount in ("100", "200", "5000"):
        await expense(people.rep, amount)
        await clock.advance(timedelta(minutes=5))
    await local_bot.drain_outbox()
    original = await card_of(people.manager, 2)
    reply = texts(await people.manager.send("/pending"))
    assert "3 waiting for your decision" in reply
    assert reply.index("#2026-0001") < reply.index("#2026-0002") < reply.index("#2026-0003")
    # A compact list: no card is re-sent until one is opened.
    listing = (await people.manager.bot_messages())[-1]
    assert listing.button_texts() == ["#2026-0001", "#2026-0002", "#2026-0003", "✅ Decided"]
    await local_bot.drain_outbox()
    assert (await card_of(people.manager, 2)).message_id == original.message_id
    await people.manager.tap("#2026-0002", message_id=listing.message_id)
    await local_bot.drain_outbox()
    copy = await card_of(people.manager, 2)
    assert copy.message_id != original.message_id
    replies = await people.manager.tap("Approve", message_id=copy.message_id)
    assert "approved #2026-0002" in texts(replies)
    await local_bot.drain_outbox()
    assert (await message(people.manager, original.message_id)).button_texts() == ["👁 View"]
    reply = texts(await people.manager.send("/pending"))
    assert "2 waiting" in reply and "#2026-0002" not in reply
    # Directors see only what reached their level.
    assert "Nothing waits" in texts(await people.director.send("/pending"))
    await people.manager.tap("Approve", message_id=(await card_of(people.manager, 3)).message_id)
    reply = texts(await people.director.send("/pending"))
    assert "1 waiting" in reply and "#2026-0003" in reply


async def test_my_requests_shows_state_and_the_audit_trail(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "3000")
    await local_bot.drain_outbox()
    await people.manager.tap("Reject")
    await people.manager.send("Use the train next time")
    reply = texts(await people.rep.send("/myrequests"))
    assert "#2026-0001" in reply and "rejected" in reply
    view = texts(await people.rep.tap("#2026-0001"))
    assert "Audit trail" in view
    assert "Wang Wei: submitted (— → waiting · Manager)" in view
    assert "Chen Jing: ❌ rejected (waiting · Manager → rejected) — <i>Use the train" in view
    # Directors may look at any request; another team's rep may not.
    assert "Audit trail" in texts(await forge(people.director_2, "apv|1"))
