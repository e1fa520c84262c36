"""Numbers reps type: Chinese numerals in quantities and amounts, and discounts."""

from __future__ import annotations

from decimal import Decimal

import cn2an
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.money import parse_amount
from services.numbers import discount_percent, number, quantity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("十桶", 10), ("三十箱", 30), ("两千", 2000), ("一百二十件", 120), ("2万", 20000),
        ("三万五", 35000), ("1.5万", 15000), ("10 pcs", 10), ("１２箱", 12), ("4,300", 4300),
    ],
)  # fmt: skip
def test_quantities(text: str, expected: int) -> None:
    assert quantity(text) == expected


@pytest.mark.parametrize("text", ["", "0", "零", "3.5箱", "十十", "abc", "-3", "箱"])
def test_not_quantities(text: str) -> None:
    assert quantity(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("三万五", "35000.00"), ("2万3", "23000.00"), ("两千元", "2000.00"), ("1.5万", "15000.00"),
     ("十二点五", "12.50"), ("¥2000", "2000.00"), ("3k", "3000.00"), ("5万", "50000.00"),
     ("¥23,000", "23000.00"), ("23k", "23000.00"), ("RMB 23,000", "23000.00")],
)  # fmt: skip
def test_amounts_in_chinese_numerals(text: str, expected: str) -> None:
    assert parse_amount(text, maximum=Decimal(10**9)) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8%", "8"), ("8 ％", "8"), ("12.5%", "12.5"), ("百分之八", "8"), ("9折", "10"),
     ("八五折", "15"), ("打8.5折", "15.0"), ("75折", "25"), ("九五折", "5"), ("8.5%", "8.5"),
     ("10% off", "10"), ("10 % OFF", "10"), ("优惠10%", "10"), ("降价 5%", "5"),
     ("优惠百分之八", "8")],
)  # fmt: skip
def test_discounts(text: str, expected: str) -> None:
    assert discount_percent(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    ["0%", "100%", "8", "折", "百分之", "150%", "off", "优惠", "打个折", "1" + " " * 5000 + "%"],
)
def test_not_discounts(text: str) -> None:
    assert discount_percent(text) is None


@settings(max_examples=400, deadline=None)
@given(n=st.integers(min_value=1, max_value=99_999_999))
def test_any_chinese_numeral_reads_back(n: int) -> None:
    written = cn2an.an2cn(n)  # "三万五千零一十二"
    assert number(written) == n
    assert quantity(f"{written}桶") == n
    assert parse_amount(f"{written}元", maximum=Decimal(10**9)) == Decimal(n)


@settings(max_examples=300, deadline=None)
@given(
    whole=st.integers(min_value=1, max_value=99),
    tenths=st.integers(min_value=0, max_value=9),
)
def test_any_percent_reads_back(whole: int, tenths: int) -> None:
    assert discount_percent(f"{whole}.{tenths}%") == Decimal(f"{whole}.{tenths}")
    assert discount_percent(f"百分之{cn2an.an2cn(whole)}") == whole


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=30))
def test_free_text_never_crashes(text: str) -> None:
    assert quantity(text) is None or quantity(text) > 0  # type: ignore[operator]
    assert number(text) is None or isinstance(number(text), Decimal)
    result = discount_percent(text)
    assert result is None or 0 < result < 100
