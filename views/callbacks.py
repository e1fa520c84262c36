"""Typed callback data: one small codec per action, its prefix declared once.

A button's data is ``prefix|field|field…``, at most 64 bytes (Telegram's limit). It is untrusted
input: it names an object and an action, never a permission, and anything that does not unpack
(a forged, truncated or old-format value) is answered as a stale button by the handler of its
prefix — it never falls through to another handler.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from typing import Any, Generic, TypeVar

from core.errors import UserFacingError
from core.registry import Registry

MAX_BYTES = 64
SEPARATOR = "|"
_PREFIX = re.compile(r"^[a-z][a-z0-9]{0,5}$")

D = TypeVar("D")


class StaleButton(UserFacingError):
    """Callback data that does not unpack: an old keyboard, or forged data."""

    def __init__(self) -> None:
        super().__init__("forms.stale_button")


# Every prefix in use, so that two codecs can never claim one.
PREFIXES: Registry[Callback[Any]] = Registry("callback prefix")


class Callback(Generic[D]):
    """The codec of one action: ``schema`` is a frozen dataclass whose fields are ``int``,
    ``str`` (without "|") or ``int | None`` / ``str | None``."""

    def __init__(self, prefix: str, schema: type[D]) -> None:
        if not _PREFIX.match(prefix):
            raise ValueError(f"callback prefix {prefix!r}: 1-6 lowercase letters or digits")
        if not dataclasses.is_dataclass(schema):
            raise TypeError(f"{schema!r} is not a dataclass")
        self.prefix = prefix
        self.schema = schema
        hints = typing.get_type_hints(schema)
        self._fields = [(f.name, _parser(hints[f.name])) for f in dataclasses.fields(schema)]
        PREFIXES.add(prefix, self)

    @property
    def pattern(self) -> str:
        """The regular expression a ``CallbackQueryHandler`` routes this prefix with."""
        return rf"^{re.escape(self.prefix)}(\|.*)?$"

    def pack(self, value: D) -> str:
        parts = [self.prefix]
        for name, _ in self._fields:
            field = getattr(value, name)
            text = "" if field is None else str(field)
            if SEPARATOR in text:
                raise ValueError(f"{self.prefix}.{name} may not contain {SEPARATOR!r}")
            parts.append(text)
        data = SEPARATOR.join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data {data!r} is over {MAX_BYTES} bytes")
        return data

    def unpack(self, data: str | None) -> D:
        """The value, or ``StaleButton`` for anything this codec did not pack."""
        parts = (data or "").split(SEPARATOR)
        if parts[0] != self.prefix or len(parts) != len(self._fields) + 1:
            raise StaleButton
        values: dict[str, Any] = {}
        for (name, parse), raw in zip(self._fields, parts[1:], strict=True):
            try:
                values[name] = parse(raw)
            except ValueError:
                raise StaleButton from None
        return self.schema(**values)


def _parser(hint: Any) -> Any:
    args = typing.get_args(hint)
    optional = type(None) in args
    base = next((a for a in args if a is not type(None)), hint) if args else hint
    if base not in (int, str):
        raise TypeError(f"callback fields are int or str, not {hint!r}")

    def parse(raw: str) -> int | str | None:
        if raw == "" and optional:
            return None
        if base is int:
            if not re.fullmatch(r"-?\d{1,18}", raw):
                raise ValueError(raw)
            return int(raw)
        return raw

    return parse
