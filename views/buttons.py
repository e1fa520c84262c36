"""Buttons as plain data: what a view returns under a text. Handlers turn them into Telegram's
keyboards (``handlers.replies``); a view never imports telegram."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    text: str
    data: str | None = None
    url: str | None = None
    inline_query: str | None = None
    # A Mini App (the cockpit) opened in place; Telegram allows it in private chats only.
    web_app: str | None = None


Keyboard = list[list[Button]]
