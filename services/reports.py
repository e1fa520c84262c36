"""Daily work reports: drafts from the day's data, the one-report rule, lateness, problems for
the manager and their answers, and what managers see. The weekly report is in
:mod:`services.weekly_reports`, reminders and the digest in :mod:`services.report_reminders`.

- A rep writes one report per working day. It may be changed until the end of its day (a late
  report written on a later day: until the end of that day). A report first submitted after the
  team's due time (``reports.due_at``, by default the end of the working day) is marked late;
  a missed day can still be reported, late, within ``reports.late_window_days``.
- The weekly report opens on the team's last working day of the ISO week and stays open until
  the week ends; submitted after that last working day it is late. Its key visits for next week
  become plan entries (through services.plans).
- A problem flagged in a daily report stays open for the manager until answered; the answer
  reaches the rep through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import services.contributors  # noqa: F401  (registers every area's report section)
from core.errors import NotAllowedError, UserFacingError
from core.periods import (
    Period,
    day_period,
    local_moment,
    local_today,
    start_of,
)
from core.settings import TeamSettings
from models.common import Role
from models.report import (
    DailyReport,
    DayState,
    ProblemReply,
    ProblemStatus,
    ReportProblem,
)
from models.team import Team
from models.user import User
from services import audit, notices, outbox, plans
from services.notices import Render
from services.report_sections import ReportScope, Section, collect
from services.team_context import TeamContext
from services.users import Actor

REPORTERS = frozenset({Role.REP})
READERS = frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN})
MAX_SUMMARY = 2000
MAX_PROBLEM = 1000
MAX_PLAN = 1000
MAX_FEEDBACK = 2000
MAX_REPLY = 1000
MAX_KEY_VISITS = 20
# Working days are looked for this far ahead or back (holidays can make long breaks).
SEARCH_DAYS = 60
REMINDER_KEY = "report-reminder"
WEEKLY_REMINDER_KEY = "weekly-reminder"


# -- days ---------------------------------------------------------------------------------


def next_working_day(rules: TeamSettings, after: date) -> date | None:
    return rules.next_working_day(after, SEARCH_DAYS)


def previous_working_day(rules: TeamSettings, before: date, within: int) -> date | None:
    for offset in range(1, within + 1):
        day = before - timedelta(days=offset)
        if rules.is_working_day(day):
            return day
    return None


def due_moment(rules: TeamSettings, day: date) -> datetime:
    """When the report of ``day`` is due: the team's due time that day (UTC)."""
    return local_moment(day, rules.report_due_at, rules.timezone)


def day_scope(team: TeamContext, day: date) -> ReportScope:
    return ReportScope("day", day_period(day, team.timezone), team.rules, team.now)


def week_scope(team: TeamContext, week: Period) -> ReportScope:
    return ReportScope("week", week, team.rules, team.now)


def check_text(value: str | None, limit: int, *, required: bool) -> str | None:
    """Trimmed text within ``limit`` characters; None when empty and optional."""
    text = (value or "").strip()
    if not text:
        if required:
            raise UserFacingError("reports.text_required")
        return None
    if len(text) > limit:
        raise UserFacingError("reports.text_too_long", limit=limit, length=len(text))
    return text


def require_reporter(actor: Actor) -> None:
    if actor.role not in REPORTERS or actor.team_id is None:
        raise NotAllowedError("access.role_not_allowed")


async def reporter_of(session: AsyncSession, actor: Actor) -> User:
    user = await session.get(User, actor.user_id)
    if user is None:
        raise NotAllowedError("access.not_registered")
    return user


# -- daily reports ------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyContent:
    summary: str | None
    problem: str | None
    tomorrow_plan: str | None


@dataclass(frozen=True)
class ReportDays:
    """Which day /report is for: today (if a working day) and a missed previous working day."""

    today: date
    today_open: bool
    missed: date | None


async def daily_report(session: AsyncSession, rep_id: int, day: date) -> DailyReport | None:
    query = select(DailyReport).where(DailyReport.rep_id == rep_id, DailyReport.day == day)
    return (await session.exec(query)).first()


async def problem_of(session: AsyncSession, report_id: int) -> ReportProblem | None:
    query = select(ReportProblem).where(ReportProblem.report_id == report_id)
    return (await session.exec(query)).first()


def editable_until(rules: TeamSettings, report: DailyReport) -> date:
    """The last local day on which a report may still be changed."""
    return max(report.day, local_today(report.submitted_at, rules.timezone))


