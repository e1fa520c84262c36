"""Money as people type it, kept exact: ``Decimal`` amounts, stored as integer minor units.

Accepted: "2000", "1,234.50", "1 234.5", "¥2000", "2000元", "RMB 2,000", "２０００", "2千",
"2.5万", "3k", "1.2w". Refused with a message that says what to send instead: negative, zero,
non-numeric, more than two decimals, ambiguous separators ("1,23") and amounts above the
configured maximum (a typo, not a request).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from services.errors import UserFacingError

MINOR_UNITS = 2
_QUANTUM = Decimal(1).scaleb(-MINOR_UNITS)
_CURRENCY_WORDS = re.compile(
    r"(rmb|cny|usd|eur|hkd|yuan|元|圆|块钱|块|人民币|[¥$€£])", flags=re.IGNORECASE
)
_MULTIPLIERS = {
    "k": Decimal(1000), "千": Decimal(1000),
    "w": Decimal(10_000), "万": Decimal(10_000),
    "百万": Decimal(1_000_000),
    "亿": Decimal(100_000_000),
}  # fmt: skip
_NUMBER = re.compile(r"^(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?$")
_NEGATIVE = ("-", "−", "–", "负", "(")
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f']+")


class AmountError(UserFacingError):
    """The text is not an amount we accept; the key says why."""


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    return folded.replace("。", ".").replace("．", ".").replace("，", ",")


def parse_amount(text: str, *, maximum: Decimal, currency: str = "") -> Decimal:
    """The amount in ``text`` as a Decimal with at most two decimals; AmountError otherwise."""
    folded = _fold(text)
    if currency:
        folded = folded.replace(currency.lower(), "")
    folded = _CURRENCY_WORDS.sub("", folded)
    folded = _SPACES.sub("", folded).strip(".,")
    if not folded or not any(ch.isdigit() for ch in folded):
        raise AmountError("money.not_a_number")
    if folded.startswith(_NEGATIVE):
        raise AmountError("money.negative")
    folded = folded.lstrip("+")
    multiplier = Decimal(1)
    for suffix in sorted(_MULTIPLIERS, key=len, reverse=True):
        if folded.endswith(suffix):
            multiplier = _MULTIPLIERS[suffix]
            folded = folded[: -len(suffix)]
            break
    match = _NUMBER.match(folded)
    if match is None:
        if re.fullmatch(r"[\d.,]+", folded):
            raise AmountError("money.ambiguous")
        raise AmountError("money.not_a_number")
    try:
        amount = Decimal(match["int"].replace(",", "") + "." + (match["frac"] or "0"))
    except InvalidOperation:
        raise AmountError("money.not_a_number") from None
    amount *= multiplier
    if amount > maximum:
        raise AmountError("money.too_large", maximum=f"{maximum:,.0f}")
    if amount != amount.quantize(_QUANTUM, rounding=ROUND_HALF_UP):
        raise AmountError("money.too_precise")
    if amount == 0:
        raise AmountError("money.zero")
    return amount.quantize(_QUANTUM)


def to_minor(amount: Decimal) -> int:
    """Exact minor units (fen, cents) of an amount with at most two decimals."""
    minor = amount.scaleb(MINOR_UNITS)
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} has more than {MINOR_UNITS} decimals")
    return int(minor)


def from_minor(minor: int) -> Decimal:
    return Decimal(minor).scaleb(-MINOR_UNITS).quantize(_QUANTUM)


def percent_off(list_price: Decimal, price: Decimal) -> Decimal:
    """The discount of ``price`` against ``list_price`` in percent, two decimals."""
    return ((list_price - price) * 100 / list_price).quantize(_QUANTUM, rounding=ROUND_HALF_UP)


def plain(amount: Decimal) -> str:
    """Canonical text of an amount for storage in JSON: "1234.50"."""
    return f"{amount.quantize(_QUANTUM)}"
