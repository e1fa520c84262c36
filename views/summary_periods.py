"""How a summary's period reads: "last week (16 – 22 Nov)", "上月（2026年10月）"; shared by the
summary's message, its chart and the cockpit."""

from __future__ import annotations

from datetime import date

from core.i18n import Catalogs
from core.periods import format_day_range, format_month
from services.summary.core import PeriodKind, Window, parse_label, period_of, previous_day


def period_words(texts: Catalogs, lang: str, kind: PeriodKind, day: date, today: date) -> str:
    """ "last week (16 – 22 Nov)", "23 – 29 Nov (week 48)", "上月（2026年10月）"."""
    period = period_of(kind, day, "UTC")
    this = period_of(kind, today, "UTC").first
    last = period_of(kind, previous_day(kind, today), "UTC").first
    relative = "this" if period.first == this else "last" if period.first == last else None
    if kind == "month":
        month = format_month(period.first, lang)
        if relative is None:
            return month
        return texts.t(lang, f"summary.period.{relative}_month", month=month)
    days = format_day_range(
        period.first, period.last, lang, with_year=period.last.year != today.year
    )
    if relative is not None:
        return texts.t(lang, f"summary.period.{relative}_week", days=days)
    return texts.t(lang, "summary.period.week", days=days, week=period.first.isocalendar()[1])


def window_words(texts: Catalogs, lang: str, window: Window) -> str:
    return period_words(texts, lang, window.kind, window.period.first, window.until_day)


def label_words(texts: Catalogs, lang: str, label: str, today: date) -> str:
    """A period label ("2026-W47") in words, or as it is when it is not one."""
    parsed = parse_label(label)
    return period_words(texts, lang, *parsed, today) if parsed else label
