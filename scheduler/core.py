"""The scheduler: APScheduler triggers runs in real time; the database decides whether they run.

Every run first claims (job, team, period). A second instance, a restart within the period or a
double trigger finds the claim taken and does nothing. At start-up, runs missed while the bot was
down are made up if still inside their grace window; older ones are recorded as skipped (a
frequent "slot" job only makes up its latest missed slot). While running, a periodic recovery
pass runs what is due but never ran, failed, or whose instance died in the middle of it.
With a ManualClock (tests, the demo) APScheduler is not started: moving the clock fires the runs
that became due, in time order, before the move returns.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlmodel import col, select

from core import metrics
from core.clock import ManualClock
from core.db import transaction
from models.job_run import JobRun, RunStatus
from models.team import Team
from scheduler.registry import JOBS, JobContext, JobSpec
from scheduler.triggers import Schedule, fire_times, next_fire_time, parse_schedule, period_key
from services import alerts, job_runs, notices

log = logging.getLogger(__name__)
RETRY_FAILED_AFTER = timedelta(minutes=5)
# The admins hear of a job that fails this many times in a row (once per streak).
ALERT_AFTER_FAILURES = 2


class Outcome(StrEnum):
    RAN = "ran"
    FAILED = "failed"
    ALREADY_CLAIMED = "already claimed"
    NOT_A_RUN_DAY = "not a run day"


@dataclass(frozen=True)
class Planned:
    """One job as scheduled for one team."""

    spec: JobSpec
    team_key: str
    schedule: Schedule
    grace: timedelta


@dataclass
class CatchUp:
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def plan(ctx: JobContext, jobs: Mapping[str, JobSpec] | None = None) -> list[Planned]:
    """Every enabled job for every declared team, with the team's schedule and grace."""
    planned: list[Planned] = []
    first_team = min(ctx.settings.team_settings, default=None)
    for team_key, team in ctx.settings.team_settings.items():
        for spec in (jobs or JOBS).values():
            override = team.jobs.get(spec.name)
            if override is not None and not override.enabled:
                continue
            default_at: str | None = spec.default_at
            if spec.once:
                if team_key != first_team:
                    continue
                if spec.configured_at is not None:
                    default_at = spec.configured_at(ctx.settings)
                if default_at is None:
                    continue
            at = override.at if override and override.at else default_at
            assert at is not None
            grace_minutes = (
                override.grace_minutes
                if override and override.grace_minutes is not None
                else spec.default_grace_minutes
            )
            planned.append(
                Planned(
                    spec=spec,
                    team_key=team_key,
                    schedule=parse_schedule(at, team),
                    grace=timedelta(minutes=grace_minutes),
                )
            )
    return planned


