"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from models.audit import AuditEntry
from models.common import Role
from models.customer import Customer, CustomerStatus, Tier
from models.form import FormState
from models.invite import Invite
from models.job_run import JobRun, RunStatus
from models.outbox import OutboxMessage, OutboxStatus, SenderLease
from models.plan import PlannedVisit, PlanSource
from models.receivable import (
    CollectionContact,
    Dispute,
    DisputeStatus,
    DunningReminder,
    Payment,
    Promise,
    PromiseStatus,
    Receivable,
    ReceivableStatus,
    ReconciliationItem,
    ReconciliationStatus,
)
from models.team import Team
from models.user import User
from models.visit import (
    AttachmentKind,
    CheckinSource,
    Visit,
    VisitAttachment,
    VisitKind,
    VisitPurpose,
)

__all__ = [
    "AttachmentKind",
    "AuditEntry",
    "CheckinSource",
    "CollectionContact",
    "Customer",
    "CustomerStatus",
    "Dispute",
    "DisputeStatus",
    "DunningReminder",
    "FormState",
    "Invite",
    "JobRun",
    "OutboxMessage",
    "OutboxStatus",
    "Payment",
    "PlanSource",
    "PlannedVisit",
    "Promise",
    "PromiseStatus",
    "Receivable",
    "ReceivableStatus",
    "ReconciliationItem",
    "ReconciliationStatus",
    "Role",
    "RunStatus",
    "SenderLease",
    "Team",
    "Tier",
    "User",
    "Visit",
    "VisitAttachment",
    "VisitKind",
    "VisitPurpose",
]
