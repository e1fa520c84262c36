"""The one source of "now": the system clock in production, a manual one in tests and the demo."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

ClockListener = Callable[[datetime], Awaitable[None]]


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to.

    Listeners (the scheduler) are awaited after every move, in registration order, so that jobs
    that became due run deterministically before ``advance`` returns.
    """

    def __init__(self, start: datetime) -> None:
        if start.utcoffset() is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._listeners: list[ClockListener] = []
        self._lock = asyncio.Lock()

    def now(self) -> datetime:
        return self._now

    def subscribe(self, listener: ClockListener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: ClockListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def set(self, moment: datetime) -> None:
        if moment.utcoffset() is None:
            raise ValueError("ManualClock.set needs a timezone-aware time")
        async with self._lock:
            moment = moment.astimezone(UTC)
            if moment < self._now:
                raise ValueError("a manual clock never goes backwards")
            self._now = moment
            for listener in list(self._listeners):
                await listener(self._now)

    async def advance(self, delta: timedelta) -> None:
        await self.set(self._now + delta)
