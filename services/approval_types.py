"""The request types and their fields: defined here once, used by the one request form, the
service that validates and routes a request, and the one card renderer.

Adding a type: add a ``RequestType`` to ``TYPES`` below (its fields use the kinds that exist),
its texts to locales/*/approvals.po (``approvals.type_<key>``, ``commands.<command>`` and
``approvals.ask_<field>`` / ``approvals.field_<field>`` for new field names), and optionally a
route under ``[defaults.approvals.routes]`` in config.toml (without one it goes to the manager).
No handler changes: the form, the shortcut command, the card and /myrequests read this registry.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from core.errors import UserFacingError
from services import money, numbers
from services.dates import parse_date

# An expense older than this is refused: it belongs to an earlier closing.
MAX_EXPENSE_AGE_DAYS = 90
MAX_DEADLINE_DAYS = 366
MAX_QUANTITY = 1_000_000


class FieldKind(StrEnum):
    MONEY = "money"
    TEXT = "text"
    CHOICE = "choice"
    # A date that has happened (today at the latest), or one still to come (today at the earliest).
    PAST_DATE = "past_date"
    FUTURE_DATE = "future_date"
    CUSTOMER = "customer"
    QUANTITY = "quantity"
    # Photos or documents (receipts); the values live in the request's attachments.
    FILES = "files"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: FieldKind
    required: bool = True
    choices: tuple[str, ...] = ()
    max_length: int = 500
    # A price that may also be typed as a discount off this other MONEY field ("9折", "10%").
    discount_of: str | None = None

    @property
    def label_key(self) -> str:
        return f"approvals.field_{self.name}"


Values = Mapping[str, Any]


class FieldError(UserFacingError):
    """A value does not fit its field; ``field`` names the one to ask again."""

    def __init__(self, field_name: str, key: str, **params: Any) -> None:
        super().__init__(key, **params)
        self.field = field_name


def _money(values: Values, name: str) -> Decimal | None:
    raw = values.get(name)
    return Decimal(str(raw)) if raw not in (None, "") else None


def _no_check(values: Values) -> None:
    return None


@dataclass(frozen=True)
class RequestType:
    key: str
    # The shortcut command (/expense ...) that opens the form for this type.
    command: str
    icon: str
    fields: tuple[FieldSpec, ...]
    # The amount routing thresholds and the "approved this month" total use; None if no amount.
    amount: Callable[[Values], Decimal | None] = lambda values: None
    # For price deviations: the discount in percent against the list price.
    discount: Callable[[Values], Decimal | None] | None = None
    # Checks across fields (requested price below list price); raises FieldError.
    check: Callable[[Values], None] = _no_check
    order: int = 100
    # False: not offered by /request nor a shortcut command, and not resubmitted by hand; the
    # request is made by another part of salesbot (a credit note ending a valid dispute) and
    # acted on when decided (services.approvals.OUTCOMES).
    requestable: bool = True

    @property
    def name_key(self) -> str:
        return f"approvals.type_{self.key}"

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def files_field(self) -> FieldSpec | None:
        return next((f for f in self.fields if f.kind is FieldKind.FILES), None)

    @property
    def customer_field(self) -> FieldSpec | None:
        return next((f for f in self.fields if f.kind is FieldKind.CUSTOMER), None)


def _discount_values(values: Values) -> tuple[Decimal, Decimal] | None:
    list_price, price = _money(values, "list_price"), _money(values, "requested_price")
    if list_price is None or price is None:
        return None
    return list_price, price


def _discount_amount(values: Values) -> Decimal | None:
    prices = _discount_values(values)
    return prices[0] - prices[1] if prices else None


def _discount_percent(values: Values) -> Decimal | None:
    prices = _discount_values(values)
    return money.percent_off(*prices) if prices else None


def _check_discount(values: Values) -> None:
    prices = _discount_values(values)
    if prices is None:
        return
    list_price, price = prices
    if price > list_price:
        raise FieldError("requested_price", "approvals.price_above_list")
    if price == list_price:
        raise FieldError("requested_price", "approvals.price_equals_list")


EXPENSE_CATEGORIES = ("travel", "meals", "transport", "lodging", "entertainment", "gifts",
                      "office", "other")  # fmt: skip

CUSTOMER = FieldSpec("customer", FieldKind.CUSTOMER)

TYPES: dict[str, RequestType] = {
    t.key: t
    for t in (
        RequestType(
            key="expense", command="expense", icon="🧾", order=1,
            fields=(
                FieldSpec("amount", FieldKind.MONEY),
                FieldSpec("category", FieldKind.CHOICE, choices=EXPENSE_CATEGORIES),
                FieldSpec("spent_on", FieldKind.PAST_DATE),
                FieldSpec("description", FieldKind.TEXT),
                FieldSpec("receipts", FieldKind.FILES),
            ),
            amount=lambda values: _money(values, "amount"),
        ),
        RequestType(
            key="discount", command="discount", icon="🏷", order=2,
            fields=(
                CUSTOMER,
                FieldSpec("reference", FieldKind.TEXT, max_length=100),
                FieldSpec("list_price", FieldKind.MONEY),
                FieldSpec("requested_price", FieldKind.MONEY, discount_of="list_price"),
                FieldSpec("justification", FieldKind.TEXT, required=False),
            ),
            amount=_discount_amount, discount=_discount_percent, check=_check_discount,
        ),
        RequestType(
            key="special_fee", command="fee", icon="💴", order=3,
            fields=(
                CUSTOMER,
                FieldSpec("amount", FieldKind.MONEY),
                FieldSpec("purpose", FieldKind.TEXT),
            ),
            amount=lambda values: _money(values, "amount"),
        ),
        RequestType(
            key="bid", command="bid", icon="📣", order=4,
            fields=(
                CUSTOMER,
                FieldSpec("estimated_value", FieldKind.MONEY),
                FieldSpec("deadline", FieldKind.FUTURE_DATE),
                FieldSpec("notes", FieldKind.TEXT, required=False),
            ),
            amount=lambda values: _money(values, "estimated_value"),
        ),
        RequestType(
            key="return", command="return", icon="↩️", order=5,
            fields=(
                CUSTOMER,
                FieldSpec("items", FieldKind.TEXT),
                FieldSpec("quantity", FieldKind.QUANTITY),
                FieldSpec("reason", FieldKind.TEXT),
            ),
        ),
        RequestType(
            key="invoice", command="invoice", icon="🧮", order=6,
            fields=(
                CUSTOMER,
                FieldSpec("contract", FieldKind.TEXT, max_length=100),
                FieldSpec("amount", FieldKind.MONEY),
            ),
            amount=lambda values: _money(values, "amount"),
        ),
        *(
            RequestType(
                key=key, command="", icon=icon, order=order, requestable=False,
                fields=(
                    CUSTOMER,
                    FieldSpec("document", FieldKind.TEXT, max_length=64),
                    FieldSpec("amount", FieldKind.MONEY),
                    FieldSpec("reason", FieldKind.TEXT, max_length=1000),
                ),
                amount=lambda values: _money(values, "amount"),
            )
            for key, icon, order in (("credit_note", "🧾", 7), ("write_off", "🗑", 8))
        ),
    )
}  # fmt: skip


def check_routes(routes: dict[str, dict[str, Any]]) -> None:
    """Refuse routing rules that name no request type (a typo would silently keep the shipped
    rule); ``routes`` maps a team key to its routes by type."""
    for team, by_type in routes.items():
        unknown = sorted(set(by_type) - set(TYPES))
        if unknown:
            raise ValueError(
                f"teams.{team}.approvals.routes: no request type {', '.join(unknown)} "
                f"(types: {', '.join(sorted(TYPES))})"
            )


def get_type(key: str) -> RequestType:
    try:
        return TYPES[key]
    except KeyError:
        raise UserFacingError("approvals.unknown_type") from None


def ordered_types() -> list[RequestType]:
    """The types people request themselves (/request and the shortcut commands)."""
    found = [t for t in TYPES.values() if t.requestable]
    return sorted(found, key=lambda t: (t.order, t.key))


@dataclass(frozen=True)
class FieldContext:
    """What validating a typed value needs: the team's day, currency and maximum amount."""

    today: date
    currency: str
    max_amount: Decimal
    max_files: int = 5


