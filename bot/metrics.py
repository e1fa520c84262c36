"""Operations: GET /metrics (Prometheus), GET /health, and the watch that alerts the admins.

Webhook mode serves both routes on the webhook's server; polling mode serves them on
``[metrics] listen:port`` (127.0.0.1 by default). /metrics needs ``Authorization: Bearer
<[metrics] token>`` when a token is set, and is only served without one on a loopback address
in polling mode: queue sizes and job names are for the operator, not for the Internet.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, text
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import Background, Runtime
from bot.http_server import server_config
from core import metrics
from core.db import transaction
from core.settings import ConfigError, Settings
from models.team import Team
from services import alerts, backups, outbox
from services.outbox import Backlog
from views.render import renderer

log = logging.getLogger(__name__)
WATCH_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Facts:
    """What /health and /metrics report, read once per request."""

    database_ok: bool
    database_error: str | None
    outbox: dict[str, int]
    backlog: Backlog | None
    outbox_stuck: bool
    newest_backup: datetime | None
    backup_stale: bool


async def read_facts(runtime: Runtime) -> Facts:
    settings = runtime.settings
    now = runtime.clock.now()
    counts: dict[str, int] = {}
    backlog: Backlog | None = None
    error: str | None = None
    installed: datetime | None = None
    try:
        async with transaction(runtime.sessions) as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            counts = await outbox.counts_by_status(session)
            backlog = await outbox.backlog(
                session, now=now,
                settled_before=now - timedelta(minutes=settings.metrics.backlog_minutes),
            )  # fmt: skip
            installed = (await session.exec(select(func.min(Team.created_at)))).one()
    except Exception as exc:  # the point of a health check is to report any failure
        error = type(exc).__name__
    stuck_after = timedelta(minutes=settings.metrics.outbox_stuck_minutes)
    stuck = bool(backlog and backlog.oldest_due and now - backlog.oldest_due > stuck_after)
    newest = await asyncio.to_thread(backups.newest_backup, settings.backup_folder)
    return Facts(
        database_ok=error is None, database_error=error, outbox=counts, backlog=backlog,
        outbox_stuck=stuck, newest_backup=newest,
        backup_stale=backup_stale(settings, now, newest, installed),
    )  # fmt: skip


def backup_stale(
    settings: Settings, now: datetime, newest: datetime | None, installed: datetime | None
) -> bool:
    """The newest backup is older than ``[backup] max_age_hours`` (or there is none, and the
    installation is older than that): only when scheduled backups are on."""
    if not settings.backup.enabled:
        return False
    limit = timedelta(hours=settings.backup.max_age_hours)
    since = newest or installed
    return since is not None and now - since > limit


def _set_gauges(facts: Facts, now: datetime) -> None:
    if facts.backlog is not None:
        metrics.OUTBOX_BACKLOG.set(facts.backlog.waiting)
        due = facts.backlog.oldest_due
        metrics.OUTBOX_OLDEST_PENDING.set(max(0.0, (now - due).total_seconds()) if due else 0)
    newest = facts.newest_backup
    metrics.LAST_BACKUP_AGE.set((now - newest).total_seconds() if newest else -1)


def _bearer_ok(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def metrics_route(runtime: Runtime, *, open_without_token: bool) -> Route:
    """GET /metrics; 404 when metrics are off or no token protects them where one must."""
    settings = runtime.settings.metrics
    token = settings.token.get_secret_value() if settings.token else ""

    async def serve(request: Request) -> Response:
        if not settings.enabled or (not token and not open_without_token):
            return Response(status_code=404)
        if token and not _bearer_ok(request, token):
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        _set_gauges(await read_facts(runtime), runtime.clock.now())
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", serve, methods=["GET"])


def health_route(runtime: Runtime, background: Background, health_token: str) -> Route:
    """GET /health: 200 "ok" or 503 "failing" (database down, sender stopped, outbox stuck,
    newest backup too old); the details only with ``Authorization: Bearer <health_token>``."""

    async def health(request: Request) -> Response:
        facts = await read_facts(runtime)
        sender_running = not background.sender_task.done()
        healthy = (
            facts.database_ok and sender_running and not facts.outbox_stuck
            and not facts.backup_stale
        )  # fmt: skip
        status = 200 if healthy else 503
        if not _bearer_ok(request, health_token):
            # Host name, pid and queue sizes help an attacker more than a load balancer.
            return JSONResponse({"status": "ok" if healthy else "failing"}, status_code=status)
        report: dict[str, Any] = {
            "database": "ok" if facts.database_ok else f"error: {facts.database_error}",
            "outbox": facts.outbox,
            "outbox_stuck": facts.outbox_stuck,
            "sender": {
                "running": sender_running,
                "holds_sender_role": background.sender.holding_lease,
                "sent_since_start": background.sender.sent_count,
            },
            "backup": {
                "newest": facts.newest_backup.isoformat() if facts.newest_backup else None,
                "stale": facts.backup_stale,
            },
            "instance": background.sender.instance,
        }
        return JSONResponse(report, status_code=status)

    return Route("/health", health, methods=["GET"])


def check_polling_exposure(settings: Settings) -> None:
    """Refuse to serve metrics off this machine without a token."""
    metrics_settings = settings.metrics
    exposed = not is_loopback(metrics_settings.listen)
    if metrics_settings.enabled and metrics_settings.token is None and exposed:
        raise ConfigError(
            f"Configuration error: metrics.listen is {metrics_settings.listen!r} but no "
            "metrics.token is set: set SALESBOT_METRICS__TOKEN, or listen on 127.0.0.1"
        )


def metrics_asgi(runtime: Runtime, background: Background) -> Starlette:
    """Polling mode's own little server: /metrics and /health."""
    health_token = runtime.settings.webhook.health_token
    return Starlette(
        routes=[
            metrics_route(runtime, open_without_token=True),
            health_route(
                runtime, background, health_token.get_secret_value() if health_token else ""
            ),
        ]
    )


