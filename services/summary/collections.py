"""The collections area's share of the meeting summary: collected in the period, the open
balance by aging bucket, and broken promises. Money figures are in the team's currency
(``[collections] currency``); receivables in other currencies are left out of these sums."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.money import Money
from models.customer import Customer
from models.receivable import (
    Adjustment,
    AdjustmentStatus,
    Payment,
    Promise,
    PromiseStatus,
    Receivable,
)
from models.user import User
from services.receivable_aging import bucket_column
from services.receivables import owed_column
from services.summary.core import Contributor, Metric, Sheet, Value, Window, contribute

BUCKETS = ("0-30", "31-60", "61-90", "90+")
METRICS = (
    Metric("collected", format="money"),
    Metric("open_balance", format="money", trend=False),
    Metric("overdue_0-30", format="money", trend=False, quiet_zero=True),
    Metric("overdue_31-60", format="money", trend=False, quiet_zero=True),
    Metric("overdue_61-90", format="money", trend=False, quiet_zero=True),
    Metric("overdue_90+", format="money", trend=False, quiet_zero=True),
    Metric("broken_promises"),
)


def as_of(window: Window) -> date:
    """The day balances are taken at: the period's last day, or today for the current one."""
    return min(window.period.last, window.until.astimezone(window.tz).date())


def open_in(window: Window, balance: Any) -> tuple[ColumnElement[bool], ...]:
    """Receivables open at the period's end: issued within or before it (as /collections does,
    an invoice dated later this week counts) and not fully paid by then — a past week shows what
    was owed that week, not today's balances."""
    return (col(Receivable.issued_on) <= window.period.last, balance > 0)


# Rep ids per statement when teams are counted together: far below the bind-parameter limits
# of SQLite (32,766) and asyncpg (32,767).
IDS_PER_QUERY = 5_000


def _same_sums(window: Window) -> tuple[date, date, date, str]:
    """What this area's queries depend on besides the reps: windows equal in these (the same
    period of teams in one timezone and currency) are counted by the same statements."""
    return window.period.first, window.period.last, as_of(window), window.currency


async def per_reps(
    session: AsyncSession, scopes: list[tuple[Window, list[int]]]
) -> list[dict[int, dict[str, Value]]]:
    """:func:`per_rep` for several teams' windows, one set of statements for all the reps of
    windows with the same days and currency: a query about one team reads the period's
    payments and the receivables' payments about as long as one about every team."""
    reps: dict[tuple[date, date, date, str], tuple[Window, dict[int, None]]] = {}
    for window, rep_ids in scopes:
        reps.setdefault(_same_sums(window), (window, {}))[1].update(dict.fromkeys(rep_ids))
    counted: dict[tuple[date, date, date, str], dict[int, dict[str, Value]]] = {}
    for key, (window, ordered) in reps.items():
        ids = list(ordered)
        found = counted[key] = {}
        for at in range(0, len(ids), IDS_PER_QUERY):
            found.update(await _per_rep(session, window, ids[at : at + IDS_PER_QUERY]))
    shares: list[dict[int, dict[str, Value]]] = []
    for window, rep_ids in scopes:
        found = counted[_same_sums(window)]
        # As for one team: a rep with nothing to count reads as empty, not missing.
        shares.append(defaultdict(dict, {r: found[r] for r in rep_ids if r in found}))
    return shares


async def per_rep(
    session: AsyncSession, window: Window, rep_ids: list[int]
) -> dict[int, dict[str, Value]]:
    [found] = await per_reps(session, [(window, rep_ids)])
    return found


async def _per_rep(
    session: AsyncSession, window: Window, rep_ids: list[int]
) -> dict[int, dict[str, Value]]:
    found: dict[int, dict[str, Value]] = defaultdict(dict)
    if not rep_ids:
        return found
    currency = window.currency
    collected = await session.exec(
        select(col(Receivable.owner_id), type_coerce(func.sum(col(Payment.amount)), Money()))
        .select_from(Payment)
        .join(Receivable, col(Receivable.id) == col(Payment.receivable_id))
        .where(col(Receivable.owner_id).in_(rep_ids), col(Receivable.currency) == currency)
        .where(
            col(Payment.paid_on) >= window.period.first, col(Payment.paid_on) <= window.period.last
        )
        .group_by(col(Receivable.owner_id))
    )
    for rep_id, total in collected.all():
        if rep_id is not None:
            found[rep_id]["collected"] = Decimal(total or 0)
    for (rep_id, name), amount in (await open_balances(session, window, rep_ids)).items():
        values = found[rep_id]
        opened = values.get("open_balance", Decimal(0))
        assert isinstance(opened, Decimal)
        values["open_balance"] = opened + amount
        if name in BUCKETS:
            values[f"overdue_{name}"] = amount
    broken = await session.exec(
        select(col(Receivable.owner_id), func.count())
        .select_from(Promise)
        .join(Receivable, col(Receivable.id) == col(Promise.receivable_id))
        .where(col(Receivable.owner_id).in_(rep_ids))
        .where(col(Promise.status) == PromiseStatus.BROKEN)
        .where(
            col(Promise.promised_on) >= window.period.first,
            col(Promise.promised_on) <= window.period.last,
        )
        .group_by(col(Receivable.owner_id))
    )
    for rep_id, count in broken.all():
        if rep_id is not None:
            found[rep_id]["broken_promises"] = int(count)
    return found


