"""The approval card in the reader's language, the notices about a request, and the codecs of
every approval button.

User data (names, customers, reasons, field values) is escaped here, once, where it enters a
text. A card stays under ``MAX_CARD`` by dropping its oldest history lines.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.i18n import Catalogs, bracketed, format_money, format_percent, join_list
from core.periods import format_clock, format_day, format_short_day
from models.approval import RequestStatus, StepStatus
from services.approval_cards import CardCopy, CardData, Receipt, RequestNotice, SubmittedCopy
from services.approval_types import FieldKind
from services.money import from_minor
from views.buttons import Button, Keyboard
from views.callbacks import Callback
from views.collections import invoice_share
from views.registry import view


@dataclass(frozen=True)
class Decision:
    """Approve ("a"), approve with a comment ("c"), reject ("r") or ask for information ("i")
    at step ``step``."""

    request: int
    action: str
    step: int


@dataclass(frozen=True)
class RequestRef:
    request: int


@dataclass(frozen=True)
class NoArgs:
    """A button that names only its action."""


APPROVE, REJECT, INFO, APPROVE_COMMENT = "a", "r", "i", "c"
DECIDE = Callback("ap", Decision)
VIEW = Callback("apv", RequestRef)
RECEIPTS = Callback("app", RequestRef)
WITHDRAW = Callback("apw", RequestRef)
WITHDRAW_CONFIRM = Callback("apwy", RequestRef)
ANSWER = Callback("apy", RequestRef)
RESUBMIT = Callback("ape", RequestRef)
# 转交: hand the step to another approver of its level.
TRANSFER = Callback("apt", Decision)
# From /pending: send the approver a fresh copy of the card, with its decision buttons.
PENDING_OPEN = Callback("apo", RequestRef)

# From /pending: the requests the approver decided already (已处理).
DECIDED_LIST = Callback("apd", NoArgs)

HISTORY_LINES = 8
# Room left under Telegram's 4,096 characters for the status and buttons.
MAX_CARD = 3800
STATUS_ICONS = {
    StepStatus.APPROVED: "✅", StepStatus.REJECTED: "❌", StepStatus.ESCALATED: "⏫",
    StepStatus.WITHDRAWN: "↩️", StepStatus.PENDING: "⏳",
}  # fmt: skip
REQUEST_ICONS = {
    RequestStatus.PENDING: "⏳", RequestStatus.INFO: "❓", RequestStatus.APPROVED: "✅",
    RequestStatus.REJECTED: "❌", RequestStatus.WITHDRAWN: "↩️",
}  # fmt: skip
HEADERS = {
    "reminder": "approvals.header_reminder",
    "escalated": "approvals.header_escalated",
    "answer": "approvals.header_answer",
    "delegated": "approvals.header_delegated",
    "transferred": "approvals.header_transferred",
    "cc": "approvals.header_cc",
}
NOTICES = {
    "info": "approvals.notice_info",
    "rejected": "approvals.notice_rejected",
    "approved": "approvals.notice_approved",
    "next_manager": "approvals.notice_next_manager",
    "next_director": "approvals.notice_next_director",
    "escalated_requester": "approvals.notice_escalated_requester",
    "escalated_approver": "approvals.notice_escalated_approver",
    "transferred": "approvals.notice_transferred",
    "cc_approved": "approvals.notice_cc_approved",
    "cc_rejected": "approvals.notice_cc_rejected",
}


def labelled(label: str, codec: Callback[RequestRef], request_id: int) -> Button:
    return Button(label, data=codec.pack(RequestRef(request_id)))


def button(texts: Catalogs, lang: str, key: str, codec: Callback[RequestRef], rid: int) -> Button:
    return labelled(texts.t(lang, key), codec, rid)


def money_text(amount: Decimal, currency: str, lang: str) -> str:
    return format_money(amount, currency, lang)


def moment_text(moment: datetime, data: CardData, lang: str) -> str:
    local = data.team.local(moment)
    return f"{format_short_day(local.date(), lang)} {format_clock(moment, data.team.timezone)}"


def value_text(texts: Catalogs, lang: str, data: CardData, name: str) -> str | None:
    spec = data.kind.field(name)
    if spec.kind is FieldKind.FILES:
        return receipts_text(texts, lang, len(data.attachments)) if data.attachments else None
    if spec.kind is FieldKind.CUSTOMER:
        if data.customer is None:
            return None
        return html.escape(data.customer.name)
    return field_value(texts, lang, spec.kind, name, data.request.details.get(name),
                       data.request.currency)  # fmt: skip


def field_value(
    texts: Catalogs, lang: str, kind: FieldKind, name: str, value: Any, currency: str
) -> str | None:
    """A typed value as the card and the form's summary show it (None when empty)."""
    if value in (None, ""):
        return None
    if kind is FieldKind.MONEY:
        return f"<b>{money_text(Decimal(str(value)), currency, lang)}</b>"
    if kind is FieldKind.CHOICE:
        return texts.t(lang, f"approvals.choice_{name}_{value}")
    if kind in (FieldKind.PAST_DATE, FieldKind.FUTURE_DATE):
        return format_day(date.fromisoformat(str(value)), lang)
    return html.escape(str(value))