async def report_days(session: AsyncSession, actor: Actor, team: TeamContext) -> ReportDays:
    """Today, and the previous working day if its report is missing and may still be written."""
    require_reporter(actor)
    rep = await reporter_of(session, actor)
    rules, today = team.rules, team.today
    missed = previous_working_day(rules, today, rules.reports.late_window_days)
    if missed is not None and (
        start_of(missed + timedelta(days=1), rules.timezone) <= rep.created_at
        or await daily_report(session, actor.user_id, missed) is not None
    ):
        missed = None
    return ReportDays(today, rules.is_working_day(today), missed)


async def check_daily_day(
    session: AsyncSession, rep: User, day: date, team: TeamContext
) -> DailyReport | None:
    """Refuse a day the rep may not report on; return its report when one exists (to edit)."""
    rules, today = team.rules, team.today
    if day > today:
        raise UserFacingError("reports.day_in_future", day=day)
    assert rep.id is not None
    existing = await daily_report(session, rep.id, day)
    if existing is not None:
        if today > editable_until(rules, existing):
            raise UserFacingError("reports.closed", day=day)
        return existing
    if not rules.is_working_day(day):
        raise UserFacingError("reports.not_a_working_day", day=day)
    too_old = (today - day).days > rules.reports.late_window_days
    if too_old or start_of(day + timedelta(days=1), rules.timezone) <= rep.created_at:
        raise UserFacingError("reports.too_old", day=day)
    return None


@dataclass(frozen=True)
class DailyDraft:
    day: date
    late: bool
    # The report already submitted for the day (the draft then edits it).
    report: DailyReport | None
    problem: ReportProblem | None
    sections: list[Section]
    # The next working day and the customers planned for it (to pre-fill tomorrow's plan).
    tomorrow: date | None
    tomorrow_planned: list[str]


async def draft_daily(
    session: AsyncSession, *, actor: Actor, day: date, team: TeamContext
) -> DailyDraft:
    """The day's figures from every area, the existing report if any, tomorrow's plan."""
    require_reporter(actor)
    rep = await reporter_of(session, actor)
    existing = await check_daily_day(session, rep, day, team)
    rules, now = team.rules, team.now
    sections = await collect(session, rep, day_scope(team, day))
    tomorrow = next_working_day(rules, day)
    planned: list[str] = []
    if tomorrow is not None:
        overview = await plans.day_overview(session, actor.user_id, tomorrow, rules)
        planned = [line.customer.name for line in overview.planned if not line.done]
    problem = await problem_of(session, existing.id or 0) if existing else None
    late = existing.late if existing else now > due_moment(rules, day)
    return DailyDraft(day, late, existing, problem, sections, tomorrow, planned)


@dataclass(frozen=True)
class SubmittedDaily:
    report: DailyReport
    created: bool
    problem: ReportProblem | None


def _daily_snapshot(report: DailyReport, problem: str | None) -> dict[str, Any]:
    return {"summary": report.summary, "problem": problem,
            "tomorrow_plan": report.tomorrow_plan}  # fmt: skip


async def submit_daily(
    session: AsyncSession,
    *,
    actor: Actor,
    day: date,
    content: DailyContent,
    team: TeamContext,
    report_id: int | None = None,
) -> SubmittedDaily:
    """Submit the day's report, or save changes to it (``report_id``) while it is editable.

    One report per rep and day: submitting a second one is refused. Lateness is decided at
    the first submission. Pending reminders for the day are withdrawn.
    """
    require_reporter(actor)
    summary = check_text(content.summary, MAX_SUMMARY, required=True)
    problem_text = check_text(content.problem, MAX_PROBLEM, required=False)
    plan_text = check_text(content.tomorrow_plan, MAX_PLAN, required=False)
    assert summary is not None
    rep = await reporter_of(session, actor)
    existing = await check_daily_day(session, rep, day, team)
    rules, now = team.rules, team.now
    if existing is not None and existing.id != report_id:
        raise UserFacingError("reports.already_submitted", day=day)
    if existing is None and report_id is not None:
        raise NotAllowedError("reports.not_found")
    sections = [s.to_json() for s in await collect(session, rep, day_scope(team, day))]
    if existing is None:
        report = DailyReport(
            team_id=actor.team_id or 0, rep_id=actor.user_id, day=day, summary=summary,
            tomorrow_plan=plan_text, sections=sections, late=now > due_moment(rules, day),
            submitted_at=now, updated_at=now,
        )  # fmt: skip
        try:
            async with session.begin_nested():
                session.add(report)
                await session.flush()
        except IntegrityError:
            # Another instance stored the same rep's report of the day a moment ago.
            raise UserFacingError("reports.already_submitted", day=day) from None
        audit.record(
            session, at=now, action="report.submitted", entity="daily_report",
            entity_id=report.id, actor_id=actor.user_id,
            after={"day": day.isoformat(), "late": report.late,
                   **_daily_snapshot(report, problem_text)},
        )  # fmt: skip
    else:
        report = existing
        old = await problem_of(session, report.id or 0)
        live = old is not None and old.status != ProblemStatus.WITHDRAWN
        before = _daily_snapshot(report, old.text if old is not None and live else None)
        report.summary, report.tomorrow_plan = summary, plan_text
        report.sections, report.updated_at = sections, now
        session.add(report)
        await session.flush()
        after = _daily_snapshot(report, problem_text)
        changed = [key for key in after if after[key] != before[key]]
        audit.record(
            session, at=now, action="report.edited", entity="daily_report",
            entity_id=report.id, actor_id=actor.user_id,
            before={k: before[k] for k in changed}, after={k: after[k] for k in changed},
        )  # fmt: skip
    problem = await _sync_problem(session, report, problem_text, now)
    await outbox.cancel_pending(
        session, key_prefix=reminder_prefix(actor.user_id, day), reason="report submitted"
    )
    return SubmittedDaily(report, existing is None, problem)


