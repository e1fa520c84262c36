"""Fixtures: a fresh database per test (SQLite, or PostgreSQL when SALESBOT_TEST_DATABASE_URL is
set), a manual clock, the sandbox Bot API, and the real Application running against it."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import Runtime, open_runtime
from bot.migrate import upgrade
from core.clock import ManualClock
from core.db import create_engine, is_sqlite, normalize_url
from core.settings import Settings, load_settings
from sandbox import Sandbox
from sandbox.client import SandboxClient
from sandbox.harness import LocalBot

# No wall-clock limits in tests: hypothesis's per-example deadline fails on a busy machine.
hypothesis_settings.register_profile("salesbot", deadline=None)
hypothesis_settings.load_profile("salesbot")

PG_URL_ENV = "SALESBOT_TEST_DATABASE_URL"
# Tuesday 2026-11-24 09:00 in Shanghai.
START = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
ADMIN_ID = 1000

# The sender paces by the real clock. At Telegram's pace (one message a second per chat) a
# month of reminders to one person takes a minute to arrive, so the suite sends faster (the
# sandbox does not enforce Telegram's limits unless told to); the tests of the pacing itself
# restore Telegram's pace (``telegram_pace`` in tests/helpers.py).
TEST_CONFIG = """
[access]
admins = [{admin}]
[logging]
level = "WARNING"
[limits]
# The clock stands still between a test's moves, so a person's bucket never refills by itself:
# roomy enough for any chat (tests/e2e/test_rate_limit.py sets its own).
burst = 10000
[delivery]
backoff_base_seconds = 0.2
poll_interval_seconds = 0.1
per_chat_per_second = 30
global_per_second = 1000
[backup]
# Switched on by the tests of backups (tests/e2e/test_backup.py), so that no other test finds
# a nightly backup among its runs.
enabled = false
[defaults]
timezone = "Asia/Shanghai"
language = "zh"
working_days = ["mon", "tue", "wed", "thu", "fri"]
holidays = ["2026-12-25"]
[teams.north]
name = "North"
[teams.south]
name = "South"
timezone = "Europe/Berlin"
language = "en"
calendar = "none"
"""


def write_config(directory: Path, extra: str = "") -> Path:
    path = directory / "config.toml"
    path.write_text(TEST_CONFIG.format(admin=ADMIN_ID) + extra, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns (an error here) unless durations such as retry_after are timedeltas."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database the tests start from: a SQLite file to copy, or a PostgreSQL DB."""
    import asyncio

    pg_url = os.environ.get(PG_URL_ENV)
    if pg_url:
        url = asyncio.run(_worker_database(normalize_url(pg_url)))
        asyncio.run(_recreate_pg(url))
        yield url
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_migrate(url))
    yield url


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own on the same server
    (``salesbot_test_gw0``, ``_gw1``, ...), created afresh; without workers, the given one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    return await _create_pg_database(url, f"{make_url(url).database}_{worker}")


async def _create_pg_database(url: str, name: str) -> str:
    """Create (or re-create, empty) the database ``name`` on the server of ``url``."""
    # CREATE DATABASE cannot run inside a transaction.
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def separate_database(template_db: str, directory: Path, name: str) -> str:
    """A migrated database apart from the one the tests of this worker share, for processes
    that outlive a test (the two-instance pair of a module): a copy of the SQLite template, or
    a PostgreSQL database of its own."""
    if is_sqlite(template_db):
        source = make_url(template_db).database
        assert source is not None
        target = directory / f"{name}.db"
        shutil.copyfile(source, target)
        return f"sqlite+aiosqlite:///{target}"
    url = await _create_pg_database(template_db, f"{make_url(template_db).database}_{name}")
    await _migrate(url)
    return url


async def _recreate_pg(url: str) -> None:
    """Drop every table of the test database and migrate it from scratch."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            rows = await conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
            tables = ", ".join(f'"{row[0]}"' for row in rows)
            if tables:
                await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


async def fresh_database(template_db: str, directory: Path) -> str:
    """An empty migrated database: a copy of the SQLite template in ``directory``, or the
    worker's PostgreSQL database emptied."""
    if is_sqlite(template_db):
        return await separate_database(template_db, directory, "salesbot")
    await _truncate_pg(template_db)
    return template_db


@pytest.fixture
async def database_url(template_db: str, tmp_path: Path) -> str:
    return await fresh_database(template_db, tmp_path)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def settings(
    config_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Settings:  # fmt: skip
    """A test module may set ``JOBS_UNDER_TEST = ("name", ...)``: other areas' scheduled jobs
    are then switched off, so their reminders do not land in the middle of its chats."""
    for name in list(os.environ):
        if name.startswith("SALESBOT_") and name != PG_URL_ENV:
            monkeypatch.delenv(name)
    monkeypatch.setenv("SALESBOT_DATABASE_URL", database_url)
    wanted = getattr(request.module, "JOBS_UNDER_TEST", None)
    if wanted is None:
        return load_settings(config_path)
    import scheduler.jobs  # noqa: F401  (registers every job)
    from scheduler.registry import JOBS

    off = {name: {"enabled": False} for name in JOBS if name not in wanted}
    return load_settings(config_path, defaults={"jobs": off})


@pytest.fixture
def clock() -> ManualClock:
    """Frozen between moves, so tests can compare times exactly (see test_outbox for ticking)."""
    return ManualClock(START, ticking=False)


@pytest.fixture
async def runtime(settings: Settings, clock: ManualClock) -> AsyncIterator[Runtime]:
    runtime = await open_runtime(settings, clock=clock)
    yield runtime
    await runtime.close()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as server:
        yield server


@pytest.fixture
async def sandbox_client(
    sandbox: Sandbox, request: pytest.FixtureRequest
) -> AsyncIterator[SandboxClient]:
    """A reset sandbox: inline mode off, as for a new bot, unless the test is marked
    ``@pytest.mark.inline_mode`` (the bot reads getMe once, when it starts). The test fails if
    the bot showed escaped markup (see sandbox.formatting.escaped_markup), in any chat, at
    any step."""
    async with SandboxClient(sandbox.control_url) as client:
        await client.reset()
        if request.node.get_closest_marker("inline_mode") is not None:
            await client.configure(inline_mode=True)
        yield client
        found = await client.violations()
    if found:
        shown = "\n".join(
            f"  {v['method']} to {v['chat_id']} ({v['where']}): {v['rule']} {v['found']!r} "
            f"in {v['text']!r}"
            for v in found[:10]
        )
        pytest.fail(f"the bot showed escaped markup {len(found)} time(s):\n{shown}")


@pytest.fixture
async def local_bot(
    runtime: Runtime, sandbox: Sandbox, sandbox_client: SandboxClient
) -> AsyncIterator[LocalBot]:
    bot = LocalBot(runtime=runtime, sandbox=sandbox, client=sandbox_client)
    await bot.start()
    yield bot
    await bot.stop()


@pytest.fixture
async def webhook_bot(
    runtime: Runtime, sandbox: Sandbox, sandbox_client: SandboxClient
) -> AsyncIterator[LocalBot]:
    bot = LocalBot(runtime=runtime, sandbox=sandbox, client=sandbox_client, webhook=True)
    await bot.start()
    yield bot
    await bot.stop()
