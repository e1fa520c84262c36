"""The registry of views that notices name: a view module declares ``@view("area.name")`` on
``def fn(texts, lang, data) -> (text, buttons)``; ``views.render`` looks them up by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.i18n import Catalogs
from core.registry import Registry
from views.buttons import Keyboard

ViewFn = Callable[[Catalogs, str, Any], tuple[str, Keyboard | None]]

VIEWS: Registry[ViewFn] = Registry("view")


def view(name: str) -> Callable[[ViewFn], ViewFn]:
    """Declare ``fn`` as the view ``name`` (``area.what``)."""

    def register(fn: ViewFn) -> ViewFn:
        VIEWS.add(name, fn)
        return fn

    return register
