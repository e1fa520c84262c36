"""What the requester and the approver read in their own chat: the lists (/myrequests,
/pending), a request opened with its audit trail, the replies after a decision, a withdrawal
or an answer, and the request form's summary. The card itself is views/approval_cards.py.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from core.i18n import Catalogs, format_percent, join_list
from models.approval import ApprovalRequest, RequestStatus
from services.approval_cards import CardData
from services.approval_types import FieldKind, RequestType, get_type
from services.approvals import Action, Preview, Result
from services.money import from_minor, percent_off
from views.approval_cards import (
    ANSWER,
    DECIDED_LIST,
    PENDING_OPEN,
    RECEIPTS,
    REQUEST_ICONS,
    RESUBMIT,
    VIEW,
    WITHDRAW,
    WITHDRAW_CONFIRM,
    NoArgs,
    button,
    card_text,
    cc_line,
    discount_line,
    field_value,
    labelled,
    money_text,
    receipts_text,
    short_title,
    submitted_buttons,
)
from views.buttons import Button, Keyboard
from views.collections import invoice_share

# /pending lists this many requests, and sends the cards of the oldest few.
PENDING_LINES = 20
LIST_ROW = 5


@dataclass(frozen=True)
class Listed:
    """A request in a list: the day it was made and today, in its team's timezone, its
    customer's name and, in lists of other people's requests, its requester's."""

    request: ApprovalRequest
    day: date
    today: date
    customer: str | None = None
    requester: str | None = None


def age_text(texts: Catalogs, lang: str, item: Listed) -> str:
    days = (item.today - item.day).days
    if days <= 0:
        return texts.t(lang, "approvals.age_today")
    if days == 1:
        return texts.t(lang, "approvals.age_one_day")
    return texts.t(lang, "approvals.age_days", count=days)


def list_line(texts: Catalogs, lang: str, item: Listed) -> str:
    """One line of a list: state icon, number, type, requester, customer, amount or discount,
    age, state and level."""
    request = item.request
    kind = get_type(request.type)
    parts = [f"#{request.label} {kind.icon} {texts.t(lang, kind.name_key)}"]
    if item.requester:
        parts.append(html.escape(item.requester))
    if item.customer:
        parts.append(html.escape(item.customer))
    if request.discount_bp is not None:
        percent = format_percent(Decimal(request.discount_bp) / 100)
        parts.append(texts.t(lang, "approvals.list_discount", percent=percent))
    elif request.amount_minor is not None:
        parts.append(money_text(from_minor(request.amount_minor), request.currency, lang))
    parts.append(age_text(texts, lang, item))
    state = texts.t(lang, f"approvals.state_{request.status}")
    if request.status == RequestStatus.PENDING:
        state += " · " + texts.t(lang, f"approvals.level_{request.chain[request.step_no]}")
    icon = REQUEST_ICONS[RequestStatus(request.status)]
    # Chinese text takes no spaced dash (locales/GLOSSARY.md): the state is one more " · " part.
    separator = " · " if lang == "zh" else " — "
    return f"{icon} {' · '.join(parts)}{separator}{state}"


def my_requests(
    texts: Catalogs, lang: str, listed: Sequence[Listed], *, copied: bool = False
) -> tuple[str, Keyboard]:
    """The requester's latest requests (or those copied to the reader); a button opens each."""
    if not listed:
        return texts.t(lang, "approvals.cc_none" if copied else "approvals.my_none"), []
    title = texts.t(lang, "approvals.cc_title" if copied else "approvals.my_title")
    lines = [title] + [list_line(texts, lang, i) for i in listed]
    buttons = [labelled(f"#{i.request.label}", VIEW, i.request.id or 0) for i in listed]
    return "\n".join(lines), [buttons[i : i + LIST_ROW] for i in range(0, len(buttons), LIST_ROW)]


