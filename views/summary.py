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
from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal

from core.i18n import BABEL_LOCALES, Catalogs, format_money
from services.summary.attention import KINDS, VISIT_TARGETS, Attention, Flag, attention
from services.summary.core import (
    Metric,
    PeriodKind,
    TeamSummary,
    Value,
    contributors,
    metrics,
)
from services.summary.deliver import Attachments, Rollup
from views.buttons import Button, Keyboard
from views.callbacks import Callback
from views.registry import view
from views.summary_chart import chart_png
from views.summary_periods import label_words, period_words, window_words
from views.summary_workbook import workbook_xlsx

log = logging.getLogger(__name__)

NAMES_SHOWN = 5
# Names listed under one kind of problem before "(+N more)".
FLAG_NAMES = 8
# A team up to this size gets every rep in the message (split over messages if need be); a
# larger one gets the reps that need attention, as many as fit in one message, then the workbook.
ALL_REPS_UP_TO = 30
MESSAGE_BUDGET = 3900


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
    return format_decimal(value, locale=BABEL_LOCALES.get(lang, "en"))


def _nonzero(value: Value) -> bool:
    return bool(value) if not isinstance(value, Decimal) else value != 0


def change(metric: Metric, now: Value, before: Value, currency: str, lang: str) -> str | None:
    """ "↑CN¥12,000.00 +24%", "↓3 −20%"; None when nothing changed."""
    if not isinstance(now, int | Decimal) or not isinstance(before, int | Decimal):
        return None
    delta = Decimal(now) - Decimal(before)
    if delta == 0:
        return None
    arrow = "↑" if delta > 0 else "↓"
    shown = arrow + _number(metric, abs(delta), currency, lang)
    if before:
        percent = round(delta * 100 / Decimal(before))
        sign = "+" if percent > 0 else "−" if percent < 0 else "±"
        shown += f" {sign}{abs(percent)}%"
    return shown


@dataclass(frozen=True)
class Figures:
    """Totals of a team (or the company) with the same figures of earlier periods."""

    kind: PeriodKind
    currency: str
    totals: dict[str, Value]
    previous: dict[str, Value]
    four_back: dict[str, Value]
    targets: dict[str, int]

    @classmethod
    def of(cls, summary: TeamSummary) -> Figures:
        window, count = summary.window, len(summary.reps)
        targets = {m.key: t * count for m in metrics() if (t := summary.target(m))}
        return cls(window.kind, window.currency, summary.totals, summary.previous,
                   summary.four_back, targets)  # fmt: skip


def _trend(texts: Catalogs, lang: str, figures: Figures, metric: Metric, total: Value) -> str:
    currency, kind = figures.currency, figures.kind
    previous = change(metric, total, figures.previous.get(metric.key, 0), currency, lang)
    four_back = change(metric, total, figures.four_back.get(metric.key, 0), currency, lang)
    parts = []
    if previous is not None:
        parts.append(texts.t(lang, f"summary.vs_previous_{kind}", change=previous))
    if four_back is not None:
        parts.append(texts.t(lang, f"summary.vs_four_back_{kind}", change=four_back))
    if not parts:
        return ""
    return texts.t(lang, "summary.trend", changes=texts.t(lang, "summary.list_sep").join(parts))


def _names(t: Catalogs, lang: str, names: list[str]) -> str:
    shown = ", ".join(html.escape(n) for n in names[:NAMES_SHOWN])
    if len(names) > NAMES_SHOWN:
        shown += " " + t.t(lang, "summary.more", count=len(names) - NAMES_SHOWN)
    return shown


def header(texts: Catalogs, lang: str, summary: TeamSummary) -> str:
    window = summary.window
    key = "summary.title_week" if window.kind == "week" else "summary.title_month"
    return texts.t(
        lang, key, team=html.escape(summary.team.name), period=window_words(texts, lang, window)
    )


