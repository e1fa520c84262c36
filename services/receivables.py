"""Receivables: who sees them, their balances (derived from payments, in SQL), and what a rep
records against them in chat: payments, promises, disputes and contacts.

A rep sees the receivables they own; a manager their team's; directors and admins every team's.
Every id from a button goes through :func:`get_visible`, so a forged id never reaches another
team's receivable. A balance is the amount less the sum of its payments; payments above it are
refused, and a receivable paid in full leaves the dunning schedule at once (reminders not yet
sent are withdrawn).
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Subquery, case, false, func, true, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import Catalogs
from bot.settings import Settings, TeamSettings
from models.common import Role
from models.customer import Customer
from models.money import ZERO, Money
from models.outbox import OutboxMessage, OutboxStatus
from models.receivable import (
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
from models.team import Team
from models.user import User
from models.visit import Visit
from services import audit, outbox
from services.errors import NotAllowedError, UserFacingError
from services.money import money
from services.periods import format_short_day, local_today
from services.users import Actor, team_manager

MAX_REASON = 1000
MIN_REASON = 3
MAX_DOCUMENT_NO = 64
BUCKETS = ("current", "0-30", "31-60", "61-90", "90+")
OVERDUE_BUCKETS = BUCKETS[1:]


# -- visibility -----------------------------------------------------------------------------


def visibility(actor: Actor) -> ColumnElement[bool]:
    """The receivables an actor may see: a rep their own, a manager the team's, leaders all."""
    if actor.sees_all_teams():
        return true()
    if actor.role is Role.MANAGER and actor.team_id is not None:
        return col(Receivable.team_id) == actor.team_id
    if actor.role is Role.REP:
        return col(Receivable.owner_id) == actor.user_id
    return false()


def can_see(actor: Actor, receivable: Receivable) -> bool:
    if actor.sees_all_teams():
        return True
    if actor.role is Role.MANAGER:
        return actor.team_id is not None and receivable.team_id == actor.team_id
    return actor.role is Role.REP and receivable.owner_id == actor.user_id


async def get_visible(session: AsyncSession, actor: Actor, receivable_id: int) -> Receivable:
    """The receivable, if the actor may see it; otherwise "not found" (never "not yours")."""
    receivable = await session.get(Receivable, receivable_id)
    if receivable is None or not can_see(actor, receivable):
        raise NotAllowedError("collections.not_found")
    return receivable


async def visible_owner(session: AsyncSession, actor: Actor, user_id: int) -> User:
    """A person whose receivables the actor may list: themselves; a manager their team's
    people; directors and admins anyone."""
    user = await session.get(User, user_id)
    if user is not None and (
        user.id == actor.user_id
        or actor.sees_all_teams()
        or (actor.role is Role.MANAGER and user.team_id == actor.team_id)
    ):
        return user
    raise NotAllowedError("collections.not_found")


async def visible_by_number(session: AsyncSession, actor: Actor, document_no: str) -> Receivable:
    """The receivable with this document number, if the actor may see it."""
    found = await find_by_number(session, document_no)
    if found is None or not can_see(actor, found):
        raise NotAllowedError("collections.not_found")
    return found


async def visible_team(session: AsyncSession, actor: Actor, team_id: int) -> Team:
    """A team whose receivables the actor may see: their own, or any for leaders."""
    team = await session.get(Team, team_id)
    if team is None or (not actor.sees_all_teams() and team.id != actor.team_id):
        raise NotAllowedError("collections.not_found")
    return team


async def find_by_number(session: AsyncSession, document_no: str) -> Receivable | None:
    query = select(Receivable).where(col(Receivable.document_no) == document_no.strip())
    return (await session.exec(query)).first()


async def team_rules(session: AsyncSession, settings: Settings, team_id: int) -> TeamSettings:
    team = await session.get(Team, team_id)
    return settings.team(team.key if team else "")


# -- balances, in SQL -----------------------------------------------------------------------


def paid_subquery(until: date | None = None) -> Subquery:
    """Sum of payments per receivable (paid on or before ``until``, when given)."""
    paid_by = [] if until is None else [col(Payment.paid_on) <= until]
    return (
        select(
            col(Payment.receivable_id).label("receivable_id"),
            func.sum(col(Payment.amount)).label("paid"),
        )
        .where(*paid_by)
        .group_by(col(Payment.receivable_id))
        .subquery("paid")
    )


