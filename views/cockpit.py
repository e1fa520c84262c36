"""The cockpit's pages as data: the Team page and the approval queue in the reader's language,
ready to be sent as JSON and shown with ``textContent`` (so nothing here is HTML: texts made
for Telegram's HTML are turned back into plain text once, here)."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any

from core.i18n import Catalogs, format_money
from services.approval_cards import CardData
from services.summary.core import Metric, TeamSummary, Value, metrics
from views.approval_cards import card_text, short_title
from views.summary import header, label_of

_TAG = re.compile(r"<[^>]+>")
# The page's own words; each is a text key in locales/<lang>/webapp.po.
PAGE_TEXTS = (
    "webapp.title", "webapp.tab_team", "webapp.tab_approvals", "webapp.week", "webapp.month",
    "webapp.rep", "webapp.team_total", "webapp.previous", "webapp.target", "webapp.no_reps",
    "webapp.no_pending", "webapp.approve", "webapp.reject", "webapp.reason",
    "webapp.send_reject", "webapp.cancel", "webapp.loading", "webapp.chart_target",
    "webapp.team", "webapp.failed",
)  # fmt: skip


def plain(text: str) -> str:
    """Telegram HTML as plain text (tags dropped, entities decoded)."""
    return html.unescape(_TAG.sub("", text))


def words(label: str) -> str:
    """A label without its leading icon: table headers on a phone need every pixel."""
    start = 0
    while start < len(label) and not label[start].isalnum():
        start += 1
    return label[start:] or label


def page_texts(texts: Catalogs, lang: str) -> dict[str, str]:
    return {key.removeprefix("webapp."): texts.t(lang, key) for key in PAGE_TEXTS}


def _shown(metric: Metric, value: Value, currency: str, lang: str) -> str:
    if metric.format == "money":
        return format_money(Decimal(value), currency, lang)  # type: ignore[arg-type]
    return str(value)


def _raw(value: Value) -> float:
    return float(value) if isinstance(value, int | Decimal) else 0.0


def team_page(texts: Catalogs, lang: str, summary: TeamSummary) -> dict[str, Any]:
    """This period's figures per rep against targets, the team's totals and the last period's
    (the same figures as the weekly summary's message)."""
    shown = [m for m in metrics() if m.format != "names"]
    currency = summary.window.currency
    columns = [
        {"key": m.key, "label": words(label_of(texts, lang, m)), "target": summary.target(m)}
        for m in shown
    ]
    reps = [
        {
            "id": line.rep_id,
            "name": line.name,
            "values": {m.key: _shown(m, line.values[m.key], currency, lang) for m in shown},
            "raw": {m.key: _raw(line.values[m.key]) for m in shown},
        }
        for line in summary.reps
    ]

    def row(values: dict[str, Value]) -> dict[str, str]:
        return {m.key: _shown(m, values.get(m.key, 0), currency, lang) for m in shown}

    return {
        "title": words(plain(header(texts, lang, summary))),
        "label": summary.window.label,
        "kind": summary.window.kind,
        "team": {"id": summary.team.team_id, "name": summary.team.name},
        "columns": columns,
        "reps": reps,
        "totals": row(summary.totals),
        "previous": row(summary.previous),
    }


def approval_item(texts: Catalogs, lang: str, data: CardData) -> dict[str, Any]:
    """One request of the queue with the context its chat card shows."""
    return {
        "id": data.id,
        "step": data.request.step_no,
        "title": plain(short_title(texts, lang, data)),
        # The card without its first line, the title shown above it.
        "text": plain(card_text(texts, lang, data)).partition("\n")[2],
    }


def error(texts: Catalogs, lang: str, key: str, params: dict[str, Any]) -> dict[str, str]:
    return {"error": key, "message": plain(texts.t(lang, key, **params))}