def _clean_text(spec: FieldSpec, raw: str) -> str:
    text = re.sub(r"[ \t]+", " ", unicodedata.normalize("NFC", raw)).strip()
    if not text:
        raise FieldError(spec.name, "approvals.text_empty")
    if len(text) > spec.max_length:
        raise FieldError(spec.name, "approvals.text_too_long", limit=spec.max_length,
                         length=len(text))  # fmt: skip
    return text


QUANTITY_UNITS = ("units", "pcs", "pc", "件", "个", "台", "箱", "套", "只")


def _without_unit(text: str) -> str:
    """ "12 pcs" -> "12". Not a regex: ``\\s*unit$`` retried from every space of a long
    message is quadratic (0.2 s for 4 KB of spaces, minutes for 64 KB)."""
    for unit in QUANTITY_UNITS:
        if text[-len(unit) :].lower() == unit:
            return text[: -len(unit)].rstrip()
    return text


def clean_value(spec: FieldSpec, raw: str, ctx: FieldContext) -> Any:
    """The stored (JSON) form of a typed value; FieldError says what to send instead."""
    if spec.kind is FieldKind.MONEY:
        try:
            amount = money.parse_amount(raw, maximum=ctx.max_amount, currency=ctx.currency)
        except money.AmountError as error:
            raise FieldError(spec.name, error.key, **error.params) from None
        return money.plain(amount)
    if spec.kind is FieldKind.QUANTITY:
        text = _without_unit(unicodedata.normalize("NFKC", raw).strip().replace(",", ""))
        # Arabic or Chinese numerals, with or without a unit ("十桶", "三十箱"): numbers.quantity.
        count = numbers.quantity(text)
        if count is None or not 0 < count <= MAX_QUANTITY:
            raise FieldError(spec.name, "approvals.quantity_invalid", maximum=MAX_QUANTITY)
        return count
    if spec.kind in (FieldKind.PAST_DATE, FieldKind.FUTURE_DATE):
        day = parse_date(raw, ctx.today)
        if day is None:
            raise FieldError(spec.name, "approvals.date_invalid")
        return check_date(spec, day, ctx.today).isoformat()
    if spec.kind is FieldKind.CHOICE:
        folded = unicodedata.normalize("NFKC", raw).strip().lower()
        if folded in spec.choices:
            return folded
        raise FieldError(spec.name, "approvals.use_buttons")
    if spec.kind is FieldKind.TEXT:
        return _clean_text(spec, raw)
    raise FieldError(spec.name, "approvals.use_buttons")


