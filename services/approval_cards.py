"""The approval card: everything about a request an approver needs, rendered in the reader's
language, and its copies in approvers' chats, sent and edited through the outbox.

Every copy of a card (the manager's, the delegate's, each director's, reminders, /pending) is
recorded, so that every change of the request edits all of them to show the new state and who
made it; the decision buttons stay only on the copies of people who may still decide.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.i18n import Catalogs, format_money
from core.periods import format_clock, format_day, format_short_day, month_period
from core.settings import Settings, TeamSettings
from models.approval import (
    ApprovalAttachment,
    ApprovalCard,
    ApprovalRequest,
    ApprovalStep,
    RequestStatus,
    StepStatus,
)
from models.audit import AuditEntry
from models.customer import Customer
from models.team import Team
from models.user import User
from services import approval_access, outbox
from services.approval_types import FieldKind, RequestType, get_type
from services.invoice_rule import InvoiceCheck, check_invoice_request, customer_open_balance
from services.money import from_minor
from services.outbox import Attachment, OutboxButtons

CALLBACK = "ap"
# The request type whose card shows the collected share of its contract.
INVOICE = "invoice"
APPROVE, REJECT, INFO = "a", "r", "i"
DECISIONS = (APPROVE, REJECT, INFO)
RECEIPTS, VIEW, WITHDRAW, WITHDRAW_CONFIRM, ANSWER = "p", "v", "w", "wy", "y"
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


def callback(request_id: int, action: str, step_no: int | None = None) -> str:
    data = f"{CALLBACK}|{request_id}|{action}"
    return data if step_no is None else f"{data}|{step_no}"


@dataclass(frozen=True)
class Env:
    """What approval actions need besides the session: settings, texts and the time."""

    settings: Settings
    texts: Catalogs
    now: datetime

    def team(self, team: Team) -> TeamSettings:
        return self.settings.team(team.key)


@dataclass(frozen=True)
class PreviousDiscounts:
    count: int
    average: Decimal | None
    latest: list[tuple[int, Decimal, datetime]]


@dataclass
class CardData:
    """A request with everything its card shows, loaded once per change."""

    request: ApprovalRequest
    kind: RequestType
    team: Team
    rules: TeamSettings
    requester: User
    customer: Customer | None
    steps: list[ApprovalStep]
    attachments: list[ApprovalAttachment]
    history: list[AuditEntry]
    names: dict[int, str]
    month_total: tuple[int, int]
    discounts: PreviousDiscounts | None
    open_balance: Decimal | None
    invoice: InvoiceCheck | None = None
    # An invoice request names a contract that is not among the customer's receivables.
    unknown_contract: str | None = None
    approver_ids: set[int] = field(default_factory=set)

    @property
    def id(self) -> int:
        assert self.request.id is not None
        return self.request.id

    def name(self, user_id: int | None) -> str:
        return self.names.get(user_id or 0, "—")

    def step(self, step_no: int) -> ApprovalStep | None:
        return next((s for s in self.steps if s.step_no == step_no), None)


async def approved_this_month(
    session: AsyncSession, request: ApprovalRequest, rules: TeamSettings, now: datetime
) -> tuple[int, int]:
    """(total in minor units, count) of the requester's approved requests of this type this
    calendar month (team timezone)."""
    month = month_period(now.astimezone(rules.tz).date(), rules.timezone)
    query = select(func.coalesce(func.sum(ApprovalRequest.amount_minor), 0), func.count()).where(
        col(ApprovalRequest.requester_id) == request.requester_id,
        col(ApprovalRequest.type) == request.type,
        col(ApprovalRequest.status) == RequestStatus.APPROVED,
        col(ApprovalRequest.currency) == request.currency,
        col(ApprovalRequest.decided_at) >= month.start,
        col(ApprovalRequest.decided_at) < month.end,
    )
    total, count = (await session.exec(query)).one()
    return int(total or 0), int(count or 0)


async def previous_discounts(
    session: AsyncSession, request: ApprovalRequest
) -> PreviousDiscounts | None:
    """The customer's earlier approved discounts: how many, on average, and the latest three."""
    if request.customer_id is None:
        return None
    where = (
        col(ApprovalRequest.customer_id) == request.customer_id,
        col(ApprovalRequest.type) == request.type,
        col(ApprovalRequest.status) == RequestStatus.APPROVED,
        col(ApprovalRequest.id) != request.id,
    )
    count, average = (
        await session.exec(
            select(func.count(), func.avg(ApprovalRequest.discount_bp)).where(*where)
        )
    ).one()
    rows = await session.exec(
        select(ApprovalRequest.id, ApprovalRequest.discount_bp, ApprovalRequest.decided_at)
        .where(*where)
        .order_by(col(ApprovalRequest.decided_at).desc())
        .limit(3)
    )
    latest = [
        (int(rid), Decimal(bp) / 100, at)
        for rid, bp, at in rows.all()
        if rid is not None and bp is not None and at is not None
    ]
    avg = (Decimal(str(average)) / 100).quantize(Decimal("0.01")) if average is not None else None
    return PreviousDiscounts(int(count or 0), avg, latest)


