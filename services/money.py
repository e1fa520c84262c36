"""Money kept exact: ``Decimal`` amounts with a currency, stored as integer minor units.

Two readers, for two situations:
- :func:`parse_amount` reads what a person types into a form in the team's currency ("2000",
  "1,234.50", "¥2000", "2.5万", "3k") and refuses with a reason the user is shown: negative, zero,
  non-numeric, more than two decimals, ambiguous separators, above the configured maximum.
- :func:`read_money` reads amounts that may carry their own currency ("USD 500", "500 美元",
  "１２００元") as back-office files and payments hold them, returning None when unreadable.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_name, get_currency_precision

from core.errors import UserFacingError
from core.i18n import format_money
from core.money import SCALE, from_minor, to_minor
from services import numbers

__all__ = ["from_minor", "to_minor"]  # the storage conversions live with the column type

MINOR_UNITS = SCALE
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
# A Chinese numeral digit, or 万/千 with digits after it ("2万3"): not a plain suffix.
_CHINESE_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百壹贰叁肆伍陆柒捌玖拾佰仟]|[万千]\d")


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
    if _CHINESE_NUMERAL.search(folded):
        # "三万五", "两千", "2万3": Chinese numerals, read by cn2an (services.numbers).
        value = numbers.number(folded)
        if value is None:
            raise AmountError("money.not_a_number")
        folded = format(value, "f")
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


def percent_off(list_price: Decimal, price: Decimal) -> Decimal:
    """The discount of ``price`` against ``list_price`` in percent, two decimals."""
    return ((list_price - price) * 100 / list_price).quantize(_QUANTUM, rounding=ROUND_HALF_UP)


def plain(amount: Decimal) -> str:
    """Canonical text of an amount for storage in JSON: "1234.50"."""
    return f"{amount.quantize(_QUANTUM)}"


# Far above any single invoice: a typo (an extra zero or five) rather than a real amount.
MAX_AMOUNT = Decimal("10000000000")

_CODES_BY_WORD = {
    "¥": "CNY", "元": "CNY", "rmb": "CNY", "人民币": "CNY", "块": "CNY", "cn¥": "CNY",
    "$": "USD", "us$": "USD", "美元": "USD", "美金": "USD",
    "€": "EUR", "欧元": "EUR", "hk$": "HKD", "港币": "HKD", "港元": "HKD",
    "£": "GBP", "英镑": "GBP", "日元": "JPY", "jp¥": "JPY",
}  # fmt: skip
_FILE_MULTIPLIERS = {"万": Decimal(10000), "w": Decimal(10000), "千": Decimal(1000),
                "k": Decimal(1000)}  # fmt: skip
_FILE_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)(万|w|千|k)?$")
_CODE = re.compile(r"^[a-z]{3}$")


def normalize_currency(text: str) -> str | None:
    """An ISO currency code from a code, a symbol or a Chinese name; None when unknown."""
    word = unicodedata.normalize("NFKC", text).strip().lower()
    if word in _CODES_BY_WORD:
        return _CODES_BY_WORD[word]
    code = word.upper()
    if _CODE.match(word) and get_currency_name(code, locale="en") != code:
        return code
    return None


def decimals_of(currency: str) -> int:
    """Decimals an amount in this currency may have (at most two: how amounts are stored)."""
    return min(int(get_currency_precision(currency)), SCALE)


class MoneyUnreadable(Exception):
    """Why a back-office amount cannot be read: ``reason`` is "not_a_number",
    "unknown_currency", "too_precise" (``decimals`` is what ``currency`` allows) or "too_large"."""

    def __init__(self, reason: str, *, currency: str = "", decimals: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.currency, self.decimals = reason, currency, decimals


def _split_currency(text: str) -> tuple[str, str | None]:
    """(number part, currency or None); MoneyUnreadable when it is not a number with at most
    one currency word, or the word is not a currency we know."""
    match = re.match(r"^([^\d.]*)([\d.]+(?:万|w|千|k)?)([^\d.]*)$", text)
    if not match:
        raise MoneyUnreadable("not_a_number")
    before, number, after = match[1].strip(), match[2], match[3].strip()
    if before and after:
        raise MoneyUnreadable("not_a_number")
    word = before or after
    if not word:
        return number, None
    currency = normalize_currency(word)
    if currency is None:
        raise MoneyUnreadable("unknown_currency")
    return number, currency


def parse_money(text: str, default_currency: str) -> tuple[Decimal, str]:
    """The amount and currency in a back-office cell or a typed payment ("USD 500", "1.2万").

    Zero and negative amounts are returned as read (the caller says what is allowed); amounts
    with more decimals than the currency has raise MoneyUnreadable("too_precise"), as does
    anything else unreadable with its own reason.
    """
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    folded = re.sub(r"(?<=\d)[,\s'](?=\d{3}(?!\d))", "", folded)
    folded = folded.replace(" ", "")
    negative = folded.startswith("-")
    number, currency = _split_currency(folded.lstrip("-"))
    currency = currency or default_currency
    match = _FILE_NUMBER.match(number)
    if not match:
        raise MoneyUnreadable("not_a_number")
    try:
        amount = Decimal(match[1]) * _FILE_MULTIPLIERS.get(match[2] or "", Decimal(1))
    except InvalidOperation:
        raise MoneyUnreadable("not_a_number") from None
    amount = -amount if negative else amount
    exponent = amount.normalize().as_tuple().exponent
    decimals = decimals_of(currency)
    if isinstance(exponent, int) and -exponent > decimals:
        raise MoneyUnreadable("too_precise", currency=currency, decimals=decimals)
    if abs(amount) >= MAX_AMOUNT:
        raise MoneyUnreadable("too_large", currency=currency)
    return amount.quantize(Decimal(1).scaleb(-decimals)), currency


def read_money(text: str, default_currency: str) -> tuple[Decimal, str] | None:
    """:func:`parse_money`, or None when the text is not readable as money (the caller then
    asks again)."""
    try:
        return parse_money(text, default_currency)
    except MoneyUnreadable:
        return None


def money(amount: Decimal, currency: str, lang: str) -> str:
    """``¥1,200.00`` in the reader's language."""
    return format_money(amount, currency, lang)


def totals_text(totals: dict[str, Decimal], lang: str) -> str:
    """Totals in several currencies: ``¥1,200.00 + US$50.00``."""
    if not totals:
        return money(Decimal(0), "CNY", lang)
    return " + ".join(money(totals[code], code, lang) for code in sorted(totals))
