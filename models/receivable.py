"""Collections: receivables, the payments, promises and disputes recorded against them, contacts,
the dunning log, and the twice-yearly reconciliation of balances with customers.

A receivable's balance is never stored: it is the amount less the sum of its payments.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.money import Money
from models.common import json_column


def money_column(*, nullable: bool = False) -> Any:
    return Column(Money(), nullable=nullable)


class ReceivableStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    # The customer disputes it: reminders pause until the manager resolves the dispute.
    DISPUTED = "disputed"
    # Nothing left to collect after a credit note or a write-off (not a payment).
    CLOSED = "closed"


class Receivable(SQLModel, table=True):
    __tablename__ = "receivables"
    __table_args__ = (
        Index("ix_receivables_team_status_due", "team_id", "status", "due_on"),
        # Numbers are unique within a team only, so that whether another team uses a number is
        # never visible (adding or importing it works the same as for an unused number).
        Index("uq_receivables_team_document_no", "team_id", "document_no", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    customer_id: int = Field(foreign_key="customers.id", index=True)
    # The rep who sold it and chases the payment.
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    # Invoice or contract number: identifies the receivable, so a re-import updates it.
    document_no: str = Field(max_length=64, index=True)
    amount: Decimal = Field(sa_column=money_column())
    currency: str = Field(max_length=3)
    issued_on: date
    due_on: date
    status: ReceivableStatus = Field(default=ReceivableStatus.OPEN, sa_type=String(16))
    # "import" (back-office file) or "chat" (/receivable).
    source: str = Field(default="import", max_length=16)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None = None
    # Dunning state: the step (days from the due date) this document was last listed at in a
    # reminder, and how many times it re-entered the schedule (after a broken promise, or a
    # reminder withdrawn before it was sent). Together they make each reminder happen once.
    reminded_step: int | None = None
    dunning_round: int = Field(default=0)
    # The day (team's timezone) it was last listed at a new step: the next step waits
    # collections.step_interval_days from it.
    reminded_on: date | None = None


class PaymentSource(StrEnum):
    CHAT = "chat"
    IMPORT = "import"


class Payment(SQLModel, table=True):
    __tablename__ = "receivable_payments"

    id: int | None = Field(default=None, primary_key=True)
    receivable_id: int = Field(foreign_key="receivables.id", index=True)
    amount: Decimal = Field(sa_column=money_column())
    # Indexed for the period's collected sum (the summary): migration 0019.
    paid_on: date = Field(index=True)
    recorded_by_id: int | None = Field(default=None, foreign_key="users.id")
    recorded_at: datetime
    source: PaymentSource = Field(default=PaymentSource.CHAT, sa_type=String(16))
    # How the money came (a code of collections.payment_methods: transfer, cash, 承兑汇票, ...).
    method: str | None = Field(default=None, max_length=32)
    # The Telegram file id of the receipt's photo, kept so the finance team can check it.
    receipt_file_id: str | None = Field(default=None, max_length=200)


class PromiseStatus(StrEnum):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"
    # Replaced by a newer promise for the same document.
    REPLACED = "replaced"


class Promise(SQLModel, table=True):
    """The customer promised to pay the balance by a date; reminders pause until then."""

    __tablename__ = "payment_promises"

    id: int | None = Field(default=None, primary_key=True)
    receivable_id: int = Field(foreign_key="receivables.id", index=True)
    promised_on: date
    # The balance when the promise was made.
    amount: Decimal = Field(sa_column=money_column())
    status: PromiseStatus = Field(default=PromiseStatus.OPEN, sa_type=String(16))
    recorded_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime
    resolved_at: datetime | None = None


class DisputeStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Dispute(SQLModel, table=True):
    """The customer disputes a document; the manager decides, reminders pause meanwhile."""

    __tablename__ = "receivable_disputes"

    id: int | None = Field(default=None, primary_key=True)
    receivable_id: int = Field(foreign_key="receivables.id", index=True)
    reason: str = Field(max_length=1000)
    status: DisputeStatus = Field(default=DisputeStatus.OPEN, sa_type=String(16))
    raised_by_id: int | None = Field(default=None, foreign_key="users.id")
    raised_at: datetime
    resolved_by_id: int | None = Field(default=None, foreign_key="users.id")
    resolved_at: datetime | None = None
    # How it ended: "invalid" (reminders resume), "credit_note" or "write_off".
    outcome: str | None = Field(default=None, max_length=16)


class AdjustmentKind(StrEnum):
    # 红字发票: the invoice is reduced, the customer owes less.
    CREDIT_NOTE = "credit_note"
    # 坏账核销: the company gives up collecting the amount.
    WRITE_OFF = "write_off"


class AdjustmentStatus(StrEnum):
    # Waiting for the approval request named by ``approval_request_id``.
    PENDING = "pending"
    APPLIED = "applied"
    # The approval was refused or withdrawn: the dispute stays open.
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Adjustment(SQLModel, table=True):
    """A credit note or a write-off ending a valid dispute. Once applied it lowers what is
    outstanding like a payment does, but it is no money collected: collected figures read
    payments only."""

    __tablename__ = "receivable_adjustments"

    id: int | None = Field(default=None, primary_key=True)
    receivable_id: int = Field(foreign_key="receivables.id", index=True)
    dispute_id: int | None = Field(default=None, foreign_key="receivable_disputes.id")
    kind: AdjustmentKind = Field(sa_type=String(16))
    amount: Decimal = Field(sa_column=money_column())
    currency: str = Field(max_length=3)
    reason: str = Field(max_length=1000)
    status: AdjustmentStatus = Field(default=AdjustmentStatus.PENDING, sa_type=String(16))
    approval_request_id: int | None = Field(
        default=None, foreign_key="approval_requests.id", index=True
    )
    requested_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime
    # Who applied it (the manager at once, or the last approver) and the team's day it counts.
    applied_by_id: int | None = Field(default=None, foreign_key="users.id")
    applied_at: datetime | None = None
    applied_on: date | None = None


class CollectionContact(SQLModel, table=True):
    """The rep contacted the customer about a document, without result."""

    __tablename__ = "collection_contacts"

    id: int | None = Field(default=None, primary_key=True)
    receivable_id: int = Field(foreign_key="receivables.id", index=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    outcome: str = Field(default="no_result", max_length=16)
    # What the rep learnt ("finance is away until Monday"), when they said.
    note: str | None = Field(default=None, max_length=500)
    contacted_at: datetime


class ReminderStatus(StrEnum):
    QUEUED = "queued"
    # Taken back before it was sent (a listed document was paid, promised or disputed).
    WITHDRAWN = "withdrawn"


class DunningReminder(SQLModel, table=True):
    """One reminder of the dunning schedule: a customer's documents at one step, to their rep."""

    __tablename__ = "dunning_reminders"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    customer_id: int = Field(foreign_key="customers.id", index=True)
    recipient_id: int | None = Field(default=None, foreign_key="users.id")
    step_days: int
    tone: str = Field(max_length=16)
    run_on: date
    # The outbox idempotency key of the rep's message; copies to managers extend it.
    key: str = Field(sa_column=Column(String(200), unique=True, nullable=False))
    outbox_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("outbox.id"), nullable=True)
    )
    # [{"id": receivable id, "step": its step, "prev": its reminded_step before}]
    documents: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    status: ReminderStatus = Field(default=ReminderStatus.QUEUED, sa_type=String(16))
    created_at: datetime


class ReconciliationStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    # The customer's figure differs; recorded for the manager.
    DIFFERENCE = "difference"


class ReconciliationItem(SQLModel, table=True):
    """A customer's open balance that a rep reconciles with the customer (twice a year)."""

    __tablename__ = "reconciliation_items"
    __table_args__ = (
        UniqueConstraint(
            "period", "customer_id", "rep_id", "currency", name="uq_reconciliation_item"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id", index=True)
    # The month of the run, e.g. "2026-12".
    period: str = Field(max_length=16)
    customer_id: int = Field(foreign_key="customers.id")
    rep_id: int = Field(foreign_key="users.id", index=True)
    currency: str = Field(max_length=3)
    balance: Decimal = Field(sa_column=money_column())
    status: ReconciliationStatus = Field(default=ReconciliationStatus.PENDING, sa_type=String(16))
    customer_balance: Decimal | None = Field(default=None, sa_column=money_column(nullable=True))
    note: str | None = Field(default=None, max_length=500)
    answered_at: datetime | None = None
    created_at: datetime