def status_text(texts: Catalogs, lang: str, data: CardData) -> str:
    request = data.request
    status = RequestStatus(request.status)
    icon = REQUEST_ICONS[status]
    if status == RequestStatus.PENDING:
        level = texts.t(lang, f"approvals.level_{request.chain[request.step_no]}")
        step = data.step(request.step_no)
        if step is not None and step.assignee_id is not None:
            return f"{icon} " + texts.t(
                lang, "approvals.status_pending_person", level=level, step=request.step_no + 1,
                steps=len(request.chain), name=html.escape(data.name(step.assignee_id)),
            )  # fmt: skip
        if len(request.chain) == 1:
            return f"{icon} " + texts.t(lang, "approvals.status_pending_single", level=level)
        return f"{icon} " + texts.t(
            lang, "approvals.status_pending", level=level, step=request.step_no + 1,
            steps=len(request.chain),
        )  # fmt: skip
    if status == RequestStatus.INFO:
        return f"{icon} " + texts.t(lang, "approvals.status_info")
    when = moment_text(request.decided_at or request.updated_at, data, lang)
    name = html.escape(data.name(request.decided_by_id))
    return f"{icon} " + texts.t(lang, f"approvals.status_{status}", name=name, at=when)


def route_text(texts: Catalogs, lang: str, data: CardData) -> str:
    parts = []
    for number, level in enumerate(data.request.chain):
        step = data.step(number)
        label = texts.t(lang, f"approvals.level_{level}")
        if step is None:
            parts.append(f"{number + 1}. {label} ▫️")
            continue
        icon = STATUS_ICONS[StepStatus(step.status)]
        who = f" {html.escape(data.name(step.decided_by_id))}" if step.decided_by_id else ""
        parts.append(f"{number + 1}. {label} {icon}{who}")
    return texts.t(lang, "approvals.route", route=" → ".join(parts))


def history_lines(texts: Catalogs, lang: str, data: CardData, *, trail: bool) -> list[str]:
    """One line per audited change; ``trail`` adds the states it went from and to."""
    lines = []
    for entry in data.history:
        who = (
            html.escape(data.name(entry.actor_id))
            if entry.actor_id
            else texts.t(lang, "approvals.by_system")
        )
        linked = (entry.after or {}).get("resubmitted_as") or (entry.after or {}).get("previous")
        label = data.labels.get(int(linked), str(linked)) if linked else ""
        to = html.escape(data.name((entry.after or {}).get("to")))
        action = texts.t(
            lang, "approvals.history_" + entry.action.removeprefix("approval."), id=label, to=to
        )
        changes = (
            (entry.after or {}).get("changes") if entry.action.endswith("submission") else None
        )
        if changes:
            action += texts.t(
                lang, "approvals.changes", changes=changes_text(texts, lang, data, changes)
            )
        line = texts.t(
            lang, "approvals.history_line", at=moment_text(entry.at, data, lang), who=who,
            action=action,
        )  # fmt: skip
        if trail and (entry.before or entry.after):
            change = f"{_state_label(texts, lang, entry.before)} → "
            line += bracketed(lang, change + _state_label(texts, lang, entry.after))
        if entry.reason:
            reason = reason_text(texts, lang, entry.action, entry.reason)
            line += ("——" if lang == "zh" else " — ") + f"<i>{reason}</i>"
        lines.append(line)
    return lines


