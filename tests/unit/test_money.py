"""Money: amounts as people type them, exact storage in integer hundredths, no float anywhere."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.money import Money, NotExactError, from_minor, to_minor
from services.money import decimals_of, normalize_currency, parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1200", ("1200", "CNY")),
        ("1,200.50", ("1200.50", "CNY")),
        ("¥1200", ("1200", "CNY")),
        ("￥3,500.50", ("3500.50", "CNY")),
        ("１２００元", ("1200", "CNY")),
        ("5千", ("5000", "CNY")),
        ("1.2万", ("12000", "CNY")),
        ("3k", ("3000", "CNY")),
        ("USD 500", ("500", "USD")),
        ("500 美元", ("500", "USD")),
        ("1 200", ("1200", "CNY")),
        ("-500", ("-500", "CNY")),
    ],
)
def test_amounts_people_type(text: str, expected: tuple[str, str]) -> None:
    parsed = parse_amount(text, "CNY")
    assert parsed is not None
    assert parsed == (Decimal(expected[0]), expected[1])


@pytest.mark.parametrize(
    "text", ["", "abc", "1,20", "1e5", "0.005", "12.5 JPY", "1.2.3", "5 ABC", "¥5 元", "9" * 12]
)
def test_unreadable_amounts_give_none(text: str) -> None:
    assert parse_amount(text, "CNY") is None


def test_currencies() -> None:
    assert normalize_currency("rmb") == "CNY"
    assert normalize_currency("人民币") == "CNY"
    assert normalize_currency("usd") == "USD"
    assert normalize_currency("EUR") == "EUR"
    assert normalize_currency("XYZ") is None
    assert normalize_currency("元宝") is None


@given(st.text(max_size=40))
def test_free_text_never_raises(text: str) -> None:
    parsed = parse_amount(text, "CNY")
    if parsed is not None:
        amount, currency = parsed
        assert isinstance(amount, Decimal) and len(currency) == 3
        assert amount.as_tuple().exponent == -decimals_of(currency)


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
def test_typed_amounts_read_back_exactly(amount: Decimal) -> None:
    for text in (f"{amount}", f"{amount:,}", f"¥{amount}", f"{amount}元"):
        assert parse_amount(text, "CNY") == (amount, "CNY"), text


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_storage_round_trips(minor: int) -> None:
    assert to_minor(from_minor(minor)) == minor


def test_storage_refuses_inexact_amounts() -> None:
    column = Money()
    assert column.process_bind_param(Decimal("12.34"), None) == 1234  # type: ignore[arg-type]
    assert column.process_result_value(1234, None) == Decimal("12.34")  # type: ignore[arg-type]
    with pytest.raises(NotExactError):
        to_minor(Decimal("0.001"))
