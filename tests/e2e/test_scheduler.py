"""Scheduler core: team timezones across DST, exactly-once claims, catch-up within grace."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.app import Runtime, open_runtime
from core.clock import ManualClock
from core.db import transaction
from core.settings import Settings
from models.job_run import JobRun, RunStatus
from models.team import Team
from scheduler.core import Outcome, Scheduler
from scheduler.registry import JOBS, JobContext, JobSpec
from scheduler.triggers import parse_schedule, period_key
from services import job_runs


@dataclass
class Ran:
    team: str
    period: str
    scheduled_for: datetime
    ran_at: datetime


RUNS: list[Ran] = []


async def record_run(ctx: JobContext, team: Team, period: str, scheduled_for: datetime) -> None:
    await asyncio.sleep(0.01)  # long enough for a racing instance to try too
    RUNS.append(Ran(team.key, period, scheduled_for, ctx.clock.now()))


@pytest.fixture
def test_jobs() -> Iterator[dict[str, JobSpec]]:
    """A daily 08:30 job with one hour of grace, registered only for this test."""
    RUNS.clear()
    spec = JobSpec(
        name="morning_test", period="day", default_at="daily 08:30", default_grace_minutes=60,
        description="test job", run=record_run,
    )  # fmt: skip
    with JOBS.only({"morning_test": spec}):
        yield {"morning_test": spec}


async def runtime_at(settings: Settings, start: datetime) -> Runtime:
    return await open_runtime(settings, clock=ManualClock(start, ticking=False))


def ctx_of(runtime: Runtime) -> JobContext:
    return JobContext(runtime.sessions, runtime.clock, runtime.settings, runtime.texts)


@pytest.fixture
async def autumn(settings: Settings) -> AsyncIterator[Runtime]:
    """Friday 2026-10-23, two days before Europe leaves summer time."""
    runtime = await runtime_at(settings, datetime(2026, 10, 23, 0, 0, tzinfo=UTC))
    yield runtime
    await runtime.close()


async def test_each_team_runs_at_its_own_0830_across_a_dst_change(
    autumn: Runtime, test_jobs: dict[str, JobSpec]
) -> None:
    scheduler = Scheduler(ctx_of(autumn), "only", test_jobs)
    await scheduler.start()
    clock = autumn.clock
    assert isinstance(clock, ManualClock)
    for _ in range(4 * 24):
        await clock.advance(timedelta(hours=1))
    await scheduler.shutdown()

    zones = {"north": ZoneInfo("Asia/Shanghai"), "south": ZoneInfo("Europe/Berlin")}
    for run in RUNS:
        local = run.scheduled_for.astimezone(zones[run.team])
        assert (local.hour, local.minute) == (8, 30)
        assert run.period == local.date().isoformat()
        assert run.ran_at >= run.scheduled_for
    berlin = sorted(r.scheduled_for.astimezone(UTC) for r in RUNS if r.team == "south")
    assert [t.strftime("%m-%d %H:%M") for t in berlin] == [
        "10-23 06:30", "10-24 06:30", "10-25 07:30", "10-26 07:30",
    ]  # fmt: skip
    shanghai = sorted(r.scheduled_for.astimezone(UTC) for r in RUNS if r.team == "north")
    assert [t.strftime("%m-%d %H:%M") for t in shanghai] == [
        "10-23 00:30", "10-24 00:30", "10-25 00:30", "10-26 00:30",
    ]  # fmt: skip
    # Runs happen in time order, whatever the team.
    assert [r.scheduled_for for r in RUNS] == sorted(r.scheduled_for for r in RUNS)


async def test_two_instances_run_a_claimed_job_once(
    autumn: Runtime, test_jobs: dict[str, JobSpec]
) -> None:
    first = Scheduler(ctx_of(autumn), "instance-a", test_jobs)
    second = Scheduler(ctx_of(autumn), "instance-b", test_jobs)
    await first.start()
    await second.start()
    clock = autumn.clock
    assert isinstance(clock, ManualClock)
    await clock.set(datetime(2026, 10, 23, 7, 0, tzinfo=UTC))  # both teams' 08:30 passed
    item = first.find("morning_test", "north")
    outcomes = await asyncio.gather(
        first.run(item, period="2026-10-24"), second.run(item, period="2026-10-24")
    )
    await first.shutdown()
    await second.shutdown()
    assert sorted(outcomes) == sorted([Outcome.RAN, Outcome.ALREADY_CLAIMED])
    assert sorted((r.team, r.period) for r in RUNS) == [
        ("north", "2026-10-23"), ("north", "2026-10-24"), ("south", "2026-10-23"),
    ]  # fmt: skip


async def test_missed_runs_inside_grace_run_at_start_older_ones_are_skipped(
    settings: Settings, test_jobs: dict[str, JobSpec]
) -> None:
    # Teams exist since Monday; the bot was down until Wednesday 09:10 Shanghai time.
    runtime = await runtime_at(settings, datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    try:
        clock = runtime.clock
        assert isinstance(clock, ManualClock)
        await clock.set(datetime(2026, 11, 25, 1, 10, tzinfo=UTC))
        scheduler = Scheduler(ctx_of(runtime), "late", test_jobs)
        report = await scheduler.start()
        assert report.ran == ["morning_test/north/2026-11-25"]
        assert "morning_test/north/2026-11-23" in report.skipped
        assert "morning_test/north/2026-11-24" in report.skipped
        assert [(r.team, r.period) for r in RUNS] == [("north", "2026-11-25")]
        await scheduler.shutdown()

        # A restart within the same period does nothing more.
        again = Scheduler(ctx_of(runtime), "restarted", test_jobs)
        report = await again.start()
        await again.shutdown()
        assert report.ran == [] and report.skipped == []
        assert len(RUNS) == 1
        async with transaction(runtime.sessions) as session:
            rows = (await session.exec(select(JobRun).where(JobRun.team_id == 1))).all()
        statuses = {row.period: row.status for row in rows}
        assert statuses["2026-11-25"] == RunStatus.DONE
        assert statuses["2026-11-23"] == RunStatus.SKIPPED
    finally:
        await runtime.close()


async def test_failed_run_is_recorded_and_may_be_claimed_again(
    autumn: Runtime, test_jobs: dict[str, JobSpec]
) -> None:
    attempts: list[str] = []

    async def flaky(ctx: JobContext, team: Team, period: str, scheduled_for: datetime) -> None:
        attempts.append(period)
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")

    jobs = {"flaky": JobSpec("flaky", "week", "sat 08:30", 60, "flaky", flaky)}
    scheduler = Scheduler(ctx_of(autumn), "only", jobs)
    item = scheduler.find("flaky", "north")
    assert await scheduler.run(item, period="2026-W43") is Outcome.FAILED
    assert await scheduler.run(item, period="2026-W43") is Outcome.RAN
    assert await scheduler.run(item, period="2026-W43") is Outcome.ALREADY_CLAIMED
    assert await scheduler.run(item, period="2026-W43", force=True) is Outcome.RAN
    assert attempts == ["2026-W43"] * 3


async def test_the_recovery_pass_retries_a_failed_run_within_grace(
    settings: Settings, test_jobs: dict[str, JobSpec]
) -> None:
    attempts: list[datetime] = []

    async def flaky(ctx: JobContext, team: Team, period: str, scheduled_for: datetime) -> None:
        attempts.append(ctx.clock.now())
        if len(attempts) < 3:
            raise RuntimeError("database hiccup")

    runtime = await runtime_at(settings, datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    try:
        clock = runtime.clock
        assert isinstance(clock, ManualClock)
        jobs = {"flaky": JobSpec("flaky", "day", "daily 08:30", 60, "flaky", flaky)}
        scheduler = Scheduler(ctx_of(runtime), "only", jobs)
        scheduler.planned = [p for p in scheduler.planned if p.team_key == "north"]
        await clock.set(datetime(2026, 11, 25, 0, 0, tzinfo=UTC))
        await scheduler.start()  # the earlier days are beyond grace: skipped
        await clock.set(datetime(2026, 11, 25, 0, 30, tzinfo=UTC))
        assert len(attempts) == 1  # the trigger's run failed
        await clock.advance(timedelta(minutes=2))
        assert await scheduler.recover() == [] and len(attempts) == 1  # not at once
        await clock.advance(timedelta(minutes=4))
        assert await scheduler.recover() == [] and len(attempts) == 2  # failed again
        await clock.advance(timedelta(minutes=6))
        assert await scheduler.recover() == ["flaky/north/2026-11-25"]
        assert await scheduler.recover() == [] and len(attempts) == 3
        await scheduler.shutdown()
    finally:
        await runtime.close()


async def test_a_run_whose_instance_died_is_run_again_by_a_survivor(
    settings: Settings, test_jobs: dict[str, JobSpec]
) -> None:
    """Instance A claimed north's 08:30 run and died in the middle of it; B's recovery pass
    leaves the run alone while it may still be working, then runs it once it is stale."""
    runtime = await runtime_at(settings, datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    try:
        clock = runtime.clock
        assert isinstance(clock, ManualClock)
        await clock.set(datetime(2026, 11, 25, 0, 30, tzinfo=UTC))  # 08:30 in Shanghai
        dead = Scheduler(ctx_of(runtime), "dead-a", test_jobs)
        fire = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
        async with transaction(runtime.sessions) as session:
            team = (await session.exec(select(Team).where(Team.key == "north"))).one()
            assert team.id is not None
            claimed = await job_runs.claim(
                session, job="morning_test", team_id=team.id, period="2026-11-25",
                scheduled_for=fire, instance="dead-a", now=clock.now(),
                stale_before=clock.now() - timedelta(minutes=30),
            )  # fmt: skip
        assert claimed is not None and dead.planned
        survivor = Scheduler(ctx_of(runtime), "survivor-b", test_jobs)
        await clock.advance(timedelta(minutes=10))
        assert await survivor.recover() == []  # A may still be working on it
        assert RUNS == []
        await clock.advance(timedelta(minutes=21))  # stale after 30 minutes
        assert await survivor.recover() == ["morning_test/north/2026-11-25"]
        assert [(r.team, r.period) for r in RUNS] == [("north", "2026-11-25")]
        assert await survivor.recover() == []  # done now: never twice
        async with transaction(runtime.sessions) as session:
            run = (await session.exec(select(JobRun).where(JobRun.period == "2026-11-25"))).one()
        assert run.status == RunStatus.DONE and run.instance == "survivor-b"
        # Beyond the grace window (60 minutes) nothing is made up any more.
        await clock.set(datetime(2026, 11, 26, 1, 40, tzinfo=UTC))
        assert await survivor.recover() == []
    finally:
        await runtime.close()


def test_schedules_and_period_keys(settings: Settings) -> None:
    north = settings.team("north")
    schedule = parse_schedule("workdays 18:00", north)
    assert not schedule.accepts(date(2026, 12, 25))  # a configured holiday
    assert schedule.accepts(date(2026, 12, 24))
    first = parse_schedule("first-workday 09:00", north)
    assert first.accepts(date(2026, 12, 1))
    assert not first.accepts(date(2026, 12, 2))
    assert period_key("week", date(2026, 11, 28)) == "2026-W48"
    assert period_key("month", date(2026, 11, 28)) == "2026-11"
    for bad in ("saturday 8:30", "sat 25:00", "sat", "day-40 09:00"):
        with pytest.raises(ValueError):
            parse_schedule(bad, north)