async def _sync_problem(
    session: AsyncSession, report: DailyReport, text: str | None, now: datetime
) -> ReportProblem | None:
    """Keep the report's problem in step with its text: a changed problem is open again."""
    assert report.id is not None
    problem = await problem_of(session, report.id)
    if text is None:
        if problem is not None and problem.status == ProblemStatus.OPEN:
            problem.status, problem.updated_at = ProblemStatus.WITHDRAWN, now
            session.add(problem)
            await session.flush()
        return None
    if problem is None:
        problem = ReportProblem(
            report_id=report.id, team_id=report.team_id, rep_id=report.rep_id, day=report.day,
            text=text, created_at=now, updated_at=now,
        )  # fmt: skip
    elif problem.text != text or problem.status == ProblemStatus.WITHDRAWN:
        problem.text, problem.status = text, ProblemStatus.OPEN
        problem.updated_at, problem.answered_at = now, None
    session.add(problem)
    await session.flush()
    return problem


# -- what managers see --------------------------------------------------------------------


@dataclass(frozen=True)
class RepDay:
    rep: User
    report: DailyReport | None
    problem: ReportProblem | None
    state: DayState


@dataclass(frozen=True)
class DayStatus:
    day: date
    working_day: bool
    due: datetime
    reps: list[RepDay]

    def having(self, state: DayState) -> list[RepDay]:
        return [entry for entry in self.reps if entry.state == state]

    @property
    def problems(self) -> list[RepDay]:
        return [entry for entry in self.reps if entry.problem is not None]


def leads(actor: Actor, team_id: int) -> bool:
    """Managers read their own team's reports; directors and admins every team's."""
    return actor.sees_all_teams() or (actor.role is Role.MANAGER and actor.team_id == team_id)


async def own_team(session: AsyncSession, actor: Actor) -> Team:
    """The team a rep writes their reports for."""
    team = await session.get(Team, actor.team_id) if actor.team_id is not None else None
    if team is None:
        raise UserFacingError("team.not_found")
    return team


async def visible_team(session: AsyncSession, actor: Actor, team_id: int) -> Team:
    team = await session.get(Team, team_id)
    if team is None or team.id is None or not leads(actor, team.id):
        raise NotAllowedError("team.not_found")
    return team


async def day_status(session: AsyncSession, team: TeamContext, day: date) -> DayStatus:
    """Each rep of the team with their report of the day (one query): submitted on time,
    late, not yet due, or missing. Reps who joined after the day's due time owe nothing."""
    due = due_moment(team.rules, day)
    working = team.is_working_day(day)
    reported = col(DailyReport.id).is_not(None)
    expected = and_(col(User.active).is_(True), col(User.created_at) < due)
    query = (
        select(User, DailyReport, ReportProblem)
        .join(
            DailyReport,
            and_(col(DailyReport.rep_id) == col(User.id), col(DailyReport.day) == day),
            isouter=True,
        )
        .join(
            ReportProblem,
            and_(
                col(ReportProblem.report_id) == col(DailyReport.id),
                col(ReportProblem.status) != ProblemStatus.WITHDRAWN,
            ),
            isouter=True,
        )
        .where(col(User.team_id) == team.team_id, col(User.role) == Role.REP)
        .where(or_(expected, reported) if working else reported)
        .order_by(col(User.display_name), col(User.id))
    )
    reps: list[RepDay] = []
    for user, report, problem in (await session.exec(query)).all():
        if report is not None:
            state = DayState.LATE if report.late else DayState.SUBMITTED
        else:
            state = DayState.MISSING if team.now > due else DayState.PENDING
        reps.append(RepDay(user, report, problem, state))
    return DayStatus(day, working, due, reps)


