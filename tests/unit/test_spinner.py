"""When a tapped button's spinner is stopped, and how: in the webhook's response or by a call."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from types import SimpleNamespace
from typing import Any

from telegram import CallbackQuery, Update, User

from handlers.turn import ResponseCall, _Spinner, response_call


class _App:
    """Stands in for PTB's Application: records the answers started as calls."""

    def __init__(self) -> None:
        self.calls = 0

    def create_task(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        coroutine.close()  # the call itself is PTB's; only that it was made matters here
        self.calls += 1
        return asyncio.get_running_loop().create_task(asyncio.sleep(0))


def _tap() -> tuple[SimpleNamespace, Update]:
    person = User(1, "Ada", is_bot=False)
    query = CallbackQuery("q1", person, chat_instance="c", data="x")
    return SimpleNamespace(application=_App()), Update(1, callback_query=query)


async def test_a_quick_turn_on_a_webhook_is_answered_in_the_response() -> None:
    ctx, update = _tap()
    carried = ResponseCall()
    token = response_call.set(carried)
    try:
        spinner = _Spinner(ctx, update)  # type: ignore[arg-type]
        assert spinner.first_out is None  # no call after the first reply
        await spinner.stopped()
    finally:
        response_call.reset(token)
    assert carried.body == {"method": "answerCallbackQuery", "callback_query_id": "q1"}
    assert ctx.application.calls == 0


async def test_work_after_the_replies_has_the_answer_sent_by_a_call() -> None:
    """Follow-ups (a photo stamped after a save) run before the response goes: the spinner
    must not wait for them."""
    ctx, update = _tap()
    carried = ResponseCall()
    token = response_call.set(carried)
    try:
        await _Spinner(ctx, update).stopped(may_carry=False)  # type: ignore[arg-type]
    finally:
        response_call.reset(token)
    assert carried.body is None and ctx.application.calls == 1


async def test_with_long_polling_the_first_reply_stops_it_by_a_call() -> None:
    ctx, update = _tap()
    spinner = _Spinner(ctx, update)  # type: ignore[arg-type]
    assert spinner.first_out is not None
    spinner.first_out()
    await spinner.stopped()
    assert ctx.application.calls == 1  # once, however many ways it is stopped
