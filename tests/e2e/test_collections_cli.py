"""`salesbot import receivables FILE`: a re-runnable import with a per-row report."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import open_runtime
from bot.cli import app
from bot.db import transaction
from bot.settings import load_settings
from models.common import Role
from models.user import User
from services.customer_import import import_customers, read_table
from services.teams import find_team
from tests.collection_helpers import DATA, SAMPLE_REPS
from tests.conftest import write_config

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("SALESBOT_"):
            monkeypatch.delenv(name)
    config = write_config(tmp_path)
    monkeypatch.setenv("SALESBOT_CONFIG", str(config))
    return config


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


async def seed(config: Path) -> None:
    """The sample's reps and customers, as the back office would have set them up."""
    runtime = await open_runtime(load_settings(config))
    try:
        async with transaction(runtime.sessions) as session:
            now = runtime.clock.now()
            for name, (telegram_id, team_key) in SAMPLE_REPS.items():
                team = await find_team(session, team_key)
                assert team is not None
                session.add(
                    User(telegram_id=telegram_id, display_name=name, employee_code=name,
                         role=Role.REP, team_id=team.id, created_at=now, updated_at=now)
                )  # fmt: skip
            await session.flush()
            table = read_table(DATA / "customers_sample.csv")
            await import_customers(session, table, team_id=None, now=now)
    finally:
        await runtime.close()


def test_import_receivables_from_the_command_line(cli_env: Path) -> None:
    assert invoke("db", "upgrade")[0] == 0
    asyncio.run(seed(cli_env))
    sample = str(DATA / "receivables_sample.csv")

    code, out = invoke("import", "receivables", sample)
    assert code == 0, out
    assert "30 new, 0 updated, 0 unchanged; 3 rows with errors" in out
    assert "Rows per team: North 22, South 8" in out
    assert "row 32: ❌ amount -500 is not more than zero" in out
    assert "row 34: ❌ customer “不存在客户” is not in salesbot" in out
    assert "row 35: ⚠️ INV-00004 repeats row 5; counted once" in out
    assert "<b>" not in out

    code, out = invoke("import", "receivables", sample)
    assert code == 0 and "0 new, 0 updated, 30 unchanged" in out

    code, out = invoke("import", "receivables", sample, "--team", "south")
    assert code == 0 and "0 new, 0 updated, 8 unchanged" in out

    code, out = invoke("import", "receivables", sample, "--team", "atlantis")
    assert code == 2 and "Unknown team" in out
    code, out = invoke("import", "receivables", str(DATA / "missing.csv"))
    assert code == 2 and "does not exist" in out
