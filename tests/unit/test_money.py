"""Amounts as people type them: exact Decimals, clear refusals, never a crash."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import Money, NotExactError
from services.money import (
    AmountError,
    MoneyUnreadable,
    decimals_of,
    from_minor,
    normalize_currency,
    parse_amount,
    parse_money,
    percent_off,
    read_money,
    to_minor,
)

MAX = Decimal(10_000_000)
FULL_WIDTH = str.maketrans("0123456789,.", "０１２３４５６７８９，．")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2000", "2000.00"), ("1,234.50", "1234.50"), ("1 234.5", "1234.50"),
        ("¥2000", "2000.00"), ("￥2,000", "2000.00"), ("2000元", "2000.00"),
        ("RMB 2,000", "2000.00"), ("２０００", "2000.00"), ("１，２３４．５", "1234.50"),
        ("2千", "2000.00"), ("2.5万", "25000.00"), ("3k", "3000.00"), ("1.2w", "12000.00"),
        ("0.5", "0.50"), ("+80", "80.00"), ("80 CNY", "80.00"), ("1,000,000", "1000000.00"),
    ],
)  # fmt: skip
def test_accepted_forms(text: str, expected: str) -> None:
    assert parse_amount(text, maximum=MAX, currency="CNY") == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("-50", "money.negative"), ("−50", "money.negative"), ("¥-5", "money.negative"),
        ("负100", "money.negative"), ("(100)", "money.negative"), ("0", "money.zero"),
        ("0.00", "money.zero"), ("abc", "money.not_a_number"), ("", "money.not_a_number"),
        ("¥", "money.not_a_number"), ("1e5", "money.not_a_number"), ("NaN", "money.not_a_number"),
        ("12.345", "money.too_precise"), ("1,23", "money.ambiguous"),
        ("1.234,50", "money.ambiguous"), ("10000001", "money.too_large"),
        ("2亿", "money.too_large"), ("9" * 400, "money.too_large"),
    ],
)  # fmt: skip
def test_refused_with_the_reason(text: str, key: str) -> None:
    with pytest.raises(AmountError) as error:
        parse_amount(text, maximum=MAX)
    assert error.value.key == key


amounts = st.decimals(min_value=Decimal("0.01"), max_value=MAX, places=2)


@given(amounts, st.sampled_from(["{:.2f}", "{:,.2f}", "¥{:,.2f}", "{:,.2f}元", "RMB {:.2f}"]),
       st.booleans())  # fmt: skip
def test_every_way_of_writing_an_amount_reads_back_exactly(
    amount: Decimal, style: str, full_width: bool
) -> None:
    text = style.format(amount)
    if full_width:
        text = text.translate(FULL_WIDTH)
    assert parse_amount(text, maximum=MAX) == amount


@given(st.text(max_size=40))
def test_free_text_gives_an_amount_in_range_or_a_reason(text: str) -> None:
    try:
        amount = parse_amount(text, maximum=MAX)
    except AmountError as error:
        assert error.key.startswith("money.")
        return
    assert Decimal(0) < amount <= MAX
    assert amount == amount.quantize(Decimal("0.01"))


@given(amounts)
def test_negative_amounts_are_always_refused_as_negative(amount: Decimal) -> None:
    with pytest.raises(AmountError) as error:
        parse_amount(f"-{amount}", maximum=MAX)
    assert error.value.key == "money.negative"


@given(amounts)
def test_minor_units_round_trip(amount: Decimal) -> None:
    assert from_minor(to_minor(amount)) == amount


def test_minor_units_refuse_fractions_of_a_cent() -> None:
    with pytest.raises(ValueError, match="decimals"):
        to_minor(Decimal("1.005"))


def test_percent_off() -> None:
    assert percent_off(Decimal(1000), Decimal(850)) == Decimal("15.00")
    assert percent_off(Decimal(3), Decimal(2)) == Decimal("33.33")


def test_folding_is_nfkc() -> None:
    assert unicodedata.normalize("NFKC", "１２") == "12"


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
    parsed = read_money(text, "CNY")
    assert parsed is not None
    assert parsed == (Decimal(expected[0]), expected[1])


@pytest.mark.parametrize(
    "text", ["", "abc", "1,20", "1e5", "0.005", "12.5 JPY", "1.2.3", "5 ABC", "¥5 元", "9" * 12]
)
def test_unreadable_amounts_give_none(text: str) -> None:
    assert read_money(text, "CNY") is None


def test_currencies() -> None:
    assert normalize_currency("rmb") == "CNY"
    assert normalize_currency("人民币") == "CNY"
    assert normalize_currency("usd") == "USD"
    assert normalize_currency("EUR") == "EUR"
    assert normalize_currency("XYZ") is None
    assert normalize_currency("元宝") is None


@given(st.text(max_size=40))
def test_free_text_never_raises(text: str) -> None:
    parsed = read_money(text, "CNY")
    if parsed is not None:
        amount, currency = parsed
        assert isinstance(amount, Decimal) and len(currency) == 3
        assert amount.as_tuple().exponent == -decimals_of(currency)


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
def test_typed_amounts_read_back_exactly(amount: Decimal) -> None:
    for text in (f"{amount}", f"{amount:,}", f"¥{amount}", f"{amount}元"):
        assert read_money(text, "CNY") == (amount, "CNY"), text


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_storage_round_trips(minor: int) -> None:
    assert to_minor(from_minor(minor)) == minor


def test_storage_refuses_inexact_amounts() -> None:
    column = Money()
    assert column.process_bind_param(Decimal("12.34"), None) == 1234  # type: ignore[arg-type]
    assert column.process_result_value(1234, None) == Decimal("12.34")  # type: ignore[arg-type]
    with pytest.raises(NotExactError):
        to_minor(Decimal("0.001"))


@pytest.mark.parametrize(
    ("text", "reason", "currency", "decimals"),
    [
        ("1,280.505", "too_precise", "CNY", 2),
        ("0.005", "too_precise", "CNY", 2),
        ("12.5 JPY", "too_precise", "JPY", 0),
        ("9" * 12, "too_large", "CNY", 0),
        ("5 ABC", "unknown_currency", "", 0),
        ("abc", "not_a_number", "", 0),
        ("1,20", "not_a_number", "", 0),
        ("1.2.3", "not_a_number", "", 0),
        ("¥5 元", "not_a_number", "", 0),
    ],
)
def test_unreadable_amounts_say_why(text: str, reason: str, currency: str, decimals: int) -> None:
    with pytest.raises(MoneyUnreadable) as caught:
        parse_money(text, "CNY")
    assert (caught.value.reason, caught.value.currency, caught.value.decimals) == (
        reason, currency, decimals,
    )  # fmt: skip
