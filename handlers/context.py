"""What every handler can reach: settings, the database, the clock, texts."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from telegram.ext import Application, CallbackContext, ExtBot

from core.clock import Clock
from core.db import SessionFactory
from core.i18n import Catalogs
from core.settings import Settings
from services.notices import Render
from views.render import renderer


class Sender(Protocol):
    """The outbox sender, as a turn sees it: woken after a turn that queued messages."""

    def wake(self) -> None: ...


DEPS_KEY = "salesbot.deps"


@dataclass
class Deps:
    settings: Settings
    sessions: SessionFactory
    clock: Clock
    texts: Catalogs
    bot_username: str = ""
    # getMe's supports_inline_queries, read once at start-up: Telegram refuses buttons that open
    # inline mode while it is off (see handlers.forms.search_button).
    inline_mode: bool = False
    # Set while the outbox sender runs in this process; woken after each turn that committed.
    sender: Sender | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # Real elapsed seconds (the rate limit's measure); tests replace it.
    monotonic: Callable[[], float] = time.monotonic
    # The views layer as services take it (services.notices.Render), built once from the texts.
    render: Render = field(init=False)

    def __post_init__(self) -> None:
        self.render = renderer(self.texts)


class Ctx(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Typed context: ``ctx.deps`` instead of string lookups in bot_data."""

    @property
    def deps(self) -> Deps:
        deps = self.application.bot_data[DEPS_KEY]
        assert isinstance(deps, Deps)
        return deps


SalesApp = Application[ExtBot[None], Ctx, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any]


def deps_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Deps:
    deps = application.bot_data[DEPS_KEY]
    assert isinstance(deps, Deps)
    return deps
