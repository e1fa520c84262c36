"""Reconciliation of open balances with the customers, twice a year.

On the reconciliation day (default the last working days of June and December) each rep gets the
list of their customers with an open balance. For each one the rep confirms the balance with the
customer, or records the customer's figure: a difference goes to the team's manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from core.money import Money
from models.common import Role
from models.customer import Customer
from models.receivable import (
    Receivable,
    ReceivableStatus,
    ReconciliationItem,
    ReconciliationStatus,
)
from models.user import User
from services import audit, notices
from services.notices import Render
from services.receivables import balance_column, paid_subquery
from services.team_context import TeamContext
from services.users import Actor, team_manager

MAX_NOTE = 500


@dataclass(frozen=True)
class ReconciliationRun:
    items: int
    reps: int


@dataclass(frozen=True)
class ToReconcile:
    item_id: int
    customer: str
    balance: Decimal
    currency: str


@dataclass(frozen=True)
class ReconcileList:
    """A rep's balances to reconcile (the view ``collections.reconcile_list``)."""

    period: str
    items: list[ToReconcile]


async def start_reconciliation(
    session: AsyncSession, *, render: Render, team: TeamContext, period: str, now: datetime
) -> ReconciliationRun:
    """List each customer's open balance for its rep (the manager when the rep is gone) and
    send every rep their list, once per period."""
    paid = paid_subquery()
    balance = balance_column(paid)
    query = (
        sa_select(
            col(Receivable.customer_id),
            col(Receivable.owner_id),
            col(Receivable.currency),
            type_coerce(func.sum(balance), Money()),
        )
        .outerjoin(paid, paid.c.receivable_id == col(Receivable.id))
        .where(
            col(Receivable.team_id) == team.team_id,
            col(Receivable.status) != ReceivableStatus.PAID,
            balance > 0,
        )
        .group_by(col(Receivable.customer_id), col(Receivable.owner_id), col(Receivable.currency))
    )
    rows = (await session.exec(query)).all()  # type: ignore[call-overload]
    manager = await team_manager(session, team.team_id)
    people: dict[int, User | None] = {}
    per_rep: dict[int, User] = {}
    created = 0
    for customer_id, owner_id, currency, total in rows:
        if owner_id is not None and owner_id not in people:
            people[owner_id] = await session.get(User, owner_id)
        owner = people.get(owner_id) if owner_id is not None else None
        rep = owner if owner is not None and owner.active else manager
        if rep is None or rep.id is None:
            continue
        existing = (
            await session.exec(
                select(ReconciliationItem).where(
                    col(ReconciliationItem.period) == period,
                    col(ReconciliationItem.customer_id) == customer_id,
                    col(ReconciliationItem.rep_id) == rep.id,
                    col(ReconciliationItem.currency) == currency,
                )
            )
        ).first()
        if existing is None:
            session.add(
                ReconciliationItem(
                    team_id=team.team_id, period=period, customer_id=customer_id, rep_id=rep.id,
                    currency=currency, balance=total, created_at=now,
                )
            )  # fmt: skip
            created += 1
        per_rep[rep.id] = rep
    await session.flush()
    for rep_id, rep in per_rep.items():
        items = await _items(session, rep_id=rep_id, period=period)
        shown = ReconcileList(period, [
            ToReconcile(item.id or 0, name, item.balance, item.currency) for item, name in items
        ])  # fmt: skip
        await notices.send(
            session, render, view="collections.reconcile_list", data=shown, lang=rep.language,
            key=f"recon:{team.team_id}:{period}:{rep_id}", chat_id=rep.telegram_id,
            recipient_id=rep_id, kind="reconciliation.list", now=now,
        )  # fmt: skip
    return ReconciliationRun(items=created, reps=len(per_rep))