def _flag_item(texts: Catalogs, lang: str, flag: Flag, currency: str) -> str:
    name = html.escape(flag.name)
    figures = flag.figures
    if flag.kind == "below_target":
        parts = [
            f"{texts.t(lang, f'summary.short.{key}')} {figures[key]}/{figures[f'{key}_target']}"
            for key in VISIT_TARGETS
            if key in figures
        ]
        return texts.t(
            lang, "summary.item", name=name, what=texts.t(lang, "summary.list_sep").join(parts)
        )
    if flag.kind == "overdue_grew":
        grew, now = Decimal(figures["grew"]), Decimal(figures["overdue"])  # type: ignore[arg-type]
        return texts.t(
            lang, "summary.item_overdue", name=name,
            grew=format_money(grew, currency, lang), overdue=format_money(now, currency, lang),
        )  # fmt: skip
    if flag.kind == "missing_reports":
        key = "summary.item_day" if figures["days"] == 1 else "summary.item_days"
        return texts.t(lang, key, name=name, days=figures["days"])
    if flag.kind == "silent":
        return name
    return texts.t(lang, "summary.item", name=name, what=figures["count"])


def attention_block(texts: Catalogs, lang: str, summary: TeamSummary, found: Attention) -> str:
    """What needs the manager, worst first; or a line saying nothing does."""
    lines = [texts.t(lang, "summary.attention_title")]
    if found.silent_team:
        lines.append(texts.t(lang, "summary.silent_team"))
    currency = summary.window.currency
    for kind in KINDS:
        flags = found.flags[kind]
        if not flags or (kind == "silent" and found.silent_team):
            continue
        items = [_flag_item(texts, lang, flag, currency) for flag in flags[:FLAG_NAMES]]
        shown = texts.t(lang, "summary.list_sep").join(items)
        if len(flags) > FLAG_NAMES:
            shown += " " + texts.t(lang, "summary.more", count=len(flags) - FLAG_NAMES)
        hours = format_decimal(found.hours_limit, locale=BABEL_LOCALES.get(lang, "en"))
        # The flag's count is in its items; only the hours limit is counted by its noun.
        lines.append(
            texts.tn(lang, f"summary.flag.{kind}", found.hours_limit, items=shown,
                     count=len(flags), hours=hours)
        )  # fmt: skip
    if len(lines) == 1:
        return texts.t(lang, f"summary.attention_none_{summary.window.kind}")
    return "\n".join(lines)


def total_lines(texts: Catalogs, lang: str, figures: Figures) -> list[str]:
    """Totals with their changes; a figure that is zero and did not change is left out."""
    lines = []
    for metric in metrics():
        if metric.format == "names":
            continue
        total = figures.totals.get(metric.key, 0)
        before = figures.previous.get(metric.key, 0)
        if not _nonzero(total) and not (metric.trend and _nonzero(before)):
            continue
        shown = _number(metric, total, figures.currency, lang)
        if metric.key in figures.targets:
            shown += f" / {_number(metric, figures.targets[metric.key], figures.currency, lang)}"
        trend = _trend(texts, lang, figures, metric, total) if metric.trend else ""
        line = texts.t(
            lang, "summary.total_line", label=label_of(texts, lang, metric), value=shown,
            trend=trend,
        )  # fmt: skip
        lines.append(line.rstrip())
    return lines or [texts.t(lang, "summary.all_zero")]


def team_block(texts: Catalogs, lang: str, summary: TeamSummary) -> str:
    header = texts.tn(lang, "summary.team_header", len(summary.reps), count=len(summary.reps))
    return "\n".join([header, *total_lines(texts, lang, Figures.of(summary))])


def rep_block(texts: Catalogs, lang: str, summary: TeamSummary, index: int) -> str:
    """The rep's name, then one line per area with only the figures that are not zero."""
    rep = summary.reps[index]
    currency = summary.window.currency
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
            if not _nonzero(value):
                continue
            shown = _number(metric, value, currency, lang)
            target = summary.target(metric)
            if target:
                shown += f"/{target}"
            parts.append(f"{label_of(texts, lang, metric)} {shown}")
        if parts:
            lines.append(" · ".join(parts))
    if len(lines) == 1:
        lines.append(texts.t(lang, "summary.rep_silent"))
    if names:
        lines.append(
            texts.t(lang, f"summary.next_{summary.window.kind}", names=_names(texts, lang, names))
        )
    return "\n".join(lines)


