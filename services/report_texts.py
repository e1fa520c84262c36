"""How reports read, in the reader's language: report cards, the managers' pages and digest,
reminders, and the notice of a manager's answer. Used by the chat handlers and by the jobs
(whose messages go through the outbox), so buttons are plain {"text", "data"} dicts.

Button data is ``rp|<id>|<action>[|<arg>]``; the id is a number (a report, a problem, a team)
or a day written YYYYMMDD. Every handler of these buttons re-checks who is pressing.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from core.i18n import Catalogs, format_money
from core.periods import Period, format_clock, format_day, format_short_day, local_today
from models.report import (
    DailyReport,
    DayState,
    ProblemReply,
    ProblemStatus,
    ReportProblem,
    WeeklyReport,
)
from models.team import Team
from models.user import User
from services.outbox import OutboxButtons
from services.report_sections import Param, Section

if TYPE_CHECKING:
    from services.reports import DayStatus

CALLBACK = "rp"
WRITE, VIEW, REPLY, PROBLEMS, DAY, WEEK, VIEW_WEEKLY = "w", "v", "r", "p", "d", "k", "V"
WRITE_WEEKLY = "W"
# The day's page in a new message (from the digest, which must stay as it is).
OPEN_DAY = "o"
MAX_LISTED_PROBLEMS = 8
# Telegram shows at most about 100 buttons on a message: the first reps get one each.
MAX_REP_BUTTONS = 80
PREVIEW = 160


def callback(ident: int | str, action: str, arg: str = "") -> str:
    return f"{CALLBACK}|{ident}|{action}" + (f"|{arg}" if arg else "")


def compact(day: date) -> str:
    return f"{day:%Y%m%d}"


def from_compact(raw: str) -> date | None:
    if len(raw) != 8 or not raw.isdigit():
        return None
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return None


def shorten(text: str, limit: int = PREVIEW) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _join(lang: str, items: Sequence[str]) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def param_text(lang: str, value: Param) -> str:
    """A section parameter as shown: texts escaped, lists joined, days and money localised."""
    if isinstance(value, dict):
        if "day" in value:
            return format_short_day(date.fromisoformat(value["day"]), lang)
        if "money" in value:
            try:
                return format_money(Decimal(value["money"]), value.get("currency", ""), lang)
            except (InvalidOperation, ValueError):
                return html.escape(value["money"])
        return ""
    if isinstance(value, list):
        return _join(lang, [html.escape(str(item)) for item in value])
    if isinstance(value, str):
        return html.escape(value)
    return str(value)


def section_lines(texts: Catalogs, lang: str, sections: Sequence[Section]) -> list[str]:
    lines: list[str] = []
    for section in sections:
        lines.append(f"<b>{texts.t(lang, section.title)}</b>")
        for line in section.lines:
            params = {key: param_text(lang, value) for key, value in line.params.items()}
            lines.append("• " + texts.t(lang, line.key, **params))
    return lines


def stored_sections(raw: Sequence[dict[str, Any]]) -> list[Section]:
    return [Section.from_json(item) for item in raw]


def _block(texts: Catalogs, lang: str, key: str, value: str | None, empty_key: str) -> list[str]:
    shown = html.escape(value) if value else texts.t(lang, empty_key)
    return ["", f"<b>{texts.t(lang, key)}</b>", shown]


def daily_card(
    texts: Catalogs,
    lang: str,
    *,
    day: date,
    sections: Sequence[Section],
    summary: str | None,
    problem: str | None,
    tomorrow_plan: str | None,
    late: bool,
) -> str:
    """A daily report as its rep reviews it before submitting (and as the manager reads it)."""
    t = texts.t
    header = t(lang, "reports.card_header", day=format_day(day, lang))
    if late:
        header += " " + t(lang, "reports.late_mark")
    lines = [header, "", *section_lines(texts, lang, sections)]
    lines += _block(texts, lang, "reports.card_summary", summary, "reports.card_empty")
    lines += _block(texts, lang, "reports.card_problem", problem, "reports.card_no_problem")
    lines += _block(texts, lang, "reports.card_tomorrow", tomorrow_plan, "reports.card_empty")
    return "\n".join(lines)


def report_view(
    texts: Catalogs,
    lang: str,
    *,
    report: DailyReport,
    rep: User,
    problem: ReportProblem | None,
    replies: Sequence[tuple[ProblemReply, User]],
    timezone: str,
) -> tuple[str, OutboxButtons]:
    """A submitted daily report as a manager reads it, with the answers to its problem."""
    t = texts.t
    shown_problem = problem.text if problem and problem.status != ProblemStatus.WITHDRAWN else None
    card = daily_card(
        texts, lang, day=report.day, sections=stored_sections(report.sections),
        summary=report.summary, problem=shown_problem, tomorrow_plan=report.tomorrow_plan,
        late=report.late,
    )  # fmt: skip
    lines = [
        t(lang, "reports.view_by", name=html.escape(rep.display_name),
          time=_when(report.submitted_at, report.day, timezone, lang)),
        card,
    ]  # fmt: skip
    if report.updated_at != report.submitted_at:
        edited = format_clock(report.updated_at, timezone)
        lines.append(t(lang, "reports.view_edited", time=edited))
    for reply, author in replies:
        lines.append(t(lang, "reports.view_reply", name=html.escape(author.display_name),
                       text=html.escape(reply.text)))  # fmt: skip
    buttons: OutboxButtons = []
    if shown_problem is not None and problem is not None:
        label = t(lang, "reports.reply_button", name=rep.display_name[:30])
        buttons.append([{"text": label, "data": callback(problem.id or 0, REPLY)}])
    back = t(lang, "reports.back_to_day")
    buttons.append([{"text": back, "data": callback(report.team_id, DAY, compact(report.day))}])
    return "\n".join(lines), buttons


def _when(moment: datetime, day: date, timezone: str, lang: str) -> str:
    """The time of a submission; with its day when that is not the report's day."""
    local_day = local_today(moment, timezone)
    clock = format_clock(moment, timezone)
    return clock if local_day == day else f"{format_short_day(local_day, lang)} {clock}"


