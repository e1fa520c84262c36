"""The meeting summary. Importing this package registers every area's contribution."""

from services.summary import approvals, collections, reports, visits
from services.summary.core import CONTRIBUTORS, TeamSummary, build_team_summary, contributors

__all__ = [
    "CONTRIBUTORS",
    "TeamSummary",
    "approvals",
    "build_team_summary",
    "collections",
    "contributors",
    "reports",
    "visits",
]
