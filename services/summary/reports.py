"""The reports area's share of the meeting summary: daily reports handed in (against the working
days so far), late ones, and problems raised."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.settings import TeamSettings
from models.report import DailyReport, ReportProblem
from models.user import User
from services.summary.core import (
    Contributor,
    Metric,
    Sheet,
    Value,
    Window,
    contribute,
    working_days,
)


def _reports_target(rules: TeamSettings, window: Window) -> int:
    return working_days(rules, window)


METRICS = (
    Metric("reports", target=_reports_target),
    Metric("reports_late"),
    Metric("problems"),
)


async def per_rep(
    session: AsyncSession, window: Window, rep_ids: list[int]
) -> dict[int, dict[str, Value]]:
    found: dict[int, dict[str, Value]] = defaultdict(dict)
    if not rep_ids:
        return found
    reports = await session.exec(
        select(
            col(DailyReport.rep_id),
            func.count(),
            func.count(case((col(DailyReport.late).is_(True), 1))),
        )
        .where(col(DailyReport.rep_id).in_(rep_ids))
        .where(
            col(DailyReport.day) >= window.period.first, col(DailyReport.day) <= window.period.last
        )
        .group_by(col(DailyReport.rep_id))
    )
    for rep_id, count, late in reports.all():
        found[rep_id].update(reports=int(count), reports_late=int(late))
    problems = await session.exec(
        select(col(ReportProblem.rep_id), func.count())
        .where(col(ReportProblem.rep_id).in_(rep_ids))
        .where(
            col(ReportProblem.day) >= window.period.first,
            col(ReportProblem.day) <= window.period.last,
        )
        .group_by(col(ReportProblem.rep_id))
    )
    for rep_id, count in problems.all():
        found[rep_id]["problems"] = int(count)
    return found


async def details(session: AsyncSession, window: Window, rep_ids: list[int]) -> list[Sheet]:
    """Every daily report of the window, with its problem if it raised one."""
    rows = await session.exec(
        select(DailyReport, User.display_name, ReportProblem.text)
        .join(User, col(User.id) == col(DailyReport.rep_id))
        .join(ReportProblem, col(ReportProblem.report_id) == col(DailyReport.id), isouter=True)
        .where(col(DailyReport.team_id) == window.team_id)
        .where(
            col(DailyReport.day) >= window.period.first, col(DailyReport.day) <= window.period.last
        )
        .order_by(col(DailyReport.day), col(User.display_name))
    )
    sheet = Sheet(
        "reports",
        ["day", "rep", "submitted_at", "late", "summary", "problem"],
    )
    for report, name, problem in rows.all():
        sheet.rows.append(
            [report.day, name, report.submitted_at, report.late, report.summary, problem or ""]
        )
    return [sheet]


REPORTS = contribute(Contributor("reports", METRICS, per_rep, details, order=20))
