"""What collections show in chat: the /collections pages, a document's card, the replies to
what a rep records, and the buttons of reminders, cards and reconciliation with their codecs.

The messages the bot sends by itself (reminders, dispute cards, reconciliation lists) are the
notices of :mod:`views.collection_notices`; both use the pieces defined here.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import cn2an

from core.i18n import Catalogs
from core.periods import format_day, format_short_day
from models.receivable import ReceivableStatus
from services.collection_actions import PaymentResult
from services.collection_adjustments import DisputeFacts, Settled
from services.invoice_rule import InvoiceCheck
from services.money import money, totals_text
from services.receivable_aging import Aging, Figures
from services.receivables import BUCKETS, OVERDUE_BUCKETS, CustomerBalance, Document
from views.buttons import Button, Keyboard
from views.callbacks import Callback

# Customers (a line and a button each) on one page of a person's list, and documents on one
# page of a customer's; more are reached with the ◀ ▶ buttons, so every one can be opened.
CUSTOMERS_PER_PAGE = 8
DOCUMENTS_PER_PAGE = 8
MAX_RECON_BUTTONS = 30
# Telegram shows about this much of a button; longer labels are cut.
LABEL = 40
WIDE_LABEL = 60


# -- callback data --------------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """A reminder's or a card's button: ``on`` is "r" (a reminder, ``id`` its id), "d" (one
    document) or "x" (a dispute: ``action`` "r" resolves it); ``action`` is one of ACTIONS or
    "o" (open the document's card)."""

    on: str
    id: int
    action: str


@dataclass(frozen=True)
class Open:
    """Open a list from a /collections page: ``kind`` "t" (a team) or "u" (a person)."""

    kind: str
    id: int


@dataclass(frozen=True)
class Reconcile:
    """Reconciliation: ``action`` "o" open an item, "y" confirmed, "n" a different figure,
    "l" the list still to reconcile (no ``item``)."""

    action: str
    item: int | None = None


@dataclass(frozen=True)
class Browse:
    """/collections by customer: ``owner``'s customers (``customer`` 0), page ``page``; or one
    customer's documents, page ``page``, whose back button returns to customers' page ``back``."""

    owner: int
    customer: int
    page: int = 0
    back: int = 0


ACT = Callback("dn", Act)
OPEN = Callback("co", Open)
BROWSE = Callback("cb", Browse)
# The same pages opened under a payment's or a decision's record: in a new message, keeping it.
BROWSE_ON = Callback("cw", Browse)
RECONCILE = Callback("rc", Reconcile)

# Reminder and card buttons: (action, text key), and how they are laid out.
ACTIONS = (
    ("f", "collections.btn_full"),
    ("p", "collections.btn_partial"),
    ("m", "collections.btn_promise"),
    ("d", "collections.btn_dispute"),
    ("c", "collections.btn_contacted"),
)
ACTION_ROWS = (("f", "p"), ("m", "d"), ("c",))


def action_buttons(texts: Catalogs, lang: str, on: str, target: int) -> Keyboard:
    """The five buttons of a reminder (``on`` "r") or of one document's card ("d")."""
    labels = dict(ACTIONS)
    return [
        [Button(texts.t(lang, labels[action]), data=ACT.pack(Act(on, target, action)))
         for action in row]
        for row in ACTION_ROWS
    ]  # fmt: skip


# -- pieces ---------------------------------------------------------------------------------


def text(texts: Catalogs, lang: str, key: str, /, **params: Any) -> str:
    """The text ``key`` with user values (every ``str`` parameter) escaped once, here; a text
    with a ``count`` takes its singular variant for one ("1 document")."""
    escaped = {k: _escaped(v) for k, v in params.items()}
    count = params.get("count")
    if isinstance(count, int):
        return texts.tn(lang, key, count, **escaped)
    return texts.t(lang, key, **escaped)


def _escaped(value: Any) -> Any:
    # Quotes stay as typed: texts are HTML bodies, never attribute values.
    return html.escape(value, quote=False) if isinstance(value, str) else value


def short_when(texts: Catalogs, lang: str, days_overdue: int) -> str:
    """ "due in 3 days", "due today", "7 days overdue": for lines that show the date elsewhere."""
    if days_overdue < 0:
        return texts.tn(lang, "collections.digest_due_in", -days_overdue, days=-days_overdue)
    if days_overdue == 0:
        return texts.t(lang, "collections.digest_due_today")
    return texts.tn(lang, "collections.digest_overdue", days_overdue, days=days_overdue)


def when_label(texts: Catalogs, lang: str, due_on: date, today: date) -> str:
    """When a document is due: "due in 3 days", "due today", "7 days overdue"."""
    days = (today - due_on).days
    if days < 0:
        return texts.tn(
            lang, "collections.due_in", -days, days=-days, day=format_short_day(due_on, lang)
        )
    if days == 0:
        return texts.t(lang, "collections.due_today")
    return texts.tn(
        lang, "collections.days_overdue", days, days=days, day=format_short_day(due_on, lang)
    )


def document_line(
    texts: Catalogs, lang: str, doc: Document, today: date, *, customer: bool = False
) -> str:
    """One document: ``• INV-1 · 杭州远航 · ¥700.00 (of ¥1,200.00) · 7 days overdue``."""
    receivable = doc.receivable
    owed = money(doc.balance, receivable.currency, lang)
    if doc.balance != receivable.amount:
        owed = texts.t(lang, "collections.balance_of", balance=owed,
                       amount=money(receivable.amount, receivable.currency, lang))  # fmt: skip
    parts = [f"<b>{html.escape(receivable.document_no, quote=False)}</b>"]
    if customer and doc.customer_name:
        parts.append(html.escape(doc.customer_name, quote=False))
    parts += [owed, when_label(texts, lang, receivable.due_on, today)]
    return "• " + " · ".join(parts)


def totals_of(docs: list[Document], lang: str) -> str:
    """What ``docs`` still owe, per currency."""
    sums: dict[str, Decimal] = {}
    for doc in docs:
        sums[doc.receivable.currency] = sums.get(doc.receivable.currency, Decimal(0)) + doc.balance
    return totals_text(sums, lang)


def status_mark(texts: Catalogs, lang: str, doc: Document) -> str:
    if doc.receivable.status == ReceivableStatus.DISPUTED:
        return " " + texts.t(lang, "collections.mark_disputed")
    if doc.promised_on is not None:
        day = format_short_day(doc.promised_on, lang)
        return " " + texts.t(lang, "collections.mark_promised", day=day)
    return ""


# -- /collections pages ---------------------------------------------------------------------


def bucket_key(bucket: str) -> str:
    """The text key of an aging bucket's name ("0-30" -> collections.bucket_0_30)."""
    return f"collections.bucket_{bucket.replace('-', '_').replace('+', 'plus')}"


def aging_lines(texts: Catalogs, lang: str, figures: Figures) -> list[str]:
    if not figures.count:
        return [texts.t(lang, "collections.nothing_open_view")]
    lines = [
        texts.t(lang, "collections.totals", count=figures.count,
                total=totals_text(figures.totals(), lang),
                overdue=totals_text(figures.totals(OVERDUE_BUCKETS), lang)),
        texts.t(lang, "collections.aging_header"),
    ]  # fmt: skip
    for bucket in BUCKETS:
        amounts = figures.bucket(bucket)
        if amounts:
            key = bucket_key(bucket)
            lines.append(
                texts.t(lang, "collections.bucket_line", bucket=texts.t(lang, key),
                        total=totals_text(amounts, lang))
            )  # fmt: skip
    return lines


def rep_lines(
    texts: Catalogs, lang: str, aging: Aging, team_id: int | None = None
) -> tuple[list[str], Keyboard]:
    """One line per person (of ``team_id``, when given), and a button opening each list."""
    lines, buttons = [], []
    reps = [(rep, f) for rep, f in aging.reps.items() if team_id is None or
            aging.rep_teams.get(rep) == team_id]  # fmt: skip
    reps.sort(key=lambda pair: aging.rep_names.get(pair[0] or 0, ""))
    for rep_id, figures in reps:
        name = aging.rep_names.get(rep_id or 0) or texts.t(lang, "collections.no_owner")
        lines.append(
            text(texts, lang, "collections.rep_line", name=name, count=figures.count,
                 total=totals_text(figures.totals(), lang),
                 overdue=totals_text(figures.totals(OVERDUE_BUCKETS), lang))
        )  # fmt: skip
        if rep_id is not None:
            buttons.append([Button(name[:LABEL], data=OPEN.pack(Open("u", rep_id)))])
    return lines, buttons


@dataclass(frozen=True)
class ListPage:
    """One person's open receivables: their aging, every customer with open documents (worst
    first) of which page ``page`` is shown, and how many balances they still have to reconcile
    (shown for their own list)."""

    owner_id: int
    owner_name: str
    mine: bool
    aging: Aging
    customers: list[CustomerBalance]
    page: int = 0
    to_reconcile: int = 0
    # Someone else's list opened from their team's page: the way back to it.
    back_team: int | None = None


def _pages(count: int, size: int) -> int:
    return max(1, -(-count // size))


def _pager(texts: Catalogs, lang: str, page: int, pages: int, target: Any) -> list[Button]:
    """◀ and ▶ (the page number is in the text), ``target(n)`` packing page n's data."""
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append(Button(texts.t(lang, "collections.btn_previous"), data=target(page - 1)))
    if page + 1 < pages:
        row.append(Button(texts.t(lang, "collections.btn_next"), data=target(page + 1)))
    return row


def customer_line(texts: Catalogs, lang: str, row: CustomerBalance) -> str:
    """``• <b>杭州远航</b> ¥12,000.00（3 张）· 逾期 ¥8,000.00 · 最长逾期 40 天 · ⚠️ 承诺未兑现``."""
    parts = [
        text(texts, lang, "collections.customer_total", customer=row.name,
             total=totals_text(row.totals, lang), count=row.count)
    ]  # fmt: skip
    if row.overdue and row.overdue == row.totals:
        # All of it is overdue: the amount is not repeated, and "longest" needs several documents.
        key = "collections.customer_all_overdue" + ("_many" if row.count > 1 else "")
        parts.append(texts.tn(lang, key, row.worst_days, days=row.worst_days))
    elif row.overdue:
        parts.append(
            texts.tn(lang, "collections.customer_overdue", row.worst_days,
                     overdue=totals_text(row.overdue, lang), days=row.worst_days)
        )  # fmt: skip
    elif row.worst_days == 0:
        parts.append(texts.t(lang, "collections.digest_due_today"))
    else:
        parts.append(
            texts.tn(lang, "collections.digest_due_in", -row.worst_days, days=-row.worst_days)
        )
    if row.broken_promise:
        parts.append(texts.t(lang, "collections.mark_broken"))
    if row.disputed:
        parts.append(texts.t(lang, "collections.mark_disputed"))
    # A full-width bracket already spaces the dot in Chinese: "（1 张单据）· 全部逾期".
    return "• " + " · ".join(parts).replace("） · ", "）· ")


def list_page(texts: Catalogs, lang: str, page: ListPage) -> tuple[str, Keyboard]:
    """Totals and aging, then a line and a button per customer (a page of them)."""
    header = "collections.my_header" if page.mine else "collections.rep_header"
    lines = [text(texts, lang, header, name=page.owner_name)]
    lines += aging_lines(texts, lang, page.aging.total)
    pages = _pages(len(page.customers), CUSTOMERS_PER_PAGE)
    number = min(max(page.page, 0), pages - 1)
    shown = page.customers[number * CUSTOMERS_PER_PAGE : (number + 1) * CUSTOMERS_PER_PAGE]
    if shown:
        key = "collections.by_customer_paged" if pages > 1 else "collections.by_customer"
        lines.append(texts.t(lang, key, count=len(page.customers), page=number + 1, pages=pages))
        lines += [customer_line(texts, lang, row) for row in shown]
    buttons: Keyboard = [
        [Button(f"{'⚠️ ' if row.broken_promise else ''}{row.name}"[:LABEL] + " · "
                + totals_text(row.totals, lang),
                data=BROWSE.pack(Browse(page.owner_id, row.customer_id, 0, number)))]
        for row in shown
    ]  # fmt: skip
    pager = _pager(texts, lang, number, pages,
                   lambda n: BROWSE.pack(Browse(page.owner_id, 0, n)))  # fmt: skip
    if pager:
        buttons.append(pager)
    if page.to_reconcile:
        label = texts.t(lang, "collections.btn_reconcile", count=page.to_reconcile)
        buttons.append([Button(label, data=RECONCILE.pack(Reconcile("l")))])
    if page.back_team is not None:
        label = texts.t(lang, "collections.btn_back_team")
        buttons.append([Button(label, data=OPEN.pack(Open("t", page.back_team)))])
    return "\n".join(lines), buttons


@dataclass(frozen=True)
class CustomerPage:
    """One customer's open documents of one owner, page ``page``; ``back`` is the page of the
    customers' list to return to."""

    owner_id: int
    customer_id: int
    customer: str
    documents: list[Document]
    today: date
    page: int = 0
    back: int = 0


def customer_page(texts: Catalogs, lang: str, page: CustomerPage) -> tuple[str, Keyboard]:
    """The customer's documents (number, amount, due date, status), a button each opening its
    card and actions, and the way back to the list."""
    docs = page.documents
    pages = _pages(len(docs), DOCUMENTS_PER_PAGE)
    number = min(max(page.page, 0), pages - 1)
    shown = docs[number * DOCUMENTS_PER_PAGE : (number + 1) * DOCUMENTS_PER_PAGE]
    lines = [
        text(texts, lang, "collections.customer_header", customer=page.customer,
             total=totals_of(docs, lang), count=len(docs))
    ]  # fmt: skip
    if not docs:
        lines.append(texts.t(lang, "collections.nothing_open_view"))
    for doc in shown:
        lines.append(document_line(texts, lang, doc, page.today) + status_mark(texts, lang, doc))
    buttons: Keyboard = [
        [Button(f"{doc.receivable.document_no} · "
                f"{money(doc.balance, doc.receivable.currency, lang)}"[:WIDE_LABEL],
                data=ACT.pack(Act("d", doc.id, "o")))]
        for doc in shown
    ]  # fmt: skip
    pager = _pager(
        texts, lang, number, pages,
        lambda n: BROWSE.pack(Browse(page.owner_id, page.customer_id, n, page.back)),
    )  # fmt: skip
    if pager:
        buttons.append(pager)
    back = texts.t(lang, "collections.btn_back_customers")
    buttons.append([Button(back, data=BROWSE.pack(Browse(page.owner_id, 0, page.back)))])
    return "\n".join(lines), buttons


def team_page(
    texts: Catalogs, lang: str, team_name: str, aging: Aging, *, own_list: int | None = None
) -> tuple[str, Keyboard]:
    """A team's totals, aging and people; ``own_list`` adds the manager's "my list" button."""
    lines = [text(texts, lang, "collections.team_header", team=team_name)]
    lines += aging_lines(texts, lang, aging.total)
    people, buttons = rep_lines(texts, lang, aging)
    if people:
        lines.append(texts.t(lang, "collections.per_rep"))
        lines += people
    if own_list is not None:
        mine = texts.t(lang, "collections.btn_mine")
        buttons.append([Button(mine, data=OPEN.pack(Open("u", own_list)))])
    return "\n".join(lines), buttons


def company_page(
    texts: Catalogs, lang: str, aging: Aging, teams: list[tuple[int, str]]
) -> tuple[str, Keyboard]:
    """Every team (id, name) with open balances, its people indented under it."""
    lines = [texts.t(lang, "collections.company_header")]
    lines += aging_lines(texts, lang, aging.total)
    buttons: Keyboard = []
    for team_id, name in teams:
        figures = aging.teams.get(team_id)
        if figures is None:
            continue
        lines.append(
            text(texts, lang, "collections.team_line", team=name, count=figures.count,
                 total=totals_text(figures.totals(), lang),
                 overdue=totals_text(figures.totals(OVERDUE_BUCKETS), lang))
        )  # fmt: skip
        people, _ = rep_lines(texts, lang, aging, team_id)
        lines += ["   " + line for line in people]
        buttons.append([Button(name[:LABEL], data=OPEN.pack(Open("t", team_id)))])
    return "\n".join(lines), buttons


@dataclass(frozen=True)
class Card:
    """A receivable's card: the document, its open dispute's reason, its payments."""

    document: Document
    today: date
    dispute: str | None
    payments: list[tuple[date, Decimal]]


def document_card(texts: Catalogs, lang: str, card: Card) -> tuple[str, Keyboard]:
    """Amounts, dates, status, payments, and the action buttons while something is owed."""
    doc, receivable = card.document, card.document.receivable
    currency = receivable.currency
    lines = [
        text(texts, lang, "collections.card_header", number=receivable.document_no,
             customer=doc.customer_name),
        texts.t(lang, "collections.card_amounts", amount=money(receivable.amount, currency, lang),
                paid=money(doc.paid, currency, lang), balance=money(doc.balance, currency, lang)),
        texts.t(lang, "collections.card_dates", issued=format_day(receivable.issued_on, lang),
                due=format_day(receivable.due_on, lang),
                when=short_when(texts, lang, (card.today - receivable.due_on).days)),
    ]  # fmt: skip
    lines.append(
        texts.t(lang, f"collections.status_{receivable.status}") + status_mark(texts, lang, doc)
    )
    if card.dispute is not None:
        lines.append(text(texts, lang, "collections.card_dispute", reason=card.dispute))
    if doc.adjusted:
        lines.append(texts.t(lang, "collections.card_adjusted",
                             amount=money(doc.adjusted, currency, lang)))  # fmt: skip
    for paid_on, amount in card.payments:
        lines.append(
            texts.t(lang, "collections.card_payment", day=format_short_day(paid_on, lang),
                    amount=money(amount, currency, lang))
        )  # fmt: skip
    owed = receivable.status != ReceivableStatus.PAID and doc.balance > 0
    buttons = action_buttons(texts, lang, "d", doc.id) if owed else []
    if receivable.owner_id is not None:
        # The card comes as a new message; this leads on to the customer's other documents.
        back = texts.t(lang, "collections.btn_customer_documents")
        data = BROWSE.pack(Browse(receivable.owner_id, receivable.customer_id))
        buttons = [*buttons, [Button(back, data=data)]]
    return "\n".join(lines), buttons


# -- replies to what a rep records ----------------------------------------------------------


# Payment methods shown in the reader's language; any other configured entry is shown as written.
KNOWN_METHODS = ("transfer", "cash", "cheque", "acceptance_bill", "wechat", "alipay")


def method_label(texts: Catalogs, lang: str, method: str) -> str:
    if method in KNOWN_METHODS:
        return texts.t(lang, f"collections.method_{method}")
    return method


def capital_amount(amount: Decimal, currency: str, lang: str) -> str | None:
    """An RMB amount in Chinese capital numerals (大写), as written on receipts and cheques,
    for Chinese readers: ``伍万元整``. None for other readers and currencies."""
    if lang != "zh" or currency != "CNY":
        return None
    return str(cn2an.an2cn(f"{amount:.2f}", "rmb"))


def payment_confirm(
    texts: Catalogs, lang: str, plan: PaymentResult, method: str, receipt: bool
) -> str:
    """What the rep is about to record: amount (in figures, and 大写 for zh), customer, the
    documents it settles, the method and whether a receipt is attached."""
    lines = [
        text(texts, lang, "collections.confirm_payment", total=totals_text(plan.totals, lang),
             customer=plan.customer_name)
    ]  # fmt: skip
    for currency, amount in plan.totals.items():
        capital = capital_amount(amount, currency, lang)
        if capital is not None:
            lines.append(texts.t(lang, "collections.confirm_capital", capital=capital))
    lines += _settled_lines(texts, lang, plan, SETTLES)
    lines.append(text(texts, lang, "collections.confirm_method",
                      method=method_label(texts, lang, method)))  # fmt: skip
    key = "collections.confirm_receipt" if receipt else "collections.confirm_no_receipt"
    lines.append(texts.t(lang, key))
    return "\n".join(lines)


def payment_text(
    texts: Catalogs, lang: str, result: PaymentResult, method: str | None = None
) -> str:
    if len(result.lines) == 1:
        # One document: one line, the amount said once.
        (line,) = result.lines
        key = "collections.paid_one_full" if line.balance == 0 else "collections.paid_one_part"
        lines = [
            text(texts, lang, key, customer=result.customer_name, number=line.document_no,
                 amount=money(line.amount, line.currency, lang),
                 balance=money(line.balance, line.currency, lang))
        ]  # fmt: skip
    else:
        lines = [
            text(texts, lang, "collections.paid_recorded",
                 total=totals_text(result.totals, lang), customer=result.customer_name)
        ]  # fmt: skip
        lines += _settled_lines(texts, lang, result, PAID)
    if method is not None:
        lines.append(text(texts, lang, "collections.confirm_method",
                          method=method_label(texts, lang, method)))  # fmt: skip
    return "\n".join(lines)


# Key pairs of settled-document lines: before confirming ("settles") and once recorded ("paid").
SETTLES = ("collections.settles_full", "collections.settles_part")
PAID = ("collections.paid_line_full", "collections.paid_line_part")


def _settled_lines(
    texts: Catalogs, lang: str, result: PaymentResult, keys: tuple[str, str]
) -> list[str]:
    """One line per document: settled in full, or what it receives and the balance left."""
    full, part = keys
    lines = []
    for line in result.lines:
        if line.balance == 0:
            lines.append(text(texts, lang, full, number=line.document_no))
        else:
            lines.append(
                text(texts, lang, part, number=line.document_no,
                     amount=money(line.amount, line.currency, lang),
                     balance=money(line.balance, line.currency, lang))
            )  # fmt: skip
    return lines


def invoice_share(texts: Catalogs, lang: str, check: InvoiceCheck) -> str:
    """The collected share of an invoice request's contract, against the team's minimum."""
    share = check.share
    key = "collections.share_below" if check.below else "collections.share_ok"
    return text(
        texts, lang, key, number=share.document_no, percent=share.percent_text,
        collected=money(share.collected, share.currency, lang),
        amount=money(share.amount, share.currency, lang), threshold=check.threshold_percent,
    )  # fmt: skip


# -- reconciliation -------------------------------------------------------------------------


def reconcile_button(
    name: str, item_id: int, balance: Decimal, currency: str, lang: str
) -> Button:
    label = f"{name[:LABEL]} · {money(balance, currency, lang)}"
    return Button(label, data=RECONCILE.pack(Reconcile("o", item_id)))


def reconcile_card(
    texts: Catalogs, lang: str, *, item_id: int, customer: str, balance: Decimal, currency: str,
    status: str,
) -> tuple[str, Keyboard]:  # fmt: skip
    """One balance to reconcile: confirm or give the customer's figure while it is pending."""
    card = text(texts, lang, "collections.recon_card", customer=customer,
                balance=money(balance, currency, lang))  # fmt: skip
    if status != "pending":
        return card + "\n" + texts.t(lang, f"collections.recon_status_{status}"), []
    yes = Button(texts.t(lang, "collections.btn_recon_yes"),
                 data=RECONCILE.pack(Reconcile("y", item_id)))  # fmt: skip
    no = Button(texts.t(lang, "collections.btn_recon_no"),
                data=RECONCILE.pack(Reconcile("n", item_id)))  # fmt: skip
    return card, [[yes, no]]


def reconcile_list(
    texts: Catalogs, lang: str, pending: list[tuple[int, str, Decimal, str]]
) -> tuple[str, Keyboard]:
    """The balances (item id, customer, balance, currency) still to reconcile."""
    if not pending:
        return texts.t(lang, "collections.recon_none"), []
    rows = [[reconcile_button(name, item_id, balance, currency, lang)]
            for item_id, name, balance, currency in pending[:MAX_RECON_BUTTONS]]  # fmt: skip
    return texts.tn(lang, "collections.recon_pending", len(pending), count=len(pending)), rows


# -- how a dispute ends ---------------------------------------------------------------------

# The manager's answers to "is the dispute valid?" (Act actions on a dispute, ``on`` "x").
DISPUTE_ANSWERS = (
    ("c", "collections.btn_valid_credit_note"),
    ("w", "collections.btn_valid_write_off"),
    ("i", "collections.btn_not_valid"),
)
ADJUSTMENT_KINDS = {"c": "credit_note", "w": "write_off"}


def dispute_question(texts: Catalogs, lang: str, facts: DisputeFacts) -> tuple[str, Keyboard]:
    """Is the customer right? A credit note or a write-off if so, reminders resume if not."""
    lines = [
        text(texts, lang, "collections.dispute_question", number=facts.number,
             customer=facts.customer, reason=facts.reason,
             balance=money(facts.balance, facts.currency, lang)),
    ]  # fmt: skip
    if not facts.top_level:
        lines.append(texts.t(lang, "collections.adjustment_threshold",
                             threshold=money(facts.threshold, facts.currency, lang)))  # fmt: skip
    buttons: Keyboard = [
        [Button(texts.t(lang, key), data=ACT.pack(Act("x", facts.dispute_id, action)))]
        for action, key in DISPUTE_ANSWERS
    ]
    return "\n".join(lines), buttons


def adjustment_name(texts: Catalogs, lang: str, kind: str) -> str:
    return texts.t(lang, f"collections.kind_{kind}")


def adjustment_amount_prompt(
    texts: Catalogs, lang: str, facts: DisputeFacts, kind: str
) -> tuple[str, str]:
    """The question and the label of the "whole balance" button."""
    question = text(texts, lang, "collections.ask_adjustment_amount",
                    kind=adjustment_name(texts, lang, kind), number=facts.number,
                    customer=facts.customer,
                    balance=money(facts.balance, facts.currency, lang))  # fmt: skip
    whole = texts.t(lang, "collections.btn_whole_balance",
                    balance=money(facts.balance, facts.currency, lang))  # fmt: skip
    return question, whole


def adjustment_confirm(
    texts: Catalogs, lang: str, facts: DisputeFacts, kind: str, amount: Decimal, reason: str
) -> str:
    """What the manager is about to decide, and whether it applies now or needs approval."""
    currency = facts.currency
    lines = [
        text(texts, lang, f"collections.confirm_{kind}", number=facts.number,
             customer=facts.customer, amount=money(amount, currency, lang))
    ]  # fmt: skip
    capital = capital_amount(amount, currency, lang)
    if capital is not None:
        lines.append(texts.t(lang, "collections.confirm_capital", capital=capital))
    lines.append(text(texts, lang, "collections.confirm_adjustment_reason", reason=reason))
    lines.append(texts.t(lang, "collections.confirm_balance_after",
                         before=money(facts.balance, currency, lang),
                         after=money(facts.balance - amount, currency, lang)))  # fmt: skip
    if amount > facts.threshold and not facts.top_level:
        lines.append(texts.t(lang, "collections.confirm_needs_approval",
                             threshold=money(facts.threshold, currency, lang)))  # fmt: skip
    else:
        lines.append(texts.t(lang, "collections.confirm_applies_now"))
    return "\n".join(lines)


def way_on(texts: Catalogs, lang: str, owner_id: int, customer_id: int) -> Keyboard:
    """After a payment or a decision on a document: back to the customer's documents (what is
    left of them) or to the list of customers."""
    if not owner_id or not customer_id:
        return []
    return [[
        Button(texts.t(lang, "collections.btn_customer_documents"),
               data=BROWSE_ON.pack(Browse(owner_id, customer_id))),
        Button(texts.t(lang, "collections.btn_back_customers"),
               data=BROWSE_ON.pack(Browse(owner_id, 0))),
    ]]  # fmt: skip


def settled_text(texts: Catalogs, lang: str, settled: Settled) -> str:
    """The manager's reply: applied (and what is left), or sent for approval (to whom)."""
    amount = money(settled.amount, settled.currency, lang)
    if settled.applied:
        key = "collections.adjustment_closed" if settled.balance == 0 else (
            "collections.adjustment_applied")  # fmt: skip
        return text(texts, lang, key, kind=adjustment_name(texts, lang, settled.kind),
                    number=settled.number, customer=settled.customer, amount=amount,
                    balance=money(settled.balance, settled.currency, lang))  # fmt: skip
    return text(
        texts, lang, "collections.adjustment_sent",
        kind=adjustment_name(texts, lang, settled.kind), number=settled.number, amount=amount,
        names=", ".join(settled.approvers), id=settled.request_id or 0,
    )  # fmt: skip


def payment_offer(
    texts: Catalogs, lang: str, customer: str, docs: list[Document], owner_id: int
) -> tuple[str, Keyboard]:
    """Under a saved collection visit: what the customer still owes, and a button to its
    documents, where each opens its card with "collected in full" and "partial payment"."""
    line = text(texts, lang, "collections.visit_owes", customer=customer,
                total=totals_of(docs, lang), count=len(docs))  # fmt: skip
    label = texts.t(lang, "collections.btn_record_payment")
    customer_id = docs[0].receivable.customer_id
    return line, [[Button(label, data=BROWSE.pack(Browse(owner_id, customer_id)))]]
