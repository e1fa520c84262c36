"""What the cockpit reaches: the same settings, database, clock, texts and views as the bot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import SecretStr

from core.clock import Clock
from core.db import SessionFactory
from core.i18n import Catalogs
from core.settings import Settings
from services.notices import Render


def _nothing() -> None:
    return None


@dataclass
class WebDeps:
    settings: Settings
    sessions: SessionFactory
    clock: Clock
    texts: Catalogs
    render: Render
    # Only to check the signature of a sign-in: never put in a page, a URL or a log line.
    token: SecretStr
    # Wakes the outbox sender after a change queued messages (the edited approval cards).
    wake: Callable[[], None] = _nothing
