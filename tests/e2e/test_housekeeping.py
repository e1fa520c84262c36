"""The daily housekeeping run trims what grows with every update and run, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, func, select

from core.clock import ManualClock
from core.db import transaction
from models.common import Role
from models.job_run import JobRun, RunStatus
from models.outbox import OutboxMessage
from models.processed_update import ProcessedUpdate
from sandbox.harness import LocalBot
from services import outbox
from tests.helpers import join, team_id

JOBS_UNDER_TEST = ("housekeeping",)


async def test_old_update_ids_runs_and_sent_file_bytes_are_trimmed(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    rep = await join(local_bot, 8101, "Rep", Role.REP, "north")
    await rep.send("/me")  # this update's id is recorded
    north = await team_id(runtime, "north")
    start = clock.now()
    async with transaction(runtime.sessions) as session:
        for days in (90, 61, 30):  # 90 and 61 days old go, 30 stays
            moment = start - timedelta(days=days)
            session.add(JobRun(job="dunning", team_id=north, period=f"old-{days}",
                               scheduled_for=moment, status=RunStatus.DONE, instance="x",
                               started_at=moment, finished_at=moment))  # fmt: skip
        for n in range(2):
            await outbox.enqueue(
                session, key=f"file:{n}", chat_id=8101, kind="summary.xlsx", text="📎",
                attachment=outbox.Attachment("document", f"f{n}.xlsx", b"x" * 1000), now=start,
            )  # fmt: skip
    await local_bot.drain_outbox()
    # Nine days later, at 03:30 Shanghai time, the run trims.
    await clock.set(datetime(2026, 12, 3, 19, 31, tzinfo=UTC))
    async with transaction(runtime.sessions) as session:
        ids = (await session.exec(select(func.count()).select_from(ProcessedUpdate))).one()
        periods = set(
            (await session.exec(select(JobRun.period).where(col(JobRun.team_id) == north))).all()
        )
        files = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "summary.xlsx"))
        ).all()
    assert ids == 0
    assert "old-30" in periods and not {"old-61", "old-90"} & periods
    assert any(p.startswith("2026-12-04") for p in periods)  # its own run is recorded
    assert len(files) == 2 and all(row.file_bytes is None for row in files)
    assert all(row.sent_at is not None for row in files)  # the record of what was sent stays
    # A file not yet sent keeps its bytes whatever its age.
    async with transaction(runtime.sessions) as session:
        await outbox.enqueue(
            session, key="file:late", chat_id=8101, kind="summary.late", text="📎",
            attachment=outbox.Attachment("document", "late.bin", b"y"), now=clock.now(),
        )  # fmt: skip
        assert await outbox.drop_sent_files(session, before=clock.now() + timedelta(days=1)) == 0
