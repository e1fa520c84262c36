"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from core.money import Money
from models.approval import (
    ApprovalAttachment,
    ApprovalCard,
    ApprovalCc,
    ApprovalCounter,
    ApprovalRequest,
    ApprovalStep,
    Delegation,
    RequestStatus,
    StepStatus,
)
from models.audit import AuditEntry
from models.common import Role
from models.customer import Customer, CustomerStatus, Tier
from models.form import FormState
from models.invite import Invite
from models.job_run import JobRun, RunStatus
from models.outbox import OutboxMessage, OutboxStatus, SenderLease
from models.plan import PlannedVisit, PlanSource
from models.processed_update import ProcessedUpdate
from models.receivable import (
    Adjustment,
    AdjustmentKind,
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
    ReconciliationItem,
    ReconciliationStatus,
)
from models.report import DailyReport, ProblemReply, ProblemStatus, ReportProblem, WeeklyReport
from models.team import Team
from models.user import User
from models.visit import (
    AttachmentKind,
    CheckinSource,
    RepLocation,
    Visit,
    VisitAttachment,
    VisitComment,
    VisitKind,
    VisitPurpose,
)

__all__ = [
    "Adjustment",
    "AdjustmentKind",
    "AdjustmentStatus",
    "ApprovalAttachment",
    "ApprovalCard",
    "ApprovalCc",
    "ApprovalCounter",
    "ApprovalRequest",
    "ApprovalStep",
    "AttachmentKind",
    "AuditEntry",
    "CheckinSource",
    "CollectionContact",
    "Customer",
    "CustomerStatus",
    "DailyReport",
    "Delegation",
    "Dispute",
    "DisputeStatus",
    "DunningReminder",
    "FormState",
    "Invite",
    "JobRun",
    "Money",
    "OutboxMessage",
    "OutboxStatus",
    "Payment",
    "PlanSource",
    "PlannedVisit",
    "ProblemReply",
    "ProblemStatus",
    "ProcessedUpdate",
    "Promise",
    "PromiseStatus",
    "Receivable",
    "ReceivableStatus",
    "ReconciliationItem",
    "ReconciliationStatus",
    "RepLocation",
    "ReportProblem",
    "RequestStatus",
    "Role",
    "RunStatus",
    "SenderLease",
    "StepStatus",
    "Team",
    "Tier",
    "User",
    "Visit",
    "VisitAttachment",
    "VisitComment",
    "VisitKind",
    "VisitPurpose",
    "WeeklyReport",
]
