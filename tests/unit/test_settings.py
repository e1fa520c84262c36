"""Settings: config.toml, SALESBOT_* overrides, short names, one-line errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import ConfigError, load_settings
from tests.conftest import write_config


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("SALESBOT_"):
            monkeypatch.delenv(name)


def test_teams_inherit_defaults_and_override_them(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path))
    north, south = settings.team("north"), settings.team("south")
    assert north.timezone == "Asia/Shanghai" and north.language == "zh"
    assert south.timezone == "Europe/Berlin" and south.language == "en"
    assert south.working_days == north.working_days == ["mon", "tue", "wed", "thu", "fri"]
    assert str(north.holidays[0]) == "2026-12-25"
    assert settings.database_url == f"sqlite+aiosqlite:///{(tmp_path / 'salesbot.db').resolve()}"


def test_environment_overrides_every_section_and_short_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESBOT_TOKEN", "42:hunter2")
    monkeypatch.setenv("SALESBOT_ADMINS", "7, 8,9")
    monkeypatch.setenv("SALESBOT_API_URL", "http://127.0.0.1:8081/bot")
    monkeypatch.setenv("SALESBOT_DATABASE_URL", "postgresql://u:p@db/salesbot")
    monkeypatch.setenv("SALESBOT_LOGGING__LEVEL", "DEBUG")
    monkeypatch.setenv("SALESBOT_TEAMS__NORTH__TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("SALESBOT_CONFIG", str(write_config(tmp_path)))
    settings = load_settings()
    assert settings.require_token() == "42:hunter2"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.telegram)
    assert settings.access.admins == [7, 8, 9]
    assert settings.telegram.api_url == "http://127.0.0.1:8081/bot"
    assert settings.database_url == "postgresql://u:p@db/salesbot"
    assert settings.logging.level == "DEBUG"
    assert settings.team("north").timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("SALESBOT_TEAMS__NORTH__TIMEZONE", "Mars/Olympus", "teams.north.timezone"),
        ("SALESBOT_LOGGING__LEVEL", "LOUD", "logging.level"),
        ("SALESBOT_ADMINS", "12,abc", "access.admins"),
        ("SALESBOT_ACCESS__INVITE_TTL_HOURS", "0", "access.invite_ttl_hours"),
        ("SALESBOT_DEFAULTS__WORKING_DAYS", '["someday"]', "working_days"),
    ],
)
def test_invalid_setting_is_one_line_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as error:
        load_settings(write_config(tmp_path))
    message = str(error.value)
    assert named in message and "\n" not in message


def test_missing_token_and_missing_config_file(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path))
    with pytest.raises(ConfigError, match=r"telegram\.token .*SALESBOT_TOKEN"):
        settings.require_token()
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nowhere.toml")


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, extra="\n[telegram]\ntokn = 'typo'\n")
    with pytest.raises(ConfigError, match="tokn"):
        load_settings(path)


def test_shipped_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = Path(__file__).resolve().parents[2] / "config.toml"
    settings = load_settings(shipped)
    assert set(settings.team_settings) == {"north", "south"}


def test_webhook_secret_must_be_long_and_every_secret_is_known_to_the_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESBOT_TOKEN", " 42:hunter2 ")
    monkeypatch.setenv("SALESBOT_WEBHOOK__SECRET_TOKEN", "x")
    settings = load_settings(write_config(tmp_path))
    with pytest.raises(ConfigError, match="32-256"):
        settings.webhook.require_secret()
    monkeypatch.setenv("SALESBOT_WEBHOOK__SECRET_TOKEN", "s" * 32)
    monkeypatch.setenv("SALESBOT_WEBHOOK__HEALTH_TOKEN", "h" * 32)
    settings = load_settings(write_config(tmp_path))
    assert settings.webhook.require_secret() == "s" * 32
    assert sorted(settings.secrets()) == sorted([" 42:hunter2 ", "s" * 32, "h" * 32])