# What makes a typed price a discount: a percent sign, 折, 百分之, 优惠 or "off".
_DISCOUNT_WORDS = re.compile(r"[%％折]|百分之|优惠|\boff\b", re.IGNORECASE)


@dataclass(frozen=True)
class Reading:
    """A typed value as stored, and the discount in percent when a price was typed as one."""

    value: Any
    discount: Decimal | None = None


def read_value(spec: FieldSpec, raw: str, ctx: FieldContext, values: Values) -> Reading:
    """Like :func:`clean_value`, and a price field with ``discount_of`` also reads a discount
    ("9折", "九五折", "8.5%", "百分之八") as the price it leaves of the other field's amount.

    A bare number stays a price: "8" in "the price you want to give" is ¥8, and the summary shows
    it as a 99 % discount, so a rep who meant 8 % sees it before submitting.
    """
    base = _money(values, spec.discount_of) if spec.discount_of else None
    if base is None:
        return Reading(clean_value(spec, raw, ctx))
    if _DISCOUNT_WORDS.search(raw):
        percent = numbers.discount_percent(raw)
        if percent is None:
            raise FieldError(spec.name, "approvals.discount_unreadable", text=raw.strip()[:20])
        price = (base * (100 - percent) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if price <= 0:
            raise FieldError(spec.name, "approvals.discount_unreadable", text=raw.strip()[:20])
        return Reading(money.plain(price), percent)
    try:
        return Reading(clean_value(spec, raw, ctx))
    except FieldError as error:
        if error.key != "money.not_a_number":
            raise
        raise FieldError(spec.name, "approvals.price_or_discount", text=raw.strip()[:20]) from None


def check_date(spec: FieldSpec, day: date, today: date) -> date:
    if spec.kind is FieldKind.PAST_DATE:
        if day > today:
            raise FieldError(spec.name, "approvals.date_in_future")
        if day < today - timedelta(days=MAX_EXPENSE_AGE_DAYS):
            raise FieldError(spec.name, "approvals.date_too_old", days=MAX_EXPENSE_AGE_DAYS)
    elif spec.kind is FieldKind.FUTURE_DATE:
        if day < today:
            raise FieldError(spec.name, "approvals.date_in_past")
        if day > today + timedelta(days=MAX_DEADLINE_DAYS):
            raise FieldError(spec.name, "approvals.date_too_far", days=MAX_DEADLINE_DAYS)
    return day


def check_complete(kind: RequestType, values: Values, files: int, ctx: FieldContext) -> None:
    """Every required field is there and valid again (the form may be days old), and the
    fields fit together. Raises FieldError naming the field to ask again."""
    for spec in kind.fields:
        value = values.get(spec.name)
        if spec.kind is FieldKind.FILES:
            if spec.required and files == 0:
                raise FieldError(spec.name, "approvals.receipt_required")
            continue
        if value in (None, ""):
            if spec.required:
                raise FieldError(spec.name, "approvals.field_missing")
            continue
        if spec.kind is FieldKind.MONEY:
            clean_value(spec, str(value), ctx)
        elif spec.kind in (FieldKind.PAST_DATE, FieldKind.FUTURE_DATE):
            check_date(spec, date.fromisoformat(str(value)), ctx.today)
        elif spec.kind is FieldKind.CHOICE and value not in spec.choices:
            raise FieldError(spec.name, "approvals.use_buttons")
        elif spec.kind is FieldKind.QUANTITY and not 0 < int(value) <= MAX_QUANTITY:
            raise FieldError(spec.name, "approvals.quantity_invalid", maximum=MAX_QUANTITY)
    kind.check(values)
