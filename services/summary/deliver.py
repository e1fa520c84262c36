"""Queueing the summary for its readers: each team's manager, and the company roll-up for
directors. Everything goes through the outbox, once per reader and period; the texts, the chart
and the workbook are the views' (views/summary*.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.settings import Settings
from models.common import Role
from models.team import Team
from models.user import User
from services import notices, outbox
from services.notices import Render
from services.summary.core import (
    PeriodKind,
    TeamSummary,
    build_team_summaries,
    build_team_summary,
    company_today,
    label_for,
    metrics,
)
from services.team_context import TeamContext, context_of
from services.users import team_manager

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachments:
    """The summary's files; a part that could not be made is None (and was logged)."""

    chart: bytes | None
    workbook: bytes | None


@dataclass(frozen=True)
class FilePart:
    """One file of the summary: its part name, the view that captions it, the file."""

    part: str
    view: str
    file: outbox.Attachment


def file_parts(summary: TeamSummary, files: Attachments) -> list[FilePart]:
    """The files that could be made, in the order they are sent."""
    label = summary.window.label
    shown: list[FilePart] = []
    if files.chart is not None:
        name = f"summary-{label}.png"
        shown.append(
            FilePart("chart", "summary.chart", outbox.Attachment("photo", name, files.chart))
        )
    if files.workbook is not None:
        name = f"summary-{summary.team.key}-{label}.xlsx"
        book = outbox.Attachment("document", name, files.workbook)
        shown.append(FilePart("xlsx", "summary.workbook", book))
    return shown


@dataclass(frozen=True)
class ManagerSummary:
    """A team's summary and the manager who reads it."""

    summary: TeamSummary
    manager: User
    key: str


async def team_summary_for_manager(
    session: AsyncSession, team: TeamContext, kind: PeriodKind, day: date
) -> ManagerSummary | None:
    """The team's summary for its manager (None when the team has no manager to read it)."""
    manager = await team_manager(session, team.team_id)
    if manager is None:
        log.warning("team %s has no manager: its %s summary is not sent", team.key, kind)
        return None
    summary = await build_team_summary(session, team, kind, day)
    key = f"summary:{kind}:{team.key}:{summary.window.label}:{manager.id}"
    return ManagerSummary(summary, manager, key)


async def queue_for_reader(
    session: AsyncSession, render: Render, prepared: ManagerSummary, files: Attachments,
    now: datetime,
) -> int:  # fmt: skip
    """Message, chart and workbook (those that could be made) for the reader; returns how many
    rows were new."""
    reader, summary = prepared.manager, prepared.summary
    parts: list[tuple[str, str, outbox.Attachment | None]] = [
        ("text", "summary.message", None),
        *((p.part, p.view, p.file) for p in file_parts(summary, files)),
    ]
    queued = 0
    for part, view, attachment in parts:
        row = await notices.send(
            session, render, view=view, data=summary, lang=reader.language,
            key=f"{prepared.key}:{part}", chat_id=reader.telegram_id, recipient_id=reader.id,
            kind=f"summary.{part}", attachment=attachment, now=now,
        )  # fmt: skip
        queued += row is not None
    return queued


async def directors(session: AsyncSession) -> list[User]:
    query = select(User).where(User.role == Role.DIRECTOR, col(User.active).is_(True))
    return list((await session.exec(query)).all())


@dataclass
class Rollup:
    """Every team's totals for one period, and the company's (summed over the teams) with the
    same sums for the period before and four periods back."""

    label: str
    kind: PeriodKind
    day: date
    today: date
    teams: list[TeamSummary]
    company: dict[str, Decimal] = field(default_factory=dict)
    company_previous: dict[str, Decimal] = field(default_factory=dict)
    company_four_back: dict[str, Decimal] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.teams[0].window.currency if self.teams else "CNY"


async def company_rollup(
    session: AsyncSession, settings: Settings, kind: PeriodKind, day: date, now: datetime
) -> Rollup:
    teams = (
        await session.exec(select(Team).where(col(Team.archived).is_(False)).order_by(Team.name))
    ).all()
    summaries = await build_team_summaries(
        session, [(context_of(team, settings, now), day) for team in teams], kind,
        with_details=False,
    )  # fmt: skip
    rollup = Rollup(label_for(kind, day), kind, day, company_today(settings, now), summaries)
    for summary in summaries:
        for sums, figures in (
            (rollup.company, summary.totals),
            (rollup.company_previous, summary.previous),
            (rollup.company_four_back, summary.four_back),
        ):
            for metric in metrics():
                total = figures.get(metric.key, 0)
                if metric.format != "names" and isinstance(total, int | Decimal):
                    sums[metric.key] = sums.get(metric.key, Decimal(0)) + total
    return rollup


async def queue_rollup(
    session: AsyncSession, settings: Settings, render: Render, kind: PeriodKind, day: date,
    now: datetime,
) -> int:  # fmt: skip
    """The company roll-up to every director, once per director and period."""
    readers = await directors(session)
    if not readers:
        return 0
    rollup = await company_rollup(session, settings, kind, day, now)
    queued = 0
    for director in readers:
        row = await notices.send(
            session, render, view="summary.rollup", data=rollup, lang=director.language,
            key=f"rollup:{kind}:{rollup.label}:{director.id}", chat_id=director.telegram_id,
            recipient_id=director.id, kind="summary.rollup", now=now,
        )  # fmt: skip
        queued += row is not None
    return queued
