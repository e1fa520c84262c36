"""Direct replies under flood control and outages: each arrives exactly once, committed work is
never apologised for, rolled-back work is, in the person's language; one rule for languages.

The bot here has one concurrency slot, the harshest setting: a reply waiting out a 429 must lend
it to other people, or everyone waits behind one chat's flood control.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest
from telegram.error import TimedOut

from models.common import Role
from sandbox.client import SandboxMessage
from sandbox.harness import Chat, LocalBot
from services import forms as form_store
from tests.approval_helpers import card_of, expense, requests, team_of, text_of
from tests.conftest import ADMIN_ID, write_config
from tests.helpers import join, make_invite, user_by_tg

JOBS_UNDER_TEST = ("approvals_sweep",)
APOLOGIES = ("nothing was saved", "本次操作未保存")
FLOOD, OUTAGE, DROPS = 3, 4, 2
FAULTED = ("sendMessage", "editMessageText")


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path, "[runtime]\nmax_concurrent_updates = 1\n")


async def _seq(bot: LocalBot) -> int:
    events = await bot.client.events()
    return int(events[-1]["seq"]) if events else 0


async def _created_since(chat: Chat, mark: int) -> list[str]:
    """The texts of the bot's messages created after ``mark``, as they read now (after edits)."""
    return [text_of(m) for m in await chat.bot_messages() if m.message_id > mark]


async def _last_id(chat: Chat) -> int:
    return (await chat.last_reply()).message_id


def _no_apology(messages: list[str]) -> None:
    for text in messages:
        assert not any(apology in text for apology in APOLOGIES), text


async def test_every_reply_of_a_burst_arrives_once_under_429_5xx_and_drops(
    local_bot: LocalBot,
) -> None:
    people = await team_of(local_bot, directors=1)
    await expense(people.rep, "500")
    await expense(people.rep, "600")
    await local_bot.drain_outbox()
    readers = [
        await join(local_bot, 7001 + n, f"读者{n}", Role.REP, "north", lang="zh") for n in range(3)
    ]
    filler = await join(local_bot, 7010, "Fay", Role.REP, "north")

    async def read(chat: Chat, command: str) -> list[str]:
        return [text_of(m) for m in await chat.send(command)]

    async def decide(request_id: int) -> list[str]:
        card = await card_of(people.manager, request_id)
        mark = await _last_id(people.manager)
        await people.manager.tap("Approve", message_id=card.message_id)
        return [text_of(m) for m in await people.manager.bot_messages() if m.message_id > mark]

    async def form_step() -> list[str]:
        # The tap edits the category prompt to show the choice, then asks the next step.
        mark = await _last_id(filler)
        await filler.send("/expense")
        await filler.send("1500")
        await filler.tap("Travel")
        created = await _created_since(filler, mark)
        await filler.send("/cancel")
        return created

    def burst(request_id: int) -> list[Awaitable[list[str]]]:
        return [
            read(readers[0], "/today"), read(readers[1], "/week"), read(readers[2], "/help"),
            decide(request_id), form_step(),
        ]  # fmt: skip

    # What each person is told when nothing fails ...
    expected = await asyncio.gather(*burst(1))
    assert "You approved #2026-0001" in expected[3][0]
    assert "<b>✓ ✈️ Travel</b>" in expected[4][1]
    # ... is exactly what they are told when Telegram refuses, fails and drops the calls.
    # Short pauses: one reply may absorb every 5xx and drop of its method in a row.
    local_bot.runtime.settings.delivery.backoff_max_seconds = 0.4
    since = await _seq(local_bot)
    # Sends fail for whoever comes first (direct replies and the outbox alike); edits for the
    # form's chat, whose prompt is edited directly (the card's edit goes through the outbox).
    for method, chat_id in zip(FAULTED, (None, filler.user_id), strict=True):
        await local_bot.client.add_fault(
            "429", method, chat_id=chat_id, count=FLOOD, retry_after=1
        )
        await local_bot.client.add_fault("5xx", method, chat_id=chat_id, count=OUTAGE, status=502)
        await local_bot.client.add_fault("drop", method, chat_id=chat_id, count=DROPS)
    got = await asyncio.gather(*burst(2))
    await local_bot.drain_outbox()

    assert got[:3] == expected[:3]
    assert got[3] == [text.replace("#2026-0001", "#2026-0002") for text in expected[3]]
    assert got[4] == expected[4]
    assert await local_bot.client.faults() == []
    events = [e for e in await local_bot.client.events(since) if e["method"] in FAULTED]
    failed = Counter((e["method"], e["status"]) for e in events if e["fault"])
    for method in FAULTED:
        assert failed[(method, 429)] == FLOOD and failed[(method, 502)] == OUTAGE
        assert failed[(method, "dropped")] == DROPS
    # Counted per chat: every text Telegram accepted, once.
    accepted = Counter(
        (e["chat_id"], e["params"]["text"])
        for e in events
        if e["method"] == "sendMessage" and e["status"] == "ok"
    )
    assert accepted and max(accepted.values()) == 1
    for chat in (*readers, filler, people.manager, people.rep):
        _no_apology([text_of(m) for m in await chat.bot_messages()])
    # The decision is stored once and the rep told once (through the outbox).
    assert [r.status for r in await requests(local_bot)] == ["approved", "approved"]
    told = [m for m in await people.rep.bot_messages() if "#2026-0002" in text_of(m)]
    assert sum("<b>approved</b>" in text_of(m) for m in told) == 1