class Scheduler:
    def __init__(
        self, ctx: JobContext, instance: str, jobs: Mapping[str, JobSpec] | None = None
    ) -> None:
        self.ctx = ctx
        self.instance = instance
        self.jobs = jobs if jobs is not None else JOBS
        self.planned = plan(ctx, self.jobs)
        self._aps: AsyncIOScheduler | None = None
        self._last_seen: datetime | None = None
        # (job, team) -> failures in a row and when the streak began (the incident's key).
        self._failing: dict[tuple[str, str], tuple[int, datetime]] = {}

    async def start(self) -> CatchUp:
        """Make up missed runs, then follow the clock."""
        report = await self.catch_up()
        clock = self.ctx.clock
        self._last_seen = clock.now()
        if isinstance(clock, ManualClock):
            clock.subscribe(self._on_clock_moved)
            return report
        self._aps = AsyncIOScheduler(timezone="UTC")
        for item in self.planned:
            self._aps.add_job(
                self._triggered,
                item.schedule.trigger,
                args=[item.spec.name, item.team_key],
                id=f"{item.spec.name}:{item.team_key}",
                misfire_grace_time=max(1, int(item.grace.total_seconds())),
                coalesce=True,
                max_instances=1,
                replace_existing=True,
            )
        self._aps.add_job(
            self.recover,
            "interval",
            seconds=self.ctx.settings.scheduler.recover_every_seconds,
            id="recover",
            coalesce=True,
            max_instances=1,
        )
        self._aps.start()
        return report

    async def shutdown(self) -> None:
        clock = self.ctx.clock
        if isinstance(clock, ManualClock):
            clock.unsubscribe(self._on_clock_moved)
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None

    async def catch_up(self) -> CatchUp:
        """Run periods missed within their grace window once; record older ones as skipped."""
        report = CatchUp()
        now = self.ctx.clock.now()
        horizon = now - timedelta(days=self.ctx.settings.scheduler.catch_up_days)
        teams = await self._teams()
        for item in self.planned:
            team = teams.get(item.team_key)
            if team is None or team.id is None:
                continue
            since = max(horizon, team.created_at)
            fires = fire_times(item.schedule, since, now)
            if item.spec.period == "slot":
                # A frequent job looks at the current state each time: the latest missed slot
                # (if still within grace) stands in for all the others, which are not recorded.
                fires = [fire for fire in fires[-1:] if now - fire <= item.grace]
            for fire in fires:
                period = period_key(item.spec.period, fire)
                label = f"{item.spec.name}/{item.team_key}/{period}"
                if now - fire <= item.grace:
                    outcome = await self.run(item, period=period, scheduled_for=fire)
                    if outcome is Outcome.RAN:
                        report.ran.append(label)
                    continue
                async with transaction(self.ctx.sessions) as session:
                    recorded = await job_runs.record_skipped(
                        session, job=item.spec.name, team_id=team.id, period=period,
                        scheduled_for=fire, instance=self.instance, now=now,
                    )  # fmt: skip
                if recorded:
                    log.warning("missed %s at %s, beyond its grace window: skipped", label, fire)
                    report.skipped.append(label)
        return report

    async def recover(self) -> list[str]:
        """Run the periods due within their grace window that have no run yet, or whose run is
        stuck "running" (its instance died mid-job) or failed, so that a crash of the instance
        that claimed the Saturday summary delays it instead of losing it. Frequent "slot" jobs
        are left to their next slot. Returns the runs made."""
        now = self.ctx.clock.now()
        stale = now - timedelta(minutes=self.ctx.settings.scheduler.stale_run_minutes)
        teams = await self._teams()
        made: list[str] = []
        for item in self.planned:
            team = teams.get(item.team_key)
            if item.spec.period == "slot" or team is None or team.id is None:
                continue
            for fire in fire_times(item.schedule, max(now - item.grace, team.created_at), now):
                period = period_key(item.spec.period, fire)
                async with transaction(self.ctx.sessions) as session:
                    run = await job_runs.existing(
                        session, job=item.spec.name, team_id=team.id, period=period
                    )
                if run is not None and not self._retry(run, now, stale):
                    continue
                if run is not None:
                    log.warning(
                        "%s/%s/%s %s since %s on %s: running it again", item.spec.name,
                        item.team_key, period, run.status, run.started_at, run.instance,
                    )  # fmt: skip
                outcome = await self.run(item, period=period, scheduled_for=fire)
                if outcome is Outcome.RAN:
                    made.append(f"{item.spec.name}/{item.team_key}/{period}")
        return made

    @staticmethod
    def _retry(run: JobRun, now: datetime, stale: datetime) -> bool:
        """A run stuck "running" since before ``stale``, or one that failed a while ago (a
        database hiccup must not cost the week's summary; a job that keeps failing is tried
        again only every few minutes)."""
        if run.status == RunStatus.RUNNING:
            return run.started_at < stale
        if run.status == RunStatus.FAILED:
            return (run.finished_at or run.started_at) < now - RETRY_FAILED_AFTER
        return False

    def find(self, job: str, team_key: str) -> Planned:
        for item in self.planned:
            if item.spec.name == job and item.team_key == team_key.lower():
                return item
        raise KeyError(f"no job {job!r} for team {team_key!r}")

    async def run(
        self,
        item: Planned,
        *,
        period: str | None = None,
        scheduled_for: datetime | None = None,
        force: bool = False,
    ) -> Outcome:
        """Claim and run one (job, team, period); the claim makes it happen once."""
        now = self.ctx.clock.now()
        scheduled_for = scheduled_for or now
        local = scheduled_for.astimezone(item.schedule.trigger.timezone)
        period = period or period_key(item.spec.period, local)
        stale = now - timedelta(minutes=self.ctx.settings.scheduler.stale_run_minutes)
        async with transaction(self.ctx.sessions) as session:
            team = (await session.exec(select(Team).where(Team.key == item.team_key))).first()
            if team is None or team.id is None or team.archived:
                return Outcome.NOT_A_RUN_DAY
            run_id = await job_runs.claim(
                session, job=item.spec.name, team_id=team.id, period=period,
                scheduled_for=scheduled_for, instance=self.instance, now=now,
                stale_before=stale, force=force,
            )  # fmt: skip
        if run_id is None:
            log.info("%s/%s/%s already claimed", item.spec.name, item.team_key, period)
            return Outcome.ALREADY_CLAIMED
        error: str | None = None
        try:
            with notices.run_budget(self.ctx.settings.scheduler.max_messages_per_chat) as budget:
                await item.spec.run(self.ctx, team, period, scheduled_for)
            if budget.held:
                log.warning("%s/%s/%s held back %s messages over the per-chat limit",
                            item.spec.name, item.team_key, period, budget.held)  # fmt: skip
        except Exception:
            error = traceback.format_exc(limit=5)
            log.exception("job %s/%s/%s failed", item.spec.name, item.team_key, period)
        async with transaction(self.ctx.sessions) as session:
            await job_runs.finish(session, run_id, now=self.ctx.clock.now(), error=error)
        metrics.JOB_RUNS.labels(item.spec.name, "failed" if error else "done").inc()
        await self._after_run(item, team, failed=error is not None, error=error)
        return Outcome.FAILED if error else Outcome.RAN

    async def _after_run(
        self, item: Planned, team: Team, *, failed: bool, error: str | None
    ) -> None:
        """Tell the admins once when a job fails twice in a row (a streak is one incident,
        whatever its length); a run that succeeds ends the streak."""
        key = (item.spec.name, item.team_key)
        if not failed:
            self._failing.pop(key, None)
            return
        count, since = self._failing.get(key, (0, self.ctx.clock.now()))
        self._failing[key] = (count + 1, since)
        if count + 1 != ALERT_AFTER_FAILURES:
            return
        last_line = (error or "").strip().splitlines()[-1:] or [""]
        failing = alerts.JobFailing(item.spec.name, team.name, count + 1, last_line[0])
        async with transaction(self.ctx.sessions) as session:
            await alerts.to_admins(
                session, self.ctx.render, view="alerts.job_failing", data=failing,
                key=f"job-failing:{item.spec.name}:{team.id}:{since:%Y%m%dT%H%M%S}",
                now=self.ctx.clock.now(),
            )  # fmt: skip

    async def _triggered(self, job: str, team_key: str) -> None:
        """APScheduler's callback: run the period of the latest fire time."""
        item = self.find(job, team_key)
        now = self.ctx.clock.now()
        recent = fire_times(item.schedule, now - item.grace - timedelta(minutes=1), now)
        if not recent:
            return
        await self.run(item, scheduled_for=recent[-1])

    async def _on_clock_moved(self, now: datetime) -> None:
        """Manual clock: run every fire time passed since the last move, oldest first."""
        since = self._last_seen or now
        self._last_seen = now
        due: list[tuple[datetime, Planned]] = []
        for item in self.planned:
            due.extend((fire, item) for fire in fire_times(item.schedule, since, now))
        for fire, item in sorted(due, key=lambda pair: (pair[0], pair[1].spec.name)):
            await self.run(item, scheduled_for=fire)

    async def _teams(self) -> dict[str, Team]:
        async with transaction(self.ctx.sessions) as session:
            rows = await session.exec(select(Team).where(col(Team.archived).is_(False)))
            return {team.key: team for team in rows.all()}

    async def overview(self) -> list[tuple[Planned, str, str]]:
        """(job, last run, next run) for `salesbot jobs`."""
        now = self.ctx.clock.now()
        teams = await self._teams()
        async with transaction(self.ctx.sessions) as session:
            latest = await job_runs.latest_runs(session)
        rows = []
        for item in self.planned:
            team = teams.get(item.team_key)
            run = latest.get((item.spec.name, team.id)) if team and team.id else None
            last = (
                f"{run.period} {run.status} at {run.scheduled_for:%Y-%m-%d %H:%M} UTC"
                if run
                else "never"
            )
            upcoming = next_fire_time(item.schedule, now)
            nxt = f"{upcoming:%Y-%m-%d %H:%M %Z}" if upcoming else "none within 62 days"
            rows.append((item, last, nxt))
        return rows