def message(texts: Catalogs, lang: str, summary: TeamSummary) -> str:
    """Attention first, then the team's totals, then the reps with their non-zero figures. A
    large team shows the reps that need attention, as many as one message holds."""
    found = attention(summary)
    blocks = [
        header(texts, lang, summary),
        attention_block(texts, lang, summary, found),
        team_block(texts, lang, summary),
    ]
    if not summary.reps:
        blocks.append(texts.t(lang, "summary.no_reps"))
        return "\n\n".join(blocks)
    blocks.append(texts.t(lang, "summary.reps_header"))
    indexes = list(range(len(summary.reps)))
    if len(indexes) <= ALL_REPS_UP_TO:
        blocks.extend(rep_block(texts, lang, summary, i) for i in indexes)
        return "\n\n".join(blocks)
    flagged = found.rep_ids
    indexes = [i for i in indexes if summary.reps[i].rep_id in flagged]
    used = sum(len(b) + 2 for b in blocks) + 200
    shown = 0
    for i in indexes:
        block = rep_block(texts, lang, summary, i)
        if used + len(block) + 2 > MESSAGE_BUDGET:
            break
        blocks.append(block)
        used += len(block) + 2
        shown += 1
    rest = len(summary.reps) - shown
    blocks.append(texts.tn(lang, "summary.rest_in_workbook", rest, count=rest))
    return "\n\n".join(blocks)


def rollup_message(texts: Catalogs, lang: str, rollup: Rollup) -> str:
    """Teams with no activity first, then a block a team: what needs attention, in counts,
    and its non-zero totals with the change against the period before; the company last."""
    words = period_words(texts, lang, rollup.kind, rollup.day, rollup.today)
    blocks = [texts.t(lang, "summary.rollup_title", period=words)]
    found = [(summary, attention(summary)) for summary in rollup.teams]
    silent = [html.escape(s.team.name) for s, a in found if a.silent_team or not s.reps]
    if silent:
        blocks.append(texts.t(lang, "summary.rollup_silent", teams=", ".join(silent)))
    for summary, flags in found:
        lines = [
            texts.tn(lang, "summary.rollup_team", len(summary.reps),
                     team=html.escape(summary.team.name), count=len(summary.reps))
        ]  # fmt: skip
        counts = [
            texts.t(lang, f"summary.kind.{kind}", count=len(flags.flags[kind]))
            for kind in KINDS
            if flags.flags[kind]
        ]
        if counts:
            lines.append("⚠️ " + texts.t(lang, "summary.list_sep").join(counts))
        lines.extend(total_lines(texts, lang, Figures.of(summary)))
        blocks.append("\n".join(lines))
    if len(rollup.teams) > 1:
        company = Figures(
            rollup.kind, rollup.currency, dict(rollup.company), dict(rollup.company_previous),
            dict(rollup.company_four_back), {},
        )  # fmt: skip
        reps = sum(len(summary.reps) for summary in rollup.teams)
        lines = [texts.tn(lang, "summary.rollup_company", reps, count=reps)]
        blocks.append("\n".join([*lines, *total_lines(texts, lang, company)]))
    return "\n\n".join(blocks)


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
    return texts.t(
        lang, "summary.chart_caption", period=window_words(texts, lang, summary.window)
    ), None


@view("summary.workbook")
def workbook_caption(texts: Catalogs, lang: str, summary: TeamSummary) -> tuple[str, None]:
    return texts.t(
        lang, "summary.workbook_caption", period=window_words(texts, lang, summary.window)
    ), None


@view("summary.rollup")
def rollup_view(texts: Catalogs, lang: str, rollup: Rollup) -> tuple[str, None]:
    return rollup_message(texts, lang, rollup), None


def previous_period(
    texts: Catalogs, lang: str, label: str, team_id: int | None, today: date
) -> Keyboard:
    """The way back to the period ``label`` (the one before the period shown)."""
    data = SUMMARY.pack(Pick(label, team_id))
    words = label_words(texts, lang, label, today)
    return [[Button(texts.t(lang, "summary.previous", period=words), data=data)]]


def team_choice(texts: Catalogs, lang: str, teams: list[tuple[int, str]]) -> Keyboard:
    """A button per (team id, name), then the whole company."""
    rows = [[Button(name, data=SUMMARY.pack(Pick(None, team_id)))] for team_id, name in teams]
    rows.append([Button(texts.t(lang, "summary.company"), data=SUMMARY.pack(Pick(None, None)))])
    return rows


async def attachments(texts: Catalogs, lang: str, summary: TeamSummary) -> Attachments:
    """Chart and workbook, each made in a worker thread: a hundred reps take seconds of CPU,
    which on the event loop would stall every other user. The chart's thread hands the
    drawing to a process of its own (``summary_chart.drawer``), so the two overlap. A part
    that fails is left out, so a bad chart never stops the message and the workbook (nor the
    reverse)."""
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
