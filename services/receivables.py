"""Receivables: who sees them, their balances (derived from payments, in SQL), the documents of
a customer or a reminder, and adding one in chat.

A rep sees the receivables they own; a manager their team's; directors and admins every team's.
Every id from a button goes through :func:`get_visible`, so a forged id never reaches another
team's receivable. A balance is the amount less the sum of its payments. What a rep records
against them is in :mod:`services.collection_actions`, the aging views in :mod:`services.aging`
and the invoice rule in :mod:`services.invoice_rule`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    exists,
    false,
    func,
    literal_column,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from core.money import ZERO, Money
from models.common import Role
from models.customer import Customer
from models.receivable import (
    Adjustment,
    AdjustmentStatus,
    CollectionContact,
    Dispute,
    DisputeStatus,
    DunningReminder,
    Payment,
    Promise,
    PromiseStatus,
    Receivable,
    ReceivableStatus,
)
from models.team import Team
from models.user import User
from models.visit import Visit
from services import audit
from services.users import Actor

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
    """The receivable with this document number among those the actor may see ("not found"
    alike for a number that does not exist and one of somebody else's)."""
    query = (
        select(Receivable)
        .where(col(Receivable.document_no) == document_no.strip(), visibility(actor))
        .order_by(col(Receivable.id))
    )
    found = (await session.exec(query)).first()
    if found is None:
        raise NotAllowedError("collections.not_found")
    return found


async def visible_team(session: AsyncSession, actor: Actor, team_id: int) -> Team:
    """A team whose receivables the actor may see: their own, or any for leaders."""
    team = await session.get(Team, team_id)
    if team is None or (not actor.sees_all_teams() and team.id != actor.team_id):
        raise NotAllowedError("collections.not_found")
    return team


async def find_by_number(
    session: AsyncSession, document_no: str, team_id: int
) -> Receivable | None:
    """The team's receivable with this number (numbers are unique within a team)."""
    query = select(Receivable).where(
        col(Receivable.document_no) == document_no.strip(), col(Receivable.team_id) == team_id
    )
    return (await session.exec(query)).first()


# -- balances, in SQL -----------------------------------------------------------------------


def paid_subquery(until: date | None = None) -> Subquery:
    """Per receivable: the sum of its payments (``paid``) and of its applied credit notes and
    write-offs (``adjusted``), counted on or before ``until`` when given. Both lower the
    balance; only ``paid`` is money collected."""
    payments: Any = sa_select(
        col(Payment.receivable_id).label("receivable_id"),
        col(Payment.amount).label("paid"),
        literal_column("0").label("adjusted"),
    )
    adjustments: Any = sa_select(
        col(Adjustment.receivable_id).label("receivable_id"),
        literal_column("0").label("paid"),
        col(Adjustment.amount).label("adjusted"),
    ).where(col(Adjustment.status) == AdjustmentStatus.APPLIED)
    if until is not None:
        payments = payments.where(col(Payment.paid_on) <= until)
        adjustments = adjustments.where(col(Adjustment.applied_on) <= until)
    both = union_all(payments, adjustments).subquery("settled")
    return (
        sa_select(
            both.c.receivable_id,
            func.sum(both.c.paid).label("paid"),
            func.sum(both.c.adjusted).label("adjusted"),
        )
        .group_by(both.c.receivable_id)
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


def adjusted_column(paid: Subquery) -> Any:
    return type_coerce(func.coalesce(paid.c.adjusted, 0), Money())


def balance_column(paid: Subquery) -> Any:
    """What is still owed: the amount less payments, credit notes and write-offs."""
    settled = func.coalesce(paid.c.paid, 0) + func.coalesce(paid.c.adjusted, 0)
    return type_coerce(col(Receivable.amount) - settled, Money())


def owed_column(until: date | None) -> Any:
    """What was still owed on each receivable at the end of ``until`` (None: now): the same
    figure as :func:`balance_column` over ``paid_subquery(until)``, as a correlated subquery.
    Summing every payment of the database for a query about one team's receivables (as the
    join does) costs the whole payments table per query; this reads only the payments of the
    rows asked about, through the payments' receivable index."""
    paid_where = [col(Payment.receivable_id) == col(Receivable.id)]
    adjusted_where = [
        col(Adjustment.receivable_id) == col(Receivable.id),
        col(Adjustment.status) == AdjustmentStatus.APPLIED,
    ]
    if until is not None:
        paid_where.append(col(Payment.paid_on) <= until)
        adjusted_where.append(col(Adjustment.applied_on) <= until)
    paid = (
        select(func.coalesce(func.sum(col(Payment.amount)), 0))
        .where(*paid_where)
        .correlate(Receivable)
        .scalar_subquery()
    )
    adjusted = (
        select(func.coalesce(func.sum(col(Adjustment.amount)), 0))
        .where(*adjusted_where)
        .correlate(Receivable)
        .scalar_subquery()
    )
    return type_coerce(col(Receivable.amount) - paid - adjusted, Money())


@dataclass(frozen=True)
class Document:
    """A receivable with its customer, what was paid and what is still owed."""

    receivable: Receivable
    customer_name: str
    paid: Decimal
    balance: Decimal
    promised_on: date | None
    # Credit notes and write-offs applied (not money collected).
    adjusted: Decimal = ZERO

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
        select(  # type: ignore[call-overload]
            Receivable,
            col(Customer.name),
            balance,
            promise.c.promised_on,
            paid_column(paid),
            adjusted_column(paid),
        )
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
        Document(receivable, name, collected, owed, promised, adjusted)
        for receivable, name, owed, promised, collected, adjusted in rows
    ]


def overdue_exists(customer_id: Any, today: Any) -> Any:
    """Whether the customer owes money past its due date (disputed documents aside), as an SQL
    condition: ``documents``' open rule (something still owed, not marked paid) over the
    customer's own documents only, read through the indexes rather than every payment."""
    return exists().where(
        col(Receivable.customer_id) == customer_id,
        col(Receivable.due_on) < today,
        col(Receivable.status).not_in((ReceivableStatus.DISPUTED, ReceivableStatus.PAID)),
        owed_column(None) > 0,
    )


async def document(session: AsyncSession, actor: Actor, receivable_id: int) -> Document:
    """One visible receivable with its balance, open or not."""
    await get_visible(session, actor, receivable_id)
    found = await documents(session, col(Receivable.id) == receivable_id, open_only=False)
    return found[0]


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
    if await find_by_number(session, values.document_no, actor.team_id) is not None:
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


# -- by customer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerBalance:
    """One customer's open documents of one owner: what they owe and how late, per currency."""

    customer_id: int
    name: str
    count: int
    totals: dict[str, Decimal]
    overdue: dict[str, Decimal]
    # Days the oldest open document is overdue (negative: the next due date is ahead).
    worst_days: int
    # A promised date passed unpaid on a document that has no new promise.
    broken_promise: bool
    disputed: bool

    def sort_key(self) -> tuple[int, int, Decimal, str]:
        """Worst first: a broken promise, then the most days overdue, then the most overdue."""
        return (not self.broken_promise, -self.worst_days, -sum(self.overdue.values(), ZERO),
                self.name)  # fmt: skip


async def _broken_promises(session: AsyncSession, docs: Sequence[Document]) -> set[int]:
    """The documents among ``docs`` whose promise was broken and not replaced by a new one."""
    unpromised = [doc.id for doc in docs if doc.promised_on is None]
    if not unpromised:
        return set()
    query = select(col(Promise.receivable_id)).where(
        col(Promise.receivable_id).in_(unpromised), col(Promise.status) == PromiseStatus.BROKEN
    )
    return set((await session.exec(query.distinct())).all())


async def customer_balances(
    session: AsyncSession, actor: Actor, owner_id: int, today: date
) -> tuple[User, list[CustomerBalance]]:
    """Every customer with open documents of ``owner_id`` (no limit: each one gets a line and a
    button, paged by the view), worst first."""
    owner = await visible_owner(session, actor, owner_id)
    docs = await documents(session, col(Receivable.owner_id) == owner_id)
    broken = await _broken_promises(session, docs)
    grouped: dict[int, list[Document]] = {}
    for doc in docs:
        grouped.setdefault(doc.receivable.customer_id, []).append(doc)
    found = []
    for customer_id, own in grouped.items():
        totals: dict[str, Decimal] = {}
        overdue: dict[str, Decimal] = {}
        for doc in own:
            currency = doc.receivable.currency
            totals[currency] = totals.get(currency, ZERO) + doc.balance
            if doc.days_overdue(today) > 0:
                overdue[currency] = overdue.get(currency, ZERO) + doc.balance
        found.append(
            CustomerBalance(
                customer_id=customer_id, name=own[0].customer_name, count=len(own),
                totals=totals, overdue=overdue,
                worst_days=max(doc.days_overdue(today) for doc in own),
                broken_promise=any(doc.id in broken for doc in own),
                disputed=any(doc.receivable.status == ReceivableStatus.DISPUTED for doc in own),
            )
        )  # fmt: skip
    found.sort(key=CustomerBalance.sort_key)
    return owner, found


async def customer_documents(
    session: AsyncSession, actor: Actor, owner_id: int, customer_id: int
) -> tuple[User, list[Document]]:
    """One customer's open documents of ``owner_id``, by due date (all of them)."""
    owner = await visible_owner(session, actor, owner_id)
    found = await documents(
        session, col(Receivable.owner_id) == owner_id,
        col(Receivable.customer_id) == customer_id, visibility(actor),
    )  # fmt: skip
    return owner, found
