"""The approval card's data: everything about a request an approver needs, loaded once per
change, and its copies in approvers' chats, sent and edited through the outbox.

Every copy of a card (the manager's, the delegate's, each director's, reminders, /pending) is
recorded, so that every change of the request edits all of them to show the new state and who
made it; the decision buttons stay only on the copies of people who may still decide. What a
card says is the views' business (views/approval_cards.py); this module says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.settings import Settings
from models.approval import (
    ApprovalAttachment,
    ApprovalCard,
    ApprovalCc,
    ApprovalRequest,
    ApprovalStep,
    RequestStatus,
)
from models.audit import AuditEntry
from models.customer import Customer
from models.outbox import OutboxMessage
from models.user import User
from services import approval_access, notices, outbox, team_context
from services.approval_types import RequestType, get_type
from services.invoice_rule import InvoiceCheck, check_invoice_request, customer_open_balance
from services.notices import Render
from services.outbox import Attachment, OutboxButtons
from services.team_context import TeamContext

# The request type whose card shows the collected share of its contract.
INVOICE = "invoice"


@dataclass(frozen=True)
class Env:
    """What approval actions need besides the session: settings, the views and the time."""

    settings: Settings
    render: Render
    now: datetime

    async def team_context(self, session: AsyncSession, team_id: int) -> TeamContext:
        """The context of a request's team (which need not be the actor's)."""
        return await team_context.resolve(session, self.settings, team_id, self.now)


@dataclass(frozen=True)
class PreviousDiscounts:
    count: int
    average: Decimal | None
    # (number, percent, decided at) of the latest three.
    latest: list[tuple[str, Decimal, datetime]]


@dataclass
class CardData:
    """A request with everything its card shows, loaded once per change."""

    request: ApprovalRequest
    kind: RequestType
    team: TeamContext
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
    # How many people the pending step could be handed to (转交), its approver included: with
    # fewer than two there is nobody to transfer to, and the card offers no 转交.
    transfer_pool: int = 0
    # The numbers of the requests the history links to (resubmitted as / resubmission of).
    labels: dict[int, str] = field(default_factory=dict)
    # The names of the people copied (抄送), in the order they were added.
    cc: list[str] = field(default_factory=list)

    @property
    def id(self) -> int:
        assert self.request.id is not None
        return self.request.id

    def name(self, user_id: int | None) -> str:
        return self.names.get(user_id or 0, "—")

    def step(self, step_no: int) -> ApprovalStep | None:
        return next((s for s in self.steps if s.step_no == step_no), None)


@dataclass(frozen=True)
class Header:
    """A line above a copy of the card saying why it arrives: ``kind`` is "reminder",
    "escalated", "answer" or "delegated"; ``params`` are plain values (names unescaped)."""

    kind: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CardCopy:
    """One person's copy of the card: with the decision buttons, or only "view"."""

    card: CardData
    decide: bool
    header: Header | None = None


@dataclass(frozen=True)
class SubmittedCopy:
    """The requester's confirmation of a submit ("sent to …"), as it stands now: its text stays,
    its buttons follow the request (no Withdraw once it is decided)."""

    card: CardData
    text: str


@dataclass(frozen=True)
class Receipt:
    """A receipt sent as a photo or file, captioned with its request."""

    card: CardData
    number: int
    total: int


@dataclass(frozen=True)
class RequestNotice:
    """A short message to someone about a request. ``event``: "info", "rejected",
    "approved", "next_manager", "next_director", "escalated_requester",
    "escalated_approver", "transferred", "cc_approved", "cc_rejected"; ``name`` who acted,
    ``text`` their reason or question."""

    card: CardData
    event: str
    name: str = ""
    text: str = ""
    step: int = 0
    steps: int = 0
    hours: str = ""
    # Who it was transferred to ("transferred").
    to: str = ""


