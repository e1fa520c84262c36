"""Setting up a bot on the sandbox for a benchmark: temp config, migrated database, runtime."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from bot.app import Runtime, open_runtime
from bot.clock import ManualClock
from bot.db import create_engine, normalize_url
from bot.migrate import upgrade
from bot.settings import load_settings

BENCH_CONFIG = """
[logging]
level = "WARNING"
[teams.north]
name = "North"
"""


@asynccontextmanager
async def bench_runtime(extra_config: str = "") -> AsyncIterator[Runtime]:
    """A runtime on SQLite in a temp folder, or on SALESBOT_BENCH_DATABASE_URL (PostgreSQL)."""
    with tempfile.TemporaryDirectory(prefix="salesbot-bench-") as folder:
        config = Path(folder) / "config.toml"
        config.write_text(BENCH_CONFIG + extra_config, encoding="utf-8")
        url = os.environ.get("SALESBOT_BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.db"
        url = normalize_url(url)
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()
        settings = load_settings(config, database={"url": url})
        runtime = await open_runtime(settings, clock=ManualClock(datetime.now(UTC)))
        try:
            yield runtime
        finally:
            await runtime.close()
