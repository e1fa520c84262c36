"""The registry of views that notices name, and the ``Render`` handed to services.

A view module declares ``@view("area.name")`` on ``def fn(texts, lang, data) -> (text,
buttons)``; the composition root builds ``renderer(texts)`` once and hands it to services
(``services.notices.Render``), which never see a catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.i18n import Catalogs
from core.registry import Registry
from services.notices import Render
from services.outbox import OutboxButtons
from views.buttons import Keyboard

ViewFn = Callable[[Catalogs, str, Any], tuple[str, Keyboard | None]]

VIEWS: Registry[ViewFn] = Registry("view")


def view(name: str) -> Callable[[ViewFn], ViewFn]:
    """Declare ``fn`` as the view ``name`` (``area.what``)."""

    def register(fn: ViewFn) -> ViewFn:
        VIEWS.add(name, fn)
        return fn

    return register


def outbox_buttons(buttons: Keyboard | None) -> OutboxButtons | None:
    """Buttons as the outbox stores them: callback, URL or Mini App buttons, as plain dicts."""
    if not buttons:
        return None
    rows: OutboxButtons = []
    for row in buttons:
        cells: list[dict[str, str]] = []
        for button in row:
            cell = {"text": button.text}
            if button.url is not None:
                cell["url"] = button.url
            elif button.web_app is not None:
                cell["web_app"] = button.web_app
            elif button.data is not None:
                cell["data"] = button.data
            cells.append(cell)
        if cells:
            rows.append(cells)
    return rows or None


def renderer(texts: Catalogs) -> Render:
    """The views, bound to the texts of every language."""
    # Imported here, not at the top: the area view modules import this one to declare views.
    import views.notice_views  # noqa: F401

    def render(view: str, lang: str, data: Any) -> tuple[str, OutboxButtons | None]:
        text, buttons = VIEWS[view](texts, lang, data)
        return text, outbox_buttons(buttons)

    return render
