"""Approvals: requests, the decision of each approver level, attachments, the copies of the
approval card sent to approvers, and delegations of a manager's approvals."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.common import json_column


class RequestStatus(StrEnum):
    # Waiting for the approvers of the current step.
    PENDING = "pending"
    # An approver asked the requester for more information; the step waits for the answer.
    INFO = "info"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def open(self) -> bool:
        return self in (RequestStatus.PENDING, RequestStatus.INFO)


class StepStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    # Nobody decided within the escalation time: the next level took over.
    ESCALATED = "escalated"
    WITHDRAWN = "withdrawn"


class ApprovalRequest(SQLModel, table=True):
    __tablename__ = "approval_requests"
    __table_args__ = (
        Index("ix_approval_requests_status_team", "status", "team_id"),
        Index("ix_approval_requests_requester_type", "requester_id", "type", "status"),
        UniqueConstraint("team_id", "number", name="uq_approval_requests_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    requester_id: int = Field(foreign_key="users.id")
    # A key of services.approval_types.TYPES.
    type: str = Field(max_length=32)
    status: RequestStatus = Field(default=RequestStatus.PENDING, sa_type=String(16))
    currency: str = Field(max_length=3)
    # The amount that routes the request, exactly, in minor units (fen); None for no amount.
    amount_minor: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # Discount in hundredths of a percent (1550 = 15.50 %), for discount requests.
    discount_bp: int | None = None
    customer_id: int | None = Field(default=None, foreign_key="customers.id", index=True)
    # The typed values by field name: amounts as exact decimal strings, dates as ISO dates.
    details: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    # The approver levels ("manager", "director") in order; escalation may append one.
    chain: list[str] = Field(default_factory=list, sa_column=json_column())
    # Index into ``chain`` of the level deciding now (or that decided last).
    step_no: int = 0
    # Bumped by every change: decisions are conditional updates on it, so exactly one wins.
    version: int = 1
    created_at: datetime = Field(index=True)
    updated_at: datetime
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
    # The number people say on the phone: "2026-0042", per team and calendar year, in order of
    # submission (services.approval_numbers); None only for requests made before numbers.
    number: str | None = Field(default=None, max_length=16)

    @property
    def label(self) -> str:
        """How texts name the request: its number, else (older requests) its id."""
        return self.number or str(self.id)


class ApprovalCounter(SQLModel, table=True):
    """The last request number given per team and year; incremented under the row's lock."""

    __tablename__ = "approval_counters"

    team_id: int = Field(foreign_key="teams.id", primary_key=True)
    year: int = Field(primary_key=True)
    last: int = 0


class ApprovalStep(SQLModel, table=True):
    """One approver level of one request, once the request reached it."""

    __tablename__ = "approval_steps"
    __table_args__ = (UniqueConstraint("request_id", "step_no", name="uq_approval_steps_no"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="approval_requests.id", index=True)
    step_no: int
    level: str = Field(max_length=16)
    status: StepStatus = Field(default=StepStatus.PENDING, sa_type=String(16))
    # When the level started waiting; an answer to a question restarts the wait.
    waiting_since: datetime
    reminded_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = None
    reason: str = Field(default="", max_length=1000)
    # Set by a transfer (转交): only this person decides the step, instead of the level's
    # approvers.
    assignee_id: int | None = Field(default=None, foreign_key="users.id")


class ApprovalCc(SQLModel, table=True):
    """Someone who gets a read-only copy of a request and is told its outcome (抄送): from the
    type's [approvals.cc] roles, or chosen by the requester."""

    __tablename__ = "approval_cc"
    __table_args__ = (UniqueConstraint("request_id", "user_id", name="uq_approval_cc_user"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="approval_requests.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    # "config" (the type's roles) or "chosen" (by the requester).
    source: str = Field(max_length=16)
    created_at: datetime


class ApprovalAttachment(SQLModel, table=True):
    __tablename__ = "approval_attachments"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="approval_requests.id", index=True)
    # "photo" or "document"; Telegram's file_id is enough to send it to the approvers.
    kind: str = Field(max_length=16)
    file_id: str = Field(max_length=256)
    file_name: str | None = Field(default=None, max_length=128)
    created_at: datetime


class ApprovalCard(SQLModel, table=True):
    """A copy of a request's card in someone's chat, edited through the outbox on every change."""

    __tablename__ = "approval_cards"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="approval_requests.id", index=True)
    recipient_id: int = Field(foreign_key="users.id")
    outbox_id: int = Field(foreign_key="outbox.id")
    step_no: int
    # Why it was sent: "card", "reminder", "answer", "escalated", "delegated", "pending", or
    # "submitted": the requester's own confirmation, sent as a reply and kept to be edited too.
    kind: str = Field(max_length=16)
    created_at: datetime


class Delegation(SQLModel, table=True):
    """A manager's approvals handed to another manager or a director until a date."""

    __tablename__ = "approval_delegations"

    id: int | None = Field(default=None, primary_key=True)
    manager_id: int = Field(foreign_key="users.id", index=True)
    delegate_id: int = Field(foreign_key="users.id", index=True)
    team_id: int = Field(foreign_key="teams.id")
    # The last day (team timezone) of the delegation; it ends at the following midnight.
    until: date
    starts_at: datetime
    ends_at: datetime = Field(index=True)
    created_at: datetime
    # Set when it ended: by itself ("expired"), by the manager ("ended"), or by a new one
    # ("replaced"); the end notices go out in the same transaction.
    ended_at: datetime | None = None
    end_reason: str | None = Field(default=None, max_length=16)
