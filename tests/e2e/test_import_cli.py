"""`salesbot import customers FILE`: the back office's command, run as a real process."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlmodel import select

from bot.app import Runtime
from core.db import transaction
from models.common import Role
from models.customer import Customer
from tests.customer_helpers import count_customers
from tests.helpers import add_user, team_id

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
    for number, name in enumerate(["张三", "李四", "王五", "赵六", "钱七"], start=1):
        await add_user(runtime, 4000 + number, f"Rep {number}", Role.REP, "north", code=name)
    code, out, err = await _salesbot(
        config_path, database_url, "import", "customers", str(DATA / "customers_sample_gbk.csv"),
        "--team", "north",
    )  # fmt: skip
    assert code == 1, err  # some rows failed: a script notices
    assert "Imported 40 customers" in out and "Imported per team: North 40" in out
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
    assert code == 0 and "Dry run: nothing was saved." in out and "Imported 1 customer;" in out
    assert await count_customers(runtime) == 0
    code, _, err = await _salesbot(
        config_path, database_url, "import", "customers", str(good), "--team", "west"
    )
    assert code != 0 and "Unknown team 'west'" in err
    code, out, _ = await _salesbot(
        config_path, database_url, "import", "customers", str(good), "--team", "north"
    )
    assert code == 0 and "Imported 1 customer;" in out
    assert await count_customers(runtime) == 1


async def test_a_rep_renamed_to_an_owner_gets_nothing(
    runtime: Runtime, config_path: Path, database_url: str, tmp_path: Path
) -> None:
    """Owners are matched on the employee code an admin sets or the @username, never on the
    Telegram name a rep can change to anything."""
    north_rep = await add_user(runtime, 5001, "Zhang San", Role.REP, "north", username="zs_north")
    # A South rep renamed themselves in Telegram: display_name follows on their next message.
    south_rep = await add_user(runtime, 5002, "张三", Role.REP, "south", username="li_south")
    export = tmp_path / "customers.csv"
    export.write_text(
        "客户名称,电话,负责人\n北方客户甲,13800000001,张三\n北方客户乙,13800000002,@ZS_north\n",
        encoding="utf-8-sig",
    )
    code, out, _ = await _salesbot(config_path, database_url, "import", "customers", str(export))
    assert code == 1
    assert (
        "row 2: ERROR owner 张三 is not an employee code or @username of an active user; "
        "set one with salesbot user code" in out
    )
    assert "Imported 1 customer;" in out and "Imported per team: North 1" in out

    code, out, err = await _salesbot(
        config_path, database_url, "user", "code", "@zs_north", "张三"
    )
    assert code == 0 and "Zhang San has employee code 张三." in out, err
    code, _, err = await _salesbot(config_path, database_url, "user", "code", "5002", "张三")
    assert code != 0 and "Employee code 张三 already belongs to Zhang San." in err
    # The same owner in another team than --team is refused, not imported without owner.
    code, out, _ = await _salesbot(
        config_path, database_url, "import", "customers", str(export), "--team", "south"
    )
    assert "row 2: ERROR owner 张三 (Zhang San) is not in team South" in out
    assert "row 3: ERROR owner @ZS_north (Zhang San) is not in team South" in out
    code, out, _ = await _salesbot(config_path, database_url, "import", "customers", str(export))
    assert code == 0 and "Imported 1 customer; 1 already in salesbot" in out
    assert "Imported per team: North 1" in out

    async with transaction(runtime.sessions) as session:
        customers = (await session.exec(select(Customer))).all()
    north = await team_id(runtime, "north")
    assert sorted((c.name, c.team_id, c.owner_id) for c in customers) == [
        ("北方客户乙", north, north_rep.id), ("北方客户甲", north, north_rep.id),
    ]  # fmt: skip
    assert south_rep.id not in {c.owner_id for c in customers}
