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
from services.collection_adjustments import AdjustmentNotice
from services.dunning import Digest, DigestLine, Reminder
from services.money import money, totals_text
from services.reconciliation import Difference, ReconcileList
from views.buttons import Button, Keyboard
from views.collections import (
    ACT,
    LABEL,
    MAX_RECON_BUTTONS,
    WIDE_LABEL,
    Act,
    action_buttons,
    document_line,
    reconcile_button,
    short_when,
    text,
)
from views.registry import view


@view("collections.reminder")
def reminder(texts: Catalogs, lang: str, data: Reminder) -> tuple[str, Keyboard | None]:
    """The reminder: tone, the customer's documents with balances and days overdue, the total,
    the last contact, and the buttons. With ``rep_name`` it is the escalation copy for a manager
    or director: a header naming the rep, no hint and no buttons."""
    lines = []
    if data.rep_name is not None:
        lines.append(text(texts, lang, "collections.copy_header", rep=data.rep_name))
    phase = _phase(data)
    heading = f"collections.tone_{data.tone}"
    if data.tone == "due" and phase == "overdue":
        heading = "collections.tone_due_overdue"
    lines.append(text(texts, lang, heading, customer=data.customer))
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
    lines.append(texts.t(lang, _hint(data.tone, phase)))
    return "\n".join(lines), action_buttons(texts, lang, "r", data.reminder_id)


def _phase(data: Reminder) -> str:
    """Where the customer's oldest document stands: "before" its due date, "today", "overdue"."""
    worst = max((doc.days_overdue(data.today) for doc in data.documents), default=0)
    return "before" if worst < 0 else "today" if worst == 0 else "overdue"


def _hint(tone: str, phase: str) -> str:
    # The gentle steps say what is true today: an overdue invoice is never "due today".
    if tone in ("friendly", "due"):
        if phase == "overdue":
            return f"collections.hint_{tone}_overdue"
        return "collections.hint_due" if phase == "today" else "collections.hint_friendly"
    return f"collections.hint_{tone}"


# A digest shows this many customers; the rest are in /collections.
DIGEST_LINES = 30
TONE_MARK = {"friendly": "🔔", "due": "📅", "firm": "⚠️", "urgent": "❗", "final": "⛔"}


def digest_line(texts: Catalogs, lang: str, line: DigestLine) -> str:
    """``❗ <b>杭州远航</b> — ¥12,000.00（3 张）· 逾期 40 天 · 紧急``."""
    when = short_when(texts, lang, line.days_overdue)
    return text(
        texts, lang, "collections.digest_line", mark=TONE_MARK.get(line.tone, "•"),
        customer=line.customer, total=totals_text(line.totals, lang), count=line.count,
        when=when, step=texts.t(lang, f"collections.step_{line.tone}"),
    )  # fmt: skip


def _more(texts: Catalogs, lang: str, lines: list[DigestLine]) -> list[str]:
    hidden = len(lines) - DIGEST_LINES
    return [texts.tn(lang, "collections.digest_more", hidden, count=hidden)] if hidden > 0 else []


def _grand_total(lines: list[DigestLine], lang: str) -> str:
    totals: dict[str, Decimal] = {}
    for line in lines:
        for currency, amount in line.totals.items():
            totals[currency] = totals.get(currency, ZERO) + amount
    return totals_text(totals, lang)


@view("collections.digest")
def digest(texts: Catalogs, lang: str, data: Digest) -> tuple[str, Keyboard | None]:
    """A rep's reminders of one run in one message: a line per customer (the most overdue
    first), a button per customer opening its documents and the actions."""
    shown = data.lines[:DIGEST_LINES]
    documents = sum(line.count for line in data.lines)
    # Two counts: one customer has its own text, whose singular is for one document.
    header = "collections.digest_header" + ("_single" if len(data.lines) == 1 else "")
    lines = [
        texts.tn(lang, header, documents, customers=len(data.lines), documents=documents,
                 total=_grand_total(data.lines, lang)),
        *(digest_line(texts, lang, line) for line in shown),
        *_more(texts, lang, data.lines),
        texts.t(lang, "collections.digest_hint"),
    ]  # fmt: skip
    buttons: Keyboard = [
        [Button(f"{TONE_MARK.get(line.tone, '•')} {line.customer}"[:LABEL],
                data=ACT.pack(Act("r", line.reminder_id, "o")))]
        for line in shown
    ]  # fmt: skip
    return "\n".join(lines), buttons


@view("collections.escalation_digest")
def escalation_digest(texts: Catalogs, lang: str, data: Digest) -> tuple[str, Keyboard | None]:
    """For a manager or a director: one run's escalations, by rep, then customer."""
    lines = [
        texts.tn(lang, "collections.escalation_header", len(data.lines),
                 customers=len(data.lines), total=_grand_total(data.lines, lang))
    ]  # fmt: skip
    rep: str | None = None
    for line in data.lines[:DIGEST_LINES]:
        if line.rep_name != rep:
            rep = line.rep_name
            lines.append(text(texts, lang, "collections.escalation_rep", rep=rep))
        lines.append(digest_line(texts, lang, line))
    lines += _more(texts, lang, data.lines)
    return "\n".join(lines), None


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
        label = texts.t(lang, "collections.btn_decide", number=doc.number)[:WIDE_LABEL]
        buttons.append([Button(label, data=ACT.pack(Act("x", doc.dispute_id, "r")))])
    return "\n".join(lines), buttons


@view("collections.dispute_resolved")
def dispute_resolved(
    texts: Catalogs, lang: str, data: DisputeResolved
) -> tuple[str, Keyboard | None]:
    """For the rep: the manager resolved the dispute, reminders resume."""
    return text(texts, lang, "collections.dispute_resolved_rep", number=data.number,
                customer=data.customer, manager=data.manager), None  # fmt: skip


@view("collections.adjustment")
def adjustment(texts: Catalogs, lang: str, data: AdjustmentNotice) -> tuple[str, Keyboard | None]:
    """For the rep: the credit note or write-off ending a dispute was applied, or refused (the
    dispute stays open, reminders stay paused)."""
    kind = texts.t(lang, f"collections.kind_{data.kind}")
    if data.event == "refused":
        key = "collections.adjustment_refused_rep"
    elif data.balance == 0:
        key = "collections.adjustment_closed_rep"
    else:
        key = "collections.adjustment_applied_rep"
    return text(
        texts, lang, key, kind=kind, number=data.number, customer=data.customer,
        amount=money(data.amount, data.currency, lang), name=data.name, reason=data.reason,
        balance=money(data.balance, data.currency, lang),
    ), None  # fmt: skip


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
