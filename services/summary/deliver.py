"""Queueing the summary for its readers: each team's manager, and the company roll-up for
directors. Everything goes through the outbox, once per reader and period."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.i18n import Catalogs, format_money
from core.settings import Settings
from models.common import Role
from models.team import Team
from models.user import User
from services import outbox
from services.summary import render
from services.summary.core import Metric, PeriodKind, TeamSummary, build_team_summary, metrics
from services.summary.files import chart_png, workbook_xlsx
from services.users import team_manager

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachments:
    """The summary's files; a part that could not be made is None (and was logged)."""

    chart: bytes | None
    workbook: bytes | None


async def attachments(texts: Catalogs, lang: str, summary: TeamSummary) -> Attachments:
    """Chart and workbook, each made in a worker thread: a hundred reps take seconds of CPU,
    which on the event loop would stall every other user. A part that fails is left out, so a
    bad chart never stops the message and the workbook (nor the reverse)."""
    chart, workbook = await asyncio.gather(
        _part("chart", chart_png, texts, lang, summary),
        _part("workbook", workbook_xlsx, texts, lang, summary),
    )
    return Attachments(chart, workbook)


async def _part(
    name: str,
    make: Callable[[Catalogs, str, TeamSummary], bytes],
    texts: Catalogs,
    lang: str,
    summary: TeamSummary,
) -> bytes | None:
    try:
        return await asyncio.to_thread(make, texts, lang, summary)
    except Exception:
        log.exception(
            "the %s of team %s's summary %s failed; the summary goes out without it",
            name, summary.team.key, summary.window.label,
        )  # fmt: skip
        return None


def file_parts(
    texts: Catalogs, lang: str, summary: TeamSummary, files: Attachments
) -> list[tuple[str, str, outbox.Attachment]]:
    """(part, caption, file) of the files that could be made, in the order they are sent."""
    label = summary.window.label
    shown: list[tuple[str, str, outbox.Attachment]] = []
    if files.chart is not None:
        shown.append((
            "chart", texts.t(lang, "summary.chart_caption", label=label),
            outbox.Attachment("photo", f"summary-{label}.png", files.chart),
        ))  # fmt: skip
    if files.workbook is not None:
        shown.append((
            "xlsx", texts.t(lang, "summary.workbook_caption", label=label),
            outbox.Attachment("document", f"summary-{summary.team.key}-{label}.xlsx",
                              files.workbook),
        ))  # fmt: skip
    return shown


@dataclass(frozen=True)
class ManagerSummary:
    """A team's summary and the manager who reads it."""

    summary: TeamSummary
    manager: User
    key: str


async def team_summary_for_manager(
    session: AsyncSession, settings: Settings, team: Team, kind: PeriodKind, day: date,
    now: datetime,
) -> ManagerSummary | None:  # fmt: skip
    """The team's summary for its manager (None when the team has no manager to read it)."""
    assert team.id is not None
    manager = await team_manager(session, team.id)
    if manager is None:
        log.warning("team %s has no manager: its %s summary is not sent", team.key, kind)
        return None
    summary = await build_team_summary(session, team, settings.team(team.key), kind, day, now)
    key = f"summary:{kind}:{team.key}:{summary.window.label}:{manager.id}"
    return ManagerSummary(summary, manager, key)


async def queue_for_reader(
    session: AsyncSession,
    texts: Catalogs,
    prepared: ManagerSummary,
    files: Attachments,
    now: datetime,
) -> int:
    """Message, chart and workbook (those that could be made) for the reader; returns how many
    rows were new."""
    reader, summary = prepared.manager, prepared.summary
    lang = reader.language
    rows: list[tuple[str, str, outbox.Attachment | None]] = [
        ("text", render.message(texts, lang, summary), None),
        *file_parts(texts, lang, summary, files),
    ]
    queued = 0
    for part, text, attachment in rows:
        row = await outbox.enqueue(
            session, key=f"{prepared.key}:{part}", chat_id=reader.telegram_id,
            recipient_id=reader.id, kind=f"summary.{part}", text=text, attachment=attachment,
            now=now,
        )  # fmt: skip
        queued += row is not None
    return queued


async def directors(session: AsyncSession) -> list[User]:
    query = select(User).where(User.role == Role.DIRECTOR, col(User.active).is_(True))
    return list((await session.exec(query)).all())


async def company_rollup(
    session: AsyncSession, settings: Settings, kind: PeriodKind, day: date, now: datetime
) -> list[TeamSummary]:
    teams = (
        await session.exec(select(Team).where(col(Team.archived).is_(False)).order_by(Team.name))
    ).all()
    return [
        await build_team_summary(
            session, team, settings.team(team.key), kind, day, now, with_details=False
        )
        for team in teams
    ]


def rollup_message(texts: Catalogs, lang: str, summaries: list[TeamSummary], label: str) -> str:
    """Per-team totals, one line a team, and the company's totals."""
    shown = [m for m in metrics() if m.format != "names"]
    lines = [texts.t(lang, "summary.rollup_title", label=label)]
    company: dict[str, Decimal] = {}
    currency = summaries[0].window.currency if summaries else "CNY"
    for summary in summaries:
        values = []
        for metric in shown:
            total = summary.totals.get(metric.key, 0)
            if isinstance(total, int | Decimal):
                company[metric.key] = company.get(metric.key, Decimal(0)) + total
            values.append(f"{texts.t(lang, metric.label)} {_shown(metric, total, currency, lang)}")
        lines.append(
            f"<b>{html.escape(summary.team.name)}</b> ({len(summary.reps)}): " + " · ".join(values)
        )
    total_line = " · ".join(
        f"{texts.t(lang, m.label)} {_shown(m, company.get(m.key, Decimal(0)), currency, lang)}"
        for m in shown
    )
    lines.append(texts.t(lang, "summary.rollup_total", totals=total_line))
    return "\n".join(lines)


def _shown(metric: Metric, value: object, currency: str, lang: str) -> str:
    if metric.format == "money" and isinstance(value, int | Decimal):
        return format_money(Decimal(value), currency, lang)
    return str(value)


async def queue_rollup(
    session: AsyncSession,
    settings: Settings,
    texts: Catalogs,
    kind: PeriodKind,
    day: date,
    now: datetime,
) -> int:
    """The company roll-up to every director, once per director and period."""
    readers = await directors(session)
    if not readers:
        return 0
    summaries = await company_rollup(session, settings, kind, day, now)
    label = summaries[0].window.label if summaries else str(day)
    queued = 0
    for director in readers:
        row = await outbox.enqueue(
            session, key=f"rollup:{kind}:{label}:{director.id}", chat_id=director.telegram_id,
            recipient_id=director.id, kind="summary.rollup",
            text=rollup_message(texts, director.language, summaries, label), now=now,
        )  # fmt: skip
        queued += row is not None
    return queued
