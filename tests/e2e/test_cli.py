"""The `salesbot` command line, run in-process against a fresh config and database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.sandbox import Sandbox
from models.team import Team
from scheduler.registry import JOBS, JobContext, JobSpec
from tests.conftest import write_config

runner = CliRunner()
CALLS: list[tuple[str, str]] = []


async def remember(ctx: JobContext, team: Team, period: str, scheduled_for: datetime) -> None:
    CALLS.append((team.key, period))


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import os

    for name in list(os.environ):
        if name.startswith("SALESBOT_"):
            monkeypatch.delenv(name)
    config = write_config(tmp_path)
    monkeypatch.setenv("SALESBOT_CONFIG", str(config))
    return config


@pytest.fixture
def weekly_job() -> Iterator[None]:
    CALLS.clear()
    JOBS["cli_weekly"] = JobSpec("cli_weekly", "week", "sat 08:30", 180, "test", remember)
    yield
    del JOBS["cli_weekly"]


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_back_office_commands(cli_env: Path, weekly_job: None) -> None:
    code, out = invoke("jobs")
    assert code == 2 and "out of date" in out and "salesbot db upgrade" in out
    code, out = invoke("db", "upgrade")
    assert code == 0 and "revision" in out

    code, out = invoke("teams")
    assert code == 0 and "north: North [active]" in out and "timezone = Europe/Berlin" in out

    code, out = invoke("invite", "--role", "rep", "--team", "North")
    assert code == 0 and "/start inv_" in out and "Single use" in out
    code, out = invoke("invite", "--role", "rep", "--team", "Atlantis")
    assert code == 2 and "Unknown team" in out
    code, out = invoke("invite", "--role", "manager")
    assert code == 2 and "belong to a team" in out

    code, out = invoke("jobs")
    assert code == 0 and "cli_weekly [north] sat 08:30" in out and "last: never" in out
    code, out = invoke("jobs", "run", "cli_weekly", "--team", "south", "--period", "2026-W48")
    assert code == 0 and "ran" in out and CALLS == [("south", "2026-W48")]
    code, out = invoke("jobs", "run", "cli_weekly", "--team", "south", "--period", "2026-W48")
    assert "already claimed" in out and len(CALLS) == 1
    code, out = invoke("jobs")
    assert re.search(r"last: 2026-W48 done", out)

    code, out = invoke("user", "list")
    assert code == 0 and out.strip() == "No users."
    code, out = invoke("user", "deactivate", "@nobody")
    assert code == 2 and "No user" in out


def test_archived_team_is_kept_and_shown(cli_env: Path) -> None:
    invoke("db", "upgrade")
    invoke("teams")
    cli_env.write_text(cli_env.read_text().replace("[teams.south]", "[teams.east]"))
    code, out = invoke("teams")
    assert code == 0 and "south: South [ARCHIVED" in out and "east: South [active]" in out


def test_run_refuses_a_bad_token_and_an_unreachable_api(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke("db", "upgrade")
    code, out = invoke("run")
    assert code == 2 and "telegram.token is missing" in out
    with Sandbox(bot_token="1:right") as sandbox:
        monkeypatch.setenv("SALESBOT_API_URL", sandbox.base_url)
        monkeypatch.setenv("SALESBOT_TOKEN", "1:wrong")
        code, out = invoke("run")
    assert code == 1 and "refused the bot token" in out and "1:wrong" not in out
    monkeypatch.setenv("SALESBOT_API_URL", "http://127.0.0.1:9/bot")
    code, out = invoke("run")
    assert code == 1 and "Cannot reach the Telegram Bot API" in out