async def load(session: AsyncSession, env: Env, request: ApprovalRequest) -> CardData:
    assert request.id is not None
    team = await session.get(Team, request.team_id)
    requester = await session.get(User, request.requester_id)
    assert team is not None and requester is not None
    rules = env.team(team)
    steps = list(
        (
            await session.exec(
                select(ApprovalStep)
                .where(col(ApprovalStep.request_id) == request.id)
                .order_by(col(ApprovalStep.step_no))
            )
        ).all()
    )
    attachments = list(
        (
            await session.exec(
                select(ApprovalAttachment)
                .where(col(ApprovalAttachment.request_id) == request.id)
                .order_by(col(ApprovalAttachment.id))
            )
        ).all()
    )
    history = list(
        (
            await session.exec(
                select(AuditEntry)
                .where(
                    col(AuditEntry.entity) == "approval", col(AuditEntry.entity_id) == request.id
                )
                .order_by(col(AuditEntry.id))
            )
        ).all()
    )
    ids = {request.requester_id, request.decided_by_id}
    ids |= {s.decided_by_id for s in steps} | {h.actor_id for h in history}
    wanted = [i for i in ids if i is not None]
    names: dict[int, str] = {}
    if wanted:
        rows = await session.exec(
            select(User.id, User.display_name).where(col(User.id).in_(wanted))
        )
        names = {int(uid): name for uid, name in rows.all() if uid is not None}
    kind = get_type(request.type)
    customer = await session.get(Customer, request.customer_id) if request.customer_id else None
    approver_ids: set[int] = set()
    if request.status == RequestStatus.PENDING:
        approver_ids = {
            u.id for u in await approval_access.approvers(session, request, env.now) if u.id
        }
    contract = str(request.details.get("contract") or "") if kind.key == INVOICE else ""
    invoice = (
        await check_invoice_request(
            session, env.settings, contract_no=contract, customer_id=request.customer_id
        )
        if contract
        else None
    )
    return CardData(
        request=request,
        kind=kind,
        team=team,
        rules=rules,
        requester=requester,
        customer=customer,
        steps=steps,
        attachments=attachments,
        history=history,
        names=names,
        month_total=await approved_this_month(session, request, rules, env.now),
        discounts=(
            await previous_discounts(session, request) if kind.discount is not None else None
        ),
        open_balance=(
            await customer_open_balance(session, customer.id, request.currency)
            if customer is not None and customer.id is not None and kind.discount is not None
            else None
        ),
        invoice=invoice,
        unknown_contract=contract if contract and invoice is None else None,
        approver_ids=approver_ids,
    )


# -- rendering ----------------------------------------------------------------------------


def money_text(amount: Decimal, currency: str, lang: str) -> str:
    return format_money(amount, currency, lang)


def moment_text(moment: datetime, data: CardData, lang: str) -> str:
    local = moment.astimezone(data.rules.tz)
    return f"{format_short_day(local.date(), lang)} {format_clock(moment, data.rules.timezone)}"


def value_text(texts: Catalogs, lang: str, data: CardData, name: str) -> str | None:
    spec = data.kind.field(name)
    value = data.request.details.get(name)
    if spec.kind is FieldKind.FILES:
        return f"📎 {len(data.attachments)}" if data.attachments else None
    if spec.kind is FieldKind.CUSTOMER:
        if data.customer is None:
            return None
        return f"{html.escape(data.customer.name)} · #C{data.customer.id}"
    if value in (None, ""):
        return None
    if spec.kind is FieldKind.MONEY:
        return f"<b>{money_text(Decimal(str(value)), data.request.currency, lang)}</b>"
    if spec.kind is FieldKind.CHOICE:
        return texts.t(lang, f"approvals.choice_{name}_{value}")
    if spec.kind in (FieldKind.PAST_DATE, FieldKind.FUTURE_DATE):
        return format_day(date.fromisoformat(str(value)), lang)
    return html.escape(str(value))


