"""`salesbot import customers FILE`: the back office's command, run as a real process."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.app import Runtime
from tests.customer_helpers import count_customers

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


async def _salesbot(config_path: Path, database_url: str, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESBOT_")}
    env["SALESBOT_DATABASE_URL"] = database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, "--config", str(config_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=ROOT,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_import_reports_bad_rows_and_reruns_without_duplicates(
    runtime: Runtime, config_path: Path, database_url: str
) -> None:
    code, out, err = await _salesbot(
        config_path, database_url, "import", "customers", str(DATA / "customers_sample_gbk.csv"),
        "--team", "north",
    )  # fmt: skip
    assert code == 1, err  # some rows failed: a script notices
    assert "Imported 40 customers" in out
    assert "row 42: ERROR customer name is empty" in out
    assert "row 43: ERROR tier 'D' is not A, B or C" in out
    assert "row 44: ERROR phone '找前台' is not a phone number" in out
    assert "row 45: ERROR duplicate of row 5" in out
    assert await count_customers(runtime) == 40

    code, out, _ = await _salesbot(
        config_path, database_url, "import", "customers", str(DATA / "customers_sample.csv"),
        "--team", "North",
    )  # fmt: skip
    assert "Imported 0 customers; 41 already in salesbot" in out
    assert await count_customers(runtime) == 40


async def test_dry_run_and_unknown_team(
    runtime: Runtime, config_path: Path, database_url: str, tmp_path: Path
) -> None:
    good = tmp_path / "good.csv"
    good.write_text("客户名称,电话,等级\n新客户甲,13800000000,A\n", encoding="utf-8-sig")
    code, out, _ = await _salesbot(
        config_path, database_url, "import", "customers", str(good), "--team", "north",
        "--dry-run",
    )  # fmt: skip
    assert code == 0 and "Dry run: nothing was saved." in out and "Imported 1 customers" in out
    assert await count_customers(runtime) == 0
    code, _, err = await _salesbot(
        config_path, database_url, "import", "customers", str(good), "--team", "west"
    )
    assert code != 0 and "Unknown team 'west'" in err
    code, out, _ = await _salesbot(
        config_path, database_url, "import", "customers", str(good), "--team", "north"
    )
    assert code == 0 and "Imported 1 customers" in out
    assert await count_customers(runtime) == 1
