"""`salesbot run --webhook`: serve Telegram's webhook from an ASGI app (starlette + uvicorn).

Each update is handled before the request is answered, so a proxy that delivers one person's
updates one after another (as Telegram does) gets them applied in order on any instance; the
database (processed_updates, per-person locks) makes repeated deliveries harmless.

The response may carry one Bot API call, which Telegram runs as it reads it: a quick turn
stops its button's spinner there (``handlers.turn.ResponseCall``), one call fewer per tap.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from telegram import Update

from bot.app import (
    Background,
    Runtime,
    after_initialize,
    build_application,
    start_background,
    stop_background,
)
from bot.cockpit import cockpit_for
from bot.http_server import server_config
from bot.logs import EveryMinute
from bot.metrics import Operations, health_route, metrics_route
from handlers.context import SalesApp
from handlers.turn import ResponseCall, response_call

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name, not a secret)
ALLOWED_UPDATES = ["message", "callback_query", "inline_query"]


class BodyTooLarge(Exception):
    """The request body exceeds ``max_body_bytes``."""


async def read_body(request: Request, limit: int, seconds: float) -> bytes:
    """The body, refusing early what is too large or too slow (before reading it all)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge
    body = bytearray()
    async with asyncio.timeout(seconds):
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise BodyTooLarge
    return bytes(body)


def parse_update(body: bytes, app: SalesApp) -> Update | None:
    """The update, or None for anything but a JSON object that is an update."""
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return None
        return Update.de_json(data, app.bot)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        # Telegram never sends these; whoever does (with the secret) gets a plain 400.
        return None


def webhook_asgi(
    app: SalesApp, runtime: Runtime, secret: str, background: Background
) -> Starlette:
    """The ASGI app: the webhook route and a health endpoint."""
    settings = runtime.settings.webhook
    health_token = settings.health_token.get_secret_value() if settings.health_token else ""
    wrong_secret_log = EveryMinute()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            held_back = wrong_secret_log.allow()
            if held_back is not None:
                log.warning(
                    "webhook request with a missing or wrong secret token refused "
                    "(%s more since the last such line)", held_back,
                )  # fmt: skip
            return Response(status_code=403)
        try:
            body = await read_body(request, settings.max_body_bytes, settings.read_timeout_seconds)
        except BodyTooLarge:
            return Response(status_code=413)
        except TimeoutError:
            return Response(status_code=408)
        update = parse_update(body, app)
        if update is None:
            return Response(status_code=400)
        carried = ResponseCall()
        token = response_call.set(carried)
        try:
            await app.update_processor.process_update(update, app.process_update(update))
        finally:
            response_call.reset(token)
        if carried.body is not None:
            return JSONResponse(carried.body)
        return Response(status_code=200)

    routes: list[BaseRoute] = [
        Route(settings.path, receive, methods=["POST"]),
        health_route(runtime, background, health_token),
        # Reachable through the proxy's address: served only to a scraper with the token.
        metrics_route(runtime, open_without_token=False),
    ]
    if runtime.settings.webapp.enabled:
        # The cockpit's /app and /api, after the webhook's own paths.
        routes.append(Mount("/", app=cockpit_for(app)))
    return Starlette(routes=routes)


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
        operations = Operations(runtime, background, polling=False)
        await operations.start()
        try:
            if settings.url:
                await app.bot.set_webhook(
                    settings.url,
                    secret_token=secret,
                    allowed_updates=ALLOWED_UPDATES,
                    max_connections=settings.max_connections,
                )
            config = server_config(webhook_asgi(app, runtime, secret, background), settings)
            log.info(
                "salesbot serves the webhook on %s:%s%s as @%s",
                settings.listen, settings.port, settings.path, app.bot.username,
            )  # fmt: skip
            await uvicorn.Server(config).serve()
            log.info("stopping: finishing the updates in progress")
        finally:
            await operations.stop()
            await stop_background(app, background)
            await app.stop()
    finally:
        await app.shutdown()
