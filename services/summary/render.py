"""The summary as a chat message (HTML), in the reader's language."""

from __future__ import annotations

import html
from decimal import Decimal

from core.i18n import Catalogs, format_money
from core.periods import format_short_day
from services.summary.core import Metric, TeamSummary, Value, contributors, metrics

NAMES_SHOWN = 5


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
        lines.append(f"{texts.t(lang, metric.label)}: {shown}{trend}")
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
            parts.append(f"{texts.t(lang, metric.label)} {shown}")
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
