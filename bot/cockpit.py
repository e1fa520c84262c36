"""Serving the managers' cockpit (webapp/): with the webhook, on the webhook's server; while
polling, on its own port (``[webapp] listen`` and ``port``)."""

from __future__ import annotations

import logging
import socket

import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette

from bot.logs import route_uvicorn_logs
from core.settings import WebappSettings
from handlers.context import SalesApp, deps_of
from webapp.app import cockpit_asgi
from webapp.context import WebDeps

log = logging.getLogger(__name__)


def web_deps(app: SalesApp) -> WebDeps:
    """The cockpit's view of the bot's dependencies; the bot's token only checks sign-ins."""
    deps = deps_of(app)

    def wake() -> None:
        if deps.sender is not None:
            deps.sender.wake()

    return WebDeps(
        settings=deps.settings, sessions=deps.sessions, clock=deps.clock, texts=deps.texts,
        render=deps.render, token=SecretStr(app.bot.token), wake=wake,
    )  # fmt: skip


def cockpit_for(app: SalesApp) -> Starlette:
    return cockpit_asgi(web_deps(app))


def cockpit_server(app: SalesApp, settings: WebappSettings) -> uvicorn.Server:
    """uvicorn for the cockpit alone (polling mode); its log lines go through salesbot's."""
    config = uvicorn.Config(
        cockpit_for(app), host=settings.listen, port=settings.port, log_config=None,
        log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=5,
    )  # fmt: skip
    route_uvicorn_logs()
    return uvicorn.Server(config)


def local_socket() -> socket.socket:
    """A listening-ready socket on a free port of 127.0.0.1 (tests, the demo)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock
