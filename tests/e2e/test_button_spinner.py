"""A tapped button's spinner: stopped together with the turn's reply, in one call fewer on a
webhook (the webhook's response carries the answer), and by a call when the turn is slow."""

from __future__ import annotations

from typing import Any

import pytest

import handlers.turn
from sandbox.harness import LocalBot
from tests.conftest import ADMIN_ID
from tests.helpers import eventually

REPLIES = ("sendMessage", "editMessageText")


async def _tap_and_answers(bot: LocalBot, label: str) -> tuple[list[dict[str, Any]], int]:
    """Open /invite, tap ``label``; the callback answers recorded for that tap, and the seq of
    the tap's first reply."""
    admin = await bot.chat(ADMIN_ID, "Ada")
    await admin.send("/invite")
    since = (await bot.client.events())[-1]["seq"]
    await admin.tap(label)

    async def answered() -> bool:
        events = await bot.client.events(since)
        return any(e["method"] == "answerCallbackQuery" for e in events)

    # On a webhook the sandbox runs the carried answer once it has read the response.
    await eventually(answered, within=10)
    events = await bot.client.events(since)
    first_reply = next(e["seq"] for e in events if e["method"] in REPLIES)
    return [e for e in events if e["method"] == "answerCallbackQuery"], first_reply


async def test_a_quick_tap_is_answered_in_the_webhook_response(webhook_bot: LocalBot) -> None:
    answers, first_reply = await _tap_and_answers(webhook_bot, "sales rep")
    assert [(a.get("via"), a["status"]) for a in answers] == [("webhook response", "ok")]
    assert answers[0]["seq"] > first_reply  # the reply is not held up by the answer


async def test_a_slow_tap_is_answered_by_a_call_on_a_webhook_too(
    webhook_bot: LocalBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every turn is "slow" now: past the grace the spinner stops ahead of the reply, by a call.
    monkeypatch.setattr(handlers.turn, "SPINNER_GRACE_SECONDS", 0.0)
    answers, _ = await _tap_and_answers(webhook_bot, "sales rep")
    assert [(a.get("via"), a["status"]) for a in answers] == [(None, "ok")]


async def test_with_polling_the_answer_follows_the_first_reply(local_bot: LocalBot) -> None:
    answers, first_reply = await _tap_and_answers(local_bot, "sales rep")
    assert [(a.get("via"), a["status"]) for a in answers] == [(None, "ok")]
    assert answers[0]["seq"] > first_reply