def day_page(
    texts: Catalogs,
    lang: str,
    *,
    team: Team,
    status: DayStatus,
    today: date,
    open_problems: int,
    timezone: str,
) -> tuple[str, OutboxButtons]:
    """The /reports page of a team and day: each rep's report state; tap one to read it."""
    t = texts.t
    lines = [t(lang, "reports.day_header", team=html.escape(team.name),
               day=format_day(status.day, lang))]  # fmt: skip
    if not status.working_day:
        lines.append(t(lang, "reports.day_not_working"))
    buttons: OutboxButtons = []
    row: list[dict[str, str]] = []
    for entry in status.reps:
        name = html.escape(entry.rep.display_name)
        if entry.report is not None:
            when = _when(entry.report.submitted_at, status.day, timezone, lang)
            key = "reports.line_late" if entry.state == DayState.LATE else "reports.line_on_time"
            line = t(lang, key, name=name, time=when)
            if entry.problem is not None:
                line += " " + t(lang, "reports.problem_mark")
            lines.append(line)
            if sum(len(r) for r in buttons) + len(row) < MAX_REP_BUTTONS:
                row.append({"text": entry.rep.display_name[:30],
                            "data": callback(entry.report.id or 0, VIEW)})  # fmt: skip
            if len(row) == 2:
                buttons.append(row)
                row = []
        elif entry.state == DayState.MISSING:
            lines.append(t(lang, "reports.line_missing", name=name))
        else:
            lines.append(t(lang, "reports.line_pending", name=name,
                           time=format_clock(status.due, timezone)))  # fmt: skip
    if row:
        buttons.append(row)
    if not status.reps:
        lines.append(t(lang, "reports.day_nobody"))
    else:
        lines.append("")
        lines.append(t(lang, "reports.day_totals",
                       done=len(status.having(DayState.SUBMITTED)),
                       late=len(status.having(DayState.LATE)),
                       missing=len(status.having(DayState.MISSING))))  # fmt: skip
    team_id = team.id or 0
    navigation = [{"text": t(lang, "reports.previous_day"),
                   "data": callback(team_id, DAY, compact(_shift(status.day, -1)))}]  # fmt: skip
    if status.day < today:
        following = compact(_shift(status.day, 1))
        navigation.append(
            {"text": t(lang, "reports.next_day"), "data": callback(team_id, DAY, following)}
        )
    buttons.append(navigation)
    buttons.append([
        {"text": t(lang, "reports.problems_button", count=open_problems),
         "data": callback(team_id, PROBLEMS)},
        {"text": t(lang, "reports.weekly_button"),
         "data": callback(team_id, WEEK, compact(status.day))},
    ])  # fmt: skip
    return "\n".join(lines), buttons


def _shift(day: date, days: int) -> date:
    return day + timedelta(days=days)


