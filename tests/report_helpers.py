"""Helpers for the report tests: quick visits, the clock at a local time, reading reports."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.app import Runtime
from core.clock import ManualClock
from core.db import transaction
from models.audit import AuditEntry
from models.outbox import OutboxMessage
from models.report import DailyReport, ProblemReply, ReportProblem, WeeklyReport
from sandbox.harness import Chat
from tests.helpers import user_by_tg

SHANGHAI = ZoneInfo("Asia/Shanghai")


LABELS = {
    "en": {"phone": "Phone", "next": "Next step", "save": "Save"},
    "zh": {"phone": "电话拜访", "next": "下一步计划", "save": "保存"},
}


async def phone_visit(
    chat: Chat, customer: str, *, follow_up: str | None = None, lang: str = "en"
) -> None:
    """Log a phone visit of ``customer`` (a recent customer button or a search)."""
    label = LABELS[lang]
    await chat.send("/visit")
    if not any(customer in text for text in (await chat.last_reply()).button_texts()):
        await chat.send(customer)
    await chat.tap(customer)
    await chat.tap(label["phone"])
    await chat.send(f"Called {customer}.")
    if follow_up is not None:
        await chat.tap(label["next"])
        await chat.send("Call again")
        await chat.tap(follow_up)
    await chat.tap(label["save"])


async def set_local(runtime: Runtime, day: date, at: time) -> None:
    """Move the (manual) clock forward to ``at`` on ``day`` in Shanghai; due jobs run."""
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    await clock.set(datetime.combine(day, at, tzinfo=SHANGHAI))


async def daily_reports(runtime: Runtime, telegram_id: int) -> list[DailyReport]:
    user = await user_by_tg(runtime, telegram_id)
    assert user is not None
    async with transaction(runtime.sessions) as session:
        query = select(DailyReport).where(DailyReport.rep_id == user.id)
        return list((await session.exec(query.order_by(col(DailyReport.day)))).all())


async def weekly_reports(runtime: Runtime, telegram_id: int) -> list[WeeklyReport]:
    user = await user_by_tg(runtime, telegram_id)
    assert user is not None
    async with transaction(runtime.sessions) as session:
        query = select(WeeklyReport).where(WeeklyReport.rep_id == user.id)
        return list((await session.exec(query.order_by(col(WeeklyReport.id)))).all())


async def problems(runtime: Runtime) -> list[ReportProblem]:
    async with transaction(runtime.sessions) as session:
        query = select(ReportProblem).order_by(col(ReportProblem.id))
        return list((await session.exec(query)).all())


async def replies(runtime: Runtime) -> list[ProblemReply]:
    async with transaction(runtime.sessions) as session:
        query = select(ProblemReply).order_by(col(ProblemReply.id))
        return list((await session.exec(query)).all())


async def outbox_rows(runtime: Runtime, kind: str) -> list[OutboxMessage]:
    async with transaction(runtime.sessions) as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind)
        return list((await session.exec(query.order_by(col(OutboxMessage.id)))).all())


async def audit_of(runtime: Runtime, entity: str) -> list[AuditEntry]:
    async with transaction(runtime.sessions) as session:
        query = select(AuditEntry).where(AuditEntry.entity == entity)
        return list((await session.exec(query.order_by(col(AuditEntry.id)))).all())
