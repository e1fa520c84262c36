"""The one retry policy of the outbox sender and direct replies."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from core.settings import DeliverySettings
from handlers.retry import GaveUp, RetryPolicy, send_retrying


def policy(**values: float) -> RetryPolicy:
    return RetryPolicy(DeliverySettings.model_validate({"backoff_base_seconds": 0.01, **values}))


def test_flood_control_waits_retry_after_and_is_not_an_attempt() -> None:
    rules = policy(max_attempts=2)
    assert rules.delay_after(RetryAfter(timedelta(seconds=7)), attempts=5) == 7.0


def test_transient_errors_back_off_until_the_last_attempt() -> None:
    rules = policy(max_attempts=4, backoff_base_seconds=2, backoff_max_seconds=5)
    # A timeout may hide a message Telegram accepted: retried all the same (at-least-once).
    delays = [rules.delay_after(TimedOut(), n) for n in (1, 2, 3, 4)]
    assert delays == [2.0, 4.0, 5.0, None]
    assert rules.delay_after(NetworkError("Bad Gateway"), 1) == 2.0


@pytest.mark.parametrize("refusal", [BadRequest("chat not found"), Forbidden("blocked")])
def test_refusals_are_final(refusal: Exception) -> None:
    assert policy().delay_after(refusal, 1) is None  # type: ignore[arg-type]


async def test_send_retrying_stops_at_the_deadline() -> None:
    calls = 0

    async def failing() -> None:
        nonlocal calls
        calls += 1
        raise NetworkError("Bad Gateway")

    with pytest.raises(GaveUp) as raised:
        await send_retrying(failing, policy(max_attempts=100), time.monotonic() + 0.05)
    assert calls == raised.value.attempts and 2 <= calls < 100


async def test_send_retrying_returns_what_telegram_accepted() -> None:
    answers: list[Exception | str] = [RetryAfter(timedelta(seconds=0.01)), TimedOut(), "sent"]

    async def flaky() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await send_retrying(flaky, policy(), time.monotonic() + 5) == "sent"
