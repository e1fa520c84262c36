"""Concurrent update handling that keeps each person's updates in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

UpdateListener = Callable[[int], None]
# Whether an update is handled at all (the per-person rate limit); decided as it arrives.
UpdateGate = Callable[[object], Awaitable[bool]]
# PTB takes its semaphore before ours; it must never be the one that limits.
UNBOUNDED = 1_000_000


def ordering_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Different people are served concurrently; one person's updates one after another.

    The per-person lock is taken before a concurrency slot, so a burst from one person waits in
    its own queue instead of occupying every slot. PTB's own semaphore (taken first, and final in
    the base class) is therefore made wide, and the real limit is ``slots`` below.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(UNBOUNDED)
        self.limit = max_concurrent_updates
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiters: dict[int, int] = {}
        self.listeners: list[UpdateListener] = []
        self.gate: UpdateGate | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        try:
            if self.gate is not None and not await self.gate(update):
                if isinstance(coroutine, Coroutine):
                    coroutine.close()  # dropped: it never runs
                return
            if key is None:
                async with self._slots:
                    await coroutine
                return
            lock = self._locks.setdefault(key, asyncio.Lock())
            self._waiters[key] = self._waiters.get(key, 0) + 1
            try:
                async with lock, self._slots:
                    await coroutine
            finally:
                self._waiters[key] -= 1
                if self._waiters[key] == 0:
                    del self._waiters[key]
                    del self._locks[key]
        finally:
            if isinstance(update, Update):
                for listener in list(self.listeners):
                    listener(update.update_id)

    async def initialize(self) -> None:
        """Nothing to set up: locks are created on demand."""

    async def shutdown(self) -> None:
        """Nothing to tear down: the Application awaits the running updates itself."""