def problems_page(
    texts: Catalogs,
    lang: str,
    *,
    team: Team,
    problems: Sequence[tuple[ReportProblem, User]],
    total: int,
) -> tuple[str, OutboxButtons]:
    """The team's unanswered problems, each with a button to answer its rep."""
    t = texts.t
    back = [{"text": t(lang, "reports.back_to_day"), "data": callback(team.id or 0, DAY)}]
    if not problems:
        return t(lang, "reports.no_open_problems", team=html.escape(team.name)), [back]
    lines = [t(lang, "reports.problems_header", team=html.escape(team.name), count=total)]
    buttons: OutboxButtons = []
    for number, (problem, rep) in enumerate(problems, start=1):
        lines.append(
            t(lang, "reports.problem_line", number=number, name=html.escape(rep.display_name),
              day=format_short_day(problem.day, lang), text=html.escape(shorten(problem.text)))
        )  # fmt: skip
        label = t(lang, "reports.reply_numbered", number=number, name=rep.display_name[:30])
        buttons.append([{"text": label, "data": callback(problem.id or 0, REPLY)}])
    if total > len(problems):
        lines.append(t(lang, "reports.problems_more", count=total - len(problems)))
    buttons.append(back)
    return "\n".join(lines), buttons


def week_page(
    texts: Catalogs,
    lang: str,
    *,
    team: Team,
    week: Period,
    rows: Sequence[tuple[User, WeeklyReport | None]],
    timezone: str,
    opens_on: date | None,
) -> tuple[str, OutboxButtons]:
    """Who has sent the weekly report of a week; tap one to read it."""
    t = texts.t
    lines = [t(lang, "reports.week_header", team=html.escape(team.name),
               first=format_short_day(week.first, lang),
               last=format_short_day(week.last, lang))]  # fmt: skip
    buttons: OutboxButtons = []
    for rep, report in rows:
        name = html.escape(rep.display_name)
        if report is None:
            lines.append(t(lang, "reports.week_line_missing", name=name))
            continue
        when = _when(report.submitted_at, week.first - timedelta(days=1), timezone, lang)
        key = "reports.line_late" if report.late else "reports.line_on_time"
        lines.append(t(lang, key, name=name, time=when))
        if len(buttons) < MAX_REP_BUTTONS:
            buttons.append([{"text": rep.display_name[:30],
                             "data": callback(report.id or 0, VIEW_WEEKLY)}])  # fmt: skip
    if not rows:
        lines.append(t(lang, "reports.day_nobody"))
    if opens_on is not None:
        lines.append(t(lang, "reports.week_opens", day=format_day(opens_on, lang)))
    earlier = _shift(week.first, -7)
    buttons.append([
        {"text": t(lang, "reports.previous_week"),
         "data": callback(team.id or 0, WEEK, compact(earlier))},
        {"text": t(lang, "reports.back_to_day"), "data": callback(team.id or 0, DAY)},
    ])  # fmt: skip
    return "\n".join(lines), buttons


def weekly_card(
    texts: Catalogs,
    lang: str,
    *,
    first: date,
    last: date,
    sections: Sequence[Section],
    summary: str | None,
    feedback: str | None,
    key_visits: Sequence[tuple[date, str]],
    late: bool,
) -> str:
    t = texts.t
    header = t(lang, "reports.weekly_card_header", first=format_short_day(first, lang),
               last=format_short_day(last, lang))  # fmt: skip
    if late:
        header += " " + t(lang, "reports.late_mark")
    lines = [header, "", *section_lines(texts, lang, sections)]
    lines += _block(texts, lang, "reports.card_summary", summary, "reports.card_empty")
    lines += _block(texts, lang, "reports.card_feedback", feedback, "reports.card_empty")
    lines += ["", f"<b>{t(lang, 'reports.card_key_visits')}</b>"]
    if not key_visits:
        lines.append(t(lang, "reports.card_no_key_visits"))
    for day, name in key_visits:
        lines.append(f"• {format_short_day(day, lang)}: {html.escape(name)}")
    return "\n".join(lines)


def weekly_view(
    texts: Catalogs,
    lang: str,
    *,
    report: WeeklyReport,
    rep: User,
    week: Period,
    key_visits: Sequence[tuple[date, str]],
    timezone: str,
) -> tuple[str, OutboxButtons]:
    t = texts.t
    card = weekly_card(
        texts, lang, first=week.first, last=week.last, sections=stored_sections(report.sections),
        summary=report.summary, feedback=report.feedback, key_visits=key_visits,
        late=report.late,
    )  # fmt: skip
    when = _when(report.submitted_at, report.week_start - timedelta(days=1), timezone, lang)
    text = t(lang, "reports.view_by", name=html.escape(rep.display_name), time=when) + "\n" + card
    back = [[{"text": t(lang, "reports.back_to_week"),
              "data": callback(report.team_id, WEEK, compact(report.week_start))}]]  # fmt: skip
    return text, back


