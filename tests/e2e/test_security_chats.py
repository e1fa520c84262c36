"""Only private chats are served: nothing the bot knows is posted into a group or a channel."""

from __future__ import annotations

import pytest

from models.common import Role
from sandbox.harness import LocalBot
from tests.customer_helpers import add_customer
from tests.helpers import join

GROUP_ID = -100_123


async def test_a_customer_reference_typed_in_a_group_gets_nothing(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 4001, "Wang", Role.REP, "north")
    customer = await add_customer(
        local_bot.runtime, "north", "杭州华丰建材", contact="徐亮", phone="137-0404-9619"
    )
    since = (await local_bot.client.events())[-1]["seq"]
    for text in (f"#C{customer.id}", "/customers", "/help"):
        update_id = await local_bot.client.send_group_message(rep.user_id, GROUP_ID, text)
        await local_bot.tracker.wait(update_id)
    events = await local_bot.client.events(since)
    assert [e for e in events if e["chat_id"] == GROUP_ID] == []
    assert [e for e in events if e["method"].startswith("send")] == []
    # The same reference in the private chat still shows the card.
    replies = await rep.send(f"#C{customer.id}")
    assert "徐亮" in replies[-1].text


@pytest.mark.inline_mode
async def test_inline_search_from_a_group_returns_no_customer(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 4002, "Li", Role.REP, "north")
    await add_customer(local_bot.runtime, "north", "成都康乐零售", contact="杨磊")
    for chat_type, expected in (("group", 0), ("supergroup", 0), ("sender", 1)):
        update_id, query_id = await local_bot.client.inline_query(
            rep.user_id, "康乐", chat_type=chat_type
        )
        await local_bot.tracker.wait(update_id)
        results = await local_bot.client.inline_answer(query_id)
        assert results is not None and len(results) == expected, chat_type
