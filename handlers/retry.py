"""One retry policy for everything the bot sends: the outbox sender and direct replies.

- 429 (flood control): wait exactly ``retry_after``; it does not count as an attempt.
- 5xx, timeouts, dropped connections and other transient errors: exponential backoff
  (``backoff_base_seconds`` doubling up to ``backoff_max_seconds``), at most ``max_attempts``.
- 400 and 403: final; sending the same request again cannot succeed.

A timeout is ambiguous: Telegram may have accepted the message before the answer was lost, and it
offers no way to ask. Like the outbox (see bot/delivery.py), both senders then send again:
at-least-once in that window, because a reply that never arrives is worse than a rare duplicate.
Every other failure happens before Telegram accepted anything, so retrying it duplicates nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from core import metrics
from core.settings import DeliverySettings
from handlers.ordering import slot_released

T = TypeVar("T")


def flood_wait(exc: RetryAfter) -> float:
    """The seconds Telegram asked to wait."""
    retry = exc.retry_after
    return retry.total_seconds() if isinstance(retry, timedelta) else float(retry)


def is_final(exc: TelegramError) -> bool:
    """Telegram refused the request itself (400, 403): retrying cannot help."""
    return isinstance(exc, BadRequest | Forbidden)


class RetryPolicy:
    """The rules above, read from the ``[delivery]`` settings each time they are applied."""

    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings

    def reply_deadline(self) -> float:
        """The ``time.monotonic()`` by which a direct reply starting now is delivered or given up:
        the person is waiting, and their next updates wait behind it."""
        return time.monotonic() + self.settings.reply_deadline_seconds

    def backoff(self, attempts: int) -> float:
        """The pause after the ``attempts``-th failed attempt (1-based)."""
        base, cap = self.settings.backoff_base_seconds, self.settings.backoff_max_seconds
        return float(min(base * 2 ** max(attempts - 1, 0), cap))

    def delay_after(self, exc: TelegramError, attempts: int) -> float | None:
        """Seconds to wait before trying again after ``attempts`` counted failures, or None to
        give up. A 429 is Telegram's pacing, not a failure: it is not counted."""
        if isinstance(exc, RetryAfter):
            return flood_wait(exc)
        if is_final(exc) or attempts >= self.settings.max_attempts:
            return None
        return self.backoff(attempts)


class GaveUp(Exception):
    """A send was not delivered within its attempts or its deadline; ``cause`` says why."""

    def __init__(self, cause: TelegramError, attempts: int) -> None:
        super().__init__(f"{cause} (after {attempts} attempts)")
        self.cause, self.attempts = cause, attempts


async def send_retrying(
    call: Callable[[], Awaitable[T]], policy: RetryPolicy, deadline: float
) -> T:
    """Run one Bot API call until Telegram accepts it, by the policy, until ``deadline``
    (``time.monotonic()``). Raises the final error as is (400, 403) or ``GaveUp``.

    While waiting, the update's concurrency slot is given back, so other people's updates go on;
    the person's own later updates still wait, which keeps their replies in order.
    """
    attempts = 0
    while True:
        try:
            return await call()
        except TelegramError as exc:
            if is_final(exc):
                raise
            if not isinstance(exc, RetryAfter):
                attempts += 1
            delay = policy.delay_after(exc, attempts)
            if delay is None or time.monotonic() + delay > deadline:
                raise GaveUp(exc, attempts) from exc
            if isinstance(exc, RetryAfter):
                metrics.TELEGRAM_429.labels("reply").inc()
            else:
                metrics.RETRIES.labels("reply").inc()
            async with slot_released():
                await asyncio.sleep(delay)
