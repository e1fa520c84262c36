"""Real `salesbot run --webhook` processes behind a round-robin proxy, for scale-out tests."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
from httpx_aiohttp import AiohttpTransport
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.harness import SandboxEndpoint

SECRET = "two-instances-secret-0123456789abcdef"
TOKEN = "123456789:two-instances"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Instance:
    name: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


@dataclass
class RoundRobinProxy:
    """Delivers each request to the next instance in turn, like a load balancer."""

    backends: list[Instance]
    served_by: list[str] = field(default_factory=list)
    # Forward the next request but answer 502, as if the response were lost on the way back:
    # Telegram then delivers the same update again.
    lose_next_response: bool = False
    port: int = 0
    _turn: itertools.cycle[int] = field(init=False)

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(range(len(self.backends)))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram"

    def asgi(self, client: httpx.AsyncClient) -> Starlette:
        async def forward(request: Request) -> Response:
            body = await request.body()
            headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
            for _ in range(len(self.backends)):
                backend = self.backends[next(self._turn)]
                if backend.process is None or backend.process.poll() is not None:
                    continue
                try:
                    answer = await client.post(
                        backend.url + "/telegram", content=body, headers=headers
                    )
                except httpx.HTTPError:
                    continue
                self.served_by.append(backend.name)
                if self.lose_next_response:
                    self.lose_next_response = False
                    return Response(status_code=502)
                media = answer.headers.get("content-type")
                return Response(answer.content, status_code=answer.status_code, media_type=media)
            return Response(status_code=502)

        return Starlette(routes=[Route("/telegram", forward, methods=["POST"])])


def start_instance(
    instance: Instance, *, sandbox: SandboxEndpoint, config: Path, database_url: str,
    webhook_url: str, workdir: Path, extra_env: dict[str, str] | None = None,
) -> None:  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESBOT_")}
    env.update(
        SALESBOT_CONFIG=str(config),
        SALESBOT_TOKEN=TOKEN,
        SALESBOT_API_URL=sandbox.base_url,
        SALESBOT_FILE_URL=sandbox.base_file_url,
        SALESBOT_DATABASE_URL=database_url,
        SALESBOT_WEBHOOK__SECRET_TOKEN=SECRET,
        SALESBOT_WEBHOOK__PORT=str(instance.port),
        SALESBOT_WEBHOOK__URL=webhook_url,
        SALESBOT_LOGGING__LEVEL="INFO",
        PTB_TIMEDELTA="true",
    )
    env.update(extra_env or {})
    instance.log_path = workdir / f"{instance.name}.log"
    with instance.log_path.open("wb") as log:
        instance.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--webhook"],
            env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


async def wait_healthy(instance: Instance, client: httpx.AsyncClient) -> None:
    async with asyncio.timeout(60):
        while True:
            assert instance.process is not None
            if instance.process.poll() is not None:
                raise AssertionError(f"{instance.name} exited:\n{instance.log()}")
            try:
                answer = await client.get(instance.url + "/health")
                if answer.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)


def stop_instance(instance: Instance, sig: signal.Signals = signal.SIGTERM) -> None:
    if instance.process is None or instance.process.poll() is not None:
        return
    instance.process.send_signal(sig)
    try:
        instance.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        instance.process.kill()
        instance.process.wait()


class _ProxyServer:
    """The proxy served from a thread of its own, so that it can outlive one test's event loop
    (a pair started once for a module)."""

    def __init__(self, proxy: RoundRobinProxy) -> None:
        self.proxy = proxy
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.proxy.port = int(sock.getsockname()[1])
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(sock),), name="proxy", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while self._server is None or not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise AssertionError("the round-robin proxy did not start")
            time.sleep(0.01)

    async def _serve(self, sock: socket.socket) -> None:
        # Over aiohttp's pool, as the bot's own calls travel (bot/telegram_http.py): a load
        # balancer's hop costs little, and this one shares the benchmark's process with the
        # load it measures.
        transport = AiohttpTransport()
        async with httpx.AsyncClient(timeout=30, transport=transport) as client:
            config = uvicorn.Config(self.proxy.asgi(client), log_level="warning", lifespan="off")
            self._server = uvicorn.Server(config)
            await self._server.serve(sockets=[sock])

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)


@dataclass
class Pair:
    """Instances A and B behind a round-robin proxy registered as the bot's webhook."""

    sandbox: SandboxEndpoint
    config: Path
    database_url: str
    workdir: Path
    extra_env: dict[str, str] | None = None
    instances: list[Instance] = field(default_factory=list)
    proxy: RoundRobinProxy = field(init=False)
    _server: _ProxyServer = field(init=False)

    def __post_init__(self) -> None:
        self.instances = [Instance("A", free_port()), Instance("B", free_port())]
        self.proxy = RoundRobinProxy(self.instances)
        self._server = _ProxyServer(self.proxy)

    def _start(self, instance: Instance) -> None:
        start_instance(
            instance, sandbox=self.sandbox, config=self.config, database_url=self.database_url,
            webhook_url=self.proxy.url, workdir=self.workdir, extra_env=self.extra_env,
        )  # fmt: skip

    async def start(self) -> None:
        await asyncio.to_thread(self._server.start)
        for instance in self.instances:
            self._start(instance)
        async with httpx.AsyncClient(timeout=30) as client:
            for instance in self.instances:
                await wait_healthy(instance, client)

    async def stop(self) -> None:
        for instance in self.instances:
            await asyncio.to_thread(stop_instance, instance)
        await asyncio.to_thread(self._server.stop)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[tuple[RoundRobinProxy, list[Instance]]]:
        """For one test of a shared pair: an instance that an earlier test killed is started
        again, and the webhook registered again (the sandbox forgets it between tests)."""
        async with httpx.AsyncClient(timeout=30) as client:
            for instance in self.instances:
                if instance.process is None or instance.process.poll() is not None:
                    self._start(instance)
                    await wait_healthy(instance, client)
            answer = await client.post(
                f"{self.sandbox.base_url}{TOKEN}/setWebhook",
                json={"url": self.proxy.url, "secret_token": SECRET},
            )
            answer.raise_for_status()
        yield self.proxy, self.instances


@asynccontextmanager
async def two_instances(
    sandbox: SandboxEndpoint, *, config: Path, database_url: str, workdir: Path,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[tuple[RoundRobinProxy, list[Instance]]]:  # fmt: skip
    """Start A and B behind a round-robin proxy, for one test."""
    pair = Pair(sandbox, config, database_url, workdir, extra_env)
    try:
        await pair.start()
        yield pair.proxy, pair.instances
    finally:
        await pair.stop()
