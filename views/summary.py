"""The meeting summary as people see it: the message (HTML), the company roll-up, the captions
of its files and the buttons of /summary. Chart and workbook: views/summary_chart.py and
views/summary_workbook.py, made off the event loop by ``attachments``.

A metric's label is the text ``summary.metric.<key>``; a detail sheet's title and columns are
``summary.sheet.<name>`` and ``summary.col.<column>``."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from core.i18n import Catalogs, format_money
from core.periods import format_short_day
from services.summary.core import Metric, TeamSummary, Value, contributors, metrics
from services.summary.deliver import Attachments, Rollup
from views.buttons import Button, Keyboard
from views.callbacks import Callback
from views.render import view
from views.summary_chart import chart_png
from views.summary_workbook import workbook_xlsx

log = logging.getLogger(__name__)

NAMES_SHOWN = 5


@dataclass(frozen=True)
class Pick:
    """A team's summary (None: the company's) of a period (None: the current one)."""

    label: str | None
    team_id: int | None


SUMMARY = Callback("sm", Pick)


def label_of(texts: Catalogs, lang: str, metric: Metric) -> str:
    return texts.t(lang, f"summary.metric.{metric.key}")


def _number(metric: Metric, value: Value, currency: str, lang: str) -> str:
    if isinstance(value, list):
        return ", ".join(html.escape(v) for v in value)
    if metric.format == "money":
        return format_money(Decimal(value), currency, lang)
    return str(value)


def _change(now: Value, before: Value) -> str:
    if not isinstance(now, int | Decimal) or not isinstance(before, int | Decimal):
        return "±0"
    delta = now - before
    if delta == 0:
        return "±0"
    return f"+{delta}" if delta > 0 else f"−{abs(delta)}"


def _names(t: Catalogs, lang: str, names: list[str]) -> str:
    shown = ", ".join(html.escape(n) for n in names[:NAMES_SHOWN])
    if len(names) > NAMES_SHOWN:
        shown += " " + t.t(lang, "summary.more", count=len(names) - NAMES_SHOWN)
    return shown


def header(texts: Catalogs, lang: str, summary: TeamSummary) -> str:
    window = summary.window
    period = window.period
    key = "summary.title_week" if window.kind == "week" else "summary.title_month"
    return texts.t(
        lang,
        key,
        team=html.escape(summary.team.name),
        label=window.label,
        first=format_short_day(period.first, lang),
        last=format_short_day(period.last, lang),
    )


def team_block(texts: Catalogs, lang: str, summary: TeamSummary, currency: str) -> str:
    window = summary.window
    lines = [texts.t(lang, "summary.team_header", count=len(summary.reps))]
    for metric in metrics():
        if metric.format == "names":
            continue
        total = summary.totals.get(metric.key, 0)
        target = summary.target(metric)
        shown = _number(metric, total, currency, lang)
        if target is not None:
            shown += f" / {target * len(summary.reps)}"
        trend = ""
        if metric.trend:
            trend = " " + texts.t(
                lang,
                "summary.trend",
                previous=_change(total, summary.previous.get(metric.key, 0)),
                four_back=_change(total, summary.four_back.get(metric.key, 0)),
                unit=texts.t(lang, f"summary.unit_{window.kind}"),
            )
        lines.append(f"{label_of(texts, lang, metric)}: {shown}{trend}")
    return "\n".join(lines)


def rep_block(texts: Catalogs, lang: str, summary: TeamSummary, index: int, currency: str) -> str:
    """The rep's name, then one line per area (visits and plans, reports, approvals, money)."""
    rep = summary.reps[index]
    lines = [f"<b>{html.escape(rep.name)}</b>"]
    names: list[str] = []
    for contributor in contributors():
        parts = []
        for metric in contributor.metrics:
            value = rep.values.get(metric.key, 0)
            if metric.format == "names":
                if isinstance(value, list):
                    names = value
                continue
            if metric.quiet_zero and not value:
                continue
            shown = _number(metric, value, currency, lang)
            target = summary.target(metric)
            if target is not None:
                shown += f"/{target}"
            parts.append(f"{label_of(texts, lang, metric)} {shown}")
        if parts:
            lines.append(" · ".join(parts))
    if names:
        lines.append(
            texts.t(lang, f"summary.next_{summary.window.kind}", names=_names(texts, lang, names))
        )
    return "\n".join(lines)


