"""The cockpit's pages as data: the Team page and the approval queue in the reader's language,
ready to be sent as JSON and shown with ``textContent`` (so nothing here is HTML: texts made
for Telegram's HTML are turned back into plain text once, here)."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any

from core.i18n import Catalogs, format_money
from core.periods import format_clock, format_short_day, local_today
from models.visit import Visit
from services.approval_cards import CardData
from services.map_points import TeamMap
from services.receivable_aging import Aging, Figures
from services.receivables import BUCKETS, OVERDUE_BUCKETS
from services.summary.core import Metric, TeamSummary, Value, Window, metrics
from services.visits import RepVisits
from views.approval_cards import card_text, short_title
from views.collections import bucket_key
from views.summary import header, label_of
from views.summary_periods import window_words
from views.visits import format_distance

_TAG = re.compile(r"<[^>]+>")
# The page's own words; each is a text key in locales/<lang>/webapp.po.
PAGE_TEXTS = (
    "webapp.title", "webapp.tab_team", "webapp.tab_approvals", "webapp.week", "webapp.month",
    "webapp.rep", "webapp.team_total", "webapp.previous", "webapp.target", "webapp.no_reps",
    "webapp.no_pending", "webapp.approve", "webapp.reject", "webapp.reason",
    "webapp.send_reject", "webapp.cancel", "webapp.loading", "webapp.chart_target",
    "webapp.team", "webapp.failed", "webapp.tab_collections", "webapp.tab_company",
    "webapp.back", "webapp.team_col", "webapp.reps_col", "webapp.documents",
    "webapp.tab_map", "webapp.map_all_reps", "webapp.map_checkins", "webapp.map_customers",
    "webapp.map_flagged", "webapp.photo_alt", "webapp.close",
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


def _stay(texts: Catalogs, lang: str, visit: Visit) -> str:
    """Time on site as the chat's visit list marks it ("" when unknown)."""
    if visit.is_open:
        return texts.t(lang, "visits.open_mark")
    if visit.on_site_minutes is None:
        return ""
    # A short stay is said once, among the flags.
    return texts.t(lang, "visits.on_site_mark", minutes=visit.on_site_minutes)


def rep_page(texts: Catalogs, lang: str, rep: RepVisits, window: Window) -> dict[str, Any]:
    """One rep's visits of the period, newest first: note, check-in distance and flags, time on
    site, and how many photos and voice notes were kept."""
    items = []
    for visit, customer in rep.visits:
        flags = []
        far = format_distance(visit.distance_m, lang) if visit.distance_m is not None else ""
        if visit.flagged and far:
            flags.append(texts.t(lang, "webapp.checkin_far", distance=far))
        if visit.short_visit:
            flags.append(texts.t(lang, "webapp.short_flag"))
        if visit.auto_closed:
            flags.append(texts.t(lang, "webapp.auto_closed_flag"))
        checkin = ""
        if visit.location_set_here:
            checkin = texts.t(lang, "visits.location_set_mark")
        elif far and not visit.flagged:
            checkin = texts.t(lang, "webapp.checkin_distance", distance=far)
        day = format_short_day(local_today(visit.visited_at, window.timezone), lang)
        files = rep.attachments.get(visit.id or 0, 0)
        items.append({
            "id": visit.id,
            "when": f"{day} {format_clock(visit.visited_at, window.timezone)}",
            "customer": customer.name,
            "kind": texts.t(lang, f"visits.kind_icon_{visit.kind}"),
            "purpose": texts.t(lang, f"visits.purpose_{visit.purpose}"),
            "note": visit.notes,
            "next_step": visit.next_step or "",
            "checkin": checkin,
            "stay": _stay(texts, lang, visit),
            "flags": flags,
            "attachments": texts.t(lang, "webapp.attachments", count=files) if files else "",
            "photos": rep.photos.get(visit.id or 0, []),
        })  # fmt: skip
    return {
        "id": rep.rep_id,
        "name": rep.name,
        "title": texts.t(
            lang, "webapp.rep_title", name=rep.name, period=window_words(texts, lang, window)
        ),
        "visits": items,
        "empty": texts.t(lang, "webapp.no_visits"),
    }


def _amounts(figures: dict[str, Decimal], lang: str) -> str:
    return " + ".join(format_money(amount, cur, lang) for cur, amount in sorted(figures.items()))


