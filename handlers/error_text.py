"""A domain error's text in the reader's language, with its parameters escaped exactly once.

Errors carry plain values (a customer's name, what the person typed); this is the one place
they become HTML, whether the error ends the turn or re-asks a form's question.
"""

from __future__ import annotations

import html
from typing import Any, Protocol

from core.errors import UserFacingError


class Turn(Protocol):
    """What of a turn (handlers.turn.Turn) an error's text needs: described here rather than
    imported, as the turn itself takes ``escaped_params`` from this module."""

    def tn(self, key: str, count: float | None, /, **params: Any) -> str: ...

    def say(self, text: str, buttons: Any = None, **options: Any) -> None: ...


def escaped_params(params: dict[str, Any]) -> dict[str, Any]:
    return {key: html.escape(v) if isinstance(v, str) else v for key, v in params.items()}


def plural_count(error: UserFacingError) -> int | None:
    """The number an error's text counts, when it passes one as ``count`` ("more than 1 hour
    ago"): its text then takes the singular for one."""
    count = error.params.get("count")
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def error_text(turn: Turn, error: UserFacingError) -> str:
    return turn.tn(error.key, plural_count(error), **escaped_params(error.params))


def say_error(turn: Turn, error: UserFacingError) -> None:
    turn.say(error_text(turn, error))