async def approved_this_month(
    session: AsyncSession, request: ApprovalRequest, team: TeamContext
) -> tuple[int, int]:
    """(total in minor units, count) of the requester's approved requests of this type this
    calendar month (team timezone)."""
    month = team.this_month
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
        select(
            ApprovalRequest.id,
            ApprovalRequest.number,
            ApprovalRequest.discount_bp,
            ApprovalRequest.decided_at,
        )
        .where(*where)
        .order_by(col(ApprovalRequest.decided_at).desc())
        .limit(3)
    )
    latest = [
        (number or str(rid), Decimal(bp) / 100, at)
        for rid, number, bp, at in rows.all()
        if rid is not None and bp is not None and at is not None
    ]
    avg = (Decimal(str(average)) / 100).quantize(Decimal("0.01")) if average is not None else None
    return PreviousDiscounts(int(count or 0), avg, latest)


async def load(session: AsyncSession, env: Env, request: ApprovalRequest) -> CardData:
    assert request.id is not None
    team = await env.team_context(session, request.team_id)
    requester = await session.get(User, request.requester_id)
    assert requester is not None
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
    ids |= {s.decided_by_id for s in steps} | {s.assignee_id for s in steps}
    ids |= {h.actor_id for h in history} | {(h.after or {}).get("to") for h in history}
    wanted = [i for i in ids if i is not None]
    names: dict[int, str] = {}
    if wanted:
        rows = await session.exec(
            select(User.id, User.display_name).where(col(User.id).in_(wanted))
        )
        names = {int(uid): name for uid, name in rows.all() if uid is not None}
    linked = [
        int(found)
        for h in history
        if (found := (h.after or {}).get("resubmitted_as") or (h.after or {}).get("previous"))
    ]
    labels: dict[int, str] = {}
    if linked:
        rows2 = await session.exec(
            select(ApprovalRequest.id, ApprovalRequest.number).where(
                col(ApprovalRequest.id).in_(linked)
            )
        )
        labels = {int(rid): number or str(rid) for rid, number in rows2.all() if rid is not None}
    kind = get_type(request.type)
    customer = await session.get(Customer, request.customer_id) if request.customer_id else None
    approver_ids: set[int] = set()
    pool = 0
    if request.status == RequestStatus.PENDING:
        approver_ids = {
            u.id for u in await approval_access.approvers(session, request, env.now) if u.id
        }
        pool = len(await approval_access.transfer_pool(session, request))
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
        requester=requester,
        customer=customer,
        steps=steps,
        attachments=attachments,
        history=history,
        names=names,
        month_total=await approved_this_month(session, request, team),
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
        transfer_pool=pool,
        labels=labels,
        cc=await cc_names(session, request.id),
    )


async def cc_names(session: AsyncSession, request_id: int) -> list[str]:
    rows = await session.exec(
        select(User.display_name)
        .join(ApprovalCc, col(ApprovalCc.user_id) == col(User.id))
        .where(col(ApprovalCc.request_id) == request_id)
        .order_by(col(ApprovalCc.id))
    )
    return list(rows.all())


# -- copies in approvers' chats -----------------------------------------------------------

# The kind of copy that is the requester's confirmation of a submit (``keep_submitted``).
SUBMITTED = "submitted"


def about(data: CardData) -> dict[str, int]:
    """Outbox meta naming the request, so that a Telegram reply to the message finds it."""
    return {"approval_request": data.id}


def can_act(data: CardData, user_id: int) -> bool:
    return data.request.status == RequestStatus.PENDING and user_id in data.approver_ids