def message(texts: Catalogs, lang: str, summary: TeamSummary) -> str:
    """The whole summary; the sender splits it at line breaks under Telegram's limit."""
    currency = summary.window.currency
    blocks = [header(texts, lang, summary), team_block(texts, lang, summary, currency)]
    if not summary.reps:
        blocks.append(texts.t(lang, "summary.no_reps"))
    blocks.extend(rep_block(texts, lang, summary, i, currency) for i in range(len(summary.reps)))
    return "\n\n".join(blocks)


def _shown(metric: Metric, value: object, currency: str, lang: str) -> str:
    if metric.format == "money" and isinstance(value, int | Decimal):
        return format_money(Decimal(value), currency, lang)
    return str(value)


def rollup_message(texts: Catalogs, lang: str, rollup: Rollup) -> str:
    """Per-team totals, one line a team, and the company's totals."""
    shown = [m for m in metrics() if m.format != "names"]
    currency = rollup.currency
    lines = [texts.t(lang, "summary.rollup_title", label=rollup.label)]
    for summary in rollup.teams:
        values = [
            f"{label_of(texts, lang, m)} {_shown(m, summary.totals.get(m.key, 0), currency, lang)}"
            for m in shown
        ]
        team = html.escape(summary.team.name)
        lines.append(f"<b>{team}</b> ({len(summary.reps)}): " + " · ".join(values))
    total_line = " · ".join(
        f"{label_of(texts, lang, m)} "
        f"{_shown(m, rollup.company.get(m.key, Decimal(0)), currency, lang)}"
        for m in shown
    )
    lines.append(texts.t(lang, "summary.rollup_total", totals=total_line))
    return "\n".join(lines)


def cockpit_button(texts: Catalogs, lang: str, summary: TeamSummary) -> Keyboard | None:
    """📊 under the summary: the same figures in the cockpit, when it is on."""
    if not summary.cockpit_url:
        return None
    return [[Button(texts.t(lang, "webapp.open"), web_app=summary.cockpit_url)]]


@view("summary.message")
def message_view(texts: Catalogs, lang: str, summary: TeamSummary) -> tuple[str, Keyboard | None]:
    return message(texts, lang, summary), cockpit_button(texts, lang, summary)


@view("summary.chart")
def chart_caption(texts: Catalogs, lang: str, summary: TeamSummary) -> tuple[str, None]:
    return texts.t(lang, "summary.chart_caption", label=summary.window.label), None


@view("summary.workbook")
def workbook_caption(texts: Catalogs, lang: str, summary: TeamSummary) -> tuple[str, None]:
    return texts.t(lang, "summary.workbook_caption", label=summary.window.label), None


@view("summary.rollup")
def rollup_view(texts: Catalogs, lang: str, rollup: Rollup) -> tuple[str, None]:
    return rollup_message(texts, lang, rollup), None


def previous_period(texts: Catalogs, lang: str, label: str, team_id: int | None) -> Keyboard:
    """The way back to the period ``label`` (the one before the period shown)."""
    data = SUMMARY.pack(Pick(label, team_id))
    return [[Button(texts.t(lang, "summary.previous", label=label), data=data)]]


def team_choice(texts: Catalogs, lang: str, teams: list[tuple[int, str]]) -> Keyboard:
    """A button per (team id, name), then the whole company."""
    rows = [[Button(name, data=SUMMARY.pack(Pick(None, team_id)))] for team_id, name in teams]
    rows.append([Button(texts.t(lang, "summary.company"), data=SUMMARY.pack(Pick(None, None)))])
    return rows


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