def changes_text(texts: Catalogs, lang: str, data: CardData, changes: list[list[Any]]) -> str:
    """ "Amount CN¥800.00 → CN¥450.00; Receipts 📎 1 → 📎 2": what a resubmission changed."""
    parts = []
    for name, old, new in changes:
        spec = data.kind.field(str(name))
        shown = [changed_value(texts, lang, data, spec.kind, spec.name, v) for v in (old, new)]
        parts.append(f"{texts.t(lang, spec.label_key)} {shown[0]} → {shown[1]}")
    return ("；" if lang == "zh" else "; ").join(parts)


def changed_value(
    texts: Catalogs, lang: str, data: CardData, kind: FieldKind, name: str, value: Any
) -> str:
    if value in (None, ""):
        return "—"
    if kind is FieldKind.FILES:
        return receipts_text(texts, lang, int(value))
    if kind is FieldKind.CUSTOMER:
        return html.escape(str(value))
    if kind is FieldKind.MONEY:
        return money_text(Decimal(str(value)), data.request.currency, lang)
    return field_value(texts, lang, kind, name, value, data.request.currency) or "—"


def hour_count(hours: str) -> float:
    """Headers and notices carry their hours as text ("4", "0.5"); the plural needs the number
    (0 when a text has none: no singular then)."""
    try:
        return float(hours)
    except ValueError:
        return 0


def receipts_text(texts: Catalogs, lang: str, count: int) -> str:
    return texts.t(lang, "approvals.receipts_count", count=count)


# The sweep records why it escalated in the audit log's own (English) words; the reader gets them
# in their language.
_NO_DECISION = re.compile(r"no decision in (\d+(?:\.\d+)?) working hours")


def reason_text(texts: Catalogs, lang: str, action: str, reason: str) -> str:
    """An audited reason as the reader sees it: a person's words as typed (escaped), the
    system's own reasons in the reader's language."""
    found = _NO_DECISION.fullmatch(reason)
    if action == "approval.escalated" and found:
        return texts.tn(lang, "approvals.history_no_decision", float(found[1]), hours=found[1])
    return html.escape(reason)


def _state_label(texts: Catalogs, lang: str, state: dict[str, Any] | None) -> str:
    if not state:
        return "—"
    label = texts.t(lang, f"approvals.state_{state.get('status', 'pending')}")
    if state.get("status") in ("pending", "info") and state.get("level"):
        label += " · " + texts.t(lang, f"approvals.level_{state['level']}")
    return label


def context_lines(texts: Catalogs, lang: str, data: CardData) -> list[str]:
    """What helps decide: this month's approved total, the customer's earlier discounts."""
    lines = []
    type_name = texts.t(lang, data.kind.name_key)
    total, count = data.month_total
    requester = html.escape(data.requester.display_name)
    if count == 0:
        lines.append(texts.t(lang, "approvals.month_none", name=requester, type=type_name))
    elif data.request.amount_minor is None:
        lines.append(
            texts.t(lang, "approvals.month_count", name=requester, type=type_name, count=count)
        )
    else:
        lines.append(
            texts.t(
                lang, "approvals.month_total", name=requester, type=type_name, count=count,
                total=money_text(from_minor(total), data.request.currency, lang),
            )
        )  # fmt: skip
    if data.discounts is not None and data.customer is not None:
        customer = html.escape(data.customer.name)
        if data.discounts.count == 0:
            lines.append(texts.t(lang, "approvals.discounts_none", customer=customer))
        else:
            latest = join_list(
                lang,
                (
                    f"{format_percent(pct)}%"
                    + bracketed(lang, f"#{rid}, {format_short_day(data.team.local(at), lang)}")
                    for rid, pct, at in data.discounts.latest
                ),
            )
            lines.append(
                texts.tn(
                    lang, "approvals.discounts_before", data.discounts.count, customer=customer,
                    count=data.discounts.count,
                    average=format_percent(data.discounts.average or 0),
                    latest=latest,
                )
            )  # fmt: skip
    if data.open_balance is not None:
        lines.append(
            texts.t(
                lang, "approvals.open_balance",
                amount=money_text(data.open_balance, data.request.currency, lang),
            )
        )  # fmt: skip
    if data.invoice is not None:
        lines.append(invoice_share(texts, lang, data.invoice))
    elif data.unknown_contract:
        lines.append(
            texts.t(lang, "approvals.contract_unknown",
                    number=html.escape(data.unknown_contract))
        )  # fmt: skip
    return lines


def discount_line(
    texts: Catalogs, lang: str, percent: Decimal, off: Decimal | None, currency: str
) -> str:
    amount = money_text(off, currency, lang) if off is not None else "—"
    return texts.t(lang, "approvals.discount_line", percent=format_percent(percent), amount=amount)


def card_text(
    texts: Catalogs, lang: str, data: CardData, *, header: str | None = None, trail: bool = False
) -> str:
    """The card in ``lang``: title, requester, every field, what helps decide, route, history."""
    request = data.request
    t = texts.t
    title = t(lang, "approvals.card_title", icon=data.kind.icon,
              type=t(lang, data.kind.name_key), id=request.label)  # fmt: skip
    lines = [header] if header else []
    lines.append(title)
    lines.append(
        t(
            lang, "approvals.card_requester", name=html.escape(data.requester.display_name),
            team=html.escape(data.team.name), at=moment_text(request.created_at, data, lang),
        )
    )  # fmt: skip
    lines.append(status_text(texts, lang, data))
    lines.append("")
    for spec in data.kind.fields:
        shown = value_text(texts, lang, data, spec.name)
        if shown is not None:
            lines.append(
                t(lang, "approvals.card_field", label=t(lang, spec.label_key), value=shown)
            )
    if request.discount_bp is not None:
        off = from_minor(request.amount_minor) if request.amount_minor is not None else None
        percent = Decimal(request.discount_bp) / 100
        lines.append(discount_line(texts, lang, percent, off, request.currency))
    lines.append("")
    lines.extend(context_lines(texts, lang, data))
    if len(request.chain) > 1:
        # One level: the status line already says who decides, and how it ended.
        lines.append(route_text(texts, lang, data))
    if data.cc:
        lines.append(cc_line(texts, lang, data.cc))
    history = history_lines(texts, lang, data, trail=trail)
    keep = len(history) if trail else HISTORY_LINES
    while True:
        card = list(lines)
        if history and keep:
            card.append(t(lang, "approvals.trail_title" if trail else "approvals.history_title"))
            if len(history) > keep:
                card.append("…")
            card.extend(history[-keep:])
        text = "\n".join(card)
        # Fields are bounded (500 characters at most), so dropping older history is enough
        # to stay under Telegram's limit; HTML is never cut in the middle.
        if len(text) <= MAX_CARD or keep == 0:
            return text
        keep -= 1


def cc_line(texts: Catalogs, lang: str, names: Sequence[str]) -> str:
    return texts.t(lang, "approvals.cc_line", names=html.escape(join_list(lang, names)))


def decision_buttons(texts: Catalogs, lang: str, data: CardData) -> Keyboard:
    step = data.request.step_no

    def decide(key: str, action: str) -> Button:
        return Button(texts.t(lang, key), data=DECIDE.pack(Decision(data.id, action, step)))

    rows = [
        [decide("approvals.approve", APPROVE), decide("approvals.reject", REJECT)],
        [decide("approvals.ask_info", INFO)],
    ]
    if data.attachments:
        label = texts.t(lang, "approvals.show_receipts", count=len(data.attachments))
        rows[1].append(labelled(label, RECEIPTS, data.id))
    last = [decide("approvals.approve_comment", APPROVE_COMMENT)]
    if data.transfer_pool > 1:
        last.append(Button(texts.t(lang, "approvals.transfer"),
                           data=TRANSFER.pack(Decision(data.id, "t", step))))  # fmt: skip
    rows.append(last)
    return rows


def view_buttons(texts: Catalogs, lang: str, data: CardData) -> Keyboard:
    """On a copy whose owner cannot decide (any more): open the request and its audit trail."""
    return [[button(texts, lang, "approvals.view", VIEW, data.id)]]


