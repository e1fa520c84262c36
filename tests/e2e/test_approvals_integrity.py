"""Integrity of decisions: concurrent approvers, double taps, old cards, forged callback data,
reps and requesters refused; exactly one decision is ever recorded per step."""

from __future__ import annotations

import asyncio

from models.approval import RequestStatus, StepStatus
from models.common import Role
from sandbox.harness import LocalBot
from tests.approval_helpers import (
    MANAGER,
    OTHER_MANAGER,
    OTHER_REP,
    audit_of,
    card_of,
    expense,
    forge,
    message,
    requests,
    steps,
    team_of,
    texts,
)
from tests.helpers import join

# Only the approvals jobs run here: other areas' reminders would land among the cards.
JOBS_UNDER_TEST = ("approvals_sweep", "approval_delegations")


def decisions(trail: list, action: str = "approval.approved") -> int:  # type: ignore[type-arg]
    return sum(1 for entry in trail if entry.action == action)


async def test_two_directors_deciding_at_the_same_moment(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "5000")
    await local_bot.drain_outbox()
    await people.manager.tap("Approve")
    await local_bot.drain_outbox()
    first, second = await asyncio.gather(
        people.director.tap("Approve"), people.director_2.tap("Approve")
    )
    answers = sorted([texts(first), texts(second)])
    assert sum("No further approval is needed;" in answer for answer in answers) == 1
    assert sum("was already approved by" in answer for answer in answers) == 1
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.APPROVED
    _, director_step = await steps(local_bot, 1)
    assert director_step.status == StepStatus.APPROVED
    assert director_step.decided_by_id == request.decided_by_id
    assert decisions(await audit_of(local_bot, 1)) == 2  # the manager's and one director's
    await local_bot.drain_outbox()
    assert texts(await people.rep.bot_messages()).count("<b>approved</b>") == 1


async def test_approve_and_reject_racing_leave_one_decision(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "5000")
    await local_bot.drain_outbox()
    await people.manager.tap("Approve")
    await local_bot.drain_outbox()
    await people.director.tap("Reject")  # asks for the reason first
    await people.director_2.tap("Approve")
    replies = await people.director.send("Too expensive")
    assert "#2026-0001 was already approved by Qian Li" in texts(replies)
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.APPROVED
    trail = await audit_of(local_bot, 1)
    assert decisions(trail) == 2 and decisions(trail, "approval.rejected") == 0
    # The reason form is closed: the next message is not taken as a reason.
    assert "reject" not in texts(await people.director.send("hello")).lower()


