"""What managers see of reports: a team's day (each rep's state), a report with the answers to
its problem, the open problems, the weekly reports of a week, and the evening digest.

Every button names an id; the handler of each re-checks who is pressing.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, timedelta

from core.i18n import Catalogs, bracketed
from core.periods import Period, format_clock, format_day, format_short_day
from models.report import (
    DailyReport,
    DayState,
    ProblemReply,
    ProblemStatus,
    ReportProblem,
    WeeklyReport,
)
from models.user import User
from services.report_reminders import Digest
from services.report_sections import Section
from services.reports import DayStatus, RepDay
from services.team_context import TeamContext
from views.buttons import Button, Keyboard
from views.registry import view
from views.reports import (
    OPEN_DAY,
    PROBLEMS,
    REPLY,
    TEAM_DAY,
    TEAM_WEEK,
    VIEW_DAILY,
    VIEW_WEEKLY,
    Ref,
    TeamDay,
    compact,
    daily_card,
    join,
    shorten,
    weekly_card,
    when,
)

# Telegram shows at most about 100 buttons on a message: the first reps get one each.
MAX_REP_BUTTONS = 80
MAX_LISTED_PROBLEMS = 8
# A rep's name on a button.
NAME_ON_BUTTON = 30

Page = tuple[str, Keyboard]


def _day_button(label: str, team_id: int, day: date | None = None) -> Button:
    return Button(label, data=TEAM_DAY.pack(TeamDay(team_id, compact(day) if day else None)))


def _reply_button(label: str, problem: ReportProblem) -> Button:
    return Button(label, data=REPLY.pack(Ref(problem.id or 0)))


def choose_team(teams: Sequence[tuple[int, str]]) -> Keyboard:
    """A director's or admin's choice of team for /reports."""
    return [[_day_button(name, team_id)] for team_id, name in teams]


def report_view(
    texts: Catalogs,
    lang: str,
    *,
    report: DailyReport,
    sections: Sequence[Section],
    rep: User,
    problem: ReportProblem | None,
    replies: Sequence[tuple[ProblemReply, User]],
    timezone: str,
) -> Page:
    """A submitted daily report as a manager reads it, with the answers to its problem."""
    t = texts.t
    shown_problem = problem.text if problem and problem.status != ProblemStatus.WITHDRAWN else None
    card = daily_card(
        texts, lang, day=report.day, sections=sections, summary=report.summary,
        problem=shown_problem, tomorrow_plan=report.tomorrow_plan, late=report.late,
    )  # fmt: skip
    lines = [
        t(lang, "reports.view_by", name=html.escape(rep.display_name),
          time=when(report.submitted_at, report.day, timezone, lang)),
        card,
    ]  # fmt: skip
    if report.updated_at != report.submitted_at:
        edited = format_clock(report.updated_at, timezone)
        lines.append(t(lang, "reports.view_edited", time=edited))
    for reply, author in replies:
        lines.append(t(lang, "reports.view_reply", name=html.escape(author.display_name),
                       text=html.escape(reply.text)))  # fmt: skip
    buttons: Keyboard = []
    if shown_problem is not None and problem is not None:
        label = t(lang, "reports.reply_button", name=rep.display_name[:NAME_ON_BUTTON])
        buttons.append([_reply_button(label, problem)])
    back = t(lang, "reports.back_to_day")
    buttons.append([_day_button(back, report.team_id, report.day)])
    return "\n".join(lines), buttons


def _rep_line(texts: Catalogs, lang: str, entry: RepDay, status: DayStatus, tz: str) -> str:
    t = texts.t
    name = html.escape(entry.rep.display_name)
    if entry.report is not None:
        at = when(entry.report.submitted_at, status.day, tz, lang)
        key = "reports.line_late" if entry.state == DayState.LATE else "reports.line_on_time"
        line = t(lang, key, name=name, time=at)
        if entry.problem is not None:
            line += " " + t(lang, "reports.problem_mark")
        return line
    if entry.state == DayState.MISSING:
        return t(lang, "reports.line_missing", name=name)
    return t(lang, "reports.line_pending", name=name, time=format_clock(status.due, tz))


def day_page(
    texts: Catalogs, lang: str, *, team: TeamContext, status: DayStatus, open_problems: int
) -> Page:
    """The /reports page of a team and day: each rep's report state; tap one to read it."""
    t = texts.t
    lines = [t(lang, "reports.day_header", team=html.escape(team.name),
               day=format_day(status.day, lang))]  # fmt: skip
    if not status.working_day:
        lines.append(t(lang, "reports.day_not_working"))
    reps: list[Button] = []
    for entry in status.reps:
        lines.append(_rep_line(texts, lang, entry, status, team.timezone))
        if entry.report is not None and len(reps) < MAX_REP_BUTTONS:
            data = VIEW_DAILY.pack(Ref(entry.report.id or 0))
            reps.append(Button(entry.rep.display_name[:NAME_ON_BUTTON], data=data))
    buttons: Keyboard = [reps[i : i + 2] for i in range(0, len(reps), 2)]
    if not status.reps:
        lines.append(t(lang, "reports.day_nobody"))
    else:
        lines.append("")
        lines.append(t(lang, "reports.day_totals",
                       done=len(status.having(DayState.SUBMITTED)),
                       late=len(status.having(DayState.LATE)),
                       missing=len(status.having(DayState.MISSING))))  # fmt: skip
    navigation = [_day_button(t(lang, "reports.previous_day"), team.team_id,
                              status.day - timedelta(days=1))]  # fmt: skip
    if status.day < team.today:
        following = status.day + timedelta(days=1)
        navigation.append(_day_button(t(lang, "reports.next_day"), team.team_id, following))
    buttons.append(navigation)
    buttons.append([
        Button(t(lang, "reports.problems_button", count=open_problems),
               data=PROBLEMS.pack(Ref(team.team_id))),
        Button(t(lang, "reports.weekly_button"),
               data=TEAM_WEEK.pack(TeamDay(team.team_id, compact(status.day)))),
    ])  # fmt: skip
    return "\n".join(lines), buttons


