"""`salesbot run`: long polling until SIGINT/SIGTERM; clear exits on a bad token or no network."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from telegram.error import InvalidToken, NetworkError

from bot.app import (
    Runtime,
    after_initialize,
    build_application,
    start_background,
    stop_background,
)
from bot.cockpit import cockpit_server
from bot.metrics import Operations
from core.db import transaction
from handlers.context import SalesApp
from services.users import has_active_admin

log = logging.getLogger(__name__)


NO_ADMIN_WARNING = (
    "No admin is configured ([access] admins or SALESBOT_ADMINS): nobody can invite anyone. "
    "Add your Telegram user id there, or create an admin invite with "
    "`salesbot invite --role admin`."
)


class StartupError(Exception):
    """Start-up failed for a reason the operator can fix; the message says which."""


async def admin_warning(runtime: Runtime) -> str | None:
    """The warning to give when no one could ever invite anyone, logged; None otherwise.

    The bot still starts: `salesbot invite --role admin` works while it runs, and an admin
    added to the config is registered on their first message after a restart.
    """
    if runtime.settings.access.admins:
        return None
    async with transaction(runtime.sessions) as session:
        if await has_active_admin(session):
            return None
    log.warning(NO_ADMIN_WARNING)
    return NO_ADMIN_WARNING


async def run_polling(runtime: Runtime, stop: asyncio.Event | None = None) -> None:
    """Serve until ``stop`` is set or a termination signal arrives."""
    app = build_application(runtime)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await initialize_or_explain(app)
        try:
            await after_initialize(app)
            await app.start()
            background = await start_background(app)
            operations = Operations(runtime, background, polling=True)
            await operations.start()
            assert app.updater is not None
            await app.updater.start_polling(
                timeout=runtime.settings.telegram.poll_timeout,
                allowed_updates=["message", "callback_query", "inline_query"],
            )
            log.info("salesbot is running as @%s; press Ctrl+C to stop", app.bot.username)
            cockpit = None
            if runtime.settings.webapp.enabled:
                cockpit = cockpit_server(app, runtime.settings.webapp)
                cockpit_task = app.create_task(cockpit.serve(), name="cockpit")
                log.info(
                    "the cockpit is served on %s:%s/app/",
                    runtime.settings.webapp.listen, runtime.settings.webapp.port,
                )  # fmt: skip
            await stop.wait()
            if cockpit is not None:
                cockpit.should_exit = True
                await cockpit_task
            log.info("stopping: finishing the updates in progress")
            await app.updater.stop()
            await operations.stop()
            await stop_background(app, background)
            await app.stop()
        finally:
            await app.shutdown()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


async def initialize_or_explain(app: SalesApp) -> None:
    """Initialise the Application; a bad token or no network becomes a one-line StartupError."""
    try:
        await app.initialize()
    except (InvalidToken, NetworkError) as exc:
        # A failed Bot.initialize leaves its HTTP clients open and refuses shutdown().
        for request in app.bot._request:
            await request.shutdown()
        if isinstance(exc, InvalidToken):
            raise StartupError(
                "Telegram refused the bot token (check SALESBOT_TOKEN or [telegram] token)"
            ) from exc
        raise StartupError(f"Cannot reach the Telegram Bot API: {exc}") from exc
