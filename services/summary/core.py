"""The weekly (and monthly) meeting summary: per-rep figures from every area, team totals and
their change against earlier periods.

Each area contributes metrics through a :class:`Contributor` whose queries GROUP BY rep over the
whole team at once; this module only assembles them, so a new area adds figures without
touching the summary itself.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import UserFacingError
from core.periods import Period, local_today, month_period, week_period
from core.registry import Registry
from core.settings import Settings, TeamSettings
from models.common import Role
from models.user import User
from services.team_context import TeamContext

PeriodKind = Literal["week", "month"]
Value = int | Decimal | list[str]
MetricFormat = Literal["count", "money", "names"]


@dataclass(frozen=True)
class Metric:
    """One figure of an area. Its label is the view's (the text ``summary.metric.<key>``)."""

    key: str
    format: MetricFormat = "count"
    # The per-rep target for the window, if the metric has one.
    target: Callable[[TeamSettings, Window], int | None] | None = None
    # Compared with earlier periods in the team totals.
    trend: bool = True
    # Left out of a rep's line when zero (e.g. an empty aging bucket), to keep lines short.
    quiet_zero: bool = False


@dataclass(frozen=True)
class Window:
    """One team's period: local days, UTC bounds, and the moment figures are counted up to."""

    team_id: int
    timezone: str
    kind: PeriodKind
    label: str
    period: Period
    until: datetime
    # Money figures are summed in this currency (the team's).
    currency: str = "CNY"
    # The team's rules, for figures counted in working hours (None: the defaults).
    rules: TeamSettings | None = field(default=None, compare=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start(self) -> datetime:
        return self.period.start

    @property
    def end(self) -> datetime:
        return min(self.period.end, self.until)

    @property
    def until_day(self) -> date:
        """The local day the figures are counted to (today, for the current period)."""
        return self.until.astimezone(self.tz).date()


@dataclass
class Sheet:
    """A detail sheet of the workbook: its name and column names (shown by the view as the
    texts ``summary.sheet.<name>`` and ``summary.col.<column>``) and its rows."""

    name: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    # Columns holding a code (an enum value): the text key prefix its label is under, e.g.
    # {"kind": "visits.kind_"}; the workbook shows "上门拜访", never "in_person".
    codes: dict[str, str] = field(default_factory=dict)


PerRep = Callable[[AsyncSession, Window, list[int]], Awaitable[dict[int, dict[str, Value]]]]
# The figures of several teams' windows at once: one dict per (window, rep ids), in order.
PerReps = Callable[
    [AsyncSession, list[tuple[Window, list[int]]]], Awaitable[list[dict[int, dict[str, Value]]]]
]
Details = Callable[[AsyncSession, Window, list[int]], Awaitable[list[Sheet]]]


@dataclass(frozen=True)
class Contributor:
    area: str
    metrics: tuple[Metric, ...]
    per_rep: PerRep
    details: Details | None = None
    # The same figures as ``per_rep`` for many teams in one query each, for an area whose
    # queries cost about the same for one team as for all (the company roll-up); without it,
    # ``per_rep`` is asked once per team.
    per_reps: PerReps | None = None
    # Position of the area's figures in the message, chart and workbook: lower first.
    order: int = 100


CONTRIBUTORS: Registry[Contributor] = Registry("summary contributor")


def contribute(contributor: Contributor) -> Contributor:
    """Register an area's figures; an area registers once (core.registry)."""
    return CONTRIBUTORS.add(contributor.area, contributor)


def contributors() -> list[Contributor]:
    """Every area's figures, in the order they are shown."""
    return sorted(CONTRIBUTORS.values(), key=lambda c: (c.order, c.area))


def working_days(rules: TeamSettings, window: Window) -> int:
    """Working days of the window, up to the day the figures are counted to."""
    last = min(window.period.last, window.until.astimezone(rules.tz).date())
    return sum(1 for day in window.period.days() if day <= last and rules.is_working_day(day))


def metrics() -> list[Metric]:
    return [metric for contributor in contributors() for metric in contributor.metrics]


@dataclass
class RepLine:
    rep_id: int
    name: str
    values: dict[str, Value]


@dataclass
class TeamSummary:
    team: TeamContext
    window: Window
    reps: list[RepLine]
    totals: dict[str, Value]
    previous: dict[str, Value]
    four_back: dict[str, Value]
    sheets: list[Sheet] = field(default_factory=list)
    # Each rep's figures of the period before (by rep id), for what grew since.
    previous_reps: dict[int, dict[str, Value]] = field(default_factory=dict)
    # The cockpit's page (``[webapp]``), for a button under the message; "" when it is off.
    cockpit_url: str = ""

    @property
    def rules(self) -> TeamSettings:
        return self.team.rules

    def target(self, metric: Metric) -> int | None:
        return metric.target(self.rules, self.window) if metric.target else None


def period_of(kind: PeriodKind, day: date, timezone: str) -> Period:
    return week_period(day, timezone) if kind == "week" else month_period(day, timezone)


def label_of(kind: PeriodKind, period: Period) -> str:
    return label_for(kind, period.first)


def label_for(kind: PeriodKind, day: date) -> str:
    """ "2026-W48" for the ISO week of ``day``, "2026-11" for its month."""
    if kind == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def previous_day(kind: PeriodKind, day: date) -> date:
    """A day in the period before the one containing ``day``."""
    return day - timedelta(days=7) if kind == "week" else day.replace(day=1) - timedelta(days=1)


def window_for(team: TeamContext, kind: PeriodKind, day: date) -> Window:
    """The period of ``kind`` containing the local ``day``, counted up to the team's now."""
    rules = team.rules
    period = period_of(kind, day, rules.timezone)
    label = label_of(kind, period)
    return Window(
        team.team_id, rules.timezone, kind, label, period, team.now, rules.collections.currency,
        rules,
    )  # fmt: skip


def earlier(window: Window, steps: int) -> Window:
    """The same kind of period ``steps`` periods before (complete, so counted to its end)."""
    day = window.period.first
    for _ in range(steps):
        day = previous_day(window.kind, day)
    period = period_of(window.kind, day, window.timezone)
    return Window(
        window.team_id, window.timezone, window.kind, label_of(window.kind, period), period,
        period.end, window.currency, window.rules,
    )  # fmt: skip


def parse_label(label: str) -> tuple[PeriodKind, date] | None:
    """ "2026-W48" or "2026-11" -> (kind, a day inside it); None when it is neither."""
    text = label.strip().upper()
    try:
        if "-W" in text:
            year, week = text.split("-W")
            return "week", date.fromisocalendar(int(year), int(week), 1)
        year, month = text.split("-")
        return "month", date(int(year), int(month), 1)
    except ValueError:
        return None


# What a reader types for a period relative to today: (kind, periods back).
RELATIVE: dict[str, tuple[PeriodKind, int]] = {
    "本周": ("week", 0), "这周": ("week", 0), "这个星期": ("week", 0), "本星期": ("week", 0),
    "this week": ("week", 0), "week": ("week", 0),
    "上周": ("week", 1), "上星期": ("week", 1), "上个星期": ("week", 1), "last week": ("week", 1),
    "previous week": ("week", 1),
    "本月": ("month", 0), "这个月": ("month", 0), "this month": ("month", 0),
    "month": ("month", 0),
    "上月": ("month", 1), "上个月": ("month", 1), "last month": ("month", 1),
    "previous month": ("month", 1),
}  # fmt: skip
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def parse_period(asked: str, today: date) -> tuple[PeriodKind, date] | None:
    """What a reader typed -> (kind, a day inside the period): "上周", "last month", a date
    inside a week ("2026-11-25", "2026年11月25日"), "2026-W47" or "2026-11"."""
    text = " ".join(asked.replace("\u3000", " ").split()).lower()
    if text in RELATIVE:
        kind, back = RELATIVE[text]
        day = today
        for _ in range(back):
            day = previous_day(kind, day)
        return kind, day
    found = _DATE.match(text.replace(" ", ""))
    if found is not None:
        try:
            return "week", date(*(int(part) for part in found.groups()))
        except ValueError:
            return None
    return parse_label(text)


@dataclass(frozen=True)
class Chosen:
    """The period a reader asked for, and the one before it (for the way back)."""

    kind: PeriodKind
    day: date
    label: str
    previous: str


def choose_period(asked: str | None, today: date, kind: PeriodKind = "week") -> Chosen:
    """The period of ``asked`` (see :func:`parse_period`; None: this ``kind`` of period); a
    period that cannot be read or has not started yet is refused."""
    day = today
    if asked is not None:
        parsed = parse_period(asked, today)
        if parsed is None:
            raise UserFacingError("summary.bad_period", given=asked[:20])
        kind, day = parsed
    if day > today:
        raise UserFacingError("summary.future_period")
    return Chosen(kind, day, label_for(kind, day), label_for(kind, previous_day(kind, day)))


def company_today(settings: Settings, now: datetime) -> date:
    """Today for the company roll-up, which has no team: in the default team's timezone."""
    return local_today(now, settings.team("").timezone)


async def team_reps(session: AsyncSession, team_id: int) -> list[User]:
    query = (
        select(User)
        .where(col(User.team_id) == team_id, col(User.role) == Role.REP)
        .where(col(User.active).is_(True))
        .order_by(col(User.display_name))
    )
    return list((await session.exec(query)).all())


def _zero(metric: Metric) -> Value:
    return [] if metric.format == "names" else 0


async def _figures(
    session: AsyncSession, scopes: list[tuple[Window, list[int]]]
) -> list[dict[int, dict[str, Value]]]:
    """Every metric of each (window, rep ids), a zero where an area found nothing."""
    values: list[dict[int, dict[str, Value]]] = [
        {rep_id: {} for rep_id in rep_ids} for _, rep_ids in scopes
    ]
    for contributor in contributors():
        if contributor.per_reps is not None:
            found = await contributor.per_reps(session, scopes)
        else:
            found = [await contributor.per_rep(session, w, rep_ids) for w, rep_ids in scopes]
        for figures, (_, rep_ids), area in zip(values, scopes, found, strict=True):
            for rep_id in rep_ids:
                for metric in contributor.metrics:
                    figures[rep_id][metric.key] = area.get(rep_id, {}).get(
                        metric.key, _zero(metric)
                    )
    return values


def totals_of(per_rep: dict[int, dict[str, Value]]) -> dict[str, Value]:
    totals: dict[str, Value] = {}
    for metric in metrics():
        if metric.format == "names":
            continue
        numbers = [
            v for values in per_rep.values() if isinstance(v := values[metric.key], int | Decimal)
        ]
        totals[metric.key] = sum(numbers, Decimal(0) if metric.format == "money" else 0)
    return totals


async def build_team_summary(
    session: AsyncSession,
    team: TeamContext,
    kind: PeriodKind,
    day: date,
    *,
    with_details: bool = True,
    trends: int = 2,
) -> TeamSummary:
    """Every rep's figures for the period containing ``day``, counted up to the team's now,
    with trends and detail sheets. ``trends`` says how many earlier periods are counted: 2
    (the previous one and four back, as the message shows), 1 (the previous one: the cockpit's
    Team page) or 0 (the Company page's totals); one not counted is all zeros."""
    [summary] = await build_team_summaries(
        session, [(team, day)], kind, with_details=with_details, trends=trends
    )
    return summary


async def build_team_summaries(
    session: AsyncSession,
    asked: Sequence[tuple[TeamContext, date]],
    kind: PeriodKind,
    *,
    with_details: bool = True,
    trends: int = 2,
) -> list[TeamSummary]:
    """:func:`build_team_summary` for each (team, day), in order, with the same figures; an
    area that can (``Contributor.per_reps``) counts every team's period in one query."""
    windows = [window_for(team, kind, day) for team, day in asked]
    reps = [await team_reps(session, window.team_id) for window in windows]
    rep_ids = [[rep.id for rep in listed if rep.id is not None] for listed in reps]
    current = await _figures(session, list(zip(windows, rep_ids, strict=True)))
    zeros = [{rep_id: {m.key: _zero(m) for m in metrics()} for rep_id in ids} for ids in rep_ids]

    async def back(steps: int, counted: bool) -> list[dict[int, dict[str, Value]]]:
        if not counted:
            return zeros
        return await _figures(
            session, [(earlier(w, steps), ids) for w, ids in zip(windows, rep_ids, strict=True)]
        )

    previous_reps = await back(1, trends > 0)
    four_back = await back(4, trends > 1)
    summaries = []
    for (team, _), window, listed, ids, figures, before, older in zip(
        asked, windows, reps, rep_ids, current, previous_reps, four_back, strict=True
    ):
        sheets: list[Sheet] = []
        if with_details:
            for contributor in contributors():
                if contributor.details is not None:
                    sheets.extend(await contributor.details(session, window, ids))
        lines = [
            RepLine(rep.id, rep.display_name, figures[rep.id])
            for rep in listed
            if rep.id is not None
        ]
        summaries.append(
            TeamSummary(
                team=team,
                window=window,
                reps=lines,
                totals=totals_of(figures),
                previous=totals_of(before),
                four_back=totals_of(older),
                sheets=sheets,
                previous_reps=before,
            )
        )
    return summaries
