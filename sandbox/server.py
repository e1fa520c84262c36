"""``Sandbox``: the fake Bot API served by uvicorn in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount, Route

from sandbox.botapi import BotApi
from sandbox.control import ControlApi, control_error
from sandbox.errors import ControlError
from sandbox.state import DEFAULT_BOT_ID, SandboxState
from sandbox.webhook import WebhookWorker

START_TIMEOUT = 15.0
STOP_TIMEOUT = 30.0


class Sandbox:
    """A fake Telegram Bot API on 127.0.0.1, plus a control API to act as users.

    All state lives in the server thread's event loop; only start() and stop() cross
    threads, so no locks are needed around the state.
    """

    def __init__(
        self,
        bot_token: str | None = None,
        bot_username: str = "salesbot_demo_bot",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        inline_mode: bool = False,
    ) -> None:
        self.bot_token = bot_token
        # getMe's supports_inline_queries; off by default, as for a new BotFather bot.
        self.inline_mode = inline_mode
        self.bot_username = bot_username
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._state: SandboxState | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    # -- addresses -----------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the sandbox is not running")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB's ``base_url``: PTB appends ``<token>/<method>``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def control_url(self) -> str:
        return f"{self.url}/control"

    @property
    def token(self) -> str:
        """A token this sandbox accepts."""
        return self.bot_token or f"{DEFAULT_BOT_ID}:sandbox-token"

    @property
    def running(self) -> bool:
        return self._thread is not None

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> Sandbox:
        """Serve in a background thread; return once connections are accepted."""
        with self._lock:
            if self._thread is not None:
                return self
            # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose
            # proto says TCP, and without it every answer waits ~40 ms for a delayed ACK.
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.host, self._requested_port))
                sock.listen(128)
            except OSError:
                sock.close()
                raise
            self._port = sock.getsockname()[1]
            self._ready.clear()
            self._error = None
            thread = threading.Thread(
                target=self._thread_main, args=(sock,), name="telegram-sandbox", daemon=True
            )
            self._thread = thread
            thread.start()
        if not self._ready.wait(START_TIMEOUT) or self._error is not None:
            error = self._error
            self.stop()
            raise RuntimeError(f"the sandbox failed to start: {error!r}") from error
        return self

    def stop(self) -> None:
        """Shut the server down and join its thread. Safe to call more than once."""
        with self._lock:
            thread, self._thread = self._thread, None
            loop = self._loop
        if thread is None:
            return
        if loop is not None:
            # The loop may already be closed if the thread died on its own.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._request_exit)
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError("the sandbox thread did not stop")
        self._port = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- inside the server thread -------------------------------------------------

    def _thread_main(self, sock: socket.socket) -> None:
        try:
            asyncio.run(self._serve(sock))
        except BaseException as exc:  # reported by start(), never lost in the thread
            self._error = exc
        finally:
            sock.close()
            self._loop = None
            # Unblock start() if serving never began.
            self._ready.set()

    async def _serve(self, sock: socket.socket) -> None:
        self._loop = asyncio.get_running_loop()
        state = SandboxState(self.bot_token, self.bot_username, inline_mode=self.inline_mode)
        self._state = state
        bot_api = BotApi(state, self._abort_connection)
        worker = WebhookWorker(state, bot_api.run_response_call)
        worker.start()
        config = uvicorn.Config(
            self._build_app(state, bot_api),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",
            # Long polls wake up on shutdown; this only bounds a misbehaving client.
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        self._server = server
        watcher = asyncio.create_task(self._announce_started(server))
        try:
            await server.serve(sockets=[sock])
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await worker.aclose()
            self._server = None
            self._state = None

    async def _announce_started(self, server: uvicorn.Server) -> None:
        while not server.started:  # noqa: ASYNC110 - uvicorn only exposes a flag
            await asyncio.sleep(0.005)
        self._ready.set()

    def _request_exit(self) -> None:
        if self._state is not None:
            self._state.begin_shutdown()
        if self._server is not None:
            self._server.should_exit = True

    def _build_app(self, state: SandboxState, bot_api: BotApi) -> Starlette:
        methods = ["GET", "POST"]
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", bot_api.method_endpoint, methods=methods),
                Route("/file/bot{token}/{file_path:path}", bot_api.file_endpoint, methods=["GET"]),
                Mount("/control", routes=ControlApi(state).routes()),
            ],
            exception_handlers={ControlError: control_error},
        )

    async def _abort_connection(self, request: Request) -> None:
        """Reset the TCP connection of ``request`` without answering (the "drop" fault)."""
        server = self._server
        client = request.scope.get("client")
        if server is None or client is None:
            return
        connections: Any = server.server_state.connections
        for protocol in list(connections):
            if getattr(protocol, "client", None) == tuple(client):
                protocol.transport.abort()
                # connection_lost runs on a later loop iteration; waiting for it keeps
                # uvicorn from logging "returned without starting response".
                for _ in range(100):
                    if protocol not in connections:
                        break
                    await asyncio.sleep(0)
                return
