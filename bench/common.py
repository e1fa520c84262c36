"""Setting up a bot on the sandbox for a benchmark: temp config, migrated database, runtime."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bot.app import Runtime, open_runtime
from bot.migrate import upgrade
from core.clock import ManualClock
from core.db import create_engine, normalize_url
from core.settings import load_settings

BENCH_CONFIG = """
[logging]
level = "WARNING"
[limits]
# A benchmark's one rep sends as fast as the bot answers.
burst = 100000
per_second = 1000
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
        if engine.dialect.name == "postgresql":
            # A benchmark database is scratch space: start every run from an empty schema.
            async with engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
        await engine.dispose()
        settings = load_settings(config, database={"url": url})
        runtime = await open_runtime(settings, clock=ManualClock(datetime.now(UTC)))
        try:
            yield runtime
        finally:
            await runtime.close()


class ExternalSandbox:
    """The sandbox in a process of its own, so that its work does not share the benchmark
    process's GIL (the real Telegram runs elsewhere too)."""

    def __init__(self) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/control"

    def __enter__(self) -> ExternalSandbox:
        import httpx

        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.control_url + "/commands", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("the sandbox process did not start")

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


async def largest_stall(work: Awaitable[object]) -> float:
    """The longest gap (seconds) between 1 ms ticks of the event loop while ``work`` runs."""
    gaps: list[float] = []
    done = False

    async def ticker() -> None:
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    await work
    done = True
    await task
    return max(gaps, default=0.0)


@asynccontextmanager
async def serve_cockpit(runtime: Runtime, token: str) -> AsyncIterator[str]:
    """The cockpit's ASGI app under uvicorn on a free port of 127.0.0.1 (gzip on, as in
    production), signing people in with ``token``; yields the server's base address."""
    import uvicorn
    from pydantic import SecretStr

    from bot.cockpit import local_socket
    from webapp.app import cockpit_asgi
    from webapp.context import WebDeps

    def no_render(*args: object, **kwargs: object) -> object:
        raise RuntimeError("reading pages renders no notices")

    deps = WebDeps(
        settings=runtime.settings, sessions=runtime.sessions, clock=runtime.clock,
        texts=runtime.texts, render=no_render, token=SecretStr(token),  # type: ignore[arg-type]
    )  # fmt: skip
    sock = local_socket()
    server = uvicorn.Server(uvicorn.Config(cockpit_asgi(deps), log_config=None,
                                           log_level="warning", lifespan="off"))  # fmt: skip
    serving = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        await serving
