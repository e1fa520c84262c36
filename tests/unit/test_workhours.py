"""Time in working hours: weekends, holidays, workday bounds, DST; additive and invertible."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.settings import TeamSettings
from services.workhours import add_working_time, working_hours, working_time

SHANGHAI = TeamSettings(timezone="Asia/Shanghai", holidays=[date(2026, 12, 25)])
BERLIN = TeamSettings(timezone="Europe/Berlin", workday_start=time(8, 30), workday_end=time(17))


def at(day: str, clock: str, team: TeamSettings = SHANGHAI) -> datetime:
    local = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=ZoneInfo(team.timezone))
    return local.astimezone(UTC)


def test_a_weekend_does_not_count() -> None:
    # Friday 17:00 to Monday 10:00: one hour on Friday, one on Monday.
    assert working_hours(at("2026-11-27", "17:00"), at("2026-11-30", "10:00"), SHANGHAI) == 2


def test_outside_the_workday_does_not_count() -> None:
    assert working_hours(at("2026-11-24", "19:00"), at("2026-11-25", "08:00"), SHANGHAI) == 0
    assert working_hours(at("2026-11-24", "08:00"), at("2026-11-24", "20:00"), SHANGHAI) == 9


def test_a_holiday_does_not_count() -> None:
    assert working_hours(at("2026-12-24", "17:00"), at("2026-12-28", "10:00"), SHANGHAI) == 2


def test_each_team_in_its_own_hours_across_dst() -> None:
    # Berlin leaves summer time on Sunday 2026-10-25: Friday 16:00 to Monday 09:30 is 2 hours.
    assert working_hours(at("2026-10-23", "16:00", BERLIN), at("2026-10-26", "09:30", BERLIN),
                         BERLIN) == 2  # fmt: skip


def test_adding_working_time_skips_the_night() -> None:
    end = add_working_time(at("2026-11-24", "16:00"), timedelta(hours=4), SHANGHAI)
    assert end == at("2026-11-25", "11:00")
    assert add_working_time(at("2026-11-28", "12:00"), timedelta(0), SHANGHAI) == at(
        "2026-11-30", "09:00"
    )


moments = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 (hypothesis bounds are naive; tz added)
    max_value=datetime(2026, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=200)
@given(moments, moments, moments)
def test_working_time_is_additive(a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    for team in (SHANGHAI, BERLIN):
        assert working_time(a, c, team) == working_time(a, b, team) + working_time(b, c, team)
        assert working_time(a, c, team) <= c - a


@settings(max_examples=200)
@given(moments, st.integers(min_value=0, max_value=200 * 3600))
def test_adding_then_measuring_gives_back_the_amount(start: datetime, seconds: int) -> None:
    amount = timedelta(seconds=seconds)
    for team in (SHANGHAI, BERLIN):
        end = add_working_time(start, amount, team)
        assert end is not None and working_time(start, end, team) == amount
