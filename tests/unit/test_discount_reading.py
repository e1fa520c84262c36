"""The requested price of a discount request, typed as a price or as a discount off the list
price ("9折", "九五折", "8.5%", "百分之八")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.approval_types import FieldContext, FieldError, get_type, read_value

CTX = FieldContext(today=date(2026, 11, 24), currency="CNY", max_amount=Decimal(10_000_000))
PRICE = get_type("discount").field("requested_price")
LIST = {"list_price": "50000.00"}


@pytest.mark.parametrize(
    ("typed", "price", "percent"),
    [("9折", "45000.00", "10"), ("九五折", "47500.00", "5"), ("8.5%", "45750.00", "8.5"),
     ("百分之八", "46000.00", "8"), ("打八五折", "42500.00", "15"), ("10% off", "45000.00", "10"),
     ("99.999%", "0.50", "99.999")],
)  # fmt: skip
def test_a_discount_is_read_as_the_price_it_leaves(typed: str, price: str, percent: str) -> None:
    reading = read_value(PRICE, typed, CTX, LIST)
    assert reading.value == price and reading.discount == Decimal(percent)


@pytest.mark.parametrize(
    ("typed", "price"),
    [("8", "8.00"), ("¥45,000", "45000.00"), ("4.5万", "45000.00"), ("四万五", "45000.00")],
)
def test_a_number_stays_a_price(typed: str, price: str) -> None:
    reading = read_value(PRICE, typed, CTX, LIST)
    assert reading.value == price and reading.discount is None


@pytest.mark.parametrize(
    ("typed", "key"),
    [("150%", "approvals.discount_unreadable"), ("100%", "approvals.discount_unreadable"),
     ("0%", "approvals.discount_unreadable"),
     ("打个折", "approvals.discount_unreadable"), ("cheap", "approvals.price_or_discount"),
     ("-5", "money.negative"), ("%" * 70_000, "approvals.discount_unreadable")],
)  # fmt: skip
def test_what_is_neither_is_refused_on_the_field(typed: str, key: str) -> None:
    with pytest.raises(FieldError) as refused:
        read_value(PRICE, typed, CTX, LIST)
    assert (refused.value.field, refused.value.key) == ("requested_price", key)


def test_without_a_list_price_a_discount_is_not_a_price() -> None:
    with pytest.raises(FieldError) as refused:
        read_value(PRICE, "9折", CTX, {})
    assert refused.value.key == "money.not_a_number"


def test_a_discount_leaving_nothing_to_pay_is_refused() -> None:
    with pytest.raises(FieldError) as refused:
        read_value(PRICE, "99.9%", CTX, {"list_price": "1.00"})
    assert refused.value.key == "approvals.discount_unreadable"