def _aging_row(figures: Figures, lang: str) -> dict[str, str]:
    row = {bucket: _amounts(figures.bucket(bucket), lang) for bucket in BUCKETS}
    row["open"] = _amounts(figures.totals(), lang)
    row["overdue"] = _amounts(figures.totals(OVERDUE_BUCKETS), lang)
    return row


def collections_page(texts: Catalogs, lang: str, team_name: str, aging: Aging) -> dict[str, Any]:
    """Open balances and aging per rep of one team, the most overdue first (as /collections)."""
    columns = [{"key": "open", "label": texts.t(lang, "webapp.open_balance")}]
    columns += [{"key": "overdue", "label": texts.t(lang, "webapp.overdue")}]
    columns += [{"key": b, "label": texts.t(lang, bucket_key(b))} for b in BUCKETS]

    def overdue_sum(figures: Figures) -> Decimal:
        return sum(figures.totals(OVERDUE_BUCKETS).values(), Decimal(0))

    order = sorted(aging.reps.items(), key=lambda item: (-overdue_sum(item[1]), item[0] or 0))
    reps = [
        {
            "id": rep_id,
            "name": aging.rep_names.get(rep_id, "") if rep_id is not None
            else texts.t(lang, "webapp.no_owner"),
            "values": _aging_row(figures, lang),
            "documents": figures.count,
        }
        for rep_id, figures in order
    ]  # fmt: skip
    return {
        "title": texts.t(lang, "webapp.collections_title", team=team_name),
        "columns": columns,
        "reps": reps,
        "totals": _aging_row(aging.total, lang),
        "empty": texts.t(lang, "webapp.nothing_open"),
    }


def company_page(texts: Catalogs, lang: str, summaries: list[TeamSummary]) -> dict[str, Any]:
    """One row per team: the summary's period totals (visits, reports, approvals, money)."""
    shown = [m for m in metrics() if m.format != "names"]
    columns = [{"key": m.key, "label": words(label_of(texts, lang, m))} for m in shown]
    teams = []
    for summary in summaries:
        currency = summary.window.currency
        teams.append({
            "id": summary.team.team_id, "name": summary.team.name, "reps": len(summary.reps),
            "values": {m.key: _shown(m, summary.totals.get(m.key, 0), currency, lang)
                       for m in shown},
            "raw": {m.key: _raw(summary.totals.get(m.key, 0)) for m in shown},
        })  # fmt: skip
    return {"title": texts.t(lang, "webapp.company_title"), "columns": columns, "teams": teams}


def map_page(
    texts: Catalogs, lang: str, team_name: str, window: Window, points: TeamMap,
    tiles: dict[str, str] | None,
) -> dict[str, Any]:  # fmt: skip
    """The period's check-ins per rep (flagged ones marked) and the team's customers, as points
    ready for the map (already in the tiles' datum), with the words of their popups."""
    names = dict(points.reps)
    checkins = []
    for point in points.checkins:
        day = format_short_day(local_today(point.at, window.timezone), lang)
        far = format_distance(point.distance_m, lang) if point.distance_m is not None else ""
        checkins.append({
            "id": point.visit_id, "rep": point.rep_id, "lat": round(point.latitude, 6),
            "lon": round(point.longitude, 6), "customer": point.customer,
            "when": f"{day} {format_clock(point.at, window.timezone)}",
            "flag": texts.t(lang, "webapp.checkin_far", distance=far)
            if point.flagged and far else "",
        })  # fmt: skip
    customers = [
        {"id": place.customer_id, "name": place.name, "lat": round(place.latitude, 6),
         "lon": round(place.longitude, 6),
         "owner": texts.t(lang, "webapp.map_owner", name=names[place.owner_id])
         if place.owner_id in names else ""}
        for place in points.customers
    ]  # fmt: skip
    flagged = sum(1 for c in checkins if c["flag"])
    return {
        "title": texts.t(
            lang, "webapp.map_title", team=team_name, period=window_words(texts, lang, window)
        ),
        "summary": texts.t(
            lang,
            "webapp.map_counts",
            checkins=len(checkins),
            flagged=flagged,
            customers=len(customers),
        ),
        "tiles": tiles,
        "reps": [{"id": rep_id, "name": name} for rep_id, name in points.reps],
        "checkins": checkins,
        "customers": customers,
        "empty": texts.t(lang, "webapp.map_empty"),
    }