async def open_balances(
    session: AsyncSession, window: Window, rep_ids: list[int]
) -> dict[tuple[int, str], Decimal]:
    """What each rep's customers still owed at the period's end, by aging bucket ("current"
    for what is not yet due)."""
    today = as_of(window)
    # Each receivable's balance once, from its payments joined and summed: one pass over the
    # payments for a whole company, index lookups for one team, where a correlated sum was
    # computed twice per receivable (in the filter and in the sum). Applied adjustments are
    # few: summed per receivable first, so that joining them multiplies no payment row.
    adjusted = (
        sa_select(
            col(Adjustment.receivable_id).label("receivable_id"),
            func.sum(col(Adjustment.amount)).label("adjusted"),
        )
        .where(
            col(Adjustment.status) == AdjustmentStatus.APPLIED,
            col(Adjustment.applied_on) <= today,
        )
        .group_by(col(Adjustment.receivable_id))
        .subquery("adjusted")
    )
    paid = func.coalesce(func.sum(col(Payment.amount)), 0)
    balance = type_coerce(
        col(Receivable.amount) - paid - func.coalesce(adjusted.c.adjusted, 0), Money()
    )
    issued, unpaid = open_in(window, balance)
    owed = (
        sa_select(
            col(Receivable.owner_id).label("owner_id"),
            bucket_column(today).label("bucket"),
            balance.label("balance"),
        )
        .select_from(Receivable)
        .join(
            Payment,
            (col(Payment.receivable_id) == col(Receivable.id)) & (col(Payment.paid_on) <= today),
            isouter=True,
        )
        .join(adjusted, adjusted.c.receivable_id == col(Receivable.id), isouter=True)
        .where(col(Receivable.owner_id).in_(rep_ids), col(Receivable.currency) == window.currency)
        .where(issued)
        .group_by(
            col(Receivable.id),
            col(Receivable.owner_id),
            col(Receivable.due_on),
            col(Receivable.amount),
            adjusted.c.adjusted,
        )
        .having(unpaid)
        .subquery("owed")
    )
    rows = await session.exec(
        sa_select(owed.c.owner_id, owed.c.bucket, func.sum(owed.c.balance)).group_by(  # type: ignore[call-overload]
            owed.c.owner_id, owed.c.bucket
        )
    )
    return {
        (rep_id, name): Decimal(total)
        for rep_id, name, total in rows.all()
        if rep_id is not None and total is not None
    }


async def details(session: AsyncSession, window: Window, rep_ids: list[int]) -> list[Sheet]:
    """Every receivable of the team open at the period's end, with what was still owed."""
    today = as_of(window)
    owed = owed_column(today)
    rows = await session.exec(
        sa_select(Receivable, Customer.name, User.display_name, owed.label("balance"))  # type: ignore[call-overload]
        .join(Customer, col(Customer.id) == col(Receivable.customer_id))
        .join(User, col(User.id) == col(Receivable.owner_id), isouter=True)
        .where(col(Receivable.team_id) == window.team_id)
        .where(*open_in(window, owed))
        .order_by(col(Receivable.due_on))
    )
    sheet = Sheet(
        "receivables",
        ["document", "customer", "rep", "amount", "balance",
         "currency", "due_on", "days_overdue", "status"],
        codes={"status": "summary.code.receivable_"},
    )  # fmt: skip
    for receivable, customer, rep, owed in rows.all():
        overdue = max(0, (today - receivable.due_on).days)
        sheet.rows.append(
            [
                receivable.document_no,
                customer,
                rep or "",
                receivable.amount,
                owed,
                receivable.currency,
                receivable.due_on,
                overdue,
                str(receivable.status),
            ]
        )
    return [sheet]


COLLECTIONS = contribute(
    Contributor("collections", METRICS, per_rep, details, order=40, per_reps=per_reps)
)