def reminder(texts: Catalogs, lang: str, day: date, step: int) -> tuple[str, OutboxButtons]:
    """The first (step 1) or a later reminder to write the day's report, with its button."""
    key = "reports.reminder_first" if step <= 1 else "reports.reminder_again"
    text = texts.t(lang, key, day=format_day(day, lang))
    button = {"text": texts.t(lang, "reports.write_button"), "data": callback(compact(day), WRITE)}
    return text, [[button]]


def weekly_reminder(texts: Catalogs, lang: str, week: Period) -> tuple[str, OutboxButtons]:
    """On the week's last working day: write the weekly report, with its button."""
    text = texts.t(
        lang, "reports.weekly_reminder", first=format_short_day(week.first, lang),
        last=format_short_day(week.last, lang),
    )  # fmt: skip
    data = callback(compact(week.first), WRITE_WEEKLY)
    return text, [[{"text": texts.t(lang, "reports.weekly_write_button"), "data": data}]]


def digest(
    texts: Catalogs,
    lang: str,
    team: Team,
    status: DayStatus,
    weekly: Sequence[tuple[User, WeeklyReport | None]] | None,
) -> tuple[str, OutboxButtons]:
    """The managers' end-of-day digest: on time, late, missing, problems flagged."""
    t = texts.t

    def names(entries: Sequence[Any], timed: bool = False) -> str:
        shown = []
        for entry in entries:
            name = html.escape(entry.rep.display_name)
            if timed and entry.report is not None:
                name += f" ({_when(entry.report.submitted_at, status.day, team.timezone, lang)})"
            shown.append(name)
        return _join(lang, shown) if shown else "—"

    on_time, late = status.having(DayState.SUBMITTED), status.having(DayState.LATE)
    missing = status.having(DayState.MISSING) + status.having(DayState.PENDING)
    lines = [
        t(lang, "reports.digest_header", team=html.escape(team.name),
          day=format_day(status.day, lang)),
        t(lang, "reports.digest_on_time", count=len(on_time), names=names(on_time, True)),
        t(lang, "reports.digest_late", count=len(late), names=names(late, True)),
        t(lang, "reports.digest_missing", count=len(missing), names=names(missing)),
    ]  # fmt: skip
    buttons: OutboxButtons = []
    problems = status.problems
    if problems:
        lines.append("")
        lines.append(t(lang, "reports.digest_problems", count=len(problems)))
        for entry in problems:
            assert entry.problem is not None
            line = (f"• <b>{html.escape(entry.rep.display_name)}</b>: "
                    f"{html.escape(shorten(entry.problem.text, 300))}")  # fmt: skip
            if entry.problem.status == ProblemStatus.ANSWERED:
                line += " " + t(lang, "reports.answered_mark")
            lines.append(line)
            if entry.problem.status == ProblemStatus.OPEN and len(buttons) < MAX_LISTED_PROBLEMS:
                label = t(lang, "reports.reply_button", name=entry.rep.display_name[:30])
                buttons.append([{"text": label, "data": callback(entry.problem.id or 0, REPLY)}])
    else:
        lines.append(t(lang, "reports.digest_no_problems"))
    if weekly is not None:
        owing = [html.escape(rep.display_name) for rep, report in weekly if report is None]
        lines.append("")
        lines.append(t(lang, "reports.digest_weekly", done=len(weekly) - len(owing),
                       total=len(weekly), names=_join(lang, owing) if owing else "—"))  # fmt: skip
    buttons.append([{"text": t(lang, "reports.open_reports"),
                     "data": callback(team.id or 0, OPEN_DAY, compact(status.day))}])  # fmt: skip
    return "\n".join(lines), buttons


def reply_notice(
    texts: Catalogs, lang: str, manager: str, problem: ReportProblem, reply: str
) -> str:
    """What the rep receives when their manager answers a problem of theirs."""
    return texts.t(
        lang, "reports.reply_notice", name=html.escape(manager),
        day=format_day(problem.day, lang), problem=html.escape(shorten(problem.text, 300)),
        reply=html.escape(reply),
    )  # fmt: skip