class MetricsServer:
    """The polling mode's /metrics server on ``[metrics] listen:port`` (port 0: any free one)."""

    def __init__(self, runtime: Runtime, background: Background) -> None:
        self.runtime = runtime
        self.background = background
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        settings = self.runtime.settings
        check_polling_exposure(settings)
        family = socket.AF_INET6 if ":" in settings.metrics.listen else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.metrics.listen, settings.metrics.port))
        self.port = int(sock.getsockname()[1])
        config = server_config(metrics_asgi(self.runtime, self.background), settings.webhook)
        self._server = uvicorn.Server(config)
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[sock]))
        async with asyncio.timeout(10):
            while not self._server.started:
                if self._task.done():
                    await self._task
                await asyncio.sleep(0.01)
        log.info("metrics on http://%s:%s/metrics", settings.metrics.listen, self.port)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = self._task = None


class OpsWatch:
    """Alerts the admins (through the outbox) when the outbox backlog stays above its limit or
    the newest backup is too old, once per incident. Only the instance that holds the sender
    role watches, so several instances send one alert."""

    def __init__(self, runtime: Runtime, background: Background) -> None:
        self.runtime = runtime
        self.background = background
        self.render = renderer(runtime.texts)
        # When the current backlog incident began (None: no incident).
        self.backlog_since: datetime | None = None

    async def check(self) -> list[str]:
        """One look; returns the alerts queued (their keys)."""
        if not self.background.sender.holding_lease:
            return []
        runtime, settings = self.runtime, self.runtime.settings
        now = runtime.clock.now()
        facts = await read_facts(runtime)
        queued: list[str] = []
        backlog = facts.backlog
        if backlog is not None and backlog.waiting_since > settings.metrics.backlog_limit:
            self.backlog_since = self.backlog_since or now
            key = f"outbox-backlog:{self.backlog_since:%Y%m%dT%H%M%S}"
            data = alerts.OutboxBacklog(
                backlog.waiting_since, settings.metrics.backlog_limit,
                int(settings.metrics.backlog_minutes),
            )  # fmt: skip
            if await self._alert("alerts.outbox_backlog", data, key, now):
                queued.append(key)
        elif backlog is not None:
            self.backlog_since = None
        if facts.backup_stale:
            newest = facts.newest_backup
            key = f"backup-stale:{newest:%Y%m%dT%H%M%S}" if newest else "backup-stale:none"
            error = (
                f"the newest backup was taken {newest:%Y-%m-%d %H:%M} UTC"
                if newest
                else "there is no backup yet"
            )
            if await self._alert("alerts.backup_failed", alerts.BackupFailed(error), key, now):
                queued.append(key)
        return queued

    async def _alert(self, view: str, data: object, key: str, now: datetime) -> bool:
        async with transaction(self.runtime.sessions) as session:
            queued = await alerts.to_admins(
                session, self.render, view=view, data=data, key=key, now=now
            )
        if queued:
            self.background.sender.wake()
        return queued > 0

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.check()
            except Exception:  # a failed look must not end the watch
                log.exception("operations watch failed; trying again in a minute")
            try:
                async with asyncio.timeout(WATCH_EVERY_SECONDS):
                    await stopping.wait()
            except TimeoutError:
                pass


class Operations:
    """What a serving bot runs for its operator: the watch, and in polling mode the metrics
    server (a webhook instance serves /metrics and /health on its own server)."""

    def __init__(self, runtime: Runtime, background: Background, *, polling: bool) -> None:
        self.watch = OpsWatch(runtime, background)
        self.server = MetricsServer(runtime, background) if polling else None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.server is not None and self.watch.runtime.settings.metrics.enabled:
            await self.server.start()
        self._task = asyncio.get_running_loop().create_task(self.watch.run(self._stopping))

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
        if self.server is not None:
            await self.server.stop()