def pending(texts: Catalogs, lang: str, listed: Sequence[Listed]) -> tuple[str, Keyboard]:
    """What waits for the approver, oldest first, one line each; a button per request opens
    its card with the decision buttons."""
    decided = [Button(texts.t(lang, "approvals.decided_button"), data=DECIDED_LIST.pack(NoArgs()))]
    if not listed:
        return texts.t(lang, "approvals.pending_none"), [decided]
    shown = listed[:PENDING_LINES]
    lines = [texts.t(lang, "approvals.pending_title", count=len(listed))]
    lines += [list_line(texts, lang, i) for i in shown]
    if len(listed) > PENDING_LINES:
        lines.append(texts.t(lang, "approvals.pending_more", shown=PENDING_LINES))
    lines.append(texts.t(lang, "approvals.pending_hint"))
    buttons = [labelled(f"#{i.request.label}", PENDING_OPEN, i.request.id or 0) for i in shown]
    rows = [buttons[i : i + LIST_ROW] for i in range(0, len(buttons), LIST_ROW)]
    return "\n".join(lines), [*rows, decided]


def decided_list(texts: Catalogs, lang: str, listed: Sequence[Listed]) -> tuple[str, Keyboard]:
    """What the approver decided (已处理), most recent first; a button opens each read-only."""
    if not listed:
        return texts.t(lang, "approvals.decided_none"), []
    lines = [texts.t(lang, "approvals.decided_title")]
    lines += [list_line(texts, lang, i) for i in listed]
    buttons = [labelled(f"#{i.request.label}", VIEW, i.request.id or 0) for i in listed]
    return "\n".join(lines), [buttons[i : i + LIST_ROW] for i in range(0, len(buttons), LIST_ROW)]


def decided(texts: Catalogs, lang: str, result: Result, action: Action) -> str:
    """The approver's reply after a decision: final, or on to the next level (and to whom)."""
    request = result.request
    name = html.escape(result.data.requester.display_name)
    names = html.escape(join_list(lang, result.approvers))
    if action is Action.APPROVE and request.status == RequestStatus.PENDING:
        key = f"approvals.done_next_{request.chain[request.step_no]}"
    else:
        key = f"approvals.done_{action}"
    return texts.t(lang, key, id=request.label, name=name, names=names)


def transferred(texts: Catalogs, lang: str, result: Result) -> str:
    """The former approver's reply after a transfer."""
    names = html.escape(join_list(lang, result.approvers))
    name = html.escape(result.data.requester.display_name)
    return texts.t(lang, "approvals.done_transfer", id=result.request.label, names=names,
                   name=name)  # fmt: skip


def reason_prompt(texts: Catalogs, lang: str, action: Action, title: str) -> str:
    keys = {Action.REJECT: "approvals.ask_reject_reason", Action.INFO: "approvals.ask_question",
            Action.APPROVE: "approvals.ask_approve_comment"}  # fmt: skip
    return texts.t(lang, keys[action], request=title)


def title(texts: Catalogs, lang: str, data: CardData) -> str:
    return short_title(texts, lang, data)


def _requester_rows(texts: Catalogs, lang: str, data: CardData, viewer_id: int) -> Keyboard:
    request = data.request
    if request.requester_id != viewer_id:
        return []
    # A request made elsewhere (a credit note) is decided again there, never edited here.
    editable = data.kind.requestable
    if request.status == RequestStatus.REJECTED:
        return [[button(texts, lang, "approvals.resubmit", RESUBMIT, data.id)]] if editable else []
    if not RequestStatus(request.status).open:
        return []
    rows: Keyboard = []
    if request.status == RequestStatus.INFO:
        rows.append([button(texts, lang, "approvals.answer", ANSWER, data.id)])
        if editable:
            rows.append([button(texts, lang, "approvals.resubmit", RESUBMIT, data.id)])
    rows.append([button(texts, lang, "approvals.withdraw", WITHDRAW, data.id)])
    return rows


def may_withdraw(data: CardData, viewer_id: int) -> bool:
    request = data.request
    return request.requester_id == viewer_id and RequestStatus(request.status).open


def opened(texts: Catalogs, lang: str, data: CardData, viewer_id: int) -> tuple[str, Keyboard]:
    """A request opened from a list or a notice: the card with its audit trail; its requester
    may answer or withdraw while it is open; anyone may see the receipts again."""
    rows = _requester_rows(texts, lang, data, viewer_id)
    if data.attachments:
        label = texts.t(lang, "approvals.show_receipts", count=len(data.attachments))
        rows.append([labelled(label, RECEIPTS, data.id)])
    return card_text(texts, lang, data, trail=True), rows


def withdraw_confirm(texts: Catalogs, lang: str, data: CardData) -> tuple[str, Keyboard]:
    yes = button(texts, lang, "approvals.withdraw_yes", WITHDRAW_CONFIRM, data.id)
    no = button(texts, lang, "approvals.withdraw_no", VIEW, data.id)
    text = texts.t(lang, "approvals.withdraw_confirm", request=short_title(texts, lang, data))
    return text, [[yes, no]]


