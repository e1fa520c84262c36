"""The messages collections send by themselves, as notices (services.notices): the dunning
reminder and its escalation copy, the dispute card and its outcome, the reconciliation list and
a reconciliation difference."""

from __future__ import annotations

import html
from decimal import Decimal

from core.i18n import Catalogs, labelled
from core.money import ZERO
from core.periods import format_short_day
from services.collection_actions import DisputeCard, DisputeResolved
from services.dunning import Reminder
from services.money import money, totals_text
from services.reconciliation import Difference, ReconcileList
from views.buttons import Button, Keyboard
from views.collections import (
    ACT,
    MAX_RECON_BUTTONS,
    WIDE_LABEL,
    Act,
    action_buttons,
    document_line,
    reconcile_button,
    text,
)
from views.render import view


@view("collections.reminder")
def reminder(texts: Catalogs, lang: str, data: Reminder) -> tuple[str, Keyboard | None]:
    """The reminder: tone, the customer's documents with balances and days overdue, the total,
    the last contact, and the buttons. With ``rep_name`` it is the escalation copy for a manager
    or director: a header naming the rep, no hint and no buttons."""
    lines = []
    if data.rep_name is not None:
        lines.append(text(texts, lang, "collections.copy_header", rep=data.rep_name))
    lines.append(text(texts, lang, f"collections.tone_{data.tone}", customer=data.customer))
    totals: dict[str, Decimal] = {}
    for doc in data.documents:
        lines.append(document_line(texts, lang, doc, data.today))
        if doc.id in data.broken:
            day = format_short_day(data.broken[doc.id], lang)
            lines.append("   " + texts.t(lang, "collections.promise_broken_note", day=day))
        currency = doc.receivable.currency
        totals[currency] = totals.get(currency, ZERO) + doc.balance
    lines.append(
        texts.t(lang, "collections.reminder_total", count=len(data.documents),
                total=totals_text(totals, lang))
    )  # fmt: skip
    if data.last_contact is None:
        lines.append(texts.t(lang, "collections.last_contact_never"))
    else:
        day = format_short_day(data.last_contact, lang)
        lines.append(texts.t(lang, "collections.last_contact", day=day))
    if data.rep_name is not None:
        return "\n".join(lines), None
    lines.append(texts.t(lang, f"collections.hint_{data.tone}"))
    return "\n".join(lines), action_buttons(texts, lang, "r", data.reminder_id)


@view("collections.dispute_card")
def dispute_card(texts: Catalogs, lang: str, data: DisputeCard) -> tuple[str, Keyboard | None]:
    """For the deciding manager: who, which customer, why, and a "resolved" button per
    document."""
    lines = [
        text(texts, lang, "collections.dispute_card", rep=data.rep, customer=data.customer,
             reason=data.reason)
    ]  # fmt: skip
    buttons: Keyboard = []
    for doc in data.documents:
        lines.append(
            text(texts, lang, "collections.dispute_line", number=doc.number,
                 balance=money(doc.balance, doc.currency, lang),
                 due=format_short_day(doc.due_on, lang))
        )  # fmt: skip
        label = texts.t(lang, "collections.btn_resolve", number=doc.number)[:WIDE_LABEL]
        buttons.append([Button(label, data=ACT.pack(Act("x", doc.dispute_id, "r")))])
    return "\n".join(lines), buttons


@view("collections.dispute_resolved")
def dispute_resolved(
    texts: Catalogs, lang: str, data: DisputeResolved
) -> tuple[str, Keyboard | None]:
    """For the rep: the manager resolved the dispute, reminders resume."""
    return text(texts, lang, "collections.dispute_resolved_rep", number=data.number,
                customer=data.customer, manager=data.manager), None  # fmt: skip


@view("collections.reconcile_list")
def reconcile_list(texts: Catalogs, lang: str, data: ReconcileList) -> tuple[str, Keyboard | None]:
    """A rep's customers with open balances, a button each (the first MAX_RECON_BUTTONS; the
    rest are in /collections)."""
    lines = [texts.t(lang, "collections.recon_intro", period=data.period)]
    buttons: Keyboard = []
    for item in data.items:
        owed = money(item.balance, item.currency, lang)
        lines.append("• " + labelled(lang, html.escape(item.customer, quote=False), owed))
        if len(buttons) < MAX_RECON_BUTTONS:
            buttons.append(
                [reconcile_button(item.customer, item.item_id, item.balance, item.currency, lang)]
            )
    lines.append(texts.t(lang, "collections.recon_hint"))
    return "\n".join(lines), buttons


@view("collections.reconcile_difference")
def reconcile_difference(
    texts: Catalogs, lang: str, data: Difference
) -> tuple[str, Keyboard | None]:
    """For the manager: the customer's figure differs from ours."""
    card = text(
        texts, lang, "collections.recon_difference_card", rep=data.rep, customer=data.customer,
        ours=money(data.ours, data.currency, lang), theirs=money(data.theirs, data.currency, lang),
        difference=money(data.ours - data.theirs, data.currency, lang),
    )  # fmt: skip
    if data.note:
        card += "\n" + text(texts, lang, "collections.recon_note", note=data.note)
    return card, None