async def test_a_reply_waiting_out_flood_control_holds_nobody_else(local_bot: LocalBot) -> None:
    slow = await join(local_bot, 7101, "慢", Role.REP, "north", lang="zh")
    other = await join(local_bot, 7102, "Quick", Role.REP, "north")
    since = await _seq(local_bot)
    await local_bot.client.add_fault("429", "sendMessage", chat_id=7101, retry_after=3)
    waiting = asyncio.ensure_future(slow.send("/help"))
    async with asyncio.timeout(10):
        while not [e for e in await local_bot.client.events(since) if e["status"] == 429]:
            await asyncio.sleep(0.02)
    # The only concurrency slot is lent out while the reply to 7101 waits for 3 s.
    replies = await other.send("/help")
    assert "What you can do" in text_of(replies[-1])
    assert not waiting.done()
    slow_replies: list[SandboxMessage] = await waiting
    assert len(slow_replies) == 1 and "您可以使用" in text_of(slow_replies[0])


async def test_an_undeliverable_reply_is_logged_and_never_apologised_for(
    local_bot: LocalBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rep = await join(local_bot, 7201, "Ray", Role.REP, "north")
    await rep.send("/expense")
    monkeypatch.setattr(local_bot.runtime.settings.delivery, "reply_deadline_seconds", 1.0)
    await local_bot.client.add_fault("5xx", "sendMessage", chat_id=7201, count=20)
    mark = await _last_id(rep)
    with caplog.at_level(logging.ERROR, logger="handlers.turn"):
        await rep.send("1500")
    await local_bot.client.clear_faults()
    assert await _created_since(rep, mark) == []
    undelivered = [r for r in caplog.records if "not delivered" in r.getMessage()]
    assert len(undelivered) == 1 and "update " in undelivered[0].getMessage()
    # The step was committed although its prompt was lost: the form is at the category now.
    replies = await rep.send("Travel")
    assert "3/5" in text_of(replies[-1])
    _no_apology([text_of(m) for m in await rep.bot_messages()])


@pytest.mark.parametrize(
    ("lang", "error", "apology"),
    [("zh", RuntimeError("disk full"), "本次操作未保存"),
     ("en", TimedOut("a Telegram call made during the work"), "nothing was saved")],
)  # fmt: skip
async def test_rolled_back_work_is_apologised_for_in_the_persons_language(
    local_bot: LocalBot, monkeypatch: pytest.MonkeyPatch, lang: str, error: Exception,
    apology: str,
) -> None:  # fmt: skip
    rep = await join(local_bot, 7301, "Lan", Role.REP, "north", lang=lang)
    await rep.send("/expense")
    real_save = form_store.save

    async def save_then_fail(*args: Any, **kwargs: Any) -> Any:
        await real_save(*args, **kwargs)
        raise error

    monkeypatch.setattr(form_store, "save", save_then_fail)
    replies = await rep.send("1500")
    assert [apology in text_of(m) for m in replies] == [True]
    monkeypatch.setattr(form_store, "save", real_save)
    # Nothing was saved indeed: the same answer moves the form on from the amount.
    replies = await rep.send("1500")
    assert "2/5" in text_of(replies[-1])


async def test_languages_follow_one_rule(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    # A config admin whose client reports no language gets the configured default (zh).
    admin = await local_bot.chat(ADMIN_ID, "Ada", language_code=None)
    assert "您可以使用" in text_of((await admin.send("/help"))[-1])
    stored = await user_by_tg(runtime, ADMIN_ID)
    assert stored is not None and stored.language == "zh"
    # A language the bot does not speak falls back to the default too.
    visitor = await local_bot.chat(7401, "Hans", language_code="de")
    assert "您还没有注册" in text_of((await visitor.send("/help"))[-1])
    # A newcomer without a client language takes their team's language ...
    for tg, team, lang in ((7402, "south", "en"), (7403, "north", "zh")):
        newcomer = await local_bot.chat(tg, f"New {tg}", language_code=None)
        payload = await make_invite(runtime, Role.REP, team)
        greeting = text_of((await newcomer.send(f"/start {payload}"))[0])
        assert ("Welcome" if lang == "en" else "欢迎") in greeting
        user = await user_by_tg(runtime, tg)
        assert user is not None and user.language == lang
    # ... while a client language the bot speaks wins over the team's, and a choice over both.
    chooser = await join(local_bot, 7404, "Chen", Role.REP, "south", lang="zh-hans")
    assert "您可以使用" in text_of((await chooser.send("/help"))[-1])
    await chooser.send("/lang")
    await chooser.tap("English")
    assert "What you can do" in text_of((await chooser.send("/help"))[-1])
