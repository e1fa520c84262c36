"""What a rep records against receivables in chat: payments, promises, disputes and contacts,
and withdrawing dunning reminders that are no longer due.

Payments above the balance are refused; a receivable paid in full leaves the dunning schedule at
once (reminders not yet sent are withdrawn). Every id goes through
:func:`actionable` (through :func:`services.receivables.get_visible`), so a forged id never
reaches another team's receivable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from core.money import ZERO
from core.settings import Settings
from models.common import Role
from models.customer import Customer
from models.outbox import OutboxMessage, OutboxStatus
from models.receivable import (
    Adjustment,
    AdjustmentStatus,
    CollectionContact,
    Dispute,
    DisputeStatus,
    DunningReminder,
    Payment,
    PaymentSource,
    Promise,
    PromiseStatus,
    Receivable,
    ReceivableStatus,
    ReminderStatus,
)
from models.user import User
from services import audit, notices, outbox, team_context
from services.money import money
from services.notices import Render
from services.receivables import (
    MAX_REASON,
    MIN_REASON,
    Document,
    documents,
    get_visible,
    open_dispute,
    visibility,
)
from services.users import Actor, team_manager

# The longest note on a contact without result (the column holds 500).
MAX_NOTE = 500


async def actionable(session: AsyncSession, actor: Actor, ids: Sequence[int]) -> list[Document]:
    """The visible, still unpaid receivables among ``ids`` (rows locked for the change)."""
    if not ids:
        raise UserFacingError("collections.nothing_open")
    found = await documents(
        session, col(Receivable.id).in_(list(ids)), visibility(actor), lock=True
    )
    if not found:
        raise UserFacingError("collections.nothing_open")
    if len({doc.receivable.customer_id for doc in found}) > 1:
        raise UserFacingError("collections.one_customer_at_a_time")
    return found


def set_status(receivable: Receivable, status: ReceivableStatus, now: datetime) -> None:
    receivable.status = status
    receivable.updated_at = now
    receivable.paid_at = now if status == ReceivableStatus.PAID else None


@dataclass(frozen=True)
class Paid:
    document_no: str
    amount: Decimal
    balance: Decimal
    currency: str


@dataclass(frozen=True)
class PaymentResult:
    customer_name: str
    lines: list[Paid]
    withdrawn: int
    # Whose list and which customer the documents belong to: the way on after recording.
    owner_id: int = 0
    customer_id: int = 0

    @property
    def totals(self) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = {}
        for line in self.lines:
            sums[line.currency] = sums.get(line.currency, ZERO) + line.amount
        return sums


def _allocate(
    docs: list[Document], amount: Decimal | None, lang: str
) -> list[tuple[Document, Decimal]]:
    """What each document receives: its whole balance (``amount`` None), or ``amount`` paying
    the oldest first. More than the balance is refused, showing the balance."""
    if amount is not None:
        currencies = {doc.receivable.currency for doc in docs}
        if len(currencies) > 1:
            raise UserFacingError("collections.mixed_currencies")
        currency = currencies.pop()
        owed = sum((doc.balance for doc in docs), ZERO)
        if amount <= 0:
            raise UserFacingError("collections.amount_not_positive")
        if amount > owed:
            raise UserFacingError(
                "collections.overpayment",
                amount=money(amount, currency, lang),
                balance=money(owed, currency, lang),
            )
    remaining = amount
    shares: list[tuple[Document, Decimal]] = []
    for doc in docs:
        pay = doc.balance if remaining is None else min(remaining, doc.balance)
        if pay <= 0:
            continue
        if remaining is not None:
            remaining -= pay
        shares.append((doc, pay))
    return shares


async def preview_payment(
    session: AsyncSession, *, actor: Actor, receivable_ids: Sequence[int], amount: Decimal | None
) -> PaymentResult:
    """What :func:`record_payment` would record, for the rep to confirm; nothing is written."""
    docs = await actionable(session, actor, receivable_ids)
    lines = [
        Paid(doc.receivable.document_no, pay, doc.balance - pay, doc.receivable.currency)
        for doc, pay in _allocate(docs, amount, actor.language)
    ]
    return PaymentResult(docs[0].customer_name, lines, 0)


async def record_payment(
    session: AsyncSession,
    *,
    actor: Actor,
    settings: Settings,
    receivable_ids: Sequence[int],
    amount: Decimal | None,
    now: datetime,
    method: str | None = None,
    receipt_file_id: str | None = None,
) -> PaymentResult:
    """Record money collected: the whole balance (``amount`` None) or part of it, how it came
    (one of the team's payment methods) and the receipt's photo.

    A partial amount over several documents pays the oldest first. More than the balance is
    refused, showing the balance; a document paid in full leaves the schedule at once.
    """
    docs = await actionable(session, actor, receivable_ids)
    shares = _allocate(docs, amount, actor.language)
    # The documents' team (a director may act on any team's): its day is the payment's day.
    team = await team_context.resolve(session, settings, docs[0].receivable.team_id, now)
    if method is not None and method not in team.rules.collections.payment_methods:
        raise UserFacingError("collections.unknown_method")
    today = team.today
    lines: list[Paid] = []
    settled: list[int] = []
    for doc, pay in shares:
        receivable = doc.receivable
        session.add(
            Payment(
                receivable_id=doc.id, amount=pay, paid_on=today, recorded_by_id=actor.user_id,
                recorded_at=now, source=PaymentSource.CHAT, method=method,
                receipt_file_id=receipt_file_id,
            )
        )  # fmt: skip
        balance = doc.balance - pay
        before = {"balance": str(doc.balance), "status": str(receivable.status)}
        if balance == 0:
            set_status(receivable, ReceivableStatus.PAID, now)
            settled.append(doc.id)
            await close_promises(session, doc.id, PromiseStatus.KEPT, now)
            await _close_disputes(session, doc.id, actor, now)
        session.add(receivable)
        audit.record(
            session, at=now, action="receivable.payment", entity="receivable", entity_id=doc.id,
            actor_id=actor.user_id, before=before,
            after={"paid": str(pay), "balance": str(balance), "status": str(receivable.status),
                   "method": method, "receipt": receipt_file_id is not None},
        )  # fmt: skip
        lines.append(Paid(receivable.document_no, pay, balance, receivable.currency))
    withdrawn = await withdraw_reminders(
        session, receivable_ids=settled, reason="paid in full", now=now
    )
    await session.flush()
    first = docs[0].receivable
    return PaymentResult(docs[0].customer_name, lines, withdrawn, owner_id=first.owner_id or 0,
                         customer_id=first.customer_id)  # fmt: skip


async def close_promises(
    session: AsyncSession, receivable_id: int, status: PromiseStatus, now: datetime
) -> None:
    query = select(Promise).where(
        col(Promise.receivable_id) == receivable_id, col(Promise.status) == PromiseStatus.OPEN
    )
    for promise in (await session.exec(query)).all():
        promise.status, promise.resolved_at = status, now
        session.add(promise)


async def _close_disputes(
    session: AsyncSession, receivable_id: int, actor: Actor | None, now: datetime
) -> None:
    dispute = await open_dispute(session, receivable_id)
    if dispute is not None:
        dispute.status, dispute.resolved_at = DisputeStatus.RESOLVED, now
        dispute.resolved_by_id = actor.user_id if actor else None
        session.add(dispute)


@dataclass(frozen=True)
class PromiseResult:
    customer_name: str
    document_nos: list[str]
    promised_on: date
    total: dict[str, Decimal]


async def record_promise(
    session: AsyncSession,
    *,
    actor: Actor,
    settings: Settings,
    receivable_ids: Sequence[int],
    promised_on: date,
    now: datetime,
) -> PromiseResult:
    """The customer promised to pay by a date: reminders of these documents pause until then
    and resume if the date passes unpaid."""
    docs = await actionable(session, actor, receivable_ids)
    team = await team_context.resolve(session, settings, docs[0].receivable.team_id, now)
    rules, today = team.rules, team.today
    if promised_on < today:
        raise UserFacingError("collections.promise_in_past")
    latest = today + timedelta(days=rules.collections.promise_max_days)
    if promised_on > latest:
        raise UserFacingError(
            "collections.promise_too_far", days=rules.collections.promise_max_days
        )
    totals: dict[str, Decimal] = {}
    for doc in docs:
        await close_promises(session, doc.id, PromiseStatus.REPLACED, now)
        session.add(
            Promise(
                receivable_id=doc.id, promised_on=promised_on, amount=doc.balance,
                recorded_by_id=actor.user_id, created_at=now,
            )
        )  # fmt: skip
        audit.record(
            session, at=now, action="receivable.promise", entity="receivable", entity_id=doc.id,
            actor_id=actor.user_id,
            after={"promised_on": promised_on.isoformat(), "balance": str(doc.balance)},
        )  # fmt: skip
        currency = doc.receivable.currency
        totals[currency] = totals.get(currency, ZERO) + doc.balance
    await withdraw_reminders(
        session, receivable_ids=[d.id for d in docs], reason="payment promised", now=now
    )
    await session.flush()
    return PromiseResult(
        docs[0].customer_name, [d.receivable.document_no for d in docs], promised_on, totals
    )


@dataclass(frozen=True)
class DisputeResult:
    customer_name: str
    document_nos: list[str]
    told: str | None
    # The person who recorded it decides it (the team's manager): their card is the decision.
    decides: bool = False


@dataclass(frozen=True)
class Disputed:
    """One disputed document on a dispute card."""

    dispute_id: int
    number: str
    balance: Decimal
    currency: str
    due_on: date


@dataclass(frozen=True)
class DisputeCard:
    """What the deciding manager is shown (the view ``collections.dispute_card``)."""

    rep: str
    customer: str
    reason: str
    documents: list[Disputed]


async def raise_dispute(
    session: AsyncSession,
    *,
    actor: Actor,
    render: Render,
    receivable_ids: Sequence[int],
    reason: str,
    now: datetime,
) -> DisputeResult:
    """The customer disputes these documents: reminders pause, and the team's manager gets the
    reason with a button to resolve it (the directors when the team has no manager)."""
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON:
        raise UserFacingError("collections.reason_too_short")
    if len(reason) > MAX_REASON:
        raise UserFacingError("collections.reason_too_long", limit=MAX_REASON)
    docs = await actionable(session, actor, receivable_ids)
    disputes: list[tuple[Dispute, Document]] = []
    for doc in docs:
        receivable = doc.receivable
        if receivable.status == ReceivableStatus.DISPUTED or await open_dispute(session, doc.id):
            raise UserFacingError("collections.already_disputed", number=receivable.document_no)
        dispute = Dispute(
            receivable_id=doc.id, reason=reason, raised_by_id=actor.user_id, raised_at=now
        )
        session.add(dispute)
        set_status(receivable, ReceivableStatus.DISPUTED, now)
        session.add(receivable)
        disputes.append((dispute, doc))
    await session.flush()
    for dispute, doc in disputes:
        audit.record(
            session, at=now, action="receivable.disputed", entity="receivable",
            entity_id=doc.id, actor_id=actor.user_id, before={"status": "open"},
            after={"status": "disputed", "dispute_id": dispute.id}, reason=reason,
        )  # fmt: skip
    await withdraw_reminders(
        session, receivable_ids=[d.id for d in docs], reason="disputed", now=now
    )
    deciders = await _deciders(session, docs[0].receivable.team_id)
    card = DisputeCard(
        rep=actor.display_name, customer=docs[0].customer_name, reason=reason,
        documents=[
            Disputed(dispute_id=dispute.id or 0, number=doc.receivable.document_no,
                     balance=doc.balance, currency=doc.receivable.currency,
                     due_on=doc.receivable.due_on)
            for dispute, doc in disputes
        ],
    )  # fmt: skip
    for person in deciders:
        await notices.send(
            session, render, view="collections.dispute_card", data=card, lang=person.language,
            key=f"dispute:{disputes[0][0].id}:to:{person.id}", chat_id=person.telegram_id,
            recipient_id=person.id, kind="dispute.card", now=now,
        )  # fmt: skip
    # A manager's own dispute comes to them as the decider: nobody else is "told".
    decides = any(person.id == actor.user_id for person in deciders)
    others = [person for person in deciders if person.id != actor.user_id]
    told = ", ".join(person.display_name for person in others) or None
    return DisputeResult(docs[0].customer_name, [d.receivable.document_no for d in docs], told,
                         decides=decides)  # fmt: skip


async def _deciders(session: AsyncSession, team_id: int) -> list[User]:
    """Who decides a dispute: the team's manager, or else every director."""
    manager = await team_manager(session, team_id)
    if manager is not None:
        return [manager]
    query = select(User).where(col(User.role) == Role.DIRECTOR, col(User.active).is_(True))
    return list((await session.exec(query.order_by(col(User.id)))).all())


@dataclass(frozen=True)
class Resolved:
    document_no: str
    customer_name: str
    already: bool


@dataclass(frozen=True)
class DisputeResolved:
    """What the rep is told when their dispute is resolved."""

    number: str
    customer: str
    manager: str


async def resolve_dispute(
    session: AsyncSession, *, actor: Actor, render: Render, dispute_id: int, now: datetime
) -> Resolved:
    """A manager (or a director) finds a dispute not valid: reminders of the document resume.
    (A valid one ends in a credit note or write-off: services.collection_adjustments.)"""
    dispute = await session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotAllowedError("collections.not_found")
    receivable = await get_visible(session, actor, dispute.receivable_id)
    if actor.role not in (Role.MANAGER, Role.DIRECTOR, Role.ADMIN):
        raise NotAllowedError()
    customer = await session.get(Customer, receivable.customer_id)
    name = customer.name if customer else ""
    if dispute.status != DisputeStatus.OPEN:
        return Resolved(receivable.document_no, name, already=True)
    waiting = select(Adjustment).where(
        col(Adjustment.dispute_id) == dispute.id,
        col(Adjustment.status) == AdjustmentStatus.PENDING,
    )
    if (await session.exec(waiting)).first() is not None:
        # A credit note or write-off waits for approval: its decision ends the dispute.
        raise UserFacingError("collections.adjustment_pending", number=receivable.document_no)
    dispute.status, dispute.resolved_at, dispute.resolved_by_id = (
        DisputeStatus.RESOLVED, now, actor.user_id,
    )  # fmt: skip
    dispute.outcome = "invalid"
    session.add(dispute)
    owed = (await documents(session, col(Receivable.id) == receivable.id, open_only=False))[0]
    status = ReceivableStatus.PAID if owed.balance <= 0 else ReceivableStatus.OPEN
    if receivable.status == ReceivableStatus.DISPUTED:
        set_status(receivable, status, now)
        session.add(receivable)
    audit.record(
        session, at=now, action="receivable.dispute_resolved", entity="receivable",
        entity_id=receivable.id, actor_id=actor.user_id, before={"status": "disputed"},
        after={"status": str(receivable.status), "dispute_id": dispute.id, "outcome": "invalid"},
    )  # fmt: skip
    owner = await session.get(User, receivable.owner_id) if receivable.owner_id else None
    if owner is not None and owner.active and owner.id != actor.user_id:
        await notices.send(
            session, render, view="collections.dispute_resolved",
            data=DisputeResolved(receivable.document_no, name, actor.display_name),
            lang=owner.language, key=f"dispute:{dispute.id}:resolved", chat_id=owner.telegram_id,
            recipient_id=owner.id, kind="dispute.resolved", now=now,
        )  # fmt: skip
    await session.flush()
    return Resolved(receivable.document_no, name, already=False)


@dataclass(frozen=True)
class ContactResult:
    customer_name: str
    document_nos: list[str]


async def record_contact(
    session: AsyncSession,
    *,
    actor: Actor,
    receivable_ids: Sequence[int],
    now: datetime,
    note: str | None = None,
) -> ContactResult:
    """The rep reached the customer without result: noted (last contact, what they learnt),
    schedule unchanged."""
    note = " ".join(note.split()) if note else None
    if note is not None and len(note) > MAX_NOTE:
        raise UserFacingError("collections.note_too_long", limit=MAX_NOTE)
    docs = await actionable(session, actor, receivable_ids)
    for doc in docs:
        session.add(
            CollectionContact(
                receivable_id=doc.id, customer_id=doc.receivable.customer_id,
                user_id=actor.user_id, contacted_at=now, note=note or None,
            )
        )  # fmt: skip
        audit.record(
            session, at=now, action="receivable.contacted", entity="receivable",
            entity_id=doc.id, actor_id=actor.user_id,
            after={"outcome": "no_result", "note": note or None},
        )  # fmt: skip
    await session.flush()
    return ContactResult(docs[0].customer_name, [d.receivable.document_no for d in docs])


# -- the dunning log ------------------------------------------------------------------------


async def _restore_steps(session: AsyncSession, reminder: DunningReminder) -> None:
    listed = {int(entry["id"]): entry for entry in reminder.documents}
    for receivable in (
        await session.exec(select(Receivable).where(col(Receivable.id).in_(list(listed))))
    ).all():
        entry = listed[receivable.id or 0]
        if receivable.reminded_step == entry["step"] and entry["step"] != entry["prev"]:
            receivable.reminded_step = entry["prev"]
            receivable.reminded_on = None
            receivable.dunning_round += 1
            session.add(receivable)


async def withdraw_reminders(
    session: AsyncSession, *, receivable_ids: Sequence[int], reason: str, now: datetime
) -> int:
    """Take back reminders not sent yet that list any of these documents.

    The other documents of a withdrawn reminder get their schedule state back (and a new
    round), so the next dunning run reminds them again with an up-to-date message.
    """
    if not receivable_ids:
        return 0
    wanted = set(receivable_ids)
    customers = (
        await session.exec(
            select(col(Receivable.customer_id)).where(col(Receivable.id).in_(wanted)).distinct()
        )
    ).all()
    query = (
        select(DunningReminder)
        .join(OutboxMessage, col(OutboxMessage.id) == col(DunningReminder.outbox_id))
        .where(
            col(DunningReminder.customer_id).in_(list(customers)),
            col(DunningReminder.status) == ReminderStatus.QUEUED,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
    )
    withdrawn = 0
    for reminder in (await session.exec(query)).all():
        listed = {int(entry["id"]): entry for entry in reminder.documents}
        if not wanted & set(listed) or reminder.status != ReminderStatus.QUEUED:
            continue
        await outbox.cancel_pending(session, key_prefix=f"{reminder.key}:", reason=reason)
        row = await session.get(OutboxMessage, reminder.outbox_id)
        if row is not None:
            # A digest lists several customers under a key of its own.
            await outbox.cancel_pending(session, key_prefix=row.idempotency_key, reason=reason)
            await session.refresh(row)
        if row is None or row.status != OutboxStatus.CANCELLED:
            continue  # the sender took it meanwhile: it goes out
        # Every customer of the withdrawn message goes back into the schedule.
        siblings = (
            await session.exec(
                select(DunningReminder).where(
                    col(DunningReminder.outbox_id) == row.id,
                    col(DunningReminder.status) == ReminderStatus.QUEUED,
                )
            )
        ).all()
        for withdrawn_reminder in siblings:
            withdrawn_reminder.status = ReminderStatus.WITHDRAWN
            session.add(withdrawn_reminder)
            withdrawn += 1
            await _restore_steps(session, withdrawn_reminder)
    return withdrawn
