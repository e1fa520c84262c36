"""`salesbot run --webhook`: serve Telegram's webhook from an ASGI app (starlette + uvicorn).

Each update is handled before the request is answered, so a proxy that delivers one person's
updates one after another (as Telegram does) gets them applied in order on any instance; the
database (processed_updates, per-person locks) makes repeated deliveries harmless.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.app import (
    Background,
    Runtime,
    after_initialize,
    build_application,
    start_background,
    stop_background,
)
from bot.context import SalesApp
from bot.db import transaction
from services import outbox

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name, not a secret)
ALLOWED_UPDATES = ["message", "callback_query", "inline_query"]


def webhook_asgi(
    app: SalesApp, runtime: Runtime, secret: str, background: Background
) -> Starlette:
    """The ASGI app: the webhook route and a health endpoint."""

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook request with a missing or wrong secret token refused")
            return Response(status_code=403)
        try:
            data = await request.json()
            update = Update.de_json(data, app.bot)
        except (ValueError, TypeError, KeyError, json.JSONDecodeError):
            return Response(status_code=400)
        if update is None:
            return Response(status_code=400)
        await app.update_processor.process_update(update, app.process_update(update))
        return Response(status_code=200)

    async def health(_request: Request) -> Response:
        report: dict[str, Any] = {"instance": background.sender.instance}
        healthy = True
        try:
            async with transaction(runtime.sessions) as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
                report["outbox"] = await outbox.counts_by_status(session)
            report["database"] = "ok"
        except Exception as exc:  # the point of a health check is to report any failure
            report["database"] = f"error: {type(exc).__name__}"
            healthy = False
        report["sender"] = {
            "running": not background.sender_task.done(),
            "holds_sender_role": background.sender.holding_lease,
            "sent_since_start": background.sender.sent_count,
        }
        healthy = healthy and not background.sender_task.done()
        return JSONResponse(report, status_code=200 if healthy else 503)

    path = runtime.settings.webhook.path
    return Starlette(
        routes=[Route(path, receive, methods=["POST"]), Route("/health", health, methods=["GET"])]
    )


async def run_webhook(runtime: Runtime) -> None:
    """Register the webhook with Telegram and serve it until SIGINT/SIGTERM."""
    from bot.runner import initialize_or_explain

    settings = runtime.settings.webhook
    secret = settings.require_secret()
    app = build_application(runtime, polling=False)
    await initialize_or_explain(app)
    try:
        await after_initialize(app)
        await app.start()
        background = await start_background(app)
        try:
            if settings.url:
                await app.bot.set_webhook(
                    settings.url,
                    secret_token=secret,
                    allowed_updates=ALLOWED_UPDATES,
                    max_connections=settings.max_connections,
                )
            config = uvicorn.Config(
                webhook_asgi(app, runtime, secret, background),
                host=settings.listen,
                port=settings.port,
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
            log.info(
                "salesbot serves the webhook on %s:%s%s as @%s",
                settings.listen, settings.port, settings.path, app.bot.username,
            )  # fmt: skip
            await uvicorn.Server(config).serve()
            log.info("stopping: finishing the updates in progress")
        finally:
            await stop_background(app, background)
            await app.stop()
    finally:
        await app.shutdown()
