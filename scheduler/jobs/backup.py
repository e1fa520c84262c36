"""The scheduled backup of the database, and the retention of its copies."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from core import metrics
from core.db import transaction
from core.settings import Settings
from models.team import Team
from scheduler.registry import JobContext, job
from services import alerts, backups

log = logging.getLogger(__name__)


def _configured_at(settings: Settings) -> str | None:
    return settings.backup.at if settings.backup.enabled else None


@job(
    "backup",
    period="day",
    at="daily 02:30",
    grace_minutes=720,
    description="Back the database up into [backup] folder and delete copies beyond retention",
    once=True,
    configured_at=_configured_at,
)
async def backup(ctx: JobContext, team: Team, period: str, scheduled_for: datetime) -> None:
    """One backup for the whole installation; a failure alerts the admins once per day's run
    (its retries share the alert's key) and fails the run, so it is retried."""
    settings = ctx.settings
    folder = settings.backup_folder
    now = ctx.clock.now()
    try:
        made = await asyncio.to_thread(
            backups.create_backup, settings.database_url, folder, now=now, auto=True
        )
    except (backups.BackupError, OSError) as exc:
        metrics.BACKUPS.labels("failed").inc()
        async with transaction(ctx.sessions) as session:
            await alerts.to_admins(
                session, ctx.render, view="alerts.backup_failed",
                data=alerts.BackupFailed(str(exc)), key=f"backup-failed:{period}", now=now,
            )  # fmt: skip
        raise
    metrics.BACKUPS.labels("done").inc()
    tz = settings.team(team.key).tz
    deleted = await asyncio.to_thread(
        backups.prune, folder, keep_daily=settings.backup.keep_daily,
        keep_weekly=settings.backup.keep_weekly, tz=tz,
    )  # fmt: skip
    log.info(
        "backup %s (%s bytes); %s old copies deleted", made.path.name, made.size, len(deleted)
    )