def problems_page(
    texts: Catalogs,
    lang: str,
    *,
    team: TeamContext,
    problems: Sequence[tuple[ReportProblem, User]],
    total: int,
) -> Page:
    """The team's unanswered problems, each with a button to answer its rep."""
    t = texts.t
    back = [_day_button(t(lang, "reports.back_to_day"), team.team_id)]
    if not problems:
        return t(lang, "reports.no_open_problems", team=html.escape(team.name)), [back]
    lines = [t(lang, "reports.problems_header", team=html.escape(team.name), count=total)]
    buttons: Keyboard = []
    for number, (problem, rep) in enumerate(problems, start=1):
        lines.append(
            t(lang, "reports.problem_line", number=number, name=html.escape(rep.display_name),
              day=format_short_day(problem.day, lang), text=html.escape(shorten(problem.text)))
        )  # fmt: skip
        name = rep.display_name[:NAME_ON_BUTTON]
        label = t(lang, "reports.reply_numbered", number=number, name=name)
        buttons.append([_reply_button(label, problem)])
    if total > len(problems):
        lines.append(t(lang, "reports.problems_more", count=total - len(problems)))
    buttons.append(back)
    return "\n".join(lines), buttons


def week_page(
    texts: Catalogs,
    lang: str,
    *,
    team: TeamContext,
    week: Period,
    rows: Sequence[tuple[User, WeeklyReport | None]],
    opens_on: date | None,
) -> Page:
    """Who has sent the weekly report of a week; tap one to read it."""
    t = texts.t
    lines = [t(lang, "reports.week_header", team=html.escape(team.name),
               first=format_short_day(week.first, lang),
               last=format_short_day(week.last, lang))]  # fmt: skip
    buttons: Keyboard = []
    for rep, report in rows:
        name = html.escape(rep.display_name)
        if report is None:
            lines.append(t(lang, "reports.week_line_missing", name=name))
            continue
        at = when(report.submitted_at, week.first - timedelta(days=1), team.timezone, lang)
        key = "reports.line_late" if report.late else "reports.line_on_time"
        lines.append(t(lang, key, name=name, time=at))
        if len(buttons) < MAX_REP_BUTTONS:
            data = VIEW_WEEKLY.pack(Ref(report.id or 0))
            buttons.append([Button(rep.display_name[:NAME_ON_BUTTON], data=data)])
    if not rows:
        lines.append(t(lang, "reports.day_nobody"))
    if opens_on is not None:
        lines.append(t(lang, "reports.week_opens", day=format_day(opens_on, lang)))
    earlier = compact(week.first - timedelta(days=7))
    buttons.append([
        Button(t(lang, "reports.previous_week"),
               data=TEAM_WEEK.pack(TeamDay(team.team_id, earlier))),
        _day_button(t(lang, "reports.back_to_day"), team.team_id),
    ])  # fmt: skip
    return "\n".join(lines), buttons


