"""The company's invoice rule: an invoice is issued only once enough of its contract is collected.

An invoice request shows the collected share of its contract; below the team's minimum
(`[collections] invoice_min_collected_percent`, 60 %) it is marked on the approver's card, or
refused when `refuse_invoice_below` is set. Discount cards show the customer's open balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import func, type_coerce
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.money import Money
from core.settings import Settings
from models.receivable import (
    Receivable,
    ReceivableStatus,
)
from models.team import Team
from services.receivables import balance_column, paid_column, paid_subquery


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


async def collected_share(session: AsyncSession, receivable_id: int) -> CollectedShare | None:
    """The collected share of a contract (or any receivable)."""
    paid = paid_subquery()
    query = (
        select(Receivable, paid_column(paid))
        .outerjoin(paid, paid.c.receivable_id == col(Receivable.id))
        .where(col(Receivable.id) == receivable_id)
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
    # Numbers are unique per team only: the customer (when given) says which team's contract.
    query = select(Receivable).where(col(Receivable.document_no) == contract_no.strip())
    if customer_id is not None:
        query = query.where(col(Receivable.customer_id) == customer_id)
    receivable = (await session.exec(query.order_by(col(Receivable.id)))).first()
    if receivable is None or receivable.id is None:
        return None
    share = await collected_share(session, receivable.id)
    assert share is not None
    team = await session.get(Team, receivable.team_id)
    rules = settings.team(team.key if team else "").collections
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