async def _items(
    session: AsyncSession,
    *,
    rep_id: int,
    period: str | None = None,
    pending_only: bool = False,
) -> list[tuple[ReconciliationItem, str]]:
    query = (
        select(ReconciliationItem, col(Customer.name))
        .join(Customer, col(Customer.id) == col(ReconciliationItem.customer_id))
        .where(col(ReconciliationItem.rep_id) == rep_id)
        .order_by(col(Customer.name), col(ReconciliationItem.id))
    )
    if period is not None:
        query = query.where(col(ReconciliationItem.period) == period)
    if pending_only:
        query = query.where(col(ReconciliationItem.status) == ReconciliationStatus.PENDING)
    return [(item, name) for item, name in (await session.exec(query)).all()]


async def pending_items(
    session: AsyncSession, actor: Actor
) -> list[tuple[ReconciliationItem, str]]:
    """The actor's balances still to reconcile."""
    return await _items(session, rep_id=actor.user_id, pending_only=True)


async def get_item(
    session: AsyncSession, actor: Actor, item_id: int
) -> tuple[ReconciliationItem, str]:
    """An item the actor may answer: their own, or their team's for a manager."""
    item = await session.get(ReconciliationItem, item_id)
    allowed = item is not None and (
        item.rep_id == actor.user_id
        or actor.role is Role.ADMIN
        or (actor.role is Role.MANAGER and item.team_id == actor.team_id)
    )
    if item is None or not allowed:
        raise NotAllowedError("collections.not_found")
    customer = await session.get(Customer, item.customer_id)
    return item, customer.name if customer else ""


async def confirm_item(
    session: AsyncSession, *, actor: Actor, item_id: int, now: datetime
) -> tuple[ReconciliationItem, str]:
    """The customer confirmed the balance."""
    item, name = await get_item(session, actor, item_id)
    if item.status != ReconciliationStatus.PENDING:
        raise UserFacingError("collections.recon_answered")
    item.status, item.answered_at = ReconciliationStatus.CONFIRMED, now
    session.add(item)
    audit.record(
        session, at=now, action="reconciliation.confirmed", entity="reconciliation",
        entity_id=item.id, actor_id=actor.user_id, after={"balance": str(item.balance)},
    )  # fmt: skip
    return item, name


@dataclass(frozen=True)
class Difference:
    """What the manager is told about a customer's different figure."""

    rep: str
    customer: str
    ours: Decimal
    theirs: Decimal
    currency: str
    note: str | None


async def record_difference(
    session: AsyncSession,
    *,
    actor: Actor,
    render: Render,
    item_id: int,
    customer_balance: Decimal,
    note: str | None,
    now: datetime,
) -> tuple[ReconciliationItem, str]:
    """The customer's figure differs: recorded, and the manager is told. The same figure as
    ours counts as a confirmation."""
    item, name = await get_item(session, actor, item_id)
    if item.status != ReconciliationStatus.PENDING:
        raise UserFacingError("collections.recon_answered")
    if customer_balance < 0:
        raise UserFacingError("collections.amount_negative")
    if customer_balance == item.balance:
        return await confirm_item(session, actor=actor, item_id=item_id, now=now)
    note = " ".join((note or "").split())[:MAX_NOTE] or None
    item.status, item.answered_at = ReconciliationStatus.DIFFERENCE, now
    item.customer_balance, item.note = customer_balance, note
    session.add(item)
    audit.record(
        session, at=now, action="reconciliation.difference", entity="reconciliation",
        entity_id=item.id, actor_id=actor.user_id,
        before={"balance": str(item.balance)},
        after={"customer_balance": str(customer_balance)}, reason=note or "",
    )  # fmt: skip
    manager = await team_manager(session, item.team_id)
    if manager is not None and manager.id != actor.user_id:
        shown = Difference(actor.display_name, name, item.balance, customer_balance,
                           item.currency, note)  # fmt: skip
        await notices.send(
            session, render, view="collections.reconcile_difference", data=shown,
            lang=manager.language, key=f"recon-diff:{item.id}", chat_id=manager.telegram_id,
            recipient_id=manager.id, kind="reconciliation.difference", now=now,
        )  # fmt: skip
    return item, name
