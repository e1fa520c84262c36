"""Messages to other people as intents: which view shows what data, to whom, once.

A service never renders text. It records a notice in the caller's transaction through
``send``: the ``Render`` it was handed (built by the composition root from the views layer,
``views.render.renderer``) turns the view name and the plain data into text and buttons in the
recipient's language, and the outbox stores the result, so the message is recorded with the
change that causes it and delivered once (services/outbox.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from services import outbox
from services.outbox import Attachment, OutboxButtons


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
    the same ``key`` twice is a no-op (None)."""
    text, buttons = render(view, lang, data)
    return await outbox.enqueue(
        session, key=key, chat_id=chat_id, kind=kind, text=text, now=now, buttons=buttons,
        recipient_id=recipient_id, attachment=attachment, not_before=not_before,
        edit_of_id=edit_of_id, meta=meta,
    )  # fmt: skip
