"""One team context: the team, its rules from config.toml, its one timezone and its calendar.

Resolved once per update (``Turn.team``) and once per job run, and handed to services, so that
"today", "this week" and "is this a working day" mean the same everywhere. The timezone is the
config's (``TeamSettings.timezone``); the ``teams.timezone`` column only mirrors it.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import UserFacingError
from core.periods import Period, local_today, month_period, week_period
from core.settings import Settings, TeamSettings
from models.team import Team


@dataclass(frozen=True)
class TeamContext:
    """A team as of ``now``: everything a service needs to know about where and when."""

    team_id: int
    key: str
    name: str
    rules: TeamSettings
    now: datetime

    @property
    def timezone(self) -> str:
        return self.rules.timezone

    @property
    def tz(self) -> ZoneInfo:
        return self.rules.tz

    @property
    def language(self) -> str:
        return self.rules.language

    @cached_property
    def today(self) -> date:
        return local_today(self.now, self.rules.timezone)

    @cached_property
    def this_week(self) -> Period:
        return week_period(self.today, self.rules.timezone)

    @cached_property
    def this_month(self) -> Period:
        return month_period(self.today, self.rules.timezone)

    def is_working_day(self, day: date) -> bool:
        return self.rules.is_working_day(day)

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the team's timezone, for showing it."""
        return moment.astimezone(self.tz)


def context_of(team: Team, settings: Settings, now: datetime) -> TeamContext:
    assert team.id is not None
    return TeamContext(
        team_id=team.id, key=team.key, name=team.name, rules=settings.team(team.key), now=now
    )


# Per database (engine), team id -> key. A team's key never changes and a team row is never
# deleted (sync_teams archives), so an entry stays true for every instance and needs no
# invalidation; the name and the rules come from this process's settings, as they would anyway.
_KEYS: weakref.WeakKeyDictionary[object, dict[int, str]] = weakref.WeakKeyDictionary()


async def resolve(
    session: AsyncSession, settings: Settings, team_id: int, now: datetime
) -> TeamContext:
    """The context of the team with id ``team_id``; "not found" for an unknown id.

    A declared team's context costs no query after the first: it is on every update's path."""
    keys = _KEYS.setdefault(session.bind, {}) if session.bind is not None else {}
    key = keys.get(team_id)
    if key is not None and key in settings.team_settings:
        rules = settings.team(key)
        return TeamContext(team_id=team_id, key=key, name=rules.name or key, rules=rules, now=now)
    team = await session.get(Team, team_id)
    if team is None:
        raise UserFacingError("errors.team_not_found")
    keys[team_id] = team.key
    return context_of(team, settings, now)
