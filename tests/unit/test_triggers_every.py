"""Frequent schedules ("workhours every 15m"): slots inside the team's working hours only, one
unique period key per slot (also when DST repeats an hour), only the latest missed slot made up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.app import open_runtime
from core.clock import ManualClock
from core.settings import Settings, TeamSettings
from models.team import Team
from scheduler.core import Scheduler
from scheduler.registry import JOBS, JobContext, JobSpec
from scheduler.triggers import (
    ScheduleError,
    fire_times,
    next_fire_time,
    parse_schedule,
    period_key,
)

SHANGHAI = TeamSettings(timezone="Asia/Shanghai", holidays=[date(2026, 12, 25)])
BERLIN = TeamSettings(timezone="Europe/Berlin")


def day_fires(at: str, team: TeamSettings, day: date) -> list[datetime]:
    """The fire times of one local day (which may have 23, 24 or 25 hours)."""
    schedule = parse_schedule(at, team)
    start = datetime.combine(day, time(0), tzinfo=team.tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=team.tz).astimezone(UTC)
    return fire_times(schedule, start - timedelta(microseconds=1), end - timedelta(microseconds=1))


def test_workhours_every_15_minutes_covers_the_workday_only() -> None:
    fires = day_fires("workhours every 15m", SHANGHAI, date(2026, 11, 24))
    local = [f.astimezone(SHANGHAI.tz).strftime("%H:%M") for f in fires]
    assert local[0] == "09:00" and local[-1] == "18:00" and len(local) == 37
    assert day_fires("workhours every 15m", SHANGHAI, date(2026, 11, 28)) == []  # Saturday
    assert day_fires("workhours every 15m", SHANGHAI, date(2026, 12, 25)) == []  # holiday


def test_daily_every_n_minutes_and_unique_slot_keys_across_dst() -> None:
    # Berlin's 2026-10-25 has 25 hours: 02:00-03:00 happens twice, and both get their slots.
    fires = day_fires("daily every 15m", BERLIN, date(2026, 10, 25))
    assert len(fires) == 100
    instants = [f.astimezone(UTC) for f in fires]
    assert instants == sorted(set(instants))
    keys = [period_key("slot", f) for f in fires]
    assert len(set(keys)) == len(keys) and keys[0] == "2026-10-24T22:00Z"
    spring = day_fires("daily every 15m", BERLIN, date(2026, 3, 29))  # 23 hours
    assert len(spring) == 92


def test_next_fire_time_of_a_frequent_schedule() -> None:
    schedule = parse_schedule("workhours every 30m", SHANGHAI)
    friday_evening = datetime(2026, 11, 27, 10, 5, tzinfo=UTC)  # 18:05 in Shanghai
    upcoming = next_fire_time(schedule, friday_evening)
    assert upcoming is not None
    assert upcoming.astimezone(SHANGHAI.tz).strftime("%a %H:%M") == "Mon 09:00"


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("workhours every 7m", "divide an hour"),
        ("weekly every 15m", "daily, workdays or workhours"),
    ],
)
def test_bad_frequent_schedules(at: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(at, SHANGHAI)


def test_slot_keys_need_a_moment() -> None:
    with pytest.raises(ValueError, match="moment"):
        period_key("slot", date(2026, 11, 24))


RAN: list[str] = []


async def remember(ctx: JobContext, team: Team, period: str, scheduled_for: datetime) -> None:
    RAN.append(f"{team.key}/{period}")


@pytest.fixture
def slot_job() -> Iterator[dict[str, JobSpec]]:
    RAN.clear()
    spec = JobSpec("sweep_test", "slot", "workhours every 15m", 30, "test", remember)
    with JOBS.only({spec.name: spec}):
        yield {spec.name: spec}


async def test_catch_up_runs_only_the_latest_missed_slot(
    settings: Settings, slot_job: dict[str, JobSpec]
) -> None:
    start = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai
    clock = ManualClock(start, ticking=False)
    runtime = await open_runtime(settings, clock=clock)
    try:
        await clock.set(start + timedelta(hours=2, minutes=7))  # nobody listening: "down"
        ctx = JobContext(runtime.sessions, runtime.clock, runtime.settings, runtime.texts)
        scheduler = Scheduler(ctx, "test", slot_job)
        report = await scheduler.start()
        assert RAN == ["north/2026-11-24T03:00Z"] and report.skipped == []
        await clock.advance(timedelta(minutes=30))
        assert RAN[1:] == ["north/2026-11-24T03:15Z", "north/2026-11-24T03:30Z"]
        await scheduler.shutdown()
    finally:
        await runtime.close()
