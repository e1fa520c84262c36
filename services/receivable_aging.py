"""Open receivables by aging bucket (days overdue), per team, rep and currency, in SQL: what
/collections shows to a rep, a manager (their team) and a director (the company)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, true, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.money import ZERO, Money
from core.settings import Settings
from models.receivable import (
    Receivable,
    ReceivableStatus,
)
from models.team import Team
from models.user import User
from services.receivables import (
    BUCKETS,
    balance_column,
    paid_subquery,
)
from services.team_context import context_of


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
        today = context_of(team, settings, now).today
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
