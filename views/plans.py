"""How plans read in the chat: the morning message, /today, /week, /due, and their buttons."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date

from core.i18n import Catalogs
from core.periods import format_day, format_short_day
from models.customer import Customer
from models.plan import PlannedVisit
from models.visit import Visit
from services.plans import DayFigures, DayOverview, DueCustomer, MorningList, PlanChange
from services.route import Stop
from services.visits import Progress
from views.buttons import Button, Keyboard
from views.callbacks import Callback
from views.customers import LOG_VISIT, card_button
from views.registry import view
from views.route import route_button, stop_details
from views.visits import progress_text, visit_line

# Buttons under /due: one per customer at most this many, then "plan them".
MAX_DUE_BUTTONS = 8


@dataclass(frozen=True)
class PlanAction:
    """A button of a plan entry: v(isit: log it), x (remove it); ``plan`` (id 0) plans."""

    plan_id: int
    action: str


PLAN = Callback("pl", PlanAction)
LOG, REMOVE, START_PLANNING = "v", "x", "plan"


def _log_button(texts: Catalogs, lang: str, plan_id: int, name: str) -> Button:
    label = texts.t(lang, "plans.log_button", name=name[:40])
    return Button(label, data=PLAN.pack(PlanAction(plan_id, LOG)))


@view("plans.morning")
def render_morning(texts: Catalogs, lang: str, morning: MorningList) -> tuple[str, Keyboard]:
    """The morning message: today's planned visits and due follow-ups, each with a Log button."""
    t = texts.t
    if morning.empty:
        return t(lang, "plans.morning_empty", day=format_day(morning.day, lang)), []
    lines = [t(lang, "plans.morning_header", day=format_day(morning.day, lang))]
    buttons: Keyboard = []
    for plan, customer in morning.planned:
        origin = t(lang, "plans.follow_up_mark") if plan.source == "follow_up" else ""
        purpose = f" · {t(lang, f'visits.purpose_{plan.purpose}')}" if plan.purpose else ""
        lines.append(f"• {html.escape(customer.name)}{origin}{purpose}")
        buttons.append([_log_button(texts, lang, plan.id or 0, customer.name)])
    if morning.overdue_follow_ups:
        lines.append(t(lang, "plans.overdue_header"))
        lines += _overdue(texts, lang, morning.overdue_follow_ups, buttons)
    return "\n".join(lines), buttons


def _overdue(
    texts: Catalogs, lang: str, entries: list[tuple[PlannedVisit, Customer]], buttons: Keyboard,
    stops: dict[int, Stop] | None = None,
) -> list[str]:  # fmt: skip
    lines = []
    for plan, customer in entries:
        day = format_short_day(plan.planned_on, lang)
        lines.append(f"⏰ {html.escape(customer.name)} ({day})")
        stop = (stops or {}).get(plan.id or 0)
        lines += stop_details(texts, lang, stop) if stop else []
        buttons.append([_log_button(texts, lang, plan.id or 0, customer.name)])
    return lines


@dataclass(frozen=True)
class TodayData:
    overview: DayOverview
    overdue_follow_ups: list[tuple[PlannedVisit, Customer]]
    progress: Progress
    timezone: str
    # Address, distance and follow-up text of each stop still to do, by plan id.
    stops: dict[int, Stop] = field(default_factory=dict)
    # Offer the Route button (the rep's position is known and a stop has a location).
    routable: bool = False
    has_position: bool = False


def today_page(texts: Catalogs, lang: str, data: TodayData) -> tuple[str, Keyboard]:
    """/today: the day's plan vs what was done, unplanned visits, open follow-ups, progress."""
    t = texts.t
    overview = data.overview
    done = sum(1 for line in overview.planned if line.done)
    lines = [t(lang, "plans.today_header", day=format_day(overview.day, lang),
               done=done, planned=len(overview.planned))]  # fmt: skip
    buttons: Keyboard = []
    for line in overview.planned:
        mark = "✅" if line.done else "⬜"
        origin = t(lang, "plans.follow_up_mark") if line.plan.source == "follow_up" else ""
        lines.append(f"{mark} {html.escape(line.customer.name)}{origin}")
        if not line.done:
            stop = data.stops.get(line.plan.id or 0)
            lines += stop_details(texts, lang, stop) if stop else []
            buttons.append([_log_button(texts, lang, line.plan.id or 0, line.customer.name)])
    if not overview.planned:
        lines.append(t(lang, "plans.nothing_planned"))
    if overview.unplanned:
        lines.append(t(lang, "plans.unplanned_header"))
        lines += [_unplanned(texts, lang, v, c, data.timezone) for v, c in overview.unplanned]
    if data.overdue_follow_ups:
        lines.append(t(lang, "plans.overdue_header"))
        lines += _overdue(texts, lang, data.overdue_follow_ups, buttons, data.stops)
    if data.routable:
        buttons.insert(0, [route_button(texts, lang, overview.day.isoformat())])
    elif data.stops and not data.has_position:
        lines.append(t(lang, "route.share_for_route"))
    lines += ["", progress_text(texts, lang, data.progress)]
    return "\n".join(lines), buttons


