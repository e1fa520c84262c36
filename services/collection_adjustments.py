"""How a dispute ends when the manager finds it valid: a credit note (红字发票) or a write-off
(坏账核销) of an amount, with a reason.

Up to the team's ``collections.adjustment_approval_above`` the manager's decision is applied at
once; above it the decision becomes an approval request (types ``credit_note`` and
``write_off``: the same routing, cards, reminders and history as every request) and is applied
only when the last level approves it, in the transaction of that approval. A rejected or
withdrawn request leaves the dispute open (reminders stay paused) and the rep is told.

Applied, an adjustment lowers what is outstanding (``services.receivables.balance_column``) but
is never money collected: collected figures read payments only. A receivable with nothing left
is closed, not paid. Every step writes an audit row; a refusal anywhere rolls everything back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from models.approval import ApprovalRequest, RequestStatus
from models.common import Role
from models.receivable import (
    Adjustment,
    AdjustmentKind,
    AdjustmentStatus,
    Dispute,
    DisputeStatus,
    PromiseStatus,
    Receivable,
    ReceivableStatus,
)
from models.user import User
from services import approvals, audit, notices, team_context
from services.approval_cards import Env
from services.collection_actions import close_promises, set_status, withdraw_reminders
from services.money import money
from services.receivables import MAX_REASON, MIN_REASON, Document, documents, visibility
from services.users import Actor

DECIDERS = frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN})
# A director's decision is already the highest approval level: applied at once at any amount.
TOP_LEVEL = frozenset({Role.DIRECTOR, Role.ADMIN})


@dataclass(frozen=True)
class DisputeFacts:
    """What the deciding manager is asked about: the document, what it still owes, the
    customer's reason, the team's threshold, and an adjustment already waiting for approval."""

    dispute_id: int
    receivable_id: int
    number: str
    customer: str
    balance: Decimal
    currency: str
    reason: str
    threshold: Decimal
    # The deciding person's own decisions apply at once whatever the amount (a director).
    top_level: bool
    open: bool
    pending: Adjustment | None


async def _dispute_document(
    session: AsyncSession, actor: Actor, dispute_id: int, *, lock: bool = False
) -> tuple[Dispute, Document]:
    """The dispute and its document, if the actor may decide it ("not found" otherwise)."""
    if actor.role not in DECIDERS:
        raise NotAllowedError()
    dispute = await session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotAllowedError("collections.not_found")
    found = await documents(
        session, col(Receivable.id) == dispute.receivable_id, visibility(actor),
        open_only=False, lock=lock,
    )  # fmt: skip
    if not found:
        raise NotAllowedError("collections.not_found")
    return dispute, found[0]


async def _pending(session: AsyncSession, dispute_id: int) -> Adjustment | None:
    query = select(Adjustment).where(
        col(Adjustment.dispute_id) == dispute_id,
        col(Adjustment.status) == AdjustmentStatus.PENDING,
    )
    return (await session.exec(query)).first()


async def dispute_facts(
    session: AsyncSession, actor: Actor, env: Env, dispute_id: int
) -> DisputeFacts:
    dispute, doc = await _dispute_document(session, actor, dispute_id)
    team = await team_context.resolve(session, env.settings, doc.receivable.team_id, env.now)
    return DisputeFacts(
        dispute_id=dispute_id, receivable_id=doc.id, number=doc.receivable.document_no,
        customer=doc.customer_name, balance=doc.balance, currency=doc.receivable.currency,
        reason=dispute.reason, threshold=team.rules.collections.adjustment_approval_above,
        top_level=actor.role in TOP_LEVEL, open=dispute.status == DisputeStatus.OPEN,
        pending=await _pending(session, dispute_id),
    )  # fmt: skip


def check_open(facts: DisputeFacts, lang: str) -> None:
    """Refuse a second decision: the dispute is over, or an adjustment waits for approval."""
    if not facts.open:
        raise UserFacingError("collections.dispute_already", number=facts.number)
    if facts.pending is not None:
        raise UserFacingError(
            f"collections.adjustment_waiting_{facts.pending.kind}", number=facts.number,
            amount=money(facts.pending.amount, facts.pending.currency, lang),
            id=facts.pending.approval_request_id,
        )  # fmt: skip


def clean_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON:
        raise UserFacingError("collections.reason_too_short")
    if len(reason) > MAX_REASON:
        raise UserFacingError("collections.reason_too_long", limit=MAX_REASON)
    return reason


def check_amount(amount: Decimal, balance: Decimal, currency: str, lang: str) -> None:
    if amount <= 0:
        raise UserFacingError("collections.amount_not_positive")
    if amount > balance:
        raise UserFacingError(
            "collections.adjustment_over_balance", amount=money(amount, currency, lang),
            balance=money(balance, currency, lang),
        )  # fmt: skip


@dataclass(frozen=True)
class Settled:
    """What the manager is told: applied at once (the balance left), or sent for approval."""

    kind: str
    number: str
    customer: str
    amount: Decimal
    currency: str
    applied: bool
    balance: Decimal
    request_id: int | None = None
    approvers: tuple[str, ...] = ()
    # Whose list and which customer: the way on after the decision.
    owner_id: int = 0
    customer_id: int = 0


async def settle_dispute(
    session: AsyncSession,
    *,
    actor: Actor,
    env: Env,
    dispute_id: int,
    kind: AdjustmentKind,
    amount: Decimal,
    reason: str,
) -> Settled:
    """The manager found the dispute valid: a credit note or write-off of ``amount``, applied
    now up to the team's threshold, otherwise requested for approval."""
    reason = clean_reason(reason)
    _, doc = await _dispute_document(session, actor, dispute_id, lock=True)
    receivable = doc.receivable
    facts = await dispute_facts(session, actor, env, dispute_id)
    check_open(facts, actor.language)
    check_amount(amount, doc.balance, receivable.currency, actor.language)
    adjustment = Adjustment(
        receivable_id=doc.id, dispute_id=dispute_id, kind=kind, amount=amount,
        currency=receivable.currency, reason=reason, requested_by_id=actor.user_id,
        created_at=env.now,
    )  # fmt: skip
    session.add(adjustment)
    await session.flush()
    if amount <= facts.threshold or facts.top_level:
        left = await _apply(session, env, adjustment, actor)
        return Settled(kind, receivable.document_no, doc.customer_name, amount,
                       receivable.currency, applied=True, balance=left,
                       owner_id=receivable.owner_id or 0,
                       customer_id=receivable.customer_id)  # fmt: skip
    team = await team_context.resolve(session, env.settings, receivable.team_id, env.now)
    draft = approvals.Draft(
        kind.value,
        {"customer": receivable.customer_id, "document": receivable.document_no,
         "amount": str(amount), "reason": reason},
    )  # fmt: skip
    result = await approvals.submit(session, env, team, actor, draft, currency=receivable.currency)
    adjustment.approval_request_id = result.request.id
    session.add(adjustment)
    audit.record(
        session, at=env.now, action=f"receivable.{kind}_requested", entity="receivable",
        entity_id=doc.id, actor_id=actor.user_id,
        after={"amount": str(amount), "balance": str(doc.balance), "dispute_id": dispute_id,
               "approval_request_id": result.request.id, "adjustment_id": adjustment.id},
        reason=reason,
    )  # fmt: skip
    await session.flush()
    return Settled(
        kind, receivable.document_no, doc.customer_name, amount, receivable.currency,
        applied=False, balance=doc.balance, request_id=result.request.id,
        approvers=tuple(result.approvers), owner_id=receivable.owner_id or 0,
        customer_id=receivable.customer_id,
    )  # fmt: skip


