"""Collections settings (dunning steps, thresholds) and the schedule grammar they need."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from core.settings import ConfigError, TeamSettings, load_settings
from scheduler.triggers import fire_times, last_working_day, next_fire_time, parse_schedule
from services.dunning import current_step
from tests.conftest import write_config


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SALESBOT_"):
            monkeypatch.delenv(name)


def test_default_steps_and_a_team_replacing_them(tmp_path: Path) -> None:
    extra = """
[teams.south.collections]
invoice_min_collected_percent = 80
refuse_invoice_below = true
[[teams.south.collections.steps]]
days = 10
tone = "urgent"
recipients = ["manager", "rep"]
[[teams.south.collections.steps]]
days = 0
tone = "due"
"""
    settings = load_settings(write_config(tmp_path, extra))
    north, south = settings.team("north").collections, settings.team("south").collections
    assert [s.days for s in north.steps] == [-3, 0, 7, 14, 30]
    assert [s.recipients for s in north.steps][-2:] == [
        ["rep", "manager"], ["rep", "manager", "director"],
    ]  # fmt: skip
    assert north.invoice_min_collected_percent == 60 and not north.refuse_invoice_below
    assert [s.days for s in south.steps] == [0, 10]  # sorted
    assert south.steps[1].recipients == ["rep", "manager"]
    assert south.invoice_min_collected_percent == 80 and south.refuse_invoice_below


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[defaults.collections]\ncurrency = "XYZ"\n', "unknown currency"),
        (
            "[[defaults.collections.steps]]\ndays = 1\ntone = 'due'\n"
            "[[defaults.collections.steps]]\ndays = 1\ntone = 'firm'\n",
            "same day",
        ),
        (
            "[[defaults.collections.steps]]\ndays = 1\ntone = 'due'\nrecipients = ['manager']\n",
            "goes to the rep",
        ),
        ("[[defaults.collections.steps]]\ndays = 1\ntone = 'rude'\n", "tone"),
        ("[defaults.collections]\ninvoice_min_collected_percent = 120\n", "percent"),
    ],
)
def test_bad_collection_settings_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(write_config(tmp_path, extra))


def test_the_shipped_config_is_valid() -> None:
    root = Path(__file__).parent.parent.parent
    settings = load_settings(root / "config.toml")
    steps = settings.team("north").collections.steps
    assert [(s.days, s.tone) for s in steps] == [
        (-3, "friendly"), (0, "due"), (7, "firm"), (14, "urgent"), (30, "final"),
    ]  # fmt: skip


def test_current_step_is_the_latest_reached() -> None:
    steps = TeamSettings().collections.steps
    assert current_step(steps, -4) is None
    assert [current_step(steps, d).days for d in (-3, -1, 0, 6, 7, 13, 14, 29, 30, 400)] == [  # type: ignore[union-attr]
        -3, -3, 0, 0, 7, 7, 14, 14, 30, 30,
    ]  # fmt: skip


def test_last_working_days_of_june_and_december() -> None:
    team = TeamSettings(timezone="Asia/Shanghai", holidays=[date(2026, 12, 31)])
    assert last_working_day(team, date(2026, 6, 3)) == date(2026, 6, 30)  # a Tuesday
    assert last_working_day(team, date(2026, 12, 3)) == date(2026, 12, 30)  # 31st a holiday
    assert last_working_day(team, date(2027, 10, 3)) == date(2027, 10, 29)  # 30/31 a weekend
    schedule = parse_schedule("jun,dec last-workday 10:00", team)
    fired = fire_times(
        schedule, datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
    )
    assert [f"{f:%Y-%m-%d %H:%M}" for f in fired] == [
        "2026-06-30 10:00", "2026-12-30 10:00", "2027-06-30 10:00", "2027-12-31 10:00",
    ]  # fmt: skip
    upcoming = next_fire_time(schedule, datetime(2026, 7, 1, tzinfo=UTC))
    assert upcoming is not None and f"{upcoming:%m-%d}" == "12-30"


def test_months_prefix_combines_with_every_day_form() -> None:
    team = TeamSettings()
    assert parse_schedule("mar-may day-15 09:00", team).trigger.fields[1].expressions
    quarterly = parse_schedule("mar,jun,sep,dec first-workday 09:00", team)
    fired = fire_times(
        quarterly, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert [f"{f:%m-%d}" for f in fired] == ["03-02", "06-01", "09-01", "12-01"]
    assert parse_schedule("sat 08:30", team).text == "sat 08:30"  # no months: unchanged
    for bad in ("june last-workday 10:00", "jun,dex last-workday 10:00", "jun lastday 10:00"):
        with pytest.raises(ValueError):
            parse_schedule(bad, team)
