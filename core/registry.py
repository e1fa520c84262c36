"""Registries filled at import time (jobs, forms, commands, report and summary contributors).

They all behave the same way: registering a name twice is a mistake (two modules claiming one
job, or one module imported under two names) and fails at import time, loudly, instead of one
entry silently replacing or hiding the other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


class DuplicateRegistration(RuntimeError):
    """A name was registered twice in the same registry."""


class Registry(Mapping[str, T], Generic[T]):
    """A name → entry mapping that refuses a second entry under a name."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise DuplicateRegistration(f"{self.what} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    @contextlib.contextmanager
    def overriding(self, name: str, entry: T) -> Iterator[None]:
        """Tests only: ``entry`` under ``name`` for the duration of a ``with`` block."""
        missing = object()
        before = self._entries.get(name, missing)
        self._entries[name] = entry
        try:
            yield
        finally:
            if before is missing:
                del self._entries[name]
            else:
                self._entries[name] = before  # type: ignore[assignment]

    @contextlib.contextmanager
    def only(self, entries: Mapping[str, T]) -> Iterator[None]:
        """Tests only: exactly ``entries`` for the duration of a ``with`` block."""
        saved = self._entries
        self._entries = dict(entries)
        try:
            yield
        finally:
            self._entries = saved

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