def _unplanned(texts: Catalogs, lang: str, visit: Visit, customer: Customer, tz: str) -> str:
    return "➕ " + visit_line(texts, lang, visit, customer, tz)


def week_page(
    texts: Catalogs, lang: str, days: list[DayFigures], today: date, progress: Progress
) -> str:
    """/week: the ISO week day by day, then the totals against the targets."""
    t = texts.t
    lines = [t(lang, "plans.week_header", first=format_short_day(days[0].day, lang),
               last=format_short_day(days[-1].day, lang))]  # fmt: skip
    for day in days:
        # A day off with nothing on it says nothing; an empty working day says so in one sign.
        if day.empty and not day.working_day and day.day != today:
            continue
        marker = "▶ " if day.day == today else ""
        label = format_short_day(day.day, lang)
        if day.empty:
            lines.append(marker + t(lang, "plans.week_line_empty", day=label))
            continue
        # Visits on a day with no plan (a call on a Saturday) have no "done / planned" to show.
        key = "plans.week_line" if day.planned else "plans.week_line_unplanned"
        lines.append(
            marker + t(
                lang, key, day=label,
                planned=day.planned, done=day.planned_done, in_person=day.in_person,
                phone=day.phone,
            )
        )  # fmt: skip
    lines += ["", progress_text(texts, lang, progress)]
    return "\n".join(lines)


def due_page(
    texts: Catalogs, lang: str, due: list[DueCustomer], cadence: tuple[int, int, int]
) -> tuple[str, Keyboard]:
    """/due: customers overdue for a visit, a Log button for the first few, and "plan them"."""
    t = texts.t
    if not due:
        return t(lang, "plans.none_due"), []
    a, b, c = cadence
    lines = [texts.tn(lang, "plans.due_header", len(due), count=len(due), a=a, b=b, c=c)]
    buttons: Keyboard = []
    for entry in due:
        last = (
            format_short_day(entry.last_visit, lang)
            if entry.last_visit
            else t(lang, "plans.never")
        )
        lines.append(
            texts.tn(
                lang, "plans.due_line", entry.overdue_days, name=html.escape(entry.customer.name),
                tier=entry.customer.tier, days=entry.overdue_days, last=last,
            )
        )  # fmt: skip
        if len(buttons) < MAX_DUE_BUTTONS:
            name = entry.customer.name[:40]
            button = card_button(
                texts, lang, "plans.log_button", entry.customer.id or 0, LOG_VISIT, name=name
            )
            buttons.append([button])
    plan_them = PLAN.pack(PlanAction(0, START_PLANNING))
    buttons.append([Button(t(lang, "plans.plan_due"), data=plan_them)])
    return "\n".join(lines), buttons


def saved_text(texts: Catalogs, lang: str, change: PlanChange, *, reopened: bool) -> str:
    """The day's plan after Done; for a day that had a plan already, what was added and removed
    (so a removal by mistake is seen at once)."""
    t = texts.t
    added = {c.id for c in change.added}
    lines = []
    for line in change.plan:
        name = html.escape(line.customer.name)
        if line.done:
            lines.append(t(lang, "plans.entry_done", name=name))
        elif reopened and line.customer.id in added:
            lines.append(t(lang, "plans.saved_added", name=name))
        else:
            lines.append(f"• {name}")
    lines += [t(lang, "plans.saved_removed", name=html.escape(c.name)) for c in change.removed]
    day, count = format_day(change.day, lang), len(change.plan)
    if not reopened:
        return t(lang, "plans.saved", day=day, count=count, names="\n".join(lines))
    if not change.added and not change.removed:
        header = t(lang, "plans.unchanged", day=day, count=count)
    elif not change.plan:
        header = t(lang, "plans.all_removed", day=day, removed=len(change.removed))
    else:
        # Each line says whether it was added or removed: the header only gives the total.
        header = t(lang, "plans.changed", day=day, count=count)
    return "\n".join([header, *lines])
