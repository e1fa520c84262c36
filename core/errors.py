"""Domain errors that carry the key of the text the user should read."""

from __future__ import annotations

from typing import Any


class UserFacingError(Exception):
    """A business rule refused the action; ``key`` names the text shown to the user."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class NotAllowedError(UserFacingError):
    """The actor's role or team does not allow this action."""

    def __init__(self, key: str = "errors.not_allowed", **params: Any) -> None:
        super().__init__(key, **params)
