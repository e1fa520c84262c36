"""The composition root: the one place that builds the Application and wires everything."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import Application, ApplicationBuilder, ContextTypes

import scheduler.jobs  # noqa: F401  (registers every scheduled job)
from bot.delivery import Sender, instance_name
from bot.migrate import ensure_current
from bot.rate_limit import UpdateGate
from bot.telegram_http import calls_request, polling_request
from core.clock import Clock, SystemClock
from core.db import SessionFactory, create_engine, create_session_factory, transaction
from core.i18n import Catalogs, load_catalogs
from core.settings import ConfigError, Settings
from handlers import (
    approvals,
    collections,
    customers,
    delegation,
    fallback,
    help,
    invites,
    nearby,
    plans,
    private_only,
    profile,
    reports,
    start,
    summary,
    team,
    users,
    visit_review,
    visits,
)
from handlers.commands import publish_default_menus
from handlers.context import DEPS_KEY, Ctx, Deps, SalesApp, deps_of
from handlers.errors import on_error
from handlers.ordering import PerUserUpdateProcessor
from scheduler.core import Scheduler
from scheduler.registry import JobContext
from services.approval_types import check_routes
from services.teams import sync_teams
from views.summary_chart import cjk_font

log = logging.getLogger(__name__)


@dataclass
class Background:
    """The work a running bot does besides answering: delivering the outbox, running jobs."""

    sender: Sender
    sender_task: asyncio.Task[None]
    scheduler: Scheduler | None = None


@dataclass
class Runtime:
    """What outlives one Application: settings, the database, the clock, the texts."""

    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    clock: Clock
    texts: Catalogs

    async def close(self) -> None:
        await self.engine.dispose()


async def open_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    check_schema: bool = True,
    read_only: bool = False,
) -> Runtime:
    """Connect to the database, refuse an outdated schema, mirror the declared teams.

    A ``read_only`` runtime (for commands that only look) never creates the database file and
    leaves the teams as they are: SQLite opens the file read-only, PostgreSQL read-only
    transactions.
    """
    try:
        check_routes({key: team.approvals.routes for key, team in settings.team_settings.items()})
    except ValueError as exc:
        raise ConfigError(f"Configuration error: {exc}") from None
    # A schema check would refuse a missing SQLite file anyway: do not leave an empty one behind.
    engine = create_engine(
        settings.database_url, echo=settings.database.echo, read_only=read_only,
        must_exist=check_schema,
    )  # fmt: skip
    try:
        if check_schema:
            await ensure_current(engine)
        runtime = Runtime(
            settings=settings,
            engine=engine,
            sessions=create_session_factory(engine),
            clock=clock or SystemClock(),
            texts=load_catalogs(),
        )
        if read_only:
            return runtime
        try:
            async with transaction(runtime.sessions) as session:
                synced = await sync_teams(session, settings, runtime.clock.now())
        except IntegrityError:
            # Another instance starting at the same moment created the teams first.
            async with transaction(runtime.sessions) as session:
                synced = await sync_teams(session, settings, runtime.clock.now())
        if synced.created or synced.archived or synced.updated or synced.restored:
            log.info(
                "teams synced from config: created %s, updated %s, archived %s, restored %s",
                synced.created, synced.updated, synced.archived, synced.restored,
            )  # fmt: skip
        return runtime
    except BaseException:
        await engine.dispose()
        raise


def register_handlers(app: SalesApp) -> None:
    """Order matters: the private-chat guard before all, commands and specific buttons first,
    the catch-alls of `fallback` last."""
    private_only.register(app)
    for area in (
        start, help, profile, invites, users, customers, visits, visit_review, nearby, plans, team,
        approvals, delegation, reports, collections, summary,
    ):  # fmt: skip
        area.register(app)
    fallback.register(app)
    app.add_error_handler(on_error)


async def after_initialize(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Work that needs the bot's identity: run once `app.initialize()` succeeded."""
    deps = deps_of(app)
    deps.bot_username = app.bot.username
    deps.inline_mode = bool(app.bot.supports_inline_queries)
    if not deps.inline_mode:
        log.info(
            "inline mode is off for @%s: customer search asks for typed text", app.bot.username
        )
    await publish_default_menus(app.bot, deps.texts, deps.settings.language_default())
    # Looked for now, so a machine without a Chinese font is told in the start-up log (naming
    # the package to install) rather than at the first Saturday's chart; found once per process.
    await asyncio.to_thread(cjk_font)


async def start_background(app: SalesApp, *, scheduler: bool = True) -> Background:
    """Start the outbox sender and (unless disabled) the scheduler for a running Application."""
    deps = deps_of(app)
    settings = deps.settings
    instance = instance_name()
    sender = Sender(app.bot, deps.sessions, deps.clock, settings.delivery, deps.texts, instance)
    deps.sender = sender
    task = app.create_task(sender.run(), name="outbox-sender")
    background = Background(sender=sender, sender_task=task)
    if scheduler and settings.scheduler.enabled:
        ctx = JobContext(
            sessions=deps.sessions, clock=deps.clock, settings=settings, texts=deps.texts
        )
        background.scheduler = Scheduler(ctx, instance)
        report = await background.scheduler.start()
        if report.ran or report.skipped:
            log.info("scheduler catch-up: ran %s, skipped %s", report.ran, report.skipped)
    return background


async def stop_background(app: SalesApp, background: Background) -> None:
    if background.scheduler is not None:
        await background.scheduler.shutdown()
    await background.sender.stop()
    await background.sender_task
    deps_of(app).sender = None


def build_application(
    runtime: Runtime,
    *,
    token: str | None = None,
    polling: bool = True,
    api_url: str | None = None,
    file_url: str | None = None,
) -> SalesApp:
    """Build the PTB Application for this runtime (polling by default)."""
    settings = runtime.settings
    telegram = settings.telegram
    processor = PerUserUpdateProcessor(settings.runtime.max_concurrent_updates)
    polls = polling_request(telegram)
    builder = (
        ApplicationBuilder()
        .token(token or settings.require_token())
        .base_url(api_url or telegram.api_url)
        .base_file_url(file_url or telegram.file_url)
        .context_types(ContextTypes(context=Ctx))
        .concurrent_updates(processor)
        .request(calls_request(telegram))
        .get_updates_request(polls)
        .job_queue(None)
    )
    if not polling:
        builder = builder.updater(None)
    app: SalesApp = builder.build()  # type: ignore[assignment]
    polls.handled = app.update_queue.join
    app.bot_data[DEPS_KEY] = Deps(
        settings=settings, sessions=runtime.sessions, clock=runtime.clock, texts=runtime.texts
    )
    processor.gate = UpdateGate(app).admit
    register_handlers(app)
    return app


def update_processor(app: SalesApp) -> PerUserUpdateProcessor:
    processor = app.update_processor
    assert isinstance(processor, PerUserUpdateProcessor)
    return processor