def weekly_view(
    texts: Catalogs,
    lang: str,
    *,
    report: WeeklyReport,
    sections: Sequence[Section],
    rep: User,
    week: Period,
    key_visits: Sequence[tuple[date, str]],
    timezone: str,
) -> Page:
    """A submitted weekly report as a manager reads it."""
    card = weekly_card(
        texts, lang, first=week.first, last=week.last, sections=sections,
        summary=report.summary, feedback=report.feedback, key_visits=key_visits,
        late=report.late,
    )  # fmt: skip
    at = when(report.submitted_at, report.week_start - timedelta(days=1), timezone, lang)
    name = html.escape(rep.display_name)
    text = texts.t(lang, "reports.view_by", name=name, time=at) + "\n" + card
    back = texts.t(lang, "reports.back_to_week")
    data = TEAM_WEEK.pack(TeamDay(report.team_id, compact(report.week_start)))
    return text, [[Button(back, data=data)]]


@view("reports.digest")
def digest(texts: Catalogs, lang: str, data: Digest) -> Page:
    """The managers' end-of-day digest: on time, late, missing, and problems flagged."""
    t, status = texts.t, data.status

    def names(entries: Sequence[RepDay], timed: bool = False) -> str:
        shown = []
        for entry in entries:
            name = html.escape(entry.rep.display_name)
            if timed and entry.report is not None:
                name += bracketed(
                    lang, when(entry.report.submitted_at, status.day, data.timezone, lang)
                )
            shown.append(name)
        return join(lang, shown) if shown else "—"

    on_time, late = status.having(DayState.SUBMITTED), status.having(DayState.LATE)
    missing = status.having(DayState.MISSING) + status.having(DayState.PENDING)
    lines = [
        t(lang, "reports.digest_header", team=html.escape(data.team_name),
          day=format_day(status.day, lang)),
        t(lang, "reports.digest_on_time", count=len(on_time), names=names(on_time, True)),
        t(lang, "reports.digest_late", count=len(late), names=names(late, True)),
        t(lang, "reports.digest_missing", count=len(missing), names=names(missing)),
    ]  # fmt: skip
    buttons: Keyboard = []
    if status.problems:
        lines.append("")
        lines.append(t(lang, "reports.digest_problems", count=len(status.problems)))
        for entry in status.problems:
            assert entry.problem is not None
            line = (f"• <b>{html.escape(entry.rep.display_name)}</b>: "
                    f"{html.escape(shorten(entry.problem.text, 300))}")  # fmt: skip
            if entry.problem.status == ProblemStatus.ANSWERED:
                line += " " + t(lang, "reports.answered_mark")
            lines.append(line)
            if entry.problem.status == ProblemStatus.OPEN and len(buttons) < MAX_LISTED_PROBLEMS:
                name = entry.rep.display_name[:NAME_ON_BUTTON]
                label = t(lang, "reports.reply_button", name=name)
                buttons.append([_reply_button(label, entry.problem)])
    else:
        lines.append(t(lang, "reports.digest_no_problems"))
    if data.weekly is not None:
        owing = [html.escape(rep.display_name) for rep, report in data.weekly if report is None]
        owed = join(lang, owing) if owing else "—"
        lines.append("")
        lines.append(t(lang, "reports.digest_weekly", done=len(data.weekly) - len(owing),
                       total=len(data.weekly), names=owed))  # fmt: skip
    day = TeamDay(data.team_id, compact(status.day))
    buttons.append([Button(t(lang, "reports.open_reports"), data=OPEN_DAY.pack(day))])
    return "\n".join(lines), buttons
