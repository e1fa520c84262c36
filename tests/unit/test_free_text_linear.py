"""Free text a person types is parsed in time proportional to its length: 64 KB of the
inputs that make a backtracking regex quadratic (a quadratic parser would take minutes here,
a linear one a few milliseconds; no clock is read)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services import money
from services.approval_types import FieldContext, FieldError, FieldKind, FieldSpec, clean_value
from services.dates import parse_date

SIZE = 64 * 1024
ADVERSARIAL = {
    "spaces then a letter": "1" + " " * SIZE + "x",
    "newlines then a letter": "1" + "\n" * SIZE + "x",
    "ideographic spaces": "1" + "\u3000" * SIZE + "x",
    "digits then a letter": "1" * SIZE + "x",
    "commas": "," * SIZE,
    "digit-comma pairs": "1," * (SIZE // 2),
    "digit-space pairs": "1 " * (SIZE // 2) + "x",
    "digit-dot pairs": "1." * (SIZE // 2) + "x",
    "groups of three": "123 " * (SIZE // 4) + "x",
}
QUANTITY = FieldSpec("quantity", FieldKind.QUANTITY)
CTX = FieldContext(today=date(2026, 11, 24), currency="CNY", max_amount=Decimal(10_000_000))


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_a_quantity_of_64_kb_is_refused_at_once(text: str) -> None:
    with pytest.raises(FieldError) as refused:
        clean_value(QUANTITY, text, CTX)
    assert refused.value.key == "approvals.quantity_invalid"


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_amounts_and_dates_of_64_kb_are_refused_at_once(text: str) -> None:
    with pytest.raises(money.AmountError):
        money.parse_amount(text, maximum=Decimal(10_000_000), currency="CNY")
    assert money.read_money(text, "CNY") is None
    assert parse_date(text, date(2026, 11, 24)) is None


@pytest.mark.parametrize(
    ("typed", "quantity"),
    [("12", 12), ("12 pcs", 12), ("12PCS", 12), ("3 pc", 3), ("1,200 units", 1200),
     ("５０件", 50), ("7 台", 7), ("1000000", 1_000_000)],
)  # fmt: skip
def test_quantities_with_a_unit_still_read(typed: str, quantity: int) -> None:
    assert clean_value(QUANTITY, typed, CTX) == quantity


@pytest.mark.parametrize("typed", ["0", "-5", "1000001", "pcs", "1 2", "9" * 5000, "1e3"])
def test_quantities_out_of_range_or_not_numbers_are_refused(typed: str) -> None:
    with pytest.raises(FieldError):
        clean_value(QUANTITY, typed, CTX)
