"""Logging visits in the chat: the phone visit in few taps, in person with check-in and photo."""

from __future__ import annotations

from bot.harness import LocalBot
from models.common import Role
from tests.customer_helpers import Counter, add_customer, attachments, visits_of
from tests.helpers import join


async def test_phone_visit_in_the_fewest_taps(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 3001, "Wang", Role.REP, "north")
    await add_customer(local_bot.runtime, "north", "杭州华丰建材", owner_tg=3001)
    flow = Counter(rep)
    replies = await flow.send("/visit")
    print([r.text for r in replies])
    replies = await flow.tap("杭州华丰建材")
    print([r.text for r in replies])
    replies = await flow.tap("Phone")
    print([r.text for r in replies])
    replies = await flow.tap("Revisit")
    print([r.text for r in replies])
    replies = await flow.send("Talked about the spring order, wants a quote.")
    print([r.text for r in replies])
    replies = await flow.tap("In 3 days")
    print([r.text for r in replies])
    replies = await flow.tap("Save")
    print([r.text for r in replies])
    print(flow.taps, flow.sent, flow.received)
    saved = await visits_of(local_bot.runtime, 3001)
    assert len(saved) == 1
    assert await attachments(local_bot.runtime, saved[0].id or 0) == []