def open_promise_subquery() -> Subquery:
    """The date of each receivable's open promise."""
    return (
        select(
            col(Promise.receivable_id).label("receivable_id"),
            func.max(col(Promise.promised_on)).label("promised_on"),
        )
        .where(col(Promise.status) == PromiseStatus.OPEN)
        .group_by(col(Promise.receivable_id))
        .subquery("promise")
    )


def paid_column(paid: Subquery) -> Any:
    return type_coerce(func.coalesce(paid.c.paid, 0), Money())


def balance_column(paid: Subquery) -> Any:
    return type_coerce(col(Receivable.amount) - func.coalesce(paid.c.paid, 0), Money())


@dataclass(frozen=True)
class Document:
    """A receivable with its customer, what was paid and what is still owed."""

    receivable: Receivable
    customer_name: str
    paid: Decimal
    balance: Decimal
    promised_on: date | None

    @property
    def id(self) -> int:
        assert self.receivable.id is not None
        return self.receivable.id

    def days_overdue(self, today: date) -> int:
        return (today - self.receivable.due_on).days


async def documents(
    session: AsyncSession,
    *where: Any,
    open_only: bool = True,
    lock: bool = False,
    limit: int | None = None,
) -> list[Document]:
    """Receivables matching ``where`` with their balances, by due date (oldest first)."""
    paid = paid_subquery()
    promise = open_promise_subquery()
    balance = balance_column(paid)
    query = (
        select(Receivable, col(Customer.name), balance, promise.c.promised_on)
        .join(Customer, col(Customer.id) == col(Receivable.customer_id))
        .outerjoin(paid, paid.c.receivable_id == col(Receivable.id))
        .outerjoin(promise, promise.c.receivable_id == col(Receivable.id))
        .where(*where)
        .order_by(col(Receivable.due_on), col(Receivable.id))
    )
    if open_only:
        query = query.where(balance > 0, col(Receivable.status) != ReceivableStatus.PAID)
    if limit is not None:
        query = query.limit(limit)
    if lock:
        query = query.with_for_update(of=Receivable)  # type: ignore[arg-type]
    rows = (await session.exec(query)).all()
    return [
        Document(receivable, name, receivable.amount - owed, owed, promised)
        for receivable, name, owed, promised in rows
    ]


async def document(session: AsyncSession, actor: Actor, receivable_id: int) -> Document:
    """One visible receivable with its balance, open or not."""
    await get_visible(session, actor, receivable_id)
    found = await documents(session, col(Receivable.id) == receivable_id, open_only=False)
    return found[0]


async def open_documents_of(
    session: AsyncSession, actor: Actor, owner_id: int, limit: int
) -> tuple[User, list[Document]]:
    """A person's open receivables by due date, if the actor may list them."""
    owner = await visible_owner(session, actor, owner_id)
    found = await documents(session, col(Receivable.owner_id) == owner_id, limit=limit)
    return owner, found


async def reminder_documents(session: AsyncSession, reminder_id: int) -> list[int]:
    """The documents a reminder listed (each is re-checked when acted on)."""
    reminder = await session.get(DunningReminder, reminder_id)
    if reminder is None:
        raise NotAllowedError("collections.not_found")
    return [int(entry["id"]) for entry in reminder.documents]


async def payments_of(session: AsyncSession, receivable_id: int) -> list[Payment]:
    query = (
        select(Payment)
        .where(col(Payment.receivable_id) == receivable_id)
        .order_by(col(Payment.recorded_at), col(Payment.id))
    )
    return list((await session.exec(query)).all())


async def open_dispute(session: AsyncSession, receivable_id: int) -> Dispute | None:
    query = select(Dispute).where(
        col(Dispute.receivable_id) == receivable_id, col(Dispute.status) == DisputeStatus.OPEN
    )
    return (await session.exec(query)).first()