def short_title(texts: Catalogs, lang: str, data: CardData) -> str:
    """ "🧾 Expense #12 · ¥1,500.00 · 华丰" for notices and lists."""
    parts = [f"{data.kind.icon} {texts.t(lang, data.kind.name_key)} #{data.request.label}"]
    if data.request.discount_bp is not None:
        # A discount is read as its percent; the price difference is on the card.
        percent = format_percent(Decimal(data.request.discount_bp) / 100)
        parts.append(texts.t(lang, "approvals.list_discount", percent=percent))
    elif data.request.amount_minor is not None:
        amount = from_minor(data.request.amount_minor)
        parts.append(money_text(amount, data.request.currency, lang))
    if data.customer is not None:
        parts.append(html.escape(data.customer.name))
    return " · ".join(parts)


# -- the views services name ----------------------------------------------------------------


@view("approvals.card")
def card_copy(texts: Catalogs, lang: str, copy: CardCopy) -> tuple[str, Keyboard | None]:
    header = None
    if copy.header is not None:
        params = {k: html.escape(v) for k, v in copy.header.params.items()}
        hours = hour_count(copy.header.params.get("hours", ""))
        header = texts.tn(lang, HEADERS[copy.header.kind], hours, **params)
        if params.get("reason"):
            header += "\n" + texts.t(lang, "approvals.header_reason", reason=params["reason"])
    buttons = decision_buttons if copy.decide else view_buttons
    return card_text(texts, lang, copy.card, header=header), buttons(texts, lang, copy.card)


def submitted_buttons(texts: Catalogs, lang: str, data: CardData) -> Keyboard:
    """On the requester's confirmation of a submit: open the request; withdraw it while open."""
    rows = [button(texts, lang, "approvals.view", VIEW, data.id)]
    if RequestStatus(data.request.status).open:
        rows.append(button(texts, lang, "approvals.withdraw", WITHDRAW, data.id))
    return [rows]


@view("approvals.submitted")
def submitted_copy(texts: Catalogs, lang: str, copy: SubmittedCopy) -> tuple[str, Keyboard | None]:
    return copy.text, submitted_buttons(texts, lang, copy.card)


@view("approvals.receipt")
def receipt_caption(texts: Catalogs, lang: str, receipt: Receipt) -> tuple[str, Keyboard | None]:
    data = receipt.card
    text = texts.t(
        lang, "approvals.receipt_caption", id=data.request.label,
        type=texts.t(lang, data.kind.name_key), number=receipt.number, total=receipt.total,
    )  # fmt: skip
    return text, None


@view("approvals.hidden")
def hidden_copy(texts: Catalogs, lang: str, _: None) -> tuple[str, Keyboard | None]:
    return texts.t(lang, "approvals.card_hidden"), None


@view("approvals.notice")
def request_notice(
    texts: Catalogs, lang: str, notice: RequestNotice
) -> tuple[str, Keyboard | None]:
    """``{request}`` in the text is the request's short title."""
    data = notice.card
    text = texts.tn(
        lang, NOTICES[notice.event], hour_count(notice.hours),
        request=short_title(texts, lang, data),
        name=html.escape(notice.name), question=html.escape(notice.text),
        to=html.escape(notice.to), reason=html.escape(notice.text), step=notice.step,
        steps=notice.steps,
        hours=notice.hours,
    )  # fmt: skip
    commented = notice.event in ("approved", "cc_approved") or notice.event.startswith("next_")
    if notice.text and commented:
        text += "\n" + texts.t(lang, "approvals.notice_comment", comment=html.escape(notice.text))
    if notice.text and notice.event == "transferred":
        text += "\n" + texts.t(lang, "approvals.header_reason", reason=html.escape(notice.text))
    buttons: Keyboard | None = None
    # A request made elsewhere (a credit note) is decided again there, never edited here.
    resubmit = [[button(texts, lang, "approvals.resubmit", RESUBMIT, data.id)]]
    if not data.kind.requestable:
        resubmit = []
    if notice.event == "info":
        buttons = [
            [button(texts, lang, "approvals.answer", ANSWER, data.id)],
            *resubmit,
            [button(texts, lang, "approvals.withdraw", WITHDRAW, data.id)],
        ]
    elif notice.event == "rejected":
        buttons = [*resubmit, *view_buttons(texts, lang, data)]
    elif not notice.event.startswith("escalated"):
        buttons = view_buttons(texts, lang, data)
    return text, buttons
