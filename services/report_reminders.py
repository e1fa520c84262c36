"""Reminders to reps who owe the day's (or the week's) report, and the managers' evening digest:
who submitted, who is late, who is missing, and the problems flagged. Each is queued in the outbox
once per person and day (or week).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import services.contributors  # noqa: F401  (registers every area's report section)
from core.i18n import Catalogs
from core.settings import TeamSettings
from models.common import Role
from models.report import (
    DailyReport,
    WeeklyReport,
)
from models.team import Team
from models.user import User
from services import outbox, report_texts
from services.outbox import OutboxButtons
from services.reports import (
    WEEKLY_REMINDER_KEY,
    day_status,
    due_moment,
    reminder_prefix,
)
from services.weekly_reports import week_status, week_window


async def reps_without_report(
    session: AsyncSession, team_id: int, day: date, rules: TeamSettings
) -> list[User]:
    """Active reps of the team who owe the day's report; nobody on a non-working day."""
    if not rules.is_working_day(day):
        return []
    reported = exists().where(col(DailyReport.rep_id) == col(User.id), col(DailyReport.day) == day)
    query = (
        select(User)
        .where(
            col(User.team_id) == team_id,
            col(User.role) == Role.REP,
            col(User.active).is_(True),
            col(User.created_at) < due_moment(rules, day),
            ~reported,
        )
        .order_by(col(User.display_name), col(User.id))
    )
    return list((await session.exec(query)).all())


async def send_reminders(
    session: AsyncSession,
    *,
    team: Team,
    rules: TeamSettings,
    day: date,
    step: int,
    texts: Catalogs,
    now: datetime,
) -> int:
    """Remind each rep without a report of the day, once per (rep, day, step)."""
    assert team.id is not None
    queued = 0
    for rep in await reps_without_report(session, team.id, day, rules):
        assert rep.id is not None
        queued += await _remind(
            session, rep, key=reminder_prefix(rep.id, day) + str(step), kind="report_reminder",
            message=report_texts.reminder(texts, rep.language, day, step), now=now,
        )  # fmt: skip
    return queued


async def _remind(
    session: AsyncSession, rep: User, *, key: str, kind: str,
    message: tuple[str, OutboxButtons], now: datetime,
) -> bool:  # fmt: skip
    """Queue one reminder to the rep; False when this key was queued before."""
    text, buttons = message
    row = await outbox.enqueue(
        session, key=key, chat_id=rep.telegram_id, recipient_id=rep.id, kind=kind, text=text,
        buttons=buttons, now=now,
    )  # fmt: skip
    return row is not None


async def send_weekly_reminders(
    session: AsyncSession,
    *,
    team: Team,
    rules: TeamSettings,
    today: date,
    texts: Catalogs,
    now: datetime,
) -> int:
    """On the week's last working day, remind each active rep without the week's report,
    once per (rep, week). Any other day nothing is due."""
    assert team.id is not None
    window = week_window(rules, today)
    if window.last_working_day != today:
        return 0
    written = exists().where(
        col(WeeklyReport.rep_id) == col(User.id), col(WeeklyReport.week_start) == window.week.first
    )
    query = select(User).where(
        col(User.team_id) == team.id, col(User.role) == Role.REP, col(User.active).is_(True),
        ~written,
    )  # fmt: skip
    queued = 0
    for rep in (await session.exec(query.order_by(col(User.id)))).all():
        queued += await _remind(
            session, rep, key=f"{WEEKLY_REMINDER_KEY}:{rep.id}:{window.week.first.isoformat()}",
            kind="weekly_reminder", now=now,
            message=report_texts.weekly_reminder(texts, rep.language, window.week),
        )  # fmt: skip
    return queued


async def send_digest(
    session: AsyncSession,
    *,
    team: Team,
    rules: TeamSettings,
    day: date,
    texts: Catalogs,
    now: datetime,
) -> int:
    """Each active manager of the team gets the day's compliance digest: who submitted, who was
    late, who is missing, and the problems flagged (on the week's last working day, also who
    owes the weekly report)."""
    assert team.id is not None
    if not rules.is_working_day(day):
        return 0
    status = await day_status(session, team.id, day, rules, now)
    if not status.reps:
        return 0  # a team without reps: nothing to tell
    weekly = None
    window = week_window(rules, day)
    if window.last_working_day == day:
        weekly = await week_status(session, team.id, window.week.first)
    managers = (
        await session.exec(
            select(User).where(
                col(User.team_id) == team.id,
                col(User.role) == Role.MANAGER,
                col(User.active).is_(True),
            )
        )
    ).all()
    queued = 0
    for manager in managers:
        assert manager.id is not None
        text, buttons = report_texts.digest(texts, manager.language, team, status, weekly)
        row = await outbox.enqueue(
            session, key=f"report-digest:{team.id}:{day.isoformat()}:{manager.id}",
            chat_id=manager.telegram_id, recipient_id=manager.id, kind="report_digest",
            text=text, buttons=buttons, now=now,
        )  # fmt: skip
        queued += row is not None
    return queued
