"""The `salesbot` command line, run in-process against a fresh config and database."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from bot.app import open_runtime
from bot.cli import app
from bot.migrate import alembic_config, head_revision, upgrade
from bot.runner import NO_ADMIN_WARNING, admin_warning
from core.db import create_engine, transaction
from core.settings import load_settings
from models.common import Role
from models.team import Team
from models.user import User
from sandbox import Sandbox
from scheduler.registry import JOBS, JobContext, JobSpec
from tests.conftest import ADMIN_ID, write_config

ROOT = Path(__file__).resolve().parents[2]

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
    spec = JobSpec("cli_weekly", "week", "sat 08:30", 180, "test", remember)
    with JOBS.overriding("cli_weekly", spec):
        yield


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def files_in(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


def fingerprint(database: Path) -> str:
    return hashlib.sha256(database.read_bytes()).hexdigest()


READ_ONLY_COMMANDS = [("teams",), ("jobs",), ("user", "list"), ("db", "current")]


@pytest.mark.parametrize(
    "command",
    [*READ_ONLY_COMMANDS, ("invite", "--role", "director"), ("user", "deactivate", "@x")],
    ids=" ".join,
)
def test_commands_on_a_fresh_install_create_nothing(
    cli_env: Path, command: tuple[str, ...]
) -> None:
    before = files_in(cli_env.parent)
    code, out = invoke(*command)
    assert code != 0
    assert out.strip().splitlines() == [
        f"No database at {cli_env.parent / 'salesbot.db'}: run `salesbot db upgrade` to create it."
    ]
    assert files_in(cli_env.parent) == before  # no empty salesbot.db left behind


def test_read_only_commands_on_an_outdated_schema_name_the_fix(cli_env: Path) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    previous = script.get_revision(head_revision()).down_revision
    assert isinstance(previous, str)
    database = cli_env.parent / "salesbot.db"
    asyncio.run(migrate_to(f"sqlite:///{database}", previous))
    before = fingerprint(database)
    for command in READ_ONLY_COMMANDS[:3]:
        code, out = invoke(*command)
        assert code != 0, command
        assert out.strip().splitlines() == [
            f"The database schema is out of date (at revision {previous}, the code needs "
            f"{head_revision()}). Run `salesbot db upgrade` first."
        ], command
    code, out = invoke("db", "current")
    assert code == 1
    assert out.splitlines() == [
        f"database: {previous}", f"code:     {head_revision()}",
        "The database schema is out of date: run `salesbot db upgrade`.",
    ]  # fmt: skip
    assert fingerprint(database) == before


async def migrate_to(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine, revision)
    finally:
        await engine.dispose()


def test_back_office_commands(cli_env: Path, weekly_job: None) -> None:
    # The operator asked for INFO logs: read-only commands still print only their answer.
    cli_env.write_text(cli_env.read_text().replace('level = "WARNING"', 'level = "INFO"'))
    code, out = invoke("db", "upgrade")
    assert code == 0 and "revision" in out
    database = cli_env.parent / "salesbot.db"

    before = fingerprint(database)
    code, out = invoke("teams")
    assert code == 0, out
    assert out.splitlines()[0].split() == [
        "KEY", "NAME", "STATE", "TIMEZONE", "LANG", "WORKING", "DAYS", "HOURS", "HOLIDAYS",
        "TARGETS", "visits/calls/new",
    ]  # fmt: skip
    assert re.search(r"^north +North +new \(created when the bot starts\) +Asia/Shanghai +zh "
                     r"+mon-fri +09:00-18:00 +1 +15/20/8$", out, re.MULTILINE), out  # fmt: skip
    assert re.search(r"^south +South +new .* +Europe/Berlin +en +mon-fri ", out, re.MULTILINE)
    assert "{" not in out and "INFO" not in out
    assert fingerprint(database) == before

    code, out = invoke("invite", "--role", "rep", "--team", "North")
    assert code == 0 and "/start inv_" in out and "Single use" in out
    code, out = invoke("invite", "--role", "rep", "--team", "Atlantis")
    assert code == 2 and "Unknown team" in out
    code, out = invoke("invite", "--role", "manager")
    assert code == 2 and "belong to a team" in out

    before = fingerprint(database)
    code, out = invoke("teams")
    assert code == 0 and re.search(r"^north +North +active +Asia/Shanghai ", out, re.MULTILINE)
    code, out = invoke("teams", "--team", "south")
    assert code == 0 and "timezone = Europe/Berlin" in out.splitlines()
    assert "holidays = 2026-12-25" in out.splitlines()
    assert "targets.in_person_per_week = 15" in out.splitlines()
    code, out = invoke("teams", "--team", "west")
    assert code == 2 and "No team 'west'" in out
    code, out = invoke("jobs")
    assert code == 0 and "cli_weekly [north] sat 08:30" in out and "last: never" in out
    code, out = invoke("user", "list")
    assert code == 0 and out.strip() == "No users."
    code, out = invoke("db", "current")
    assert code == 0 and f"database: {head_revision()}" in out
    assert fingerprint(database) == before

    code, out = invoke("jobs", "run", "cli_weekly", "--team", "south", "--period", "2026-W48")
    assert code == 0 and "ran" in out and CALLS == [("south", "2026-W48")]
    code, out = invoke("jobs", "run", "cli_weekly", "--team", "south", "--period", "2026-W48")
    assert "already claimed" in out and len(CALLS) == 1
    code, out = invoke("jobs")
    assert re.search(r"last: 2026-W48 done", out)
    code, out = invoke("user", "deactivate", "@nobody")
    assert code == 2 and "No user" in out


def test_archived_team_is_kept_and_shown(cli_env: Path) -> None:
    invoke("db", "upgrade")
    invoke("invite", "--role", "director")  # a writing command: the teams are created
    cli_env.write_text(cli_env.read_text().replace("[teams.south]", "[teams.east]"))
    code, out = invoke("teams")
    assert code == 0
    assert re.search(r"^south +South +ARCHIVED \(no longer in config.toml\) +Europe/Berlin "
                     r"+- +- +- +- +-$", out, re.MULTILINE), out  # fmt: skip
    assert re.search(r"^east +South +new \(created when the bot starts\) ", out, re.MULTILINE)
    invoke("invite", "--role", "director")
    code, out = invoke("teams")
    assert re.search(r"^east +South +active ", out, re.MULTILINE)
    assert re.search(r"^south +South +ARCHIVED ", out, re.MULTILINE)


def help_pages(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command and subcommand of a (Typer's own) click command tree, with its path."""
    yield path, command
    if hasattr(command, "list_commands"):
        ctx = command.make_context("salesbot", [], resilient_parsing=True)
        for name in command.list_commands(ctx):
            yield from help_pages(command.get_command(ctx, name), (*path, name))


