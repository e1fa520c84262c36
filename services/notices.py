"""Messages to other people as intents: which view shows what data, to whom, once.

A service never renders text. It records a notice in the caller's transaction through
``send``: the ``Render`` it was handed (built by the composition root from the views layer,
``views.render.renderer``) turns the view name and the plain data into text and buttons in the
recipient's language, and the outbox stores the result, so the message is recorded with the
change that causes it and delivered once (services/outbox.py).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from services import outbox
from services.outbox import Attachment, OutboxButtons

log = logging.getLogger(__name__)


@dataclass
class Budget:
    """How many new messages one job run may still push to each chat."""

    per_chat: int
    queued: Counter[int] = field(default_factory=Counter)
    held: int = 0

    def room_for(self, chat_id: int) -> bool:
        return self.queued[chat_id] < self.per_chat


_BUDGET: ContextVar[Budget | None] = ContextVar("notice_budget", default=None)


@contextmanager
def run_budget(per_chat: int) -> Iterator[Budget]:
    """Within this block (one job run) ``send`` queues at most ``per_chat`` new messages per
    chat and answers None for the rest, as for a duplicate: the caller keeps its state so that
    the next run sends them. Edits of messages already sent are not counted."""
    budget = Budget(per_chat)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def room_for(chat_id: int) -> bool:
    """Whether a new message to ``chat_id`` would still be queued in this run."""
    budget = _BUDGET.get()
    return budget is None or budget.room_for(chat_id)


class Render(Protocol):
    """The views layer as services see it: a view's name, a language and plain data in; the
    finished HTML text and the buttons (as the outbox stores them) out."""

    def __call__(self, view: str, lang: str, data: Any) -> tuple[str, OutboxButtons | None]: ...


async def send(
    session: AsyncSession,
    render: Render,
    *,
    view: str,
    data: Any,
    lang: str,
    key: str,
    chat_id: int,
    kind: str,
    now: datetime,
    recipient_id: int | None = None,
    attachment: Attachment | None = None,
    not_before: datetime | None = None,
    edit_of_id: int | None = None,
    meta: dict[str, Any] | None = None,
) -> int | None:
    """Render ``data`` with ``view`` for the recipient and queue it in the caller's transaction;
    the same ``key`` twice is a no-op (None), and so is a message over the run's budget."""
    budget = _BUDGET.get() if edit_of_id is None else None
    if budget is not None and not budget.room_for(chat_id):
        budget.held += 1
        log.info("held back %s for chat %s: %s messages this run", key, chat_id, budget.per_chat)
        return None
    text, buttons = render(view, lang, data)
    queued = await outbox.enqueue(
        session, key=key, chat_id=chat_id, kind=kind, text=text, now=now, buttons=buttons,
        recipient_id=recipient_id, attachment=attachment, not_before=not_before,
        edit_of_id=edit_of_id, meta=meta,
    )  # fmt: skip
    if budget is not None and queued is not None:
        budget.queued[chat_id] += 1
    return queued
