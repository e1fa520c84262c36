"""How a customer reads in the chat: the card with its buttons, list lines, field labels."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from core.i18n import Catalogs
from core.periods import format_day
from models.customer import Customer
from views.buttons import Button, Keyboard
from views.callbacks import Callback


@dataclass(frozen=True)
class CardAction:
    """A button of a customer card: v(isit), p(lan), e(dit); anything else shows the card."""

    customer_id: int
    action: str


CARD = Callback("cu", CardAction)
LOG_VISIT, PLAN_VISIT, EDIT = "v", "p", "e"


def card_button(texts: Catalogs, lang: str, label_key: str, customer_id: int, action: str,
                **params: str) -> Button:  # fmt: skip
    return Button(
        texts.t(lang, label_key, **params), data=CARD.pack(CardAction(customer_id, action))
    )


def tier_label(texts: Catalogs, lang: str, tier: str) -> str:
    return texts.t(lang, f"customers.tier_{tier}")


def status_label(texts: Catalogs, lang: str, status: str) -> str:
    return texts.t(lang, f"customers.status_{status}")


@dataclass(frozen=True)
class CardData:
    customer: Customer
    owner: str | None
    last_visit: date | None
    due_on: date | None
    # The reader may log and plan visits to this customer (a rep or manager of its team).
    can_visit: bool


def customer_text(texts: Catalogs, lang: str, card: CardData) -> str:
    """Everything the record holds, in the reader's language."""
    e = html.escape
    t = texts.t
    customer = card.customer
    lines = [
        f"🏢 <b>{e(customer.name)}</b>  ·  {tier_label(texts, lang, str(customer.tier))}"
        f"  ·  {status_label(texts, lang, str(customer.status))}"
    ]
    person = " · ".join(
        part for part in (e(customer.contact or ""), e(customer.phone or "")) if part
    )
    if person:
        lines.append(f"👤 {person}")
    place = " · ".join(
        e(part) for part in (customer.address, customer.region, customer.industry) if part
    )
    if place:
        lines.append(f"📍 {place}")
    lines.append(t(lang, "customers.card_owner", owner=e(card.owner) if card.owner else "—"))
    located = (
        "customers.card_location_yes" if customer.has_location else "customers.card_location_no"
    )
    lines.append(t(lang, located))
    if card.last_visit is not None:
        lines.append(t(lang, "customers.card_last_visit", day=format_day(card.last_visit, lang)))
    else:
        lines.append(t(lang, "customers.card_never_visited"))
    if card.due_on is not None:
        lines.append(t(lang, "customers.card_due", day=format_day(card.due_on, lang)))
    if customer.notes:
        lines.append(f"📝 {e(customer.notes)}")
    if customer.card_file_id:
        lines.append(t(lang, "cards.card_kept"))
    return "\n".join(lines)


def customer_card(texts: Catalogs, lang: str, card: CardData) -> tuple[str, Keyboard]:
    """The card and its actions: log a visit, plan, edit."""
    customer_id = card.customer.id
    assert customer_id is not None
    buttons: Keyboard = []
    if card.can_visit:
        buttons.append([
            card_button(texts, lang, "customers.log_visit", customer_id, LOG_VISIT),
            card_button(texts, lang, "customers.plan_visit", customer_id, PLAN_VISIT),
        ])  # fmt: skip
    buttons.append([card_button(texts, lang, "customers.edit", customer_id, EDIT)])
    return customer_text(texts, lang, card), buttons


def short_line(customer: Customer) -> str:
    """One line for a list: name, contact and phone."""
    extra = " · ".join(part for part in (customer.contact, customer.phone) if part)
    name = html.escape(customer.name)
    return f"{name} — {html.escape(extra)}" if extra else name