def written_help(command: Any) -> list[str]:
    """The help texts as written in the code: the command's and each parameter's."""
    texts = [command.help or ""] + [getattr(param, "help", "") or "" for param in command.params]
    return [text for text in texts if text]


def test_every_help_text_renders() -> None:
    pages = list(help_pages(typer.main.get_command(app)))
    assert len(pages) >= 17  # salesbot, its commands and every subcommand
    for path, command in pages:
        result = runner.invoke(app, [*path, "--help"], prog_name="salesbot")
        code, out = result.exit_code, result.output
        assert code == 0, (path, out)
        flat = " ".join(out.split())
        assert flat.startswith(f"Usage: {' '.join(('salesbot', *path))} ["), out
        assert not re.search(r"\(\s*\)|\( | \)", flat), (path, out)
        for text in written_help(command):
            for bracketed in re.findall(r"\[[^\]]*\]", text):
                assert bracketed in flat, (path, bracketed, out)
    code, out = invoke("run", "--help")
    assert "Serve the webhook ([webhook] in config.toml)." in " ".join(out.split())


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


def without_admins(config: Path) -> None:
    config.write_text(config.read_text().replace(f"admins = [{ADMIN_ID}]", "admins = []"))


def test_run_warns_loudly_when_no_admin_is_configured(cli_env: Path) -> None:
    without_admins(cli_env)
    cli_env.write_text(cli_env.read_text().replace('level = "WARNING"', 'level = "INFO"'))
    assert invoke("db", "upgrade")[0] == 0
    with Sandbox(bot_token="1:right") as sandbox:
        lines = asyncio.run(run_until_started(cli_env, sandbox.base_url))
    assert NO_ADMIN_WARNING in lines  # the line an operator sees
    logged = [line for line in lines if "WARNING" in line and "bot.runner" in line]
    assert len(logged) == 1 and logged[0].endswith(NO_ADMIN_WARNING)  # and the log line


async def run_until_started(config: Path, api_url: str) -> list[str]:
    """`salesbot run` as a process: its stderr lines until it is serving, then SIGTERM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESBOT_")}
    env.update(SALESBOT_CONFIG=str(config), SALESBOT_TOKEN="1:right", SALESBOT_API_URL=api_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    lines: list[str] = []
    try:
        while not any("salesbot is running" in line for line in lines):
            line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
            assert line, "\n".join(lines)
            lines.append(line.decode().rstrip("\n"))
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return lines


def test_no_admin_warning_once_an_admin_exists(cli_env: Path) -> None:
    without_admins(cli_env)
    assert invoke("db", "upgrade")[0] == 0

    async def warning_after(make_admin: bool) -> str | None:
        runtime = await open_runtime(load_settings(cli_env))
        try:
            if make_admin:  # e.g. from `salesbot invite --role admin`, accepted in the chat
                async with transaction(runtime.sessions) as session:
                    now = runtime.clock.now()
                    session.add(User(telegram_id=77, display_name="Boss", role=Role.ADMIN,
                                     created_at=now, updated_at=now))  # fmt: skip
            return await admin_warning(runtime)
        finally:
            await runtime.close()

    assert asyncio.run(warning_after(make_admin=False)) == NO_ADMIN_WARNING
    assert asyncio.run(warning_after(make_admin=True)) is None
    cli_env.write_text(cli_env.read_text().replace("admins = []", "admins = [5]"))
    assert invoke("db", "current")[0] == 0
    runtime = asyncio.run(open_runtime(load_settings(cli_env)))
    try:
        assert asyncio.run(admin_warning(runtime)) is None
    finally:
        asyncio.run(runtime.close())
