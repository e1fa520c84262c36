"""Days, ISO weeks and months in a team's timezone, as UTC ranges for queries; date labels."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date

_BABEL = {"en": "en", "zh": "zh_Hans_CN"}
_DAY_FORMAT = {"en": "EEE d MMM y", "zh": "y年M月d日 EEE"}
_SHORT_FORMAT = {"en": "EEE d MMM", "zh": "M月d日 EEE"}


@dataclass(frozen=True)
class Period:
    """Local days ``first`` to ``last`` (inclusive) and the UTC instants bounding them."""

    first: date
    last: date
    start: datetime
    end: datetime

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def start_of(day: date, timezone: str) -> datetime:
    """The UTC instant at which ``day`` begins in ``timezone``."""
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def local_moment(day: date, at: time, timezone: str) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def days_period(first: date, last: date, timezone: str) -> Period:
    return Period(
        first, last, start_of(first, timezone), start_of(last + timedelta(days=1), timezone)
    )


def day_period(day: date, timezone: str) -> Period:
    return days_period(day, day, timezone)


def week_period(day: date, timezone: str) -> Period:
    """The ISO week (Monday to Sunday) containing ``day``."""
    monday = day - timedelta(days=day.weekday())
    return days_period(monday, monday + timedelta(days=6), timezone)


def month_period(day: date, timezone: str) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return days_period(first, following - timedelta(days=1), timezone)


@functools.cache
def _locale(name: str) -> Locale:
    """Parsed once: babel parses a locale name (and merges its data) on every call given one,
    about 30 µs, several times per answered update."""
    return Locale.parse(name)


# A day's text never changes, and babel takes tens of µs to make it; days shown cluster around
# today, so a small cache answers nearly every call.
@functools.lru_cache(maxsize=4096)
def format_day(day: date, lang: str) -> str:
    """``Fri 4 Dec 2026`` / ``2026年12月4日 周五``."""
    return format_date(
        day, _DAY_FORMAT.get(lang, _DAY_FORMAT["en"]), locale=_locale(_BABEL.get(lang, "en"))
    )


@functools.lru_cache(maxsize=4096)
def format_short_day(day: date, lang: str) -> str:
    """``Fri 4 Dec`` / ``12月4日 周五``."""
    return format_date(
        day, _SHORT_FORMAT.get(lang, _SHORT_FORMAT["en"]), locale=_locale(_BABEL.get(lang, "en"))
    )


def format_clock(moment: datetime, timezone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(timezone)):%H:%M}"


_INTERVAL_LOCALE = {"en": "en_GB", "zh": "zh_Hans_CN"}


def format_day_range(first: date, last: date, lang: str, *, with_year: bool = False) -> str:
    """``16 – 22 Nov`` / ``11月16日至22日``; with the year when asked or when the range crosses
    one."""
    from babel.dates import format_interval

    skeleton = "MMMd" if first.year == last.year and not with_year else "yMMMd"
    shown = format_interval(
        first, last, skeleton, locale=_locale(_INTERVAL_LOCALE.get(lang, "en_GB"))
    )
    # Babel's thin spaces around the dash: plain ones, which a reader can type back.
    return shown.replace("\u2009", " ")


def format_month(day: date, lang: str) -> str:
    """``November 2026`` / ``2026年11月``."""
    from babel.dates import format_skeleton

    return format_skeleton("yMMMM", day, locale=_locale(_INTERVAL_LOCALE.get(lang, "en_GB")))
