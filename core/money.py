"""Money columns: exact amounts stored as integer hundredths, read back as ``Decimal``.

A BIGINT column holds the amount times 100, so sums and comparisons in SQL are exact on SQLite
and PostgreSQL alike (SQLite has no exact decimal type). Amounts with more than two decimals are
refused when written rather than rounded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SCALE = 2
ZERO = Decimal("0.00")


class NotExactError(ValueError):
    """An amount that cannot be stored exactly (more than two decimals)."""


def to_minor(value: Decimal | int) -> int:
    amount = Decimal(value)
    minor = amount.scaleb(SCALE)
    if minor != minor.to_integral_value():
        raise NotExactError(f"{value} has more than {SCALE} decimals")
    return int(minor)


def from_minor(value: int | Decimal) -> Decimal:
    return Decimal(int(value)).scaleb(-SCALE)


class Money(TypeDecorator[Decimal]):
    """``Decimal`` in Python, integer hundredths in the database."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return to_minor(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return from_minor(value)
