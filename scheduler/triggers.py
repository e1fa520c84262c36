"""Schedules ("sat 08:30", "workdays 18:00") as APScheduler cron triggers in a team's timezone,
and the period keys that make a run happen once ("2026-11-24", "2026-W48", "2026-11")."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.settings import WEEKDAYS, TeamSettings
from scheduler.registry import PeriodKind

AT_PATTERN = re.compile(
    r"^\s*(?:(?P<months>[A-Za-z,\-]+)\s+)?"  # optional months: "jun,dec"
    r"(?P<days>\S+)\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*$"
)
DAY_LIST = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?$")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTH_ITEM = re.compile(rf"^({'|'.join(MONTHS)})(-({'|'.join(MONTHS)}))?$")

DayFilter = Callable[[date], bool]
# Twice-yearly jobs still show their next run in `salesbot jobs`.
NEXT_FIRE_HORIZON = timedelta(days=400)


class ScheduleError(ValueError):
    """A schedule string that cannot be understood; the message shows the expected form."""


@dataclass(frozen=True)
class Schedule:
    trigger: CronTrigger
    accepts: DayFilter
    text: str


def first_working_day(team: TeamSettings, day: date) -> date:
    current = day.replace(day=1)
    while not team.is_working_day(current):
        current += timedelta(days=1)
    return current


def last_working_day(team: TeamSettings, day: date) -> date:
    following = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    current = following - timedelta(days=1)
    while not team.is_working_day(current) and current.day > 1:
        current -= timedelta(days=1)
    return current


def _months(text: str, at: str) -> str:
    """Months such as ``jun,dec`` or ``mar-may`` as the cron month field (``6,12``, ``3-5``)."""
    parts = []
    for item in text.lower().split(","):
        match = MONTH_ITEM.match(item)
        if not match:
            raise ScheduleError(
                f"schedule {at!r}: months must be jan..dec, e.g. 'jun,dec last-workday 10:00'"
            )
        first = MONTHS.index(match[1]) + 1
        parts.append(f"{first}-{MONTHS.index(match[3]) + 1}" if match[3] else str(first))
    return ",".join(parts)


def parse_schedule(at: str, team: TeamSettings) -> Schedule:
    match = AT_PATTERN.match(at)
    if not match:
        raise ScheduleError(
            f"schedule {at!r} should look like 'sat 08:30', 'workdays 18:00' or "
            "'jun,dec last-workday 10:00'"
        )
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        raise ScheduleError(f"schedule {at!r} has an impossible time")
    days = match["days"].lower()
    accepts: DayFilter = lambda _day: True  # noqa: E731
    cron: dict[str, str] = {}
    if days == "daily":
        cron["day_of_week"] = "*"
    elif days == "workdays":
        cron["day_of_week"] = ",".join(team.working_days)
        accepts = team.is_working_day
    elif days == "first-workday":
        cron["day_of_week"] = "*"
        accepts = lambda day: day == first_working_day(team, day)  # noqa: E731
    elif days == "last-workday":
        cron["day_of_week"] = "*"
        accepts = lambda day: day == last_working_day(team, day)  # noqa: E731
    elif days.startswith("day-") and days[4:].isdigit() and 1 <= int(days[4:]) <= 31:
        cron["day"] = days[4:]
    elif all(DAY_LIST.match(part) for part in days.split(",")):
        cron["day_of_week"] = days
    else:
        raise ScheduleError(
            f"schedule {at!r}: days must be daily, workdays, first-workday, last-workday, day-N "
            f"or weekdays like {'/'.join(WEEKDAYS[:3])}, mon-fri, mon,wed"
        )
    if match["months"]:
        cron["month"] = _months(match["months"], at)
    trigger = CronTrigger(hour=hour, minute=minute, timezone=team.tz, **cron)  # type: ignore[arg-type]
    return Schedule(trigger=trigger, accepts=accepts, text=at)


def period_key(kind: PeriodKind, local: datetime | date) -> str:
    day = local.date() if isinstance(local, datetime) else local
    if kind == "day":
        return day.isoformat()
    if kind == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def fire_times(schedule: Schedule, after: datetime, until: datetime) -> list[datetime]:
    """Accepted fire times in (after, until], oldest first."""
    found: list[datetime] = []
    previous: datetime | None = None
    moment = after + timedelta(microseconds=1)
    while True:
        fire = schedule.trigger.get_next_fire_time(previous, moment)
        if fire is None or fire > until:
            return found
        if schedule.accepts(fire.date()):
            found.append(fire)
        previous, moment = fire, fire + timedelta(microseconds=1)


def next_fire_time(
    schedule: Schedule, after: datetime, horizon: timedelta = NEXT_FIRE_HORIZON
) -> datetime | None:
    """The first accepted fire time after ``after`` (within ``horizon``), or None."""
    previous: datetime | None = None
    moment = after + timedelta(microseconds=1)
    while True:
        fire = schedule.trigger.get_next_fire_time(previous, moment)
        if fire is None or fire > after + horizon:
            return None
        if schedule.accepts(fire.date()):
            return fire
        previous, moment = fire, fire + timedelta(microseconds=1)