@dataclass(frozen=True)
class AdjustmentNotice:
    """For the rep (view ``collections.adjustment``): a credit note or write-off applied, or
    refused (the dispute stays open)."""

    kind: str
    event: str  # "applied" or "refused"
    number: str
    customer: str
    amount: Decimal
    currency: str
    balance: Decimal
    name: str
    reason: str


async def _apply(session: AsyncSession, env: Env, adjustment: Adjustment, actor: Actor) -> Decimal:
    """Apply an adjustment (rows locked, the balance checked again), end its dispute, close the
    receivable when nothing is left; the balance left."""
    found = await documents(
        session, col(Receivable.id) == adjustment.receivable_id, open_only=False, lock=True
    )
    doc = found[0]
    receivable = doc.receivable
    check_amount(adjustment.amount, doc.balance, adjustment.currency, actor.language)
    team = await team_context.resolve(session, env.settings, receivable.team_id, env.now)
    before = {"balance": str(doc.balance), "status": str(receivable.status)}
    adjustment.status = AdjustmentStatus.APPLIED
    adjustment.applied_by_id, adjustment.applied_at = actor.user_id, env.now
    adjustment.applied_on = team.today
    session.add(adjustment)
    left = doc.balance - adjustment.amount
    dispute = await session.get(Dispute, adjustment.dispute_id) if adjustment.dispute_id else None
    if dispute is not None and dispute.status == DisputeStatus.OPEN:
        dispute.status, dispute.resolved_at = DisputeStatus.RESOLVED, env.now
        dispute.resolved_by_id, dispute.outcome = actor.user_id, str(adjustment.kind)
        session.add(dispute)
    if left == 0:
        set_status(receivable, ReceivableStatus.CLOSED, env.now)
        await close_promises(session, doc.id, PromiseStatus.REPLACED, env.now)
        await withdraw_reminders(
            session, receivable_ids=[doc.id], reason=str(adjustment.kind), now=env.now
        )
    elif receivable.status == ReceivableStatus.DISPUTED:
        set_status(receivable, ReceivableStatus.OPEN, env.now)
    session.add(receivable)
    audit.record(
        session, at=env.now, action=f"receivable.{adjustment.kind}", entity="receivable",
        entity_id=doc.id, actor_id=actor.user_id, before=before,
        after={"amount": str(adjustment.amount), "balance": str(left),
               "status": str(receivable.status), "adjustment_id": adjustment.id,
               "dispute_id": adjustment.dispute_id,
               "approval_request_id": adjustment.approval_request_id},
        reason=adjustment.reason,
    )  # fmt: skip
    await _tell_rep(session, env, adjustment, doc, "applied", actor, left)
    await session.flush()
    return left