async def last_contacts(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, datetime]:
    """When someone last spoke to each customer: a visit, a contact, a payment or a promise."""
    if not customer_ids:
        return {}
    wanted = list(set(customer_ids))
    found: dict[int, datetime] = {}

    def keep(rows: Sequence[Any]) -> None:
        for customer_id, moment in rows:
            if moment is not None and (customer_id not in found or moment > found[customer_id]):
                found[customer_id] = moment

    visits = (
        select(col(Visit.customer_id), func.max(col(Visit.visited_at)))
        .where(col(Visit.customer_id).in_(wanted), col(Visit.deleted_at).is_(None))
        .group_by(col(Visit.customer_id))
    )
    keep((await session.exec(visits)).all())
    contacts = (
        select(col(CollectionContact.customer_id), func.max(col(CollectionContact.contacted_at)))
        .where(col(CollectionContact.customer_id).in_(wanted))
        .group_by(col(CollectionContact.customer_id))
    )
    keep((await session.exec(contacts)).all())
    payments = (
        select(col(Receivable.customer_id), func.max(col(Payment.recorded_at)))
        .join(Payment, col(Payment.receivable_id) == col(Receivable.id))
        .where(col(Receivable.customer_id).in_(wanted))
        .group_by(col(Receivable.customer_id))
    )
    keep((await session.exec(payments)).all())
    promises = (
        select(col(Receivable.customer_id), func.max(col(Promise.created_at)))
        .join(Promise, col(Promise.receivable_id) == col(Receivable.id))
        .where(col(Receivable.customer_id).in_(wanted))
        .group_by(col(Receivable.customer_id))
    )
    keep((await session.exec(promises)).all())
    return found


# -- creating in chat -----------------------------------------------------------------------


@dataclass(frozen=True)
class NewReceivable:
    customer_id: int
    document_no: str
    amount: Decimal
    currency: str
    issued_on: date
    due_on: date
    owner_id: int | None


def clean_document_no(raw: str) -> str:
    """A document number as typed: folded spaces; refused when empty or too long."""
    text = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not text:
        raise UserFacingError("collections.number_empty")
    if len(text) > MAX_DOCUMENT_NO:
        raise UserFacingError("collections.number_too_long", limit=MAX_DOCUMENT_NO)
    return text


def snapshot(receivable: Receivable) -> dict[str, Any]:
    return {
        "customer_id": receivable.customer_id, "owner_id": receivable.owner_id,
        "document_no": receivable.document_no, "amount": str(receivable.amount),
        "currency": receivable.currency, "issued_on": receivable.issued_on.isoformat(),
        "due_on": receivable.due_on.isoformat(), "status": str(receivable.status),
        "team_id": receivable.team_id,
    }  # fmt: skip


