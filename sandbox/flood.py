"""Optional flood limits: sliding one-second windows per chat and overall."""

from __future__ import annotations

import math
from collections import deque

WINDOW = 1.0


class FloodLimiter:
    """Admits or refuses sending calls the way Telegram's flood control does."""

    def __init__(self) -> None:
        self.enabled = False
        self.per_chat_per_second = 1
        self.global_per_second = 30
        self._chats: dict[int, deque[float]] = {}
        self._global: deque[float] = deque()

    def configure(self, enabled: bool, per_chat_per_second: int, global_per_second: int) -> None:
        self.enabled = enabled
        self.per_chat_per_second = per_chat_per_second
        self.global_per_second = global_per_second
        self._chats.clear()
        self._global.clear()

    def admit(self, chat_id: int | None, *, counts_globally: bool, now: float) -> int | None:
        """Record an admitted call and return None, or return the retry_after seconds."""
        if not self.enabled:
            return None
        windows: list[tuple[deque[float], int]] = []
        if chat_id is not None:
            windows.append((self._chats.setdefault(chat_id, deque()), self.per_chat_per_second))
        if counts_globally:
            windows.append((self._global, self.global_per_second))
        for window, limit in windows:
            while window and window[0] <= now - WINDOW:
                window.popleft()
            if len(window) >= limit:
                # The call may go through once the oldest call in the window expires.
                wait = window[len(window) - limit] + WINDOW - now
                return max(1, math.ceil(wait))
        for window, _ in windows:
            window.append(now)
        return None
