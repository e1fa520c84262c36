"""Job declarations: a name, the period it runs once per, its default schedule and grace."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Literal

from core.clock import Clock
from core.db import SessionFactory
from core.i18n import Catalogs
from core.registry import Registry
from core.settings import Settings
from models.team import Team
from services.notices import Render
from services.team_context import TeamContext, context_of
from views.render import renderer

# "slot": one run per fire time, for frequent jobs ("workhours every 15m"); its period key is
# the UTC minute of the slot, unique even when a DST change repeats a local hour.
PeriodKind = Literal["day", "week", "month", "slot"]


@dataclass(frozen=True)
class JobContext:
    """What a job may use: it calls services with these, it does not compute itself."""

    sessions: SessionFactory
    clock: Clock
    settings: Settings
    texts: Catalogs

    @cached_property
    def render(self) -> Render:
        """The views layer as services take it (services.notices.Render)."""
        return renderer(self.texts)

    def team_context(self, team: Team, now: datetime | None = None) -> TeamContext:
        """The team's context at ``now`` (default: the clock's now), once per run."""
        return context_of(team, self.settings, now or self.clock.now())


JobFn = Callable[[JobContext, Team, str, datetime], Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    name: str
    period: PeriodKind
    default_at: str
    default_grace_minutes: int
    description: str
    run: JobFn
    # A job for the whole installation (a backup), not per team: planned for the first declared
    # team only (its claim makes it once per period), in that team's timezone.
    once: bool = False
    # The schedule from the settings ([backup] at), overriding ``default_at``; None: disabled.
    configured_at: Callable[[Settings], str | None] | None = None


JOBS: Registry[JobSpec] = Registry("job")


def job(
    name: str,
    *,
    period: PeriodKind,
    at: str,
    grace_minutes: int,
    description: str,
    once: bool = False,
    configured_at: Callable[[Settings], str | None] | None = None,
) -> Callable[[JobFn], JobFn]:
    """Declare a job; ``at`` is the default schedule, overridable per team in config.toml."""

    def register(fn: JobFn) -> JobFn:
        JOBS.add(
            name,
            JobSpec(
                name=name,
                period=period,
                default_at=at,
                default_grace_minutes=grace_minutes,
                description=description,
                run=fn,
                once=once,
                configured_at=configured_at,
            ),
        )
        return fn

    return register
