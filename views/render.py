"""The ``Render`` handed to services: the composition root builds ``renderer(texts)`` once and
hands it to services (``services.notices.Render``), which never see a catalog. The views it
renders are declared in their area modules (``views.registry.view``), loaded here.
"""

from __future__ import annotations

from typing import Any

import views.notice_views  # noqa: F401  (loads every area's views into the registry)
from core.i18n import Catalogs
from services.notices import Render
from services.outbox import OutboxButtons
from views.buttons import Keyboard
from views.registry import VIEWS


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

    def render(view: str, lang: str, data: Any) -> tuple[str, OutboxButtons | None]:
        text, buttons = VIEWS[view](texts, lang, data)
        return text, outbox_buttons(buttons)

    return render