async def visible_report(
    session: AsyncSession, actor: Actor, report_id: int
) -> tuple[DailyReport, User, ReportProblem | None]:
    """A daily report the actor may read: their own, or one of a team they lead."""
    report = await session.get(DailyReport, report_id)
    if report is None or not (report.rep_id == actor.user_id or leads(actor, report.team_id)):
        raise NotAllowedError("reports.not_found")
    rep = await session.get(User, report.rep_id)
    assert rep is not None
    return report, rep, await problem_of(session, report_id)


async def open_problems(
    session: AsyncSession, team_id: int, limit: int = 20
) -> tuple[list[tuple[ReportProblem, User]], int]:
    """The team's unanswered problems, oldest day first, and how many there are in all."""
    where = (col(ReportProblem.team_id) == team_id,
             col(ReportProblem.status) == ProblemStatus.OPEN)  # fmt: skip
    total = (
        await session.exec(select(func.count()).select_from(ReportProblem).where(*where))
    ).one()
    rows = await session.exec(
        select(ReportProblem, User)
        .join(User, col(User.id) == col(ReportProblem.rep_id))
        .where(*where)
        .order_by(col(ReportProblem.day), col(ReportProblem.id))
        .limit(limit)
    )
    return [(problem, user) for problem, user in rows.all()], int(total)


async def visible_problem(
    session: AsyncSession, actor: Actor, problem_id: int
) -> tuple[ReportProblem, User]:
    problem = await session.get(ReportProblem, problem_id)
    if problem is None or not leads(actor, problem.team_id):
        raise NotAllowedError("reports.problem_not_found")
    rep = await session.get(User, problem.rep_id)
    assert rep is not None
    return problem, rep


async def replies_to(session: AsyncSession, problem_id: int) -> list[tuple[ProblemReply, User]]:
    rows = await session.exec(
        select(ProblemReply, User)
        .join(User, col(User.id) == col(ProblemReply.author_id))
        .where(col(ProblemReply.problem_id) == problem_id)
        .order_by(col(ProblemReply.id))
    )
    return [(reply, user) for reply, user in rows.all()]


@dataclass(frozen=True)
class ReplyNotice:
    """The rep's notice of a manager's answer (views.reports.reply_notice)."""

    manager: str
    day: date
    problem: str
    reply: str


@dataclass(frozen=True)
class Answered:
    problem: ReportProblem
    rep: User
    reply: ProblemReply


async def answer_problem(
    session: AsyncSession,
    *,
    actor: Actor,
    problem_id: int,
    text: str,
    render: Render,
    now: datetime,
) -> Answered:
    """A manager (or director, admin) answers a rep's problem; the rep gets it in the bot."""
    problem, rep = await visible_problem(session, actor, problem_id)
    if problem.status == ProblemStatus.WITHDRAWN:
        raise UserFacingError("reports.problem_withdrawn")
    body = check_text(text, MAX_REPLY, required=True)
    assert body is not None and problem.id is not None
    reply = ProblemReply(problem_id=problem.id, author_id=actor.user_id, text=body,
                         created_at=now)  # fmt: skip
    session.add(reply)
    before = str(problem.status)
    problem.status, problem.answered_at, problem.updated_at = ProblemStatus.ANSWERED, now, now
    session.add(problem)
    await session.flush()
    audit.record(
        session, at=now, action="report_problem.answered", entity="report_problem",
        entity_id=problem.id, actor_id=actor.user_id, before={"status": before},
        after={"status": str(problem.status), "reply": body},
    )  # fmt: skip
    await notices.send(
        session, render, view="reports.reply_notice", lang=rep.language,
        data=ReplyNotice(actor.display_name, problem.day, problem.text, body),
        key=f"problem-reply:{reply.id}", chat_id=rep.telegram_id, recipient_id=rep.id,
        kind="report_reply", now=now,
    )  # fmt: skip
    return Answered(problem, rep, reply)


def reminder_prefix(rep_id: int, day: date) -> str:
    """The outbox keys of a rep's reminders for a day (cancelled once the report is in)."""
    return f"{REMINDER_KEY}:{rep_id}:{day.isoformat()}:"
