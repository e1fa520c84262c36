"""How reports read for the rep who writes them: the report sections, the daily and weekly
cards, the form's texts, the reminders and the notice of a manager's answer; and the codecs of
every report button. The managers' pages are in :mod:`views.report_pages`.

User data (names, summaries, problems, customer names, section texts) is escaped here, once,
where it enters a text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from core.i18n import Catalogs, format_money, join_list, labelled
from core.periods import format_clock, format_day, format_short_day, local_today
from services.report_reminders import DailyReminder, WeeklyReminder
from services.report_sections import Param, Section
from services.reports import ReplyNotice
from views.buttons import Button, Keyboard
from views.callbacks import Callback, StaleButton
from views.registry import view

PREVIEW = 160


# -- buttons ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRef:
    """A day, written YYYYMMDD."""

    day: int


@dataclass(frozen=True)
class TeamDay:
    """A team and a day (YYYYMMDD; none: the team's today)."""

    team_id: int
    day: int | None = None


@dataclass(frozen=True)
class Ref:
    """A report, a problem or a team, by id."""

    ident: int


# A rep's reminder: write the report of that day.
WRITE_DAILY = Callback("rpw", DayRef)
# The weekly reminder: write the report of the week starting that day.
WRITE_WEEKLY = Callback("rpww", DayRef)
# A team's day page, in place of the page the button is on.
TEAM_DAY = Callback("rpd", TeamDay)
# A team's day page in a new message (from the digest, which must stay as it is).
OPEN_DAY = Callback("rpo", TeamDay)
VIEW_DAILY = Callback("rpv", Ref)
REPLY = Callback("rpr", Ref)
# A team's open problems.
PROBLEMS = Callback("rpp", Ref)
# A team's weekly reports of the week containing the day.
TEAM_WEEK = Callback("rpk", TeamDay)
VIEW_WEEKLY = Callback("rpvw", Ref)


def compact(day: date) -> int:
    return int(f"{day:%Y%m%d}")


def from_compact(raw: int | str) -> date | None:
    text = str(raw)
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def day_of(raw: int | None) -> date | None:
    """The day a button names (None when it names none); a malformed day is a stale button."""
    if raw is None:
        return None
    day = from_compact(raw)
    if day is None:
        raise StaleButton
    return day


# -- pieces -------------------------------------------------------------------------------


def shorten(text: str, limit: int = PREVIEW) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def join(lang: str, items: Sequence[str]) -> str:
    return join_list(lang, items)


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
        return join(lang, [html.escape(str(item)) for item in value])
    if isinstance(value, str):
        return html.escape(value)
    return str(value)


def section_lines(texts: Catalogs, lang: str, sections: Sequence[Section]) -> list[str]:
    lines: list[str] = []
    for section in sections:
        lines.append(f"<b>{texts.t(lang, section.title)}</b>")
        for line in section.lines:
            params = {key: param_text(lang, value) for key, value in line.params.items()}
            # A line that counts ("1 check-in far from the customer") takes its singular.
            count = line.params.get("count")
            text = (
                texts.tn(lang, line.key, count, **params)
                if isinstance(count, int)
                else texts.t(lang, line.key, **params)
            )
            lines.append("• " + text)
    return lines


def when(moment: datetime, day: date, timezone: str, lang: str) -> str:
    """The time of a submission; with its day when that is not the report's day."""
    local_day = local_today(moment, timezone)
    clock = format_clock(moment, timezone)
    return clock if local_day == day else f"{format_short_day(local_day, lang)} {clock}"


def _block(texts: Catalogs, lang: str, key: str, value: str | None, empty_key: str) -> list[str]:
    shown = html.escape(value) if value else texts.t(lang, empty_key)
    return ["", f"<b>{texts.t(lang, key)}</b>", shown]


# -- cards --------------------------------------------------------------------------------


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
    lines += _day_list(lang, key_visits)
    return "\n".join(lines)


def _day_list(lang: str, entries: Sequence[tuple[date, str]]) -> list[str]:
    return [
        f"• {labelled(lang, format_short_day(day, lang), html.escape(name))}"
        for day, name in entries
    ]


# -- the forms ----------------------------------------------------------------------------


def daily_draft(
    texts: Catalogs, lang: str, *, day: date, late: bool, sections: Sequence[Section]
) -> str:
    """The daily form's first prompt: the day's figures, then the question."""
    lines = [texts.t(lang, "reports.draft_header", day=format_day(day, lang))]
    if late:
        lines.append(texts.t(lang, "reports.draft_late"))
    lines += ["", *section_lines(texts, lang, sections)]
    lines += ["", texts.t(lang, "reports.ask_summary")]
    return "\n".join(lines)


def weekly_draft(
    texts: Catalogs, lang: str, *, first: date, last: date, late: bool,
    sections: Sequence[Section],
) -> str:  # fmt: skip
    """The weekly form's first prompt: the week's figures, then the question."""
    lines = [texts.t(lang, "reports.weekly_draft_header", first=format_short_day(first, lang),
                     last=format_short_day(last, lang))]  # fmt: skip
    if late:
        lines.append(texts.t(lang, "reports.weekly_draft_late"))
    lines += ["", *section_lines(texts, lang, sections)]
    lines += ["", texts.t(lang, "reports.ask_weekly_summary")]
    return "\n".join(lines)


def ask_tomorrow(
    texts: Catalogs, lang: str, day: date, planned: Sequence[str], *, after: date | None = None
) -> str:
    """The question of the next working day's plan, with the customers already planned for
    that day; called "tomorrow" only when it is the day after ``after`` (the report's day)."""
    shown = format_short_day(day, lang)
    base = "reports.ask_tomorrow"
    if after is not None and (day - after).days != 1:
        base = "reports.ask_next_workday"
    if not planned:
        return texts.t(lang, base, day=shown)
    listed = "\n".join(f"• {html.escape(name)}" for name in planned)
    return texts.t(lang, f"{base}_planned", day=shown, plan=listed)


def ask_keys(texts: Catalogs, lang: str, first_day: date, query: str | None) -> str:
    """The question of next week's key visits, with the search the list shows, if any."""
    text = texts.t(lang, "reports.ask_keys", first=format_short_day(first_day, lang))
    if query:
        text += "\n" + texts.t(lang, "plans.search_results", query=html.escape(query))
    return text


def daily_submitted(
    texts: Catalogs, lang: str, *, day: date, created: bool, late: bool, problem_open: bool,
    weekly_due: bool,
) -> str:  # fmt: skip
    """What the rep reads after Submit."""
    if not created:
        key = "reports.updated"
    else:
        key = "reports.submitted_late" if late else "reports.submitted"
    lines = [texts.t(lang, key, day=format_day(day, lang))]
    if problem_open:
        lines.append(texts.t(lang, "reports.problem_noted"))
    if weekly_due:
        lines.append(texts.t(lang, "reports.weekly_hint"))
    return "\n".join(lines)


def weekly_submitted(
    texts: Catalogs, lang: str, *, created: bool, late: bool,
    planned: Sequence[tuple[date, str]],
) -> str:  # fmt: skip
    """What the rep reads after submitting the weekly report, with next week's key visits."""
    if not created:
        key = "reports.weekly_updated"
    else:
        key = "reports.weekly_submitted_late" if late else "reports.weekly_submitted"
    lines = [texts.t(lang, key)]
    if planned:
        lines.append(texts.tn(lang, "reports.next_week_planned", len(planned), count=len(planned)))
        lines += _day_list(lang, planned)
    return "\n".join(lines)


def ask_reply(texts: Catalogs, lang: str, *, name: str, day: date, problem: str) -> str:
    """The manager's prompt to answer a rep's problem."""
    return texts.t(
        lang, "reports.ask_reply", name=html.escape(name), day=format_short_day(day, lang),
        problem=html.escape(shorten(problem, 600)),
    )  # fmt: skip


def reply_sent(texts: Catalogs, lang: str, name: str) -> str:
    return texts.t(lang, "reports.reply_sent", name=html.escape(name))


# -- messages to reps (services.notices) --------------------------------------------------


@view("reports.reminder")
def reminder(texts: Catalogs, lang: str, data: DailyReminder) -> tuple[str, Keyboard]:
    """The first (step 1) or a later reminder to write the day's report, with its button."""
    key = "reports.reminder_first" if data.step <= 1 else "reports.reminder_again"
    text = texts.t(lang, key, day=format_day(data.day, lang))
    label = texts.t(lang, "reports.write_button")
    return text, [[Button(label, data=WRITE_DAILY.pack(DayRef(compact(data.day))))]]


@view("reports.weekly_reminder")
def weekly_reminder(texts: Catalogs, lang: str, data: WeeklyReminder) -> tuple[str, Keyboard]:
    """On the week's last working day: write the weekly report, with its button."""
    text = texts.t(
        lang, "reports.weekly_reminder", first=format_short_day(data.first, lang),
        last=format_short_day(data.last, lang),
    )  # fmt: skip
    label = texts.t(lang, "reports.weekly_write_button")
    return text, [[Button(label, data=WRITE_WEEKLY.pack(DayRef(compact(data.first))))]]


@view("reports.reply_notice")
def reply_notice(texts: Catalogs, lang: str, data: ReplyNotice) -> tuple[str, None]:
    """What the rep receives when their manager answers a problem of theirs."""
    return texts.t(
        lang, "reports.reply_notice", name=html.escape(data.manager),
        day=format_day(data.day, lang), problem=html.escape(shorten(data.problem, 300)),
        reply=html.escape(data.reply),
    ), None  # fmt: skip
