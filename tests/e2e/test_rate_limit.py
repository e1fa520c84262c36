"""A person tapping far too fast is asked once to slow down and their excess taps are dropped;
everyone else is answered as usual."""

from __future__ import annotations

import asyncio

import pytest

from core.settings import LimitsSettings, Settings
from handlers.context import deps_of
from models.common import Role
from sandbox.harness import LocalBot
from tests.helpers import join

BURST = 10
SLOW_DOWN = "Slow down a little"
# Week 47 of 2026, as the summary names it from Tuesday 24 Nov.
LAST_WEEK = "last week (16 – 22 Nov)"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"limits": LimitsSettings(burst=BURST, per_second=1.0)})


@pytest.fixture
def seconds(local_bot: LocalBot) -> list[float]:
    """The rate limit's sense of elapsed time, standing still until a test moves it."""
    elapsed = [0.0]
    assert local_bot.app is not None
    deps_of(local_bot.app).monotonic = lambda: elapsed[0]
    return elapsed


async def test_a_burst_of_taps_is_cut_short_and_others_are_served(
    local_bot: LocalBot, seconds: list[float]
) -> None:
    manager = await join(local_bot, 7001, "Nora", Role.MANAGER, "north")
    rep = await join(local_bot, 7101, "Ann", Role.REP, "north")
    shown = await manager.send("/summary")
    earlier = shown[-1]
    assert earlier.button_texts() == ["◀ " + LAST_WEEK]
    # /start and /summary took two of the manager's ten; time stands still meanwhile.
    taps = [
        await local_bot.client.press(7001, earlier.message_id, button_text="◀ " + LAST_WEEK)
        for _ in range(30)
    ]
    help_reply = await rep.send("/help")
    await asyncio.gather(*(local_bot.tracker.wait(update_id) for update_id in taps))

    received = [m.text or m.caption or "" for m in await manager.bot_messages()]
    assert sum(SLOW_DOWN in text for text in received) == 1
    past_weeks = [t for t in received if t.startswith("📊 Weekly meeting") and LAST_WEEK in t]
    assert len(past_weeks) == BURST - 2
    assert help_reply and not any(SLOW_DOWN in (m.text or "") for m in help_reply)

    # Three seconds later three taps are there again, and no second warning is needed.
    seconds[0] += 3
    for _ in range(3):
        replies = await manager.tap("◀ " + LAST_WEEK, earlier.message_id)
        assert replies[0].text and LAST_WEEK in replies[0].text
    replies = await manager.tap("◀ " + LAST_WEEK, earlier.message_id)
    assert [m.text for m in replies] == [
        "⏳ Slow down a little: too many taps at once. Wait a few seconds, then try again."
    ]


async def test_the_slow_down_message_is_in_the_persons_language(
    local_bot: LocalBot, seconds: list[float]
) -> None:
    rep = await join(local_bot, 7102, "王伟", Role.REP, "north", lang="zh")
    sent = [await local_bot.client.send_message(7102, "/help") for _ in range(BURST + 5)]
    await asyncio.gather(*(local_bot.tracker.wait(update_id) for update_id in sent))
    received = [m.text or "" for m in await rep.bot_messages()]
    assert received.count("⏳ 操作太快了，请稍等几秒再试。") == 1
