"""Housekeeping: tables that grow with every update or run are trimmed once a day."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.db import transaction
from models.team import Team
from scheduler.registry import JobContext, job
from services import job_runs, outbox, updates

# Telegram stops redelivering an update after about a day; two days of ids are plenty.
KEEP_UPDATE_IDS = timedelta(days=2)
# Catch-up looks back at most 40 days (scheduler.catch_up_days) and recovery within grace, so
# older run records are history nobody reads (`salesbot jobs` shows the latest one).
KEEP_RUNS = timedelta(days=60)
# A sent chart or workbook is in the chat; its bytes need not stay in the database.
KEEP_SENT_FILES = timedelta(days=7)


@job(
    "housekeeping",
    period="day",
    at="daily 03:30",
    grace_minutes=720,
    description="Forget old update ids and run records; drop the bytes of files already sent",
)
async def housekeeping(ctx: JobContext, team: Team, period: str, scheduled_for: datetime) -> None:
    """Per team for its runs; update ids and sent files are shared, so whichever team's run
    comes first trims them (the others find nothing left)."""
    assert team.id is not None
    now = ctx.clock.now()
    async with transaction(ctx.sessions) as session:
        await updates.forget_before(session, now - KEEP_UPDATE_IDS)
        await job_runs.forget_before(session, team_id=team.id, before=now - KEEP_RUNS)
        await outbox.drop_sent_files(session, before=now - KEEP_SENT_FILES)
