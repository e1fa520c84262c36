"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from models.audit import AuditEntry
from models.common import Role
from models.form import FormState
from models.invite import Invite
from models.job_run import JobRun, RunStatus
from models.outbox import OutboxMessage, OutboxStatus, SenderLease
from models.processed_update import ProcessedUpdate
from models.team import Team
from models.user import User

__all__ = [
    "AuditEntry",
    "FormState",
    "Invite",
    "JobRun",
    "OutboxMessage",
    "OutboxStatus",
    "ProcessedUpdate",
    "Role",
    "RunStatus",
    "SenderLease",
    "Team",
    "User",
]
