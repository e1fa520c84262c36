"""Queueing the summary for its readers: each team's manager, and the company roll-up for
directors. Everything goes through the outbox, once per reader and period."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import Catalogs, format_money
from bot.settings import Settings
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
    chart: bytes
    workbook: bytes


def attachments(texts: Catalogs, lang: str, summary: TeamSummary) -> Attachments:
    return Attachments(chart_png(texts, lang, summary), workbook_xlsx(texts, lang, summary))


async def queue_for_reader(
    session: AsyncSession,
    texts: Catalogs,
    summary: TeamSummary,
    reader: User,
    now: datetime,
    key: str,
) -> int:
    """Message, chart and workbook for one reader; returns how many rows were new."""
    lang = reader.language
    files = attachments(texts, lang, summary)
    label = summary.window.label
    rows = [
        ("text", render.message(texts, lang, summary), None),
        ("chart", texts.t(lang, "summary.chart_caption", label=label),
         outbox.Attachment("photo", f"summary-{label}.png", files.chart)),
        ("xlsx", texts.t(lang, "summary.workbook_caption", label=label),
         outbox.Attachment("document", f"summary-{summary.team.key}-{label}.xlsx",
                           files.workbook)),
    ]  # fmt: skip
    queued = 0
    for part, text, attachment in rows:
        row = await outbox.enqueue(
            session, key=f"{key}:{part}", chat_id=reader.telegram_id, recipient_id=reader.id,
            kind=f"summary.{part}", text=text, attachment=attachment, now=now,
        )  # fmt: skip
        queued += row is not None
    return queued


async def queue_team_summary(
    session: AsyncSession,
    settings: Settings,
    texts: Catalogs,
    team: Team,
    kind: PeriodKind,
    day: date,
    now: datetime,
) -> TeamSummary | None:
    """The team's summary to its manager (None when the team has no manager to read it)."""
    assert team.id is not None
    manager = await team_manager(session, team.id)
    if manager is None:
        log.warning("team %s has no manager: its %s summary is not sent", team.key, kind)
        return None
    rules = settings.team(team.key)
    summary = await build_team_summary(session, team, rules, kind, day, now)
    key = f"summary:{kind}:{team.key}:{summary.window.label}:{manager.id}"
    await queue_for_reader(session, texts, summary, manager, now, key)
    return summary


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
