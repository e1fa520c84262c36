"""Pieces of collections texts shared by chat replies and the messages the bot sends itself
(reminders, dispute cards, reconciliation lists), in the reader's language."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

from core.i18n import Catalogs
from core.periods import format_short_day
from services.money import money

# Reminder buttons: (action, text key). Callback data is "dn|<target>|<action>".
ACTIONS = (
    ("f", "collections.btn_full"),
    ("p", "collections.btn_partial"),
    ("m", "collections.btn_promise"),
    ("d", "collections.btn_dispute"),
    ("c", "collections.btn_contacted"),
)
ACTION_ROWS = (("f", "p"), ("m", "d"), ("c",))
CALLBACK = "dn"

OutboxButtons = list[list[dict[str, str]]]


def when_label(texts: Catalogs, lang: str, due_on: date, today: date) -> str:
    """When a document is due: "due in 3 days", "due today", "7 days overdue"."""
    days = (today - due_on).days
    if days < 0:
        return texts.t(lang, "collections.due_in", days=-days, day=format_short_day(due_on, lang))
    if days == 0:
        return texts.t(lang, "collections.due_today")
    return texts.t(lang, "collections.days_overdue", days=days, day=format_short_day(due_on, lang))


def document_line(
    texts: Catalogs,
    lang: str,
    *,
    number: str,
    balance: Decimal,
    amount: Decimal,
    currency: str,
    due_on: date,
    today: date,
    customer: str | None = None,
) -> str:
    """One document: ``• INV-1 · 杭州远航 · ¥700.00 (of ¥1,200.00) · 7 days overdue``."""
    owed = money(balance, currency, lang)
    if balance != amount:
        owed = texts.t(lang, "collections.balance_of", balance=owed,
                       amount=money(amount, currency, lang))  # fmt: skip
    parts = [f"<b>{html.escape(number)}</b>"]
    if customer:
        parts.append(html.escape(customer))
    parts += [owed, when_label(texts, lang, due_on, today)]
    return "• " + " · ".join(parts)


def action_buttons(texts: Catalogs, lang: str, target: str) -> OutboxButtons:
    """The five reminder buttons for a reminder (``r12``) or one document (``d5``)."""
    labels = dict(ACTIONS)
    return [
        [{"text": texts.t(lang, labels[action]), "data": f"{CALLBACK}|{target}|{action}"}
         for action in row]
        for row in ACTION_ROWS
    ]  # fmt: skip
