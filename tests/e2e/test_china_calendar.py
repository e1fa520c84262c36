"""China's working calendar: the 2027 Spring Festival and its 调休 Saturday, as a team configures
them (chinese-calendar 1.11 ships data up to 2026 only), respected by the report reminders, the
dunning run and the working hours that escalate an approval."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from core.clock import ManualClock
from core.db import transaction
from models.job_run import JobRun
from sandbox.harness import LocalBot
from tests.approval_helpers import expense, requests, team_of
from tests.collection_helpers import ZONES
from tests.conftest import write_config

JOBS_UNDER_TEST = ("dunning", "report_reminder", "approvals_sweep")

# The team's arrangement: off Sat 6 to Sun 14 Feb, Saturday 20 Feb worked instead.
SPRING_FESTIVAL = [date(2027, 2, 6) + timedelta(days=n) for n in range(9)]
MAKEUP_SATURDAY = date(2027, 2, 20)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    holidays = ", ".join(f'"{day.isoformat()}"' for day in SPRING_FESTIVAL)
    text = path.read_text(encoding="utf-8").replace(
        'holidays = ["2026-12-25"]',
        f'holidays = [{holidays}]\nmakeup_workdays = ["{MAKEUP_SATURDAY.isoformat()}"]',
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def clock() -> ManualClock:
    """Sunday 31 January 2027, 09:00 in Shanghai: the test starts just before its month."""
    return ManualClock(datetime(2027, 1, 31, 1, 0, tzinfo=UTC), ticking=False)


async def _at(bot: LocalBot, day: date, clock: time) -> None:
    manual = bot.runtime.clock
    assert isinstance(manual, ManualClock)
    await manual.set(datetime.combine(day, clock, tzinfo=ZONES["north"]).astimezone(UTC))
    await bot.drain_outbox()


async def _run_days(bot: LocalBot, job: str) -> set[date]:
    async with transaction(bot.runtime.sessions) as session:
        rows = await session.exec(select(JobRun.period).where(col(JobRun.job) == job))
        return {date.fromisoformat(period) for period in rows.all()}


async def test_spring_festival_and_its_makeup_saturday(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    day = date(2027, 2, 1)
    while day <= date(2027, 2, 22):
        await _at(local_bot, day, time(10, 0))
        if day == date(2027, 2, 5):
            # 17:00 on Friday, the last working hour before the holiday: an expense is sent.
            await _at(local_bot, day, time(17, 0))
            await expense(people.rep, "3000")
        await _at(local_bot, day, time(19, 0))
        if day == date(2027, 2, 14):
            (request,) = await requests(local_bot)
            assert request.step_no == 0  # one working hour so far: nothing escalated
        day += timedelta(days=1)
    february = [date(2027, 2, 1) + timedelta(days=n) for n in range(22)]
    worked = {d for d in february if d.weekday() < 5 and d not in SPRING_FESTIVAL}
    worked.add(MAKEUP_SATURDAY)
    for job in ("dunning", "report_reminder"):
        ran = {d for d in await _run_days(local_bot, job) if d.month == 2 and d.day <= 22}
        assert ran == worked, job
    # 1 working hour on Friday 5 Feb, then 9:00-16:00 on Monday 15 Feb: escalated that day.
    (request,) = await requests(local_bot)
    assert request.step_no == 1
