"""A token bucket per person in front of every update.

One person tapping "previous week" thirty times must not keep the database and the CPU busy for
everyone else: beyond their bucket, their updates are dropped before any work is done, and they
are told once to slow down. Other people have buckets of their own and never notice.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import TelegramError

from core.i18n import person_language
from core.settings import LimitsSettings
from handlers.context import deps_of
from handlers.replies import Reply, deliver
from handlers.retry import GaveUp, RetryPolicy
from services import users

log = logging.getLogger(__name__)

# Buckets of people who went quiet are forgotten once there are this many (and twice as many as
# were still filling up at the last cleaning).
PRUNE_AT = 4096


class Verdict(enum.Enum):
    ADMIT = "admit"
    WARN = "warn"  # the first update refused in a row: dropped, and the person is told
    DROP = "drop"


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class TokenBuckets:
    """``burst`` updates at once per key, refilled at ``per_second`` of real elapsed time.

    Real time, not the business clock: the load a burst puts on the machine passes in seconds
    even when the clock is a manual one (the demo's moves only with ``:wait``)."""

    def __init__(self, limits: LimitsSettings, seconds: Callable[[], float]) -> None:
        self.burst = float(limits.burst)
        self.per_second = limits.per_second
        self.seconds = seconds
        self._buckets: dict[int, _Bucket] = {}
        self._prune_at = PRUNE_AT

    def take(self, key: int) -> Verdict:
        now = self.seconds()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
            self._prune(now)
        else:
            self._refill(bucket, now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return Verdict.ADMIT
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.WARN

    def _refill(self, bucket: _Bucket, now: float) -> None:
        elapsed = max(0.0, now - bucket.at)
        bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.per_second)
        bucket.at = max(bucket.at, now)

    def _prune(self, now: float) -> None:
        if len(self._buckets) < self._prune_at:
            return
        for key, bucket in list(self._buckets.items()):
            self._refill(bucket, now)
            if bucket.tokens >= self.burst:
                del self._buckets[key]
        self._prune_at = max(PRUNE_AT, 2 * len(self._buckets))


class UpdateGate:
    """Decides, as an update arrives, whether it is handled; tells a person once to slow down."""

    def __init__(self, app: Any) -> None:
        self.app = app
        deps = deps_of(app)
        self.buckets = TokenBuckets(deps.settings.limits, lambda: deps.monotonic())

    async def admit(self, update: object) -> bool:
        if not isinstance(update, Update) or update.effective_user is None:
            return True
        verdict = self.buckets.take(update.effective_user.id)
        if verdict is Verdict.WARN:
            log.info("person %s sends too fast; their updates are dropped for a moment",
                     update.effective_user.id)  # fmt: skip
            await self._slow_down(update)
        return verdict is Verdict.ADMIT

    async def _slow_down(self, update: Update) -> None:
        sender = update.effective_user
        assert sender is not None
        deps = deps_of(self.app)
        async with deps.sessions() as session:
            user = await users.by_telegram_id(session, sender.id)
        lang = person_language(
            chosen=user.language if user is not None else None,
            client_code=sender.language_code,
            default=deps.settings.language_default(),
        )
        policy = RetryPolicy(deps.settings.delivery)
        try:
            # To the person's private chat: their chat id is their user id.
            reply = Reply(text=deps.texts.t(lang, "limits.slow_down"))
            await deliver(self.app.bot, sender.id, reply, policy, policy.reply_deadline())
        except (TelegramError, GaveUp) as exc:
            log.info("could not ask person %s to slow down: %s", sender.id, exc)
