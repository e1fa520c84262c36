"""Amounts of money as people type them and as back-office files hold them.

"1200", "1,200.50", "¥1200", "１２００元", "5千", "1.2万", "3k", "USD 500", "500 美元" all
read; the result is an exact ``Decimal`` with its currency. Anything unreadable gives None,
never an exception, so the caller can ask again.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_name, get_currency_precision

from bot.i18n import format_money
from models.money import SCALE

# Far above any single invoice: a typo (an extra zero or five) rather than a real amount.
MAX_AMOUNT = Decimal("10000000000")

_CURRENCY_WORDS = {
    "¥": "CNY", "元": "CNY", "rmb": "CNY", "人民币": "CNY", "块": "CNY", "cn¥": "CNY",
    "$": "USD", "us$": "USD", "美元": "USD", "美金": "USD",
    "€": "EUR", "欧元": "EUR", "hk$": "HKD", "港币": "HKD", "港元": "HKD",
    "£": "GBP", "英镑": "GBP", "日元": "JPY", "jp¥": "JPY",
}  # fmt: skip
_MULTIPLIERS = {"万": Decimal(10000), "w": Decimal(10000), "千": Decimal(1000),
                "k": Decimal(1000)}  # fmt: skip
_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)(万|w|千|k)?$")
_CODE = re.compile(r"^[a-z]{3}$")


def normalize_currency(text: str) -> str | None:
    """An ISO currency code from a code, a symbol or a Chinese name; None when unknown."""
    word = unicodedata.normalize("NFKC", text).strip().lower()
    if word in _CURRENCY_WORDS:
        return _CURRENCY_WORDS[word]
    code = word.upper()
    if _CODE.match(word) and get_currency_name(code, locale="en") != code:
        return code
    return None


def decimals_of(currency: str) -> int:
    """Decimals an amount in this currency may have (at most two: how amounts are stored)."""
    return min(int(get_currency_precision(currency)), SCALE)


def _split_currency(text: str) -> tuple[str, str | None] | None:
    """(number part, currency or None); None when a currency word is not one we know."""
    match = re.match(r"^([^\d.]*)([\d.]+(?:万|w|千|k)?)([^\d.]*)$", text)
    if not match:
        return None
    before, number, after = match[1].strip(), match[2], match[3].strip()
    if before and after:
        return None
    word = before or after
    if not word:
        return number, None
    currency = normalize_currency(word)
    return (number, currency) if currency else None


def parse_amount(text: str, default_currency: str) -> tuple[Decimal, str] | None:
    """The amount and currency a person meant, or None when it is not readable as money.

    Zero and negative amounts are returned as read (the caller says what is allowed); amounts
    with more decimals than the currency has are not readable.
    """
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    folded = re.sub(r"(?<=\d)[,\s'](?=\d{3}(?!\d))", "", folded)
    folded = folded.replace(" ", "")
    negative = folded.startswith("-")
    split = _split_currency(folded.lstrip("-"))
    if split is None:
        return None
    number, currency = split
    currency = currency or default_currency
    match = _NUMBER.match(number)
    if not match:
        return None
    try:
        amount = Decimal(match[1]) * _MULTIPLIERS.get(match[2] or "", Decimal(1))
    except InvalidOperation:
        return None
    amount = -amount if negative else amount
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals_of(currency):
        return None
    if abs(amount) >= MAX_AMOUNT:
        return None
    return amount.quantize(Decimal(1).scaleb(-decimals_of(currency))), currency


def money(amount: Decimal, currency: str, lang: str) -> str:
    """``¥1,200.00`` in the reader's language."""
    return format_money(amount, currency, lang)


def totals_text(totals: dict[str, Decimal], lang: str) -> str:
    """Totals in several currencies: ``¥1,200.00 + US$50.00``."""
    if not totals:
        return money(Decimal(0), "CNY", lang)
    return " + ".join(money(totals[code], code, lang) for code in sorted(totals))