def status_text(texts: Catalogs, lang: str, data: CardData) -> str:
    request = data.request
    status = RequestStatus(request.status)
    icon = REQUEST_ICONS[status]
    if status == RequestStatus.PENDING:
        level = texts.t(lang, f"approvals.level_{request.chain[request.step_no]}")
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
        action = texts.t(lang, "approvals.history_" + entry.action.removeprefix("approval."))
        line = texts.t(
            lang, "approvals.history_line", at=moment_text(entry.at, data, lang), who=who,
            action=action,
        )  # fmt: skip
        if trail and (entry.before or entry.after):
            line += f" ({_state_label(texts, lang, entry.before)} → "
            line += f"{_state_label(texts, lang, entry.after)})"
        if entry.reason:
            line += f" — <i>{html.escape(entry.reason)}</i>"
        lines.append(line)
    return lines


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
            latest = ", ".join(
                f"{pct:.2f}% (#{rid}, {format_short_day(at.astimezone(data.rules.tz), lang)})"
                for rid, pct, at in data.discounts.latest
            )
            lines.append(
                texts.t(
                    lang, "approvals.discounts_before", customer=customer,
                    count=data.discounts.count, average=f"{data.discounts.average or 0:.2f}",
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
        lines.append(data.invoice.text(texts, lang))
    elif data.unknown_contract:
        lines.append(
            texts.t(lang, "approvals.contract_unknown",
                    number=html.escape(data.unknown_contract))
        )  # fmt: skip
    return lines


def render(
    texts: Catalogs, lang: str, data: CardData, *, header: str | None = None, trail: bool = False
) -> str:
    """The card in ``lang``: title, requester, every field, what helps decide, route, history."""
    request = data.request
    t = texts.t
    title = t(lang, "approvals.card_title", icon=data.kind.icon,
              type=t(lang, data.kind.name_key), id=data.id)  # fmt: skip
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
        percent = f"{Decimal(request.discount_bp) / 100:.2f}"
        lines.append(
            t(
                lang, "approvals.discount_line", percent=percent,
                amount=money_text(off, request.currency, lang) if off is not None else "—",
            )
        )  # fmt: skip
    lines.append("")
    lines.extend(context_lines(texts, lang, data))
    lines.append(route_text(texts, lang, data))
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


def decision_buttons(texts: Catalogs, lang: str, data: CardData) -> OutboxButtons:
    step = data.request.step_no
    rows = [
        [
            {"text": texts.t(lang, "approvals.approve"), "data": callback(data.id, APPROVE, step)},
            {"text": texts.t(lang, "approvals.reject"), "data": callback(data.id, REJECT, step)},
        ],
        [{"text": texts.t(lang, "approvals.ask_info"), "data": callback(data.id, INFO, step)}],
    ]
    if data.attachments:
        label = texts.t(lang, "approvals.show_receipts", count=len(data.attachments))
        rows[1].append({"text": label, "data": callback(data.id, RECEIPTS)})
    return rows


def view_buttons(texts: Catalogs, lang: str, data: CardData) -> OutboxButtons:
    """On a copy whose owner cannot decide (any more): open the request and its audit trail."""
    return [[{"text": texts.t(lang, "approvals.view"), "data": callback(data.id, VIEW)}]]


def can_act(data: CardData, user_id: int) -> bool:
    return data.request.status == RequestStatus.PENDING and user_id in data.approver_ids


# -- copies in approvers' chats -----------------------------------------------------------


async def send_card(
    session: AsyncSession,
    env: Env,
    data: CardData,
    recipient: User,
    *,
    kind: str,
    key: str,
    header: str | None = None,
) -> bool:
    """Send a copy of the card (receipts first, once per person) and record it; False when
    ``key`` was sent already."""
    assert recipient.id is not None
    await send_attachments(session, env, data, recipient, key_prefix=f"ap:{data.id}:file")
    lang = recipient.language
    if can_act(data, recipient.id):
        buttons = decision_buttons(env.texts, lang, data)
    else:
        buttons = view_buttons(env.texts, lang, data)
    outbox_id = await outbox.enqueue(
        session, key=key, chat_id=recipient.telegram_id, recipient_id=recipient.id,
        kind=f"approval.{kind}", text=render(env.texts, lang, data, header=header),
        buttons=buttons, now=env.now,
    )  # fmt: skip
    if outbox_id is None:
        return False
    session.add(
        ApprovalCard(
            request_id=data.id, recipient_id=recipient.id, outbox_id=outbox_id,
            step_no=data.request.step_no, kind=kind, created_at=env.now,
        )
    )  # fmt: skip
    return True


async def send_attachments(
    session: AsyncSession, env: Env, data: CardData, recipient: User, *, key_prefix: str
) -> int:
    """The request's receipts as photos or files, each captioned with the request."""
    sent = 0
    total = len(data.attachments)
    type_name = env.texts.t(recipient.language, data.kind.name_key)
    for number, attachment in enumerate(data.attachments, start=1):
        caption = env.texts.t(
            recipient.language, "approvals.receipt_caption", id=data.id, type=type_name,
            number=number, total=total,
        )  # fmt: skip
        queued = await outbox.enqueue(
            session, key=f"{key_prefix}:{attachment.id}:{recipient.id}",
            chat_id=recipient.telegram_id, recipient_id=recipient.id, kind="approval.receipt",
            text=caption, now=env.now,
            attachment=Attachment(
                attachment.kind, attachment.file_name or f"receipt-{number}",
                file_id=attachment.file_id,
            ),
        )  # fmt: skip
        sent += queued is not None
    return sent


async def refresh_copies(session: AsyncSession, env: Env, data: CardData) -> int:
    """Edit every copy of the card to the request's current state (after any change)."""
    cards = list(
        (
            await session.exec(
                select(ApprovalCard, User)
                .join(User, col(User.id) == col(ApprovalCard.recipient_id))
                .where(col(ApprovalCard.request_id) == data.id)
                .order_by(col(ApprovalCard.id))
            )
        ).all()
    )
    rendered: dict[str, str] = {}
    for card, recipient in cards:
        assert recipient.id is not None and card.id is not None
        if not recipient.active:
            await _hide_copy(session, env.texts, card, recipient, now=env.now)
            continue
        lang = recipient.language
        if lang not in rendered:
            rendered[lang] = render(env.texts, lang, data)
        acts = can_act(data, recipient.id) and card.step_no == data.request.step_no
        await outbox.enqueue(
            session, key=f"ap:{data.id}:v{data.request.version}:edit:{card.id}",
            chat_id=recipient.telegram_id, recipient_id=recipient.id, kind="approval.update",
            text=rendered[lang], now=env.now, edit_of_id=card.outbox_id,
            buttons=(
                decision_buttons(env.texts, lang, data)
                if acts
                else view_buttons(env.texts, lang, data)
            ),
        )  # fmt: skip
    return len(cards)


async def _hide_copy(
    session: AsyncSession, texts: Catalogs, card: ApprovalCard, recipient: User, *, now: datetime
) -> None:
    """Replace a deactivated person's copy by a text without details or buttons, once per
    deactivation (the key); afterwards their copy is never edited again."""
    gone = int(recipient.deactivated_at.timestamp()) if recipient.deactivated_at else 0
    await outbox.enqueue(
        session, key=f"ap:card:{card.id}:hidden:{gone}", chat_id=recipient.telegram_id,
        recipient_id=recipient.id, kind="approval.hidden",
        text=texts.t(recipient.language, "approvals.card_hidden"), now=now,
        edit_of_id=card.outbox_id,
    )  # fmt: skip


async def hide_copies_of(
    session: AsyncSession, texts: Catalogs, recipient: User, *, now: datetime
) -> int:
    """When someone is deactivated: their copies of open requests (the ones that would still be
    edited) become a neutral text at once; copies of decided requests stay as they were."""
    cards = (
        await session.exec(
            select(ApprovalCard)
            .join(ApprovalRequest, col(ApprovalRequest.id) == col(ApprovalCard.request_id))
            .where(
                col(ApprovalCard.recipient_id) == recipient.id,
                col(ApprovalRequest.status).in_([RequestStatus.PENDING, RequestStatus.INFO]),
            )
            .order_by(col(ApprovalCard.id))
        )
    ).all()
    for card in cards:
        await _hide_copy(session, texts, card, recipient, now=now)
    return len(cards)


def short_title(texts: Catalogs, lang: str, data: CardData) -> str:
    """ "🧾 Expense #12 · ¥1,500.00 · 华丰" for notices and lists."""
    parts = [f"{data.kind.icon} {texts.t(lang, data.kind.name_key)} #{data.id}"]
    if data.request.amount_minor is not None:
        amount = from_minor(data.request.amount_minor)
        parts.append(money_text(amount, data.request.currency, lang))
    if data.customer is not None:
        parts.append(html.escape(data.customer.name))
    return " · ".join(parts)


async def notify(
    session: AsyncSession,
    env: Env,
    recipient: User,
    data: CardData,
    *,
    key: str,
    text_key: str,
    buttons: list[list[tuple[str, str]]] | None = None,
    **params: Any,
) -> None:
    """A short message to someone about a request, in their language. ``{request}`` in the
    text is the request's short title; buttons are (text key, callback data) pairs."""
    lang = recipient.language
    rows = (
        [[{"text": env.texts.t(lang, label), "data": cb} for label, cb in row] for row in buttons]
        if buttons
        else None
    )
    text = env.texts.t(lang, text_key, request=short_title(env.texts, lang, data), **params)
    await outbox.enqueue(
        session, key=key, chat_id=recipient.telegram_id, recipient_id=recipient.id,
        kind="approval.notice", text=text, buttons=rows, now=env.now,
    )  # fmt: skip
