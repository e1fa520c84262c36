"""The request form's questions: the type, each field (with its buttons), the customer search's
results and the field to change; the summary is views/approvals.py."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from core.i18n import Catalogs, currency_unit, format_money, format_percent
from core.periods import format_short_day
from services.approval_types import FieldKind, FieldSpec, RequestType, ordered_types

# A form's choices: rows of (label, what the tap answers).
Choices = list[list[tuple[str, str]]]
# Customer names are cut to fit a button.
NAME_ON_BUTTON = 60


@dataclass(frozen=True)
class Question:
    """A form step's question as the forms engine asks it."""

    text: str
    choices: Choices = field(default_factory=list)
    skippable: bool = False
    search: str | None = None


def _pairs(options: list[tuple[str, str]]) -> Choices:
    return [options[i : i + 2] for i in range(0, len(options), 2)]


def ask_type(texts: Catalogs, lang: str) -> Question:
    options = [(f"{t.icon} {texts.t(lang, t.name_key)}", t.key) for t in ordered_types()]
    return Question(texts.t(lang, "approvals.ask_type"), _pairs(options))


def ask_edit(texts: Catalogs, lang: str, kind: RequestType) -> Question:
    rows = _pairs([(texts.t(lang, spec.label_key), spec.name) for spec in kind.fields])
    rows.append([(texts.t(lang, "approvals.back_to_summary"), "back")])
    return Question(texts.t(lang, "approvals.ask_edit_field"), rows)


def _field_text(
    texts: Catalogs, lang: str, kind: RequestType, spec: FieldSpec, **params: str
) -> str:
    specific = f"approvals.ask_{kind.key}_{spec.name}"
    key = specific if texts.has(specific) else f"approvals.ask_{spec.name}"
    return texts.t(lang, key, **params)


def _date_choices(texts: Catalogs, lang: str, spec: FieldSpec, today: date) -> Choices:
    if spec.kind is FieldKind.PAST_DATE:
        days = [
            (texts.t(lang, "approvals.today"), today),
            (texts.t(lang, "approvals.yesterday"), today - timedelta(days=1)),
            (format_short_day(today - timedelta(days=2), lang), today - timedelta(days=2)),
        ]
    else:
        days = [
            (texts.t(lang, "approvals.in_days", days=n), today + timedelta(days=n))
            for n in (3, 7, 14)
        ]
    return [[(label, f"d:{day.isoformat()}") for label, day in days]]


def customer_choices(found: Sequence[tuple[int | None, str]]) -> Choices:
    return [[(str(name)[:NAME_ON_BUTTON], f"c:{cid}")] for cid, name in found]


def ask_field(
    texts: Catalogs,
    lang: str,
    kind: RequestType,
    spec: FieldSpec,
    *,
    files: int,
    currency: str,
    today: date,
    recent: Sequence[tuple[int | None, str]] = (),
) -> Question:
    """Step n of m: the field's question, its buttons (choices, days, recent customers)."""
    step_no = [s.name for s in kind.fields].index(spec.name) + 1
    progress = texts.t(lang, "approvals.progress", icon=kind.icon,
                       type=texts.t(lang, kind.name_key), step=step_no,
                       steps=len(kind.fields))  # fmt: skip
    if spec.kind is FieldKind.FILES:
        if files:
            text = texts.t(lang, "approvals.files_added", count=files)
            done = texts.t(lang, "approvals.files_done")
            return Question(f"{progress}\n{text}", [[(done, "done")]])
        text = _field_text(texts, lang, kind, spec)
        return Question(f"{progress}\n{text}", skippable=not spec.required)
    optional = not spec.required
    text = _field_text(texts, lang, kind, spec, currency=currency_unit(currency, lang))
    if optional:
        text += "\n" + texts.t(lang, "approvals.optional")
    choices: Choices = []
    search: str | None = None
    if spec.kind is FieldKind.CHOICE:
        choices = _pairs(
            [(texts.t(lang, f"approvals.choice_{spec.name}_{v}"), v) for v in spec.choices]
        )
    elif spec.kind in (FieldKind.PAST_DATE, FieldKind.FUTURE_DATE):
        choices = _date_choices(texts, lang, spec, today)
    elif spec.kind is FieldKind.CUSTOMER:
        choices = customer_choices(recent)
        search = ""
    return Question(f"{progress}\n{text}", choices, skippable=optional, search=search)


def pick_customer(
    texts: Catalogs,
    lang: str,
    query: str,
    total: int,
    found: Sequence[tuple[int | None, str]],
    recent: Sequence[tuple[int | None, str]],
) -> Question:
    """The customers found; when none, the recent ones again next to the search button."""
    shown = html.escape(query)
    if found:
        text = texts.t(lang, "customers.results", count=total, query=shown)
        return Question(text, customer_choices(found), search=query)
    text = texts.t(lang, "approvals.no_customer", query=shown)
    return Question(text, customer_choices(recent), search=query)


def discount_read(
    texts: Catalogs, lang: str, typed: str, percent: Decimal, price: Decimal, currency: str
) -> str:
    """How a price typed as a discount was read: "9折 → 10% off: requested price CN¥9,000.00";
    only the reading when the typed text already says it ("10% off", "优惠 10%")."""
    shown = format_percent(percent)
    params = {"percent": shown, "price": format_money(price, currency, lang)}
    readings = {f"{shown}%"} | {
        texts.t(code, "approvals.list_discount", percent=shown) for code in ("en", "zh")
    }
    if _plain(typed) in {_plain(reading) for reading in readings}:
        return texts.t(lang, "approvals.discount_read_plain", **params)
    return texts.t(lang, "approvals.discount_read", typed=html.escape(typed.strip()[:20]),
                   **params)  # fmt: skip


def _plain(text: str) -> str:
    return "".join(text.lower().split())
