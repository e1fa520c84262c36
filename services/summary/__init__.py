"""The meeting summary. Importing this package registers every area's contribution."""

from services.summary import visits
from services.summary.core import CONTRIBUTORS, TeamSummary, build_team_summary

__all__ = ["CONTRIBUTORS", "TeamSummary", "build_team_summary", "visits"]