def answer_sent(texts: Catalogs, lang: str, result: Result) -> str:
    names = html.escape(join_list(lang, result.approvers))
    return texts.t(lang, "approvals.answer_sent", id=result.request.label, names=names)


def which_question(
    texts: Catalogs, lang: str, waiting: Sequence[ApprovalRequest], titles: Sequence[str]
) -> tuple[str, Keyboard]:
    """Several questions wait for the requester: which one a typed text answers is theirs to
    say, by replying to the question or tapping its button."""
    lines = [texts.t(lang, "approvals.which_question", count=len(waiting))]
    lines += [f"• {title}" for title in titles]
    label = texts.t(lang, "approvals.answer")
    rows = [[labelled(f"{label} #{r.label}", ANSWER, r.id or 0)] for r in waiting]
    return "\n".join(lines), rows


def submitted(texts: Catalogs, lang: str, result: Result) -> tuple[str, Keyboard]:
    """After Submit: who decides first; the requester may open or withdraw it."""
    request = result.request
    names = html.escape(join_list(lang, result.approvers))
    text = texts.t(lang, f"approvals.submitted_{request.chain[0]}", id=request.label, names=names)
    if result.copied:
        text += "\n" + cc_line(texts, lang, result.copied)
    return text, submitted_buttons(texts, lang, result.data)


def draft_summary(
    texts: Catalogs,
    lang: str,
    kind: RequestType,
    values: dict[str, Any],
    *,
    files: int,
    customer_name: str,
    currency: str,
) -> list[str]:
    """The draft as the card will show it."""
    t = texts.t
    lines = [t(lang, "approvals.summary_title", icon=kind.icon, type=t(lang, kind.name_key)), ""]
    for spec in kind.fields:
        if spec.kind is FieldKind.FILES:
            shown = receipts_text(texts, lang, files) if files else None
        elif spec.kind is FieldKind.CUSTOMER:
            shown = html.escape(customer_name) if values.get(spec.name) else None
        else:
            shown = field_value(texts, lang, spec.kind, spec.name, values.get(spec.name),
                                currency)  # fmt: skip
        if shown is not None:
            lines.append(
                t(lang, "approvals.card_field", label=t(lang, spec.label_key), value=shown)
            )
    if kind.discount is not None and values.get("list_price") and values.get("requested_price"):
        list_price, price = Decimal(values["list_price"]), Decimal(values["requested_price"])
        lines.append(
            discount_line(
                texts, lang, percent_off(list_price, price), list_price - price, currency
            )
        )
    return lines


def ask_cc(
    texts: Catalogs, lang: str, people: Sequence[tuple[int, str]], chosen: Sequence[int]
) -> tuple[str, list[list[tuple[str, str]]]]:
    """Whom to copy (抄送): one button per person of the team, ticked when chosen; Done."""
    rows = [[(("✅ " if uid in chosen else "") + name, f"u:{uid}")] for uid, name in people]
    rows.append([(texts.t(lang, "approvals.cc_done"), "done")])
    return texts.t(lang, "approvals.ask_cc"), rows


def resubmit_heading(texts: Catalogs, lang: str, label: str, status: str, reason: str) -> str:
    """Above the summary of an edited request: which one it replaces and why it came back."""
    key = "approvals.resubmit_rejected" if status == "rejected" else "approvals.resubmit_info"
    return texts.t(lang, key, id=label, reason=html.escape(reason))


def summary(
    texts: Catalogs, lang: str, lines: list[str], route: Preview, cc: Sequence[str] = ()
) -> str:
    """The draft and who will decide it (and who is copied), above Submit and Edit."""
    levels = " → ".join(texts.t(lang, f"approvals.level_{level}") for level in route.chain)
    lines = [*lines, "", texts.t(lang, "approvals.summary_route", route=levels)]
    if route.first_approvers:
        names = html.escape(join_list(lang, route.first_approvers))
        lines.append(texts.t(lang, "approvals.summary_first", names=names))
    if cc:
        lines.append(cc_line(texts, lang, cc))
    if route.invoice is not None:
        lines.append(invoice_share(texts, lang, route.invoice))
    return "\n".join(lines)
