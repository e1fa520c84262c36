"""Schedules as APScheduler cron triggers in a team's timezone ("sat 08:30", "workdays 18:00",
"jun,dec last-workday 10:00", "workhours every 15m"), and the period keys that make a run
happen once ("2026-11-24", "2026-W48", "2026-11", or for a frequent job the slot
"2026-11-24T01:15Z")."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from apscheduler.triggers.cron import CronTrigger

from core.settings import WEEKDAYS, TeamSettings
from scheduler.registry import PeriodKind

AT_PATTERN = re.compile(
    r"^\s*(?:(?P<months>[A-Za-z,\-]+)\s+)?"  # optional months: "jun,dec"
    r"(?P<days>\S+)\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*$"
)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTH_ITEM = re.compile(rf"^({'|'.join(MONTHS)})(-({'|'.join(MONTHS)}))?$")
EVERY_PATTERN = re.compile(r"^\s*(?P<days>\S+)\s+every\s+(?P<minutes>\d{1,2})\s*m(in)?\s*$")
# Intervals that divide an hour, so every hour has the same slots.
EVERY_MINUTES = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
DAY_LIST = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?$")

DayFilter = Callable[[date], bool]
TimeFilter = Callable[[time], bool]
# Twice-yearly jobs still show their next run in `salesbot jobs`.
NEXT_FIRE_HORIZON = timedelta(days=400)


class ScheduleError(ValueError):
    """A schedule string that cannot be understood; the message shows the expected form."""


@dataclass(frozen=True)
class Schedule:
    trigger: CronTrigger
    accepts: DayFilter
    text: str
    # For "workhours": only fire times inside the team's working hours.
    accepts_time: TimeFilter | None = None

    def accepts_fire(self, fire: datetime) -> bool:
        if not self.accepts(fire.date()):
            return False
        return self.accepts_time is None or self.accepts_time(fire.timetz().replace(tzinfo=None))


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


def _parse_every(at: str, match: re.Match[str], team: TeamSettings) -> Schedule:
    minutes = int(match["minutes"])
    if minutes not in EVERY_MINUTES:
        raise ScheduleError(
            f"schedule {at!r}: every N minutes needs N to divide an hour "
            f"({', '.join(str(m) for m in EVERY_MINUTES)})"
        )
    days = match["days"].lower()
    cron: dict[str, str] = {"minute": f"*/{minutes}"}
    accepts: DayFilter = lambda _day: True  # noqa: E731
    accepts_time: TimeFilter | None = None
    if days == "workhours":
        start, end = team.workday_start, team.workday_end
        cron["day_of_week"] = "*"  # accepts decides (调休 Saturdays work)
        cron["hour"] = f"{start.hour}-{end.hour}"
        accepts = team.is_working_day
        accepts_time = lambda moment: start <= moment <= end  # noqa: E731
    elif days == "workdays":
        cron["day_of_week"] = "*"  # accepts decides (调休 Saturdays work)
        accepts = team.is_working_day
    elif days != "daily":
        raise ScheduleError(f"schedule {at!r}: 'every' works with daily, workdays or workhours")
    trigger = CronTrigger(timezone=team.tz, **cron)  # type: ignore[arg-type]
    return Schedule(trigger=trigger, accepts=accepts, text=at, accepts_time=accepts_time)


def parse_schedule(at: str, team: TeamSettings) -> Schedule:
    every = EVERY_PATTERN.match(at)
    if every:
        return _parse_every(at, every, team)
    match = AT_PATTERN.match(at)
    if not match:
        raise ScheduleError(
            f"schedule {at!r} should look like 'sat 08:30', 'workdays 18:00', "
            "'jun,dec last-workday 10:00' or 'workhours every 15m'"
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
        cron["day_of_week"] = "*"  # accepts decides (调休 Saturdays work)
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
    if kind == "slot":
        if not isinstance(local, datetime):
            raise ValueError("a slot period needs a moment, not a day")
        return f"{local.astimezone(UTC):%Y-%m-%dT%H:%MZ}"
    day = local.date() if isinstance(local, datetime) else local
    if kind == "day":
        return day.isoformat()
    if kind == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def _fires(schedule: Schedule, after: datetime, until: datetime) -> Iterator[datetime]:
    """Accepted fire times in (after, until], oldest first, each strictly later than the last.

    Moments are compared and moved in UTC: arithmetic on datetimes of one zone is wall-clock
    arithmetic, which steps back in the hour a DST change repeats. Should the trigger still
    answer with an earlier instant, it is asked again a minute later, so no schedule loops.
    """
    previous: datetime | None = None
    moment = after.astimezone(UTC) + timedelta(microseconds=1)
    until = until.astimezone(UTC)
    while True:
        fire = schedule.trigger.get_next_fire_time(previous, moment)
        if fire is None or fire.astimezone(UTC) > until:
            return
        if fire.astimezone(UTC) < moment:
            previous, moment = None, moment + timedelta(minutes=1)
            continue
        if schedule.accepts_fire(fire):
            yield fire
        previous, moment = fire, fire.astimezone(UTC) + timedelta(microseconds=1)


def fire_times(schedule: Schedule, after: datetime, until: datetime) -> list[datetime]:
    """Accepted fire times in (after, until], oldest first."""
    return list(_fires(schedule, after, until))


def next_fire_time(
    schedule: Schedule, after: datetime, horizon: timedelta = NEXT_FIRE_HORIZON
) -> datetime | None:
    """The first accepted fire time after ``after`` (within ``horizon``), or None."""
    return next(_fires(schedule, after, after + horizon), None)