async def create_receivable(
    session: AsyncSession, *, actor: Actor, values: NewReceivable, now: datetime
) -> Receivable:
    """Add a receivable in chat: a rep for a customer of their team (owned by themselves), a
    manager for their team (owned by one of its people)."""
    if actor.role not in (Role.REP, Role.MANAGER) or actor.team_id is None:
        raise NotAllowedError()
    customer = await session.get(Customer, values.customer_id)
    if customer is None or customer.team_id != actor.team_id:
        raise NotAllowedError("customers.not_found")
    owner_id = actor.user_id if actor.role is Role.REP else values.owner_id
    if owner_id is not None:
        owner = await session.get(User, owner_id)
        if owner is None or not owner.active or owner.team_id != actor.team_id:
            raise UserFacingError("customers.owner_not_in_team")
    if values.amount <= 0:
        raise UserFacingError("collections.amount_not_positive")
    if values.due_on < values.issued_on:
        raise UserFacingError("collections.due_before_issue")
    if await find_by_number(session, values.document_no) is not None:
        raise UserFacingError("collections.number_exists", number=values.document_no)
    receivable = Receivable(
        team_id=actor.team_id, customer_id=customer.id or 0, owner_id=owner_id,
        document_no=values.document_no, amount=values.amount, currency=values.currency,
        issued_on=values.issued_on, due_on=values.due_on, source="chat",
        created_by_id=actor.user_id, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(receivable)
    await session.flush()
    audit.record(
        session, at=now, action="receivable.created", entity="receivable",
        entity_id=receivable.id, actor_id=actor.user_id, after=snapshot(receivable),
    )  # fmt: skip
    return receivable


# -- what a rep records ---------------------------------------------------------------------


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


def _set_status(receivable: Receivable, status: ReceivableStatus, now: datetime) -> None:
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

    @property
    def totals(self) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = {}
        for line in self.lines:
            sums[line.currency] = sums.get(line.currency, ZERO) + line.amount
        return sums


async def record_payment(
    session: AsyncSession,
    *,
    actor: Actor,
    settings: Settings,
    receivable_ids: Sequence[int],
    amount: Decimal | None,
    now: datetime,
) -> PaymentResult:
    """Record money collected: the whole balance (``amount`` None) or part of it.

    A partial amount over several documents pays the oldest first. More than the balance is
    refused, showing the balance; a document paid in full leaves the schedule at once.
    """
    docs = await actionable(session, actor, receivable_ids)
    currencies = {doc.receivable.currency for doc in docs}
    if amount is not None:
        if len(currencies) > 1:
            raise UserFacingError("collections.mixed_currencies")
        currency = currencies.pop()
        owed = sum((doc.balance for doc in docs), ZERO)
        if amount <= 0:
            raise UserFacingError("collections.amount_not_positive")
        if amount > owed:
            raise UserFacingError(
                "collections.overpayment",
                amount=money(amount, currency, actor.language),
                balance=money(owed, currency, actor.language),
            )
    rules = await team_rules(session, settings, docs[0].receivable.team_id)
    today = local_today(now, rules.timezone)
    remaining = amount
    lines: list[Paid] = []
    settled: list[int] = []
    for doc in docs:
        pay = doc.balance if remaining is None else min(remaining, doc.balance)
        if pay <= 0:
            continue
        if remaining is not None:
            remaining -= pay
        receivable = doc.receivable
        session.add(
            Payment(
                receivable_id=doc.id, amount=pay, paid_on=today, recorded_by_id=actor.user_id,
                recorded_at=now, source=PaymentSource.CHAT,
            )
        )  # fmt: skip
        balance = doc.balance - pay
        before = {"balance": str(doc.balance), "status": str(receivable.status)}
        if balance == 0:
            _set_status(receivable, ReceivableStatus.PAID, now)
            settled.append(doc.id)
            await _close_promises(session, doc.id, PromiseStatus.KEPT, now)
            await _close_disputes(session, doc.id, actor, now)
        session.add(receivable)
        audit.record(
            session, at=now, action="receivable.payment", entity="receivable", entity_id=doc.id,
            actor_id=actor.user_id, before=before,
            after={"paid": str(pay), "balance": str(balance), "status": str(receivable.status)},
        )  # fmt: skip
        lines.append(Paid(receivable.document_no, pay, balance, receivable.currency))
    withdrawn = await withdraw_reminders(
        session, receivable_ids=settled, reason="paid in full", now=now
    )
    await session.flush()
    return PaymentResult(docs[0].customer_name, lines, withdrawn)


async def _close_promises(
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
    rules = await team_rules(session, settings, docs[0].receivable.team_id)
    today = local_today(now, rules.timezone)
    if promised_on < today:
        raise UserFacingError("collections.promise_in_past")
    latest = today + timedelta(days=rules.collections.promise_max_days)
    if promised_on > latest:
        raise UserFacingError(
            "collections.promise_too_far", days=rules.collections.promise_max_days
        )
    totals: dict[str, Decimal] = {}
    for doc in docs:
        await _close_promises(session, doc.id, PromiseStatus.REPLACED, now)
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


async def raise_dispute(
    session: AsyncSession,
    *,
    actor: Actor,
    texts: Catalogs,
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
        _set_status(receivable, ReceivableStatus.DISPUTED, now)
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
    for person in deciders:
        lines = [
            texts.t(
                person.language, "collections.dispute_card",
                rep=html.escape(actor.display_name), customer=html.escape(docs[0].customer_name),
                reason=html.escape(reason),
            )
        ]  # fmt: skip
        buttons = []
        for dispute, doc in disputes:
            lines.append(_plain_line(texts, person.language, doc))
            label = texts.t(
                person.language, "collections.btn_resolve", number=doc.receivable.document_no
            )
            buttons.append([{"text": label[:60], "data": f"dn|x{dispute.id}|r"}])
        await outbox.enqueue(
            session, key=f"dispute:{disputes[0][0].id}:to:{person.id}",
            chat_id=person.telegram_id, recipient_id=person.id, kind="dispute.card",
            text="\n".join(lines), buttons=buttons, now=now,
        )  # fmt: skip
    told = ", ".join(person.display_name for person in deciders) or None
    return DisputeResult(docs[0].customer_name, [d.receivable.document_no for d in docs], told)


def _plain_line(texts: Catalogs, lang: str, doc: Document) -> str:
    receivable = doc.receivable
    return texts.t(
        lang, "collections.dispute_line", number=html.escape(receivable.document_no),
        balance=money(doc.balance, receivable.currency, lang),
        due=format_short_day(receivable.due_on, lang),
    )  # fmt: skip


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


async def resolve_dispute(
    session: AsyncSession, *, actor: Actor, texts: Catalogs, dispute_id: int, now: datetime
) -> Resolved:
    """A manager (or a director) settles a dispute: reminders of the document resume."""
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
    dispute.status, dispute.resolved_at, dispute.resolved_by_id = (
        DisputeStatus.RESOLVED, now, actor.user_id,
    )  # fmt: skip
    session.add(dispute)
    owed = (await documents(session, col(Receivable.id) == receivable.id, open_only=False))[0]
    status = ReceivableStatus.PAID if owed.balance <= 0 else ReceivableStatus.OPEN
    if receivable.status == ReceivableStatus.DISPUTED:
        _set_status(receivable, status, now)
        session.add(receivable)
    audit.record(
        session, at=now, action="receivable.dispute_resolved", entity="receivable",
        entity_id=receivable.id, actor_id=actor.user_id, before={"status": "disputed"},
        after={"status": str(receivable.status), "dispute_id": dispute.id},
    )  # fmt: skip
    owner = await session.get(User, receivable.owner_id) if receivable.owner_id else None
    if owner is not None and owner.active and owner.id != actor.user_id:
        await outbox.enqueue(
            session, key=f"dispute:{dispute.id}:resolved", chat_id=owner.telegram_id,
            recipient_id=owner.id, kind="dispute.resolved",
            text=texts.t(
                owner.language, "collections.dispute_resolved_rep",
                number=html.escape(receivable.document_no), customer=html.escape(name),
                manager=html.escape(actor.display_name),
            ),
            now=now,
        )  # fmt: skip
    await session.flush()
    return Resolved(receivable.document_no, name, already=False)


@dataclass(frozen=True)
class ContactResult:
    customer_name: str
    document_nos: list[str]


async def record_contact(
    session: AsyncSession, *, actor: Actor, receivable_ids: Sequence[int], now: datetime
) -> ContactResult:
    """The rep reached the customer without result: noted (last contact), schedule unchanged."""
    docs = await actionable(session, actor, receivable_ids)
    for doc in docs:
        session.add(
            CollectionContact(
                receivable_id=doc.id, customer_id=doc.receivable.customer_id,
                user_id=actor.user_id, contacted_at=now,
            )
        )  # fmt: skip
        audit.record(
            session, at=now, action="receivable.contacted", entity="receivable",
            entity_id=doc.id, actor_id=actor.user_id, after={"outcome": "no_result"},
        )  # fmt: skip
    await session.flush()
    return ContactResult(docs[0].customer_name, [d.receivable.document_no for d in docs])


# -- the dunning log ------------------------------------------------------------------------


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
        if not wanted & set(listed):
            continue
        await outbox.cancel_pending(session, key_prefix=f"{reminder.key}:", reason=reason)
        row = await session.get(OutboxMessage, reminder.outbox_id)
        if row is not None:
            await session.refresh(row)
        if row is None or row.status != OutboxStatus.CANCELLED:
            continue  # the sender took it meanwhile: it goes out
        reminder.status = ReminderStatus.WITHDRAWN
        session.add(reminder)
        withdrawn += 1
        for receivable in (
            await session.exec(select(Receivable).where(col(Receivable.id).in_(list(listed))))
        ).all():
            entry = listed[receivable.id or 0]
            if receivable.reminded_step == entry["step"]:
                receivable.reminded_step = entry["prev"]
                receivable.dunning_round += 1
                session.add(receivable)
    return withdrawn


# -- views: open lists, totals and aging ----------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose receivables a view covers: one rep's, one team's, or the company's."""

    rep_id: int | None = None
    team_id: int | None = None

    def condition(self) -> ColumnElement[bool]:
        if self.rep_id is not None:
            return col(Receivable.owner_id) == self.rep_id
        if self.team_id is not None:
            return col(Receivable.team_id) == self.team_id
        return true()


@dataclass
class Figures:
    """Open balances by currency, split into aging buckets, and the number of documents."""

    buckets: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    count: int = 0

    def add(self, currency: str, bucket: str, amount: Decimal, count: int) -> None:
        per = self.buckets.setdefault(currency, {})
        per[bucket] = per.get(bucket, ZERO) + amount
        self.count += count

    def totals(self, only: Sequence[str] = BUCKETS) -> dict[str, Decimal]:
        sums = {
            currency: sum((amounts.get(b, ZERO) for b in only), ZERO)
            for currency, amounts in self.buckets.items()
        }
        return {currency: amount for currency, amount in sums.items() if amount}

    def bucket(self, name: str) -> dict[str, Decimal]:
        return {
            currency: amounts[name]
            for currency, amounts in self.buckets.items()
            if amounts.get(name)
        }


@dataclass
class Aging:
    """A view's figures: in all, per team and per rep (None: receivables without owner)."""

    total: Figures = field(default_factory=Figures)
    teams: dict[int, Figures] = field(default_factory=dict)
    reps: dict[int | None, Figures] = field(default_factory=dict)
    rep_names: dict[int, str] = field(default_factory=dict)
    rep_teams: dict[int | None, int] = field(default_factory=dict)


def bucket_column(today: date) -> Any:
    """Aging bucket by days overdue: not yet due, 0-30, 31-60, 61-90, over 90."""
    return case(
        (col(Receivable.due_on) > today, "current"),
        (col(Receivable.due_on) >= today - timedelta(days=30), "0-30"),
        (col(Receivable.due_on) >= today - timedelta(days=60), "31-60"),
        (col(Receivable.due_on) >= today - timedelta(days=90), "61-90"),
        else_="90+",
    )


async def aging(session: AsyncSession, settings: Settings, scope: Scope, now: datetime) -> Aging:
    """Open balances grouped by team, rep, currency and aging bucket (SQL GROUP BY).

    Each team's days overdue count from today in that team's timezone.
    """
    team_query = select(Team)
    if scope.team_id is not None:
        team_query = team_query.where(col(Team.id) == scope.team_id)
    result = Aging()
    for team in (await session.exec(team_query.order_by(col(Team.id)))).all():
        assert team.id is not None
        today = local_today(now, settings.team(team.key).timezone)
        paid = paid_subquery()
        balance = balance_column(paid)
        bucket = bucket_column(today).label("bucket")
        query = (
            sa_select(
                col(Receivable.owner_id),
                col(Receivable.currency),
                bucket,
                type_coerce(func.sum(balance), Money()),
                func.count(),
            )
            .outerjoin(paid, paid.c.receivable_id == col(Receivable.id))
            .where(
                col(Receivable.team_id) == team.id,
                scope.condition(),
                col(Receivable.status) != ReceivableStatus.PAID,
                balance > 0,
            )
            .group_by(col(Receivable.owner_id), col(Receivable.currency), bucket)
        )
        rows = (await session.exec(query)).all()  # type: ignore[call-overload]
        for owner_id, currency, name, amount, count in rows:
            for figures in (
                result.total,
                result.teams.setdefault(team.id, Figures()),
                result.reps.setdefault(owner_id, Figures()),
            ):
                figures.add(currency, name, amount, int(count))
            result.rep_teams[owner_id] = team.id
    owners = [rep for rep in result.reps if rep is not None]
    if owners:
        rows = await session.exec(
            select(col(User.id), col(User.display_name)).where(col(User.id).in_(owners))
        )
        result.rep_names = {uid: name for uid, name in rows.all() if uid is not None}
    return result


# -- invoice requests (approvals) -----------------------------------------------------------


@dataclass(frozen=True)
class CollectedShare:
    """How much of a contract has been collected."""

    document_no: str
    amount: Decimal
    collected: Decimal
    currency: str

    @property
    def percent(self) -> Decimal:
        """The share in percent, rounded down to 0.1 (59.99 % shows as 59.9 %, not 60 %)."""
        if self.amount <= 0:
            return Decimal(100)
        return (self.collected * 100 / self.amount).quantize(Decimal("0.1"), rounding=ROUND_DOWN)

    @property
    def percent_text(self) -> str:
        """``59.9``, ``60``."""
        return format(self.percent.normalize(), "f")

    def below(self, percent: int) -> bool:
        """Exactly below ``percent`` (no rounding)."""
        return self.collected * 100 < self.amount * percent


@dataclass(frozen=True)
class InvoiceCheck:
    """The collected share shown on an invoice request, against the team's threshold."""

    share: CollectedShare
    threshold_percent: int
    below: bool
    refused: bool

    def text(self, texts: Catalogs, lang: str) -> str:
        share = self.share
        key = "collections.share_below" if self.below else "collections.share_ok"
        return texts.t(
            lang, key, number=html.escape(share.document_no), percent=share.percent_text,
            collected=money(share.collected, share.currency, lang),
            amount=money(share.amount, share.currency, lang), threshold=self.threshold_percent,
        )  # fmt: skip


async def collected_share(session: AsyncSession, document_no: str) -> CollectedShare | None:
    """The collected share of a contract (or any receivable) by its document number."""
    paid = paid_subquery()
    query = (
        select(Receivable, paid_column(paid))
        .outerjoin(paid, paid.c.receivable_id == col(Receivable.id))
        .where(col(Receivable.document_no) == document_no.strip())
    )
    row = (await session.exec(query)).first()
    if row is None:
        return None
    receivable, collected = row
    return CollectedShare(
        receivable.document_no, receivable.amount, collected, receivable.currency
    )


async def check_invoice_request(
    session: AsyncSession, settings: Settings, *, contract_no: str, customer_id: int | None = None
) -> InvoiceCheck | None:
    """For an invoice request on a contract: its collected share against the team's minimum
    (default 60 %). Below it the request is marked, or refused when the team's config says so.
    None when the contract is not a known receivable (of ``customer_id``, when given)."""
    receivable = await find_by_number(session, contract_no)
    if receivable is None or (customer_id is not None and receivable.customer_id != customer_id):
        return None
    share = await collected_share(session, contract_no)
    assert share is not None
    rules = (await team_rules(session, settings, receivable.team_id)).collections
    below = share.below(rules.invoice_min_collected_percent)
    return InvoiceCheck(
        share=share, threshold_percent=rules.invoice_min_collected_percent, below=below,
        refused=below and rules.refuse_invoice_below,
    )  # fmt: skip


async def customer_open_balance(
    session: AsyncSession, customer_id: int, currency: str
) -> Decimal | None:
    """What the customer still owes in ``currency`` over all unpaid receivables; None when
    they have none (the approval card then leaves the line out)."""
    paid = paid_subquery()
    query = (
        select(
            func.count(), type_coerce(func.coalesce(func.sum(balance_column(paid)), 0), Money())
        )
        .select_from(Receivable)
        .outerjoin(paid, paid.c.receivable_id == col(Receivable.id))
        .where(
            col(Receivable.customer_id) == customer_id,
            col(Receivable.currency) == currency,
            col(Receivable.status) != ReceivableStatus.PAID,
        )
    )
    count, total = (await session.exec(query)).one()
    return Decimal(total) if count else None


def refuse_if_below(check: InvoiceCheck | None, lang: str) -> None:
    """Raise the user-facing refusal when the team refuses invoices below the share."""
    if check is not None and check.refused:
        share = check.share
        raise UserFacingError(
            "collections.invoice_refused", number=share.document_no,
            percent=share.percent_text, threshold=check.threshold_percent,
            collected=money(share.collected, share.currency, lang),
            amount=money(share.amount, share.currency, lang),
        )  # fmt: skip
