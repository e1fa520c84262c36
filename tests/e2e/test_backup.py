"""Backups and restore: `salesbot backup` while people write, `salesbot restore` with its
refusals, a backup of the first schema revision, and the nightly job's retention over a month."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from bot.app import Runtime, open_runtime
from bot.cli import app
from bot.migrate import head_revision, upgrade
from bot.restore import create_database, drop_database
from core.clock import ManualClock
from core.db import create_engine, is_sqlite, transaction
from core.settings import Settings, load_settings
from sandbox.harness import LocalBot
from scheduler.core import Scheduler
from scheduler.registry import JobContext
from services import backups
from tests.conftest import ADMIN_ID, START, write_config

runner = CliRunner()
OLD_TIME = "2025-01-06 01:00:00.000000"
WRITERS = 20


def sqlite_only(url: str) -> Path:
    if not is_sqlite(url):
        pytest.skip("the online backup API test runs on SQLite")
    return Path(str(make_url(url).database))


@pytest.fixture
def cli_config(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's config and database: the test's fresh database, backups under tmp_path."""
    for name in list(os.environ):
        if name.startswith("SALESBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SALESBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("SALESBOT_BACKUP__FOLDER", "nightly")
    return write_config(tmp_path)


async def _writer(url: str, person: int, stop: asyncio.Event, written: list[int]) -> None:
    """One person writing: each transaction adds a pair of audit rows sharing an entity id, so
    a torn copy would show half a pair."""
    engine = create_engine(url)
    try:
        serial = 0
        while not stop.is_set():
            serial += 1
            entity = person * 1_000_000 + serial
            async with engine.begin() as conn:
                for action in ("pair.first", "pair.second"):
                    await conn.execute(
                        text(
                            "INSERT INTO audit_log (at, actor_label, action, entity, entity_id,"
                            " reason) VALUES (:at, 'test', :action, 'pair', :entity, '')"
                        ),
                        {"at": "2026-11-24 01:00:00.000000", "action": action, "entity": entity},
                    )
            written[person] = serial
            await asyncio.sleep(0)
    finally:
        await engine.dispose()


async def test_a_backup_taken_while_twenty_people_write_restores_that_moment(
    database_url: str, tmp_path: Path, cli_config: Path
) -> None:
    sqlite_only(database_url)
    stop = asyncio.Event()
    written = [0] * WRITERS
    tasks = [
        asyncio.create_task(_writer(database_url, person, stop, written))
        for person in range(WRITERS)
    ]
    try:
        async with asyncio.timeout(30):
            while sum(written) < 200:  # everyone is busy before the backup starts
                await asyncio.sleep(0.01)
        made = await asyncio.to_thread(
            backups.create_backup, database_url, tmp_path / "manual", now=START
        )
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    pairs_in_backup = made.tables["audit_log"].rows
    assert 0 < pairs_in_backup < 2 * sum(written)  # the writers went on after the snapshot

    target = tmp_path / "restored.db"
    result = await asyncio.to_thread(
        runner.invoke, app,
        ["restore", str(made.path), "--into", str(target), "--config", str(cli_config)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Restored the backup taken at 2026-11-24 01:00:00 UTC" in result.output
    assert re.search(rf"^  audit_log +{pairs_in_backup}$", result.output, re.MULTILINE)
    connection = sqlite3.connect(target)
    try:
        torn = connection.execute(
            "SELECT entity_id FROM audit_log WHERE entity = 'pair' GROUP BY entity_id "
            "HAVING count(*) != 2"
        ).fetchall()
        count = connection.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    finally:
        connection.close()
    assert torn == []
    assert count == pairs_in_backup
    # Row for row what the manifest recorded at the moment of the backup.
    _, tables, _ = backups.summarize_sqlite(target)
    assert tables["audit_log"] == made.tables["audit_log"]


def test_backup_and_restore_from_the_command_line(
    cli_config: Path, tmp_path: Path, database_url: str
) -> None:
    sqlite_only(database_url)  # PostgreSQL: test_a_postgresql_backup_restores_into_a_new_...
    result = runner.invoke(app, ["backup", "--config", str(cli_config)])
    assert result.exit_code == 0, result.output
    archives = sorted((tmp_path / "nightly").glob("salesbot-*.sqlite.gz"))
    assert len(archives) == 1
    archive = archives[0]
    assert f"Backup: {archive}" in result.output
    assert "Photos and files on Telegram's servers: 0" in result.output
    checksum = archive.with_name(archive.name + ".sha256").read_text().split()
    assert checksum == [backups.file_sha256(archive), archive.name]
    manifest = json.loads(archive.with_name(archive.name + ".json").read_text())
    assert manifest["schema_revision"] == head_revision()
    assert manifest["tables"]["teams"]["rows"] == 0

    restored = runner.invoke(app, ["restore", str(archive), "--config", str(cli_config)])
    assert restored.exit_code == 0, restored.output
    taken = backups.parse_name(archive)
    assert taken is not None
    new_file = tmp_path / f"salesbot-restored-{taken[0]:%Y%m%dT%H%M%SZ}.db"
    assert f"into {new_file}" in restored.output
    assert new_file.is_file()
    # A second restore never writes over the first.
    again = runner.invoke(app, ["restore", str(archive), "--config", str(cli_config)])
    assert again.exit_code == 2
    assert "exists: a restore only writes a new file" in again.output


def test_restore_refuses_a_backup_whose_checksum_does_not_match(
    cli_config: Path, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["backup", "--config", str(cli_config)]).exit_code == 0
    archive = next((tmp_path / "nightly").glob("salesbot-*.*[zp]"))  # .sqlite.gz or .pgdump
    damaged = bytearray(archive.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    archive.write_bytes(bytes(damaged))
    target = tmp_path / "never.db"
    result = runner.invoke(
        app, ["restore", str(archive), "--into", str(target), "--config", str(cli_config)]
    )
    assert result.exit_code == 2
    assert "Checksum mismatch" in result.output and "Nothing was restored" in result.output
    assert not target.exists()
    assert list(tmp_path.glob(".never.db*")) == []


@pytest.fixture
def clock() -> ManualClock:
    """The bot's time is the CLI's here: the CLI reads a running bot's lease by the real time."""
    return ManualClock(datetime.now(UTC), ticking=True)


async def backup_while_running(
    local_bot: LocalBot, cli_config: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A backup by the command line of the running bot's database, once the bot holds the
    sender lease (what tells the restore that a bot runs on it)."""
    monkeypatch.setenv("SALESBOT_BACKUP__FOLDER", "nightly")  # the settings fixture cleared it
    made = await asyncio.to_thread(runner.invoke, app, ["backup", "--config", str(cli_config)])
    assert made.exit_code == 0, made.output
    archive = next((folder / "nightly").glob("salesbot-*.*[zp]"))
    assert local_bot.background is not None
    async with asyncio.timeout(10):
        while not local_bot.background.sender.holding_lease:
            await asyncio.sleep(0.02)
    return archive


async def test_restore_refuses_the_database_of_a_running_bot(
    cli_config: Path, tmp_path: Path, local_bot: LocalBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = sqlite_only(local_bot.runtime.settings.database_url)
    archive = await backup_while_running(local_bot, cli_config, tmp_path, monkeypatch)
    before = await asyncio.to_thread(live.read_bytes)
    result = await asyncio.to_thread(
        runner.invoke, app, ["restore", str(archive), "--replace", "--config", str(cli_config)]
    )
    assert result.exit_code == 2, result.output
    assert "salesbot is running on" in result.output and "stop it first" in result.output
    assert await asyncio.to_thread(live.read_bytes) == before
    # Stopped, the same command swaps the backup in and keeps the old file beside it.
    await local_bot.stop()
    swapped = await asyncio.to_thread(
        runner.invoke, app, ["restore", str(archive), "--replace", "--config", str(cli_config)]
    )
    assert swapped.exit_code == 0, swapped.output
    assert "The database it replaced was moved to" in swapped.output
    assert await asyncio.to_thread(lambda: list(tmp_path.glob("salesbot.db.before-restore-*")))


async def test_a_backup_of_the_first_schema_revision_restores_and_migrates(
    template_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not is_sqlite(template_db):
        pytest.skip("SQLite file backups")
    old = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{old}"
    engine = create_engine(url)
    try:
        await upgrade(engine, "0001")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO teams (key, name, timezone, archived, created_at, updated_at) "
                    "VALUES ('north', 'North', 'Asia/Shanghai', 0, '2025-01-06 01:00:00.000000', "
                    "'2025-01-06 01:00:00.000000')"
                )
            )
            team_id = (await conn.execute(text("SELECT id FROM teams"))).scalar_one()
            for n in range(3):
                await conn.execute(
                    text(
                        "INSERT INTO users (telegram_id, display_name, role, team_id, language,"
                        " active, unreachable, created_at, updated_at) VALUES (:tg, :name,"
                        " 'rep', :team, 'zh', 1, 0, :at, :at)"
                    ),
                    {"tg": 5000 + n, "name": f"Rep {n}", "team": team_id, "at": OLD_TIME},
                )
    finally:
        await engine.dispose()
    made = backups.create_backup(url, tmp_path / "b", now=datetime(2025, 1, 6, 2, tzinfo=UTC))
    assert made.revision == "0001"

    for name in [n for n in os.environ if n.startswith("SALESBOT_")]:
        monkeypatch.delenv(name)
    config = write_config(tmp_path)
    target = tmp_path / "now.db"
    result = await asyncio.to_thread(
        runner.invoke, app,
        ["restore", str(made.path), "--into", str(target), "--config", str(config)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Schema: 0001 -> {head_revision()}" in result.output
    assert "Restored the backup taken at 2025-01-06 02:00:00 UTC" in result.output
    assert re.search(r"^  users +3$", result.output, re.MULTILINE), result.output
    # The restored file is the bot's database as this version knows it.
    monkeypatch.setenv("SALESBOT_DATABASE_URL", f"sqlite:///{target}")
    current = await asyncio.to_thread(
        runner.invoke, app, ["db", "current", "--config", str(config)]
    )
    assert current.exit_code == 0, current.output
    names = await asyncio.to_thread(runner.invoke, app, ["user", "list", "--config", str(config)])
    assert "Rep 0" in names.output and "Rep 2" in names.output


# -- the nightly job ----------------------------------------------------------------------------


@pytest.fixture
async def nightly(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Runtime, Scheduler, Path]]:
    for name in list(os.environ):
        if name.startswith("SALESBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SALESBOT_DATABASE_URL", database_url)
    for key, value in {"ENABLED": "true", "AT": "daily 02:30", "FOLDER": "nightly"}.items():
        monkeypatch.setenv(f"SALESBOT_BACKUP__{key}", value)
    monkeypatch.setenv("SALESBOT_BACKUP__KEEP_DAILY", "7")
    monkeypatch.setenv("SALESBOT_BACKUP__KEEP_WEEKLY", "4")
    config = write_config(tmp_path)
    settings = _only_backup(config)
    clock = ManualClock(START, ticking=False)
    runtime = await open_runtime(settings, clock=clock)
    ctx = JobContext(runtime.sessions, clock, settings, runtime.texts)
    scheduler = Scheduler(ctx, "test")
    await scheduler.start()
    yield runtime, scheduler, tmp_path / "nightly"
    await scheduler.shutdown()
    await runtime.close()


def _only_backup(config: Path) -> Settings:
    import scheduler.jobs  # noqa: F401
    from scheduler.registry import JOBS

    off = {name: {"enabled": False} for name in JOBS if name != "backup"}
    return load_settings(config, defaults={"jobs": off})


async def test_the_nightly_backup_keeps_exactly_the_configured_copies_over_a_month(
    nightly: tuple[Runtime, Scheduler, Path], database_url: str
) -> None:
    sqlite_only(database_url)
    runtime, scheduler, folder = nightly
    assert [item.team_key for item in scheduler.planned] == ["north"]  # once, not per team
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    for _ in range(31):
        await clock.advance(timedelta(days=1))
    kept = sorted(
        moment.astimezone(runtime.settings.team("north").tz).date()
        for moment, _ in backups.scheduled_backups(folder)
    )
    # 31 nights from Wed 2026-11-25 to Thu 2026-12-25, 02:30 Shanghai: the last 7 days, and
    # the newest of each of the last 4 ISO weeks (W49's Sunday, W50's, W51's; W52 is a daily).
    last_days = [date(2026, 12, 25) - timedelta(days=n) for n in range(6, -1, -1)]
    weekly = [date(2026, 12, 6), date(2026, 12, 13)]
    assert kept == sorted({*weekly, *last_days})
    assert len(list(folder.glob("*.sha256"))) == len(kept)
    assert len(list(folder.glob("*.json"))) == len(kept)


async def test_a_failing_backup_alerts_the_admins_once(
    nightly: tuple[Runtime, Scheduler, Path],
) -> None:
    from models.common import Role
    from tests.helpers import add_user

    runtime, scheduler, folder = nightly
    await add_user(runtime, ADMIN_ID, "Ada", Role.ADMIN, None)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the folder should be")  # every backup now fails
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    await clock.advance(timedelta(days=1))  # the night's run fails
    await clock.advance(timedelta(minutes=10))
    await scheduler.recover()  # its retry fails too
    await clock.advance(timedelta(days=1))  # and the next night's
    async with transaction(runtime.sessions) as session:
        rows = (
            await session.exec(text("SELECT idempotency_key, text FROM outbox"))  # type: ignore[call-overload]
        ).all()
    keys = [key for key, _ in rows]
    backup_alerts = [key for key in keys if key.startswith("backup-failed:")]
    failing = [key for key in keys if key.startswith("job-failing:")]
    # One alert per night's incident, not per attempt; the job's second failure in a row is
    # one more incident (the job keeps failing), told once.
    assert len(backup_alerts) == 2
    assert len(failing) == 1
    assert all("定时备份失败" in body for key, body in rows if key.startswith("backup-failed:"))


# -- PostgreSQL ---------------------------------------------------------------------------------


def postgresql_only(url: str) -> str:
    if is_sqlite(url):
        pytest.skip("pg_dump and pg_restore need PostgreSQL (SALESBOT_TEST_DATABASE_URL)")
    return url


async def _pg_scalar(url: str, query: str) -> object:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(query))).scalar_one()
    finally:
        await engine.dispose()


@pytest.fixture
async def restored_pg(database_url: str) -> AsyncIterator[str]:
    """The URL of the database the test restores into, on the test server, dropped after."""
    postgresql_only(database_url)
    url = make_url(database_url)
    target = url.set(database=f"{url.database}_restored").render_as_string(hide_password=False)
    await drop_database(target)
    yield target
    await drop_database(target)


async def test_a_postgresql_backup_restores_into_a_new_database_with_pg_restore(
    database_url: str, cli_config: Path, tmp_path: Path, restored_pg: str
) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO teams (key, name, timezone, archived, created_at, updated_at) "
                    "VALUES ('north', 'North', 'Asia/Shanghai', false, :at, :at)"
                ),
                {"at": START.replace(tzinfo=None)},
            )
            team_id = (await conn.execute(text("SELECT id FROM teams"))).scalar_one()
            for n in range(3):
                await conn.execute(
                    text(
                        "INSERT INTO users (telegram_id, display_name, role, team_id, language,"
                        " active, unreachable, created_at, updated_at) VALUES (:tg, :name,"
                        " 'rep', :team, 'zh', true, false, :at, :at)"
                    ),
                    {"tg": 5000 + n, "name": f"销售{n}", "team": team_id,
                     "at": START.replace(tzinfo=None)},
                )  # fmt: skip
    finally:
        await engine.dispose()
    made = await asyncio.to_thread(runner.invoke, app, ["backup", "--config", str(cli_config)])
    assert made.exit_code == 0, made.output
    archive = next((tmp_path / "nightly").glob("salesbot-*.pgdump"))
    # Changed after the backup: the restore must not see it.
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM users WHERE telegram_id = 5000"))
    finally:
        await engine.dispose()

    name = str(make_url(restored_pg).database)
    result = await asyncio.to_thread(
        runner.invoke, app,
        ["restore", str(archive), "--into", name, "--config", str(cli_config)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Schema: {head_revision()} -> {head_revision()}" in result.output
    assert re.search(r"^Restored the backup taken at .+ UTC into postgresql://", result.output)
    assert f"/{name}" in result.output and "To run on it" in result.output
    assert re.search(r"^  users +3$", result.output, re.MULTILINE), result.output
    assert re.search(r"^  teams +1$", result.output, re.MULTILINE), result.output
    assert await _pg_scalar(restored_pg, "SELECT count(*) FROM users") == 3
    assert await _pg_scalar(restored_pg, "SELECT min(display_name) FROM users") == "销售0"
    assert await _pg_scalar(database_url, "SELECT count(*) FROM users") == 2  # left alone

    # A second restore never writes into the first one's database.
    again = await asyncio.to_thread(
        runner.invoke, app,
        ["restore", str(archive), "--into", name, "--config", str(cli_config)],
    )  # fmt: skip
    assert again.exit_code == 2
    assert f"The database {name} exists" in again.output
    assert await _pg_scalar(restored_pg, "SELECT count(*) FROM users") == 3


async def test_a_postgresql_backup_of_the_first_schema_revision_restores_and_migrates(
    database_url: str, cli_config: Path, tmp_path: Path, restored_pg: str
) -> None:
    url = make_url(database_url)
    old = url.set(database=f"{url.database}_old").render_as_string(hide_password=False)
    await drop_database(old)
    await create_database(old)
    try:
        engine = create_engine(old)
        try:
            await upgrade(engine, "0001")
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO teams (key, name, timezone, archived, created_at, "
                        "updated_at) VALUES ('north', 'North', 'Asia/Shanghai', false, :at, :at)"
                    ),
                    {"at": datetime(2025, 1, 6, 1, tzinfo=UTC).replace(tzinfo=None)},
                )
        finally:
            await engine.dispose()
        made = await asyncio.to_thread(
            backups.create_backup, old, tmp_path / "b", now=datetime(2025, 1, 6, 2, tzinfo=UTC)
        )
    finally:
        await drop_database(old)
    result = await asyncio.to_thread(
        runner.invoke, app,
        ["restore", str(made.path), "--into", restored_pg, "--config", str(cli_config)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Schema: 0001 -> {head_revision()}" in result.output
    assert "Restored the backup taken at 2025-01-06 02:00:00 UTC" in result.output
    assert re.search(r"^  teams +1$", result.output, re.MULTILINE), result.output
    assert await _pg_scalar(restored_pg, "SELECT version_num FROM alembic_version") == (
        head_revision()
    )


async def test_restore_refuses_the_postgresql_database_of_a_running_bot(
    cli_config: Path, tmp_path: Path, local_bot: LocalBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = postgresql_only(local_bot.runtime.settings.database_url)
    archive = await backup_while_running(local_bot, cli_config, tmp_path, monkeypatch)
    name = str(make_url(live).database)
    tables_before = await _pg_scalar(
        live, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    )
    result = await asyncio.to_thread(
        runner.invoke, app,
        ["restore", str(archive), "--into", name, "--config", str(cli_config)],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "salesbot is running on" in result.output and "stop it first" in result.output
    assert (
        await _pg_scalar(live, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        == tables_before
    )
    # Stopped, it is still the bot's database: a restore goes into a new one.
    await local_bot.stop()
    stopped = await asyncio.to_thread(
        runner.invoke, app,
        ["restore", str(archive), "--into", name, "--config", str(cli_config)],
    )  # fmt: skip
    assert stopped.exit_code == 2, stopped.output
    assert "is the bot's database" in stopped.output
