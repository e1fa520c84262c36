"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from models.audit import AuditEntry
from models.common import Role
from models.form import FormState
from models.invite import Invite
from models.team import Team
from models.user import User

__all__ = ["AuditEntry", "FormState", "Invite", "Role", "Team", "User"]
