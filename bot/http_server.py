"""The one way salesbot configures uvicorn, for the webhook and for the metrics endpoint."""

from __future__ import annotations

import uvicorn
from starlette.applications import Starlette

from bot.logs import route_uvicorn_logs
from core.settings import WebhookSettings


def server_config(asgi: Starlette, settings: WebhookSettings) -> uvicorn.Config:
    """uvicorn with a connection limit and timeouts; its log lines go through salesbot's
    handler (``log_config=None``), which redacts secrets."""
    config = uvicorn.Config(
        asgi,
        host=settings.listen,
        port=settings.port,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        limit_concurrency=settings.limit_concurrency,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=64 * 1024,
    )
    route_uvicorn_logs()
    return config
