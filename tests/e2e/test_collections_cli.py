"""`salesbot import receivables FILE`: a re-runnable import with a per-row report."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import open_runtime
from bot.cli import app
from core.db import transaction
from core.settings import load_settings
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
    assert code == 1, out  # the good rows are imported, and a script notices the bad ones
    assert "30 new, 0 updated, 0 unchanged; 3 rows with errors" in out
    assert "Rows per team: North 22, South 8" in out
    assert "row 32: ❌ amount -500 is not more than zero" in out
    assert "row 34: ❌ customer “不存在客户” is not in salesbot" in out
    assert "row 35: ⚠️ INV-00004 repeats row 5; counted once" in out
    assert out.splitlines()[-1] == (
        "The rows with errors were skipped; fix them and import the file again."
    )
    assert "<b>" not in out

    code, out = invoke("import", "receivables", sample)
    assert code == 1 and "0 new, 0 updated, 30 unchanged; 3 rows with errors" in out

    code, out = invoke("import", "receivables", sample, "--team", "south")
    assert code == 1 and "0 new, 0 updated, 8 unchanged" in out

    code, out = invoke("import", "receivables", sample, "--team", "atlantis")
    assert code == 2 and "Unknown team" in out
    code, out = invoke("import", "receivables", str(DATA / "missing.csv"))
    assert code == 2 and "does not exist" in out


def test_amount_problems_are_named_and_fail_the_import(cli_env: Path, tmp_path: Path) -> None:
    assert invoke("db", "upgrade")[0] == 0
    asyncio.run(seed(cli_env))
    export = tmp_path / "receivables.csv"
    export.write_text(
        "客户名称,单据号,金额,币种,开票日期,到期日,负责人\n"
        '杭州远航医药有限责任公司,INV-90001,"1,280.50",CNY,2026-11-20,2026-12-20,赵六\n'
        '杭州远航医药有限责任公司,INV-90002,"1,280.505",CNY,2026-11-20,2026-12-20,赵六\n'
        "杭州远航医药有限责任公司,INV-90003,12.5,JPY,2026-11-20,2026-12-20,赵六\n"
        "杭州远航医药有限责任公司,INV-90004,99999999999,CNY,2026-11-20,2026-12-20,赵六\n"
        "杭州远航医药有限责任公司,INV-90005,500 ABC,,2026-11-20,2026-12-20,赵六\n"
        "杭州远航医药有限责任公司,INV-90006,一千,CNY,2026-11-20,2026-12-20,赵六\n",
        encoding="utf-8-sig",
    )
    code, out = invoke("import", "receivables", str(export))
    assert code == 1, out
    assert "1 new, 0 updated, 0 unchanged; 5 rows with errors" in out
    lines = out.splitlines()
    assert "row 3: ❌ amount “1,280.505” has too many decimals: amounts take at most 2" in lines
    assert "row 4: ❌ amount “12.5” has decimals: amounts in JPY are whole numbers" in lines
    assert (
        "row 5: ❌ amount “99999999999” is too large (it must be below 10,000,000,000): "
        "check it for a typo"
    ) in lines
    assert "row 6: ❌ currency “500 ABC” is unknown (use e.g. CNY or USD)" in lines
    assert "row 7: ❌ amount “一千” is not a number" in lines
