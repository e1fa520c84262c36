"""Time measured in a team's working hours: working days (not holidays), workday start to end.

A request waiting from Friday 17:00 to Monday 10:00 has waited two working hours in a team that
works 09:00-18:00 Monday to Friday. Reminders and escalations count this, not calendar time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.periods import local_moment
from core.settings import TeamSettings

# Beyond this many calendar days the exact figure no longer matters (it is far past any limit).
MAX_DAYS = 400


def _window(day: date, team: TeamSettings) -> tuple[datetime, datetime] | None:
    """The UTC instants of the working hours of ``day``, or None for a day off."""
    if not team.is_working_day(day) or team.workday_end <= team.workday_start:
        return None
    return (
        local_moment(day, team.workday_start, team.timezone),
        local_moment(day, team.workday_end, team.timezone),
    )


def working_time(start: datetime, end: datetime, team: TeamSettings) -> timedelta:
    """Working time between two instants (zero when ``end`` is not after ``start``)."""
    if end <= start:
        return timedelta(0)
    tz = team.tz
    first = start.astimezone(tz).date()
    last = min(end.astimezone(tz).date(), first + timedelta(days=MAX_DAYS))
    total = timedelta(0)
    day = first
    while day <= last:
        window = _window(day, team)
        if window is not None:
            opens, closes = max(window[0], start), min(window[1], end)
            if closes > opens:
                total += closes - opens
        day += timedelta(days=1)
    return total


def working_hours(start: datetime, end: datetime, team: TeamSettings) -> float:
    return working_time(start, end, team).total_seconds() / 3600


def add_working_time(start: datetime, amount: timedelta, team: TeamSettings) -> datetime | None:
    """The instant at which ``amount`` of working time has passed since ``start``.

    None when the team has no working hours within ``MAX_DAYS``.
    """
    remaining = amount
    day = start.astimezone(team.tz).date()
    for _ in range(MAX_DAYS):
        window = _window(day, team)
        if window is not None:
            opens = max(window[0], start)
            if window[1] > opens:
                available = window[1] - opens
                if remaining <= available:
                    return (opens + remaining).astimezone(UTC)
                remaining -= available
        day += timedelta(days=1)
    return None
