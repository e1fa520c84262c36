"""The one source of "now": the system clock in production, a manual one in tests and the demo."""

from __future__ import annotations

import asyncio
import time
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
    """A clock that tests and the demo set and move forward.

    By default it keeps ticking at real speed from wherever it was set, so that retries and
    leases measured in seconds still expire; ``ticking=False`` freezes it between moves.
    Listeners (the scheduler) are awaited after every move, in registration order, so that jobs
    that became due run deterministically before ``set``/``advance`` returns.
    """

    def __init__(self, start: datetime, *, ticking: bool = True) -> None:
        if start.utcoffset() is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._base = start.astimezone(UTC)
        self._base_mono = time.monotonic()
        self._ticking = ticking
        self._listeners: list[ClockListener] = []
        self._lock = asyncio.Lock()

    @property
    def ticking(self) -> bool:
        return self._ticking

    def now(self) -> datetime:
        if not self._ticking:
            return self._base
        return self._base + timedelta(seconds=time.monotonic() - self._base_mono)

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
            if moment < self.now() - timedelta(seconds=1):
                raise ValueError("a manual clock never goes backwards")
            self._base, self._base_mono = moment, time.monotonic()
            for listener in list(self._listeners):
                await listener(moment)

    async def advance(self, delta: timedelta) -> None:
        await self.set(self.now() + delta)