async def send_card(
    session: AsyncSession,
    env: Env,
    data: CardData,
    recipient: User,
    *,
    kind: str,
    key: str,
    header: Header | None = None,
) -> bool:
    """Send a copy of the card (receipts first, once per person) and record it; False when
    ``key`` was sent already."""
    assert recipient.id is not None
    await send_attachments(session, env, data, recipient, key_prefix=f"ap:{data.id}:file")
    outbox_id = await notices.send(
        session, env.render, view="approvals.card",
        data=CardCopy(data, can_act(data, recipient.id), header), lang=recipient.language,
        key=key, chat_id=recipient.telegram_id, recipient_id=recipient.id,
        kind=f"approval.{kind}", now=env.now, meta=about(data),
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
    for number, attachment in enumerate(data.attachments, start=1):
        queued = await notices.send(
            session, env.render, view="approvals.receipt", data=Receipt(data, number, total),
            lang=recipient.language, key=f"{key_prefix}:{attachment.id}:{recipient.id}",
            chat_id=recipient.telegram_id, recipient_id=recipient.id, kind="approval.receipt",
            now=env.now,
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
                select(ApprovalCard, User, OutboxMessage.text)
                .join(User, col(User.id) == col(ApprovalCard.recipient_id))
                .join(OutboxMessage, col(OutboxMessage.id) == col(ApprovalCard.outbox_id))
                .where(col(ApprovalCard.request_id) == data.id)
                .order_by(col(ApprovalCard.id))
            )
        ).all()
    )
    for card, recipient, sent_text in cards:
        assert recipient.id is not None and card.id is not None
        if not recipient.active:
            await _hide_copy(session, env.render, card, recipient, now=env.now)
            continue
        copy: SubmittedCopy | CardCopy
        if card.kind == SUBMITTED:
            if RequestStatus(data.request.status).open:
                continue  # it reads the same until the request closes (Withdraw goes then)
            view, copy = "approvals.submitted", SubmittedCopy(data, sent_text)
        else:
            acts = can_act(data, recipient.id) and card.step_no == data.request.step_no
            view, copy = "approvals.card", CardCopy(data, acts)
        await notices.send(
            session, env.render, view=view, data=copy, lang=recipient.language,
            key=f"ap:{data.id}:v{data.request.version}:edit:{card.id}",
            chat_id=recipient.telegram_id, recipient_id=recipient.id, kind="approval.update",
            now=env.now, edit_of_id=card.outbox_id,
        )  # fmt: skip
    return len(cards)


async def keep_submitted(
    session: AsyncSession, env: Env, *, request_id: int, version: int, chat_id: int,
    text: str, buttons: OutboxButtons | None, message_id: int,
) -> None:  # fmt: skip
    """Keep the requester's confirmation of a submit, once Telegram accepted it, as a copy of
    the card: every later change edits it like the approvers' copies, so its Withdraw button
    goes when the request is decided. A change made before this record (a decision in the
    moment the confirmation took to arrive) is applied to it at once."""
    request = await session.get(ApprovalRequest, request_id)
    if request is None or request.id is None:
        return
    outbox_id = await outbox.record_sent(
        session, key=f"ap:{request_id}:submitted:{message_id}", chat_id=chat_id,
        kind="approval.submitted", text=text, buttons=buttons, message_id=message_id,
        now=env.now, recipient_id=request.requester_id,
    )  # fmt: skip
    if outbox_id is None:
        return
    session.add(
        ApprovalCard(
            request_id=request.id, recipient_id=request.requester_id, outbox_id=outbox_id,
            step_no=request.step_no, kind=SUBMITTED, created_at=env.now,
        )
    )  # fmt: skip
    await session.flush()
    if request.version != version:
        await refresh_copies(session, env, await load(session, env, request))


async def _hide_copy(
    session: AsyncSession, render: Render, card: ApprovalCard, recipient: User, *, now: datetime
) -> None:
    """Replace a deactivated person's copy by a text without details or buttons, once per
    deactivation (the key); afterwards their copy is never edited again."""
    gone = int(recipient.deactivated_at.timestamp()) if recipient.deactivated_at else 0
    await notices.send(
        session, render, view="approvals.hidden", data=None, lang=recipient.language,
        key=f"ap:card:{card.id}:hidden:{gone}", chat_id=recipient.telegram_id,
        recipient_id=recipient.id, kind="approval.hidden", now=now, edit_of_id=card.outbox_id,
    )  # fmt: skip


async def hide_copies_of(
    session: AsyncSession, render: Render, recipient: User, *, now: datetime
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
        await _hide_copy(session, render, card, recipient, now=now)
    return len(cards)


async def notify(
    session: AsyncSession, env: Env, recipient: User, notice: RequestNotice, *, key: str
) -> None:
    """A short message to someone about a request, in their language."""
    await notices.send(
        session, env.render, view="approvals.notice", data=notice, lang=recipient.language,
        key=key, chat_id=recipient.telegram_id, recipient_id=recipient.id,
        kind="approval.notice", now=env.now, meta=about(notice.card),
    )  # fmt: skip
