"""python-telegram-bot's echo bot, the baseline every benchmark compares salesbot against.

It runs as salesbot does — the same update processor (people concurrently, one person's updates
in order, the same concurrency limit), long polling or a webhook served by uvicorn and answered
after the update is handled — so what remains between the two is salesbot's own work.
"""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from handlers.ordering import PerUserUpdateProcessor
from sandbox.harness import PROCESS_TIMEOUT, SandboxEndpoint, UpdateTracker

ECHO_TOKEN = "987654321:echo-bot"
ECHO_SECRET = "echo-webhook-secret-0123456789"
# salesbot's default [runtime] max_concurrent_updates: the same width for both bots.
CONCURRENCY = 64


async def _echo(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(update.message.text or "")


class EchoBot:
    """The echo bot against a sandbox, polling or behind a webhook; ``tracker`` knows which
    updates it has finished."""

    def __init__(self, sandbox: SandboxEndpoint, *, webhook: bool = False) -> None:
        self.sandbox = sandbox
        self.webhook = webhook
        self.tracker = UpdateTracker()
        self.app: Application | None = None  # type: ignore[type-arg]
        self._server: uvicorn.Server | None = None
        self._server_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        processor = PerUserUpdateProcessor(CONCURRENCY)
        processor.listeners.append(self.tracker.mark)
        builder = (
            ApplicationBuilder()
            .token(ECHO_TOKEN)
            .base_url(self.sandbox.base_url)
            .base_file_url(self.sandbox.base_file_url)
            .concurrent_updates(processor)
        )
        if self.webhook:
            builder = builder.updater(None)
        app = self.app = builder.build()
        app.add_handler(MessageHandler(filters.TEXT, _echo))
        await app.initialize()
        await app.start()
        if self.webhook:
            await self._serve(app)
            return
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)

    async def _serve(self, app: Application) -> None:  # type: ignore[type-arg]
        async def receive(request: Request) -> Response:
            if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != ECHO_SECRET:
                return Response(status_code=403)
            update = Update.de_json(await request.json(), app.bot)
            await app.update_processor.process_update(update, app.process_update(update))
            return Response(status_code=200)

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/telegram"
        config = uvicorn.Config(
            Starlette(routes=[Route("/telegram", receive, methods=["POST"])]),
            log_config=None, log_level="warning", access_log=False, lifespan="off",
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._server_task = asyncio.get_running_loop().create_task(
            self._server.serve(sockets=[sock])
        )
        async with asyncio.timeout(PROCESS_TIMEOUT):
            while not self._server.started:
                await asyncio.sleep(0.01)
        await app.bot.set_webhook(url, secret_token=ECHO_SECRET)

    async def stop(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        if self._server is not None and self._server_task is not None:
            self._server.should_exit = True
            await self._server_task
            self._server = self._server_task = None
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