async def _tell_rep(
    session: AsyncSession,
    env: Env,
    adjustment: Adjustment,
    doc: Document,
    event: str,
    actor: Actor,
    balance: Decimal,
) -> None:
    """The rep who owns the document hears of the outcome (not when they decided it)."""
    receivable = doc.receivable
    owner = await session.get(User, receivable.owner_id) if receivable.owner_id else None
    if owner is None or not owner.active or owner.id == actor.user_id:
        return
    data = AdjustmentNotice(
        kind=str(adjustment.kind), event=event, number=receivable.document_no,
        customer=doc.customer_name, amount=adjustment.amount, currency=adjustment.currency,
        balance=balance, name=actor.display_name, reason=adjustment.reason,
    )  # fmt: skip
    await notices.send(
        session, env.render, view="collections.adjustment", data=data, lang=owner.language,
        key=f"adjustment:{adjustment.id}:{event}", chat_id=owner.telegram_id,
        recipient_id=owner.id, kind=f"adjustment.{event}", now=env.now,
    )  # fmt: skip


async def on_decided(
    session: AsyncSession, env: Env, request: ApprovalRequest, actor: Actor
) -> None:
    """An approval request for a credit note or write-off was closed: apply it when approved;
    otherwise the dispute stays open and the rep is told."""
    query = select(Adjustment).where(
        col(Adjustment.approval_request_id) == request.id,
        col(Adjustment.status) == AdjustmentStatus.PENDING,
    )
    adjustment = (await session.exec(query.with_for_update())).first()
    if adjustment is None:
        return
    if request.status == RequestStatus.APPROVED:
        await _apply(session, env, adjustment, actor)
        return
    refused = request.status == RequestStatus.REJECTED
    adjustment.status = AdjustmentStatus.REJECTED if refused else AdjustmentStatus.WITHDRAWN
    session.add(adjustment)
    doc = (
        await documents(session, col(Receivable.id) == adjustment.receivable_id, open_only=False)
    )[0]
    audit.record(
        session, at=env.now, action=f"receivable.{adjustment.kind}_{adjustment.status}",
        entity="receivable", entity_id=adjustment.receivable_id, actor_id=actor.user_id,
        after={"adjustment_id": adjustment.id, "approval_request_id": request.id,
               "dispute_id": adjustment.dispute_id, "status": "disputed"},
    )  # fmt: skip
    if refused:
        await _tell_rep(session, env, adjustment, doc, "refused", actor, doc.balance)
    await session.flush()


for _kind in AdjustmentKind:
    approvals.OUTCOMES.add(_kind.value, on_decided)
