"""Real `salesbot run --webhook` processes behind a round-robin proxy, for scale-out tests."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox import Sandbox

SECRET = "two-instances-secret-0123456789abcdef"
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
                return Response(answer.content, status_code=answer.status_code)
            return Response(status_code=502)

        return Starlette(routes=[Route("/telegram", forward, methods=["POST"])])


def start_instance(
    instance: Instance, *, sandbox: Sandbox, config: Path, database_url: str, webhook_url: str,
    workdir: Path, extra_env: dict[str, str] | None = None,
) -> None:  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESBOT_")}
    env.update(
        SALESBOT_CONFIG=str(config),
        SALESBOT_TOKEN="123456789:two-instances",
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


@asynccontextmanager
async def two_instances(
    sandbox: Sandbox, *, config: Path, database_url: str, workdir: Path,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[tuple[RoundRobinProxy, list[Instance]]]:  # fmt: skip
    """Start A and B behind a round-robin proxy registered as the bot's webhook."""
    instances = [Instance("A", free_port()), Instance("B", free_port())]
    proxy = RoundRobinProxy(instances)
    async with httpx.AsyncClient(timeout=30) as client:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        proxy.port = int(sock.getsockname()[1])
        server = uvicorn.Server(
            uvicorn.Config(proxy.asgi(client), log_level="warning", lifespan="off")
        )
        task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        try:
            for instance in instances:
                start_instance(
                    instance, sandbox=sandbox, config=config, database_url=database_url,
                    webhook_url=proxy.url, workdir=workdir, extra_env=extra_env,
                )  # fmt: skip
            for instance in instances:
                await wait_healthy(instance, client)
            yield proxy, instances
        finally:
            for instance in instances:
                await asyncio.to_thread(stop_instance, instance)
            server.should_exit = True
            await task