async def test_manager_and_delegate_tapping_together(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    delegate = await join(local_bot, OTHER_MANAGER, "Sun Hao", Role.MANAGER, "south")
    await people.manager.send("/delegate")
    await people.manager.tap("Sun Hao")
    await people.manager.tap("Fri 27 Nov")
    await people.manager.tap("Confirm")
    await expense(people.rep, "1200")
    await local_bot.drain_outbox()
    await card_of(delegate, 1)
    first, second = await asyncio.gather(people.manager.tap("Approve"), delegate.tap("Approve"))
    answers = [texts(first), texts(second)]
    assert sum("No further approval is needed;" in answer for answer in answers) == 1
    assert sum("already approved by" in answer for answer in answers) == 1
    assert decisions(await audit_of(local_bot, 1)) == 1


async def test_double_tap_and_old_card(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "3000")
    await local_bot.drain_outbox()
    card = await card_of(people.manager, 1)
    await asyncio.gather(
        people.manager.tap("Approve", message_id=card.message_id),
        people.manager.tap("Approve", message_id=card.message_id),
    )
    answers = texts(await people.manager.replies_since(card.message_id))
    assert answers.count("goes to the directors") == 1
    assert answers.count("You already approved #2026-0001") == 1
    # An old card whose edit has not arrived yet: still refused.
    await local_bot.drain_outbox()
    await local_bot.client.add_fault("slow", "editMessageText", delay=3, count=5)
    await people.director.tap("Approve")
    replies = await people.director_2.tap("Approve")
    assert "already approved by Zhao Min" in texts(replies)
    await local_bot.client.clear_faults()
    await local_bot.drain_outbox()
    assert (await message(people.manager, card.message_id)).button_texts() == ["👁 View"]
    assert decisions(await audit_of(local_bot, 1)) == 2


async def test_forged_and_stale_callback_data(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    outsider = await join(local_bot, OTHER_MANAGER, "Sun Hao", Role.MANAGER, "south")
    other_rep = await join(local_bot, OTHER_REP, "Li Na", Role.REP, "south")
    await expense(people.rep, "3000")
    await local_bot.drain_outbox()

    assert "Reps cannot approve" in texts(await forge(people.rep, "ap|1|a|0"))
    assert "Reps cannot approve" in texts(await forge(other_rep, "ap|1|r|0"))
    # Another team's manager learns nothing: the same answer as for a request that does not exist.
    nothing = texts(await forge(outsider, "ap|999|a|0"))
    assert "not yours to see" in nothing
    assert texts(await forge(outsider, "ap|1|a|0")) == nothing
    assert "not yours to see" in texts(await forge(outsider, "apv|1"))
    assert "not yours to see" in texts(await forge(other_rep, "apv|1"))
    assert "not yours to see" in texts(await forge(other_rep, "apwy|1"))
    for data in (
        "ap|1|zz|0",
        "ap|x|a|0",
        "ap|1|a",
        "ap|1|a|x",
        "ap|1|a|7",
        "ap||a|0",
        "ap|1|a|0|0",
    ):
        assert "out of date" in texts(await forge(people.manager, data)), data
    # An approval prefix without its fields, or an old-format view button: out of date too.
    for data in ("ap", "ap|1|v", "apv|", "apv|1|2", "apwy|x"):
        assert "out of date" in texts(await forge(people.manager, data)), data
    assert "no such request" in texts(await forge(people.manager, "ap|999|a|0"))
    # Directors cannot take the manager's level.
    assert "not yours to decide" in texts(await forge(people.director, "ap|1|a|0"))
    # A step the request has not reached yet.
    assert "out of date" in texts(await forge(people.director, "ap|1|a|1"))
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.PENDING and request.version == 1
    assert [e.action for e in await audit_of(local_bot, 1)] == ["approval.submitted"]
    # Once decided, who decided and when stays inside the team.
    await people.manager.tap("Approve")
    for data in ("ap|1|a|0", "ap|1|r|0", "ap|1|i|0", "ap|1|a|1"):
        assert texts(await forge(outsider, data)) == nothing, data


async def test_nobody_approves_their_own_request(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    replies = await expense(people.manager, "500")
    assert "sent to the directors" in texts(replies)
    (request,) = await requests(local_bot)
    assert request.chain == ["director"]
    await local_bot.drain_outbox()
    assert "can't" not in texts(await forge(people.manager, "apv|1"))
    assert "cannot decide your own request" in texts(await forge(people.manager, "ap|1|a|0"))
    assert "cannot decide your own request" in texts(await forge(people.manager, "ap|1|r|0"))
    assert [e.action for e in await audit_of(local_bot, 1)] == ["approval.submitted"]
    await card_of(people.director, 1)
    await card_of(people.director_2, 1)
    replies = await people.director.tap("Approve")
    assert "No further approval is needed;" in texts(replies)


async def test_a_manager_alone_cannot_route_past_missing_directors(local_bot: LocalBot) -> None:
    await join(local_bot, 5002, "Chen Jing", Role.MANAGER, "north")
    manager = await local_bot.chat(5002, "Chen Jing")
    await manager.send("/expense")
    await manager.send("300")
    await manager.tap("Travel")
    await manager.tap("Today")
    await manager.send("Parking")
    await manager.send_photo()
    await manager.tap("Done")
    replies = await manager.tap("Submit")
    assert "Nobody can decide this request yet" in texts(replies)
    assert await requests(local_bot) == []


async def test_one_person_never_approves_two_levels(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await people.manager.send("/delegate")
    await people.manager.tap("Zhao Min · Director")
    await people.manager.tap("Fri 27 Nov")
    await people.manager.tap("Confirm")
    await expense(people.rep, "3000")
    await local_bot.drain_outbox()
    replies = await people.director.tap("Approve")  # level 1, as the manager's delegate
    assert "goes to the directors now (Qian Li)" in texts(replies)
    await local_bot.drain_outbox()
    await card_of(people.director_2, 1)
    replies = await forge(people.director, "ap|1|a|1")
    assert "You approved an earlier level of #2026-0001" in texts(replies)
    assert "Nothing waits" in texts(await people.director.send("/pending"))
    assert "1 waiting" in texts(await people.director_2.send("/pending"))
    replies = await people.director_2.tap("Approve")
    assert "No further approval is needed;" in texts(replies)


async def test_a_double_submit_creates_one_request(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "100", submit=False)
    await asyncio.gather(people.rep.tap("Submit"), people.rep.tap("Submit"))
    assert len(await requests(local_bot)) == 1


async def test_cards_survive_a_restart_and_arrive_once(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await local_bot.client.add_fault("5xx", "sendMessage", chat_id=MANAGER, count=2)
    await local_bot.client.add_fault("5xx", "sendPhoto", chat_id=MANAGER, count=2)
    await expense(people.rep, "100")
    await local_bot.restart()
    await local_bot.drain_outbox()
    messages = await people.manager.bot_messages()
    assert sum(1 for m in messages if "✅ Approve" in m.button_texts()) == 1
    assert sum(1 for m in messages if m.kind == "photo") == 1
    assert "No further approval is needed;" in texts(await people.manager.tap("Approve"))
