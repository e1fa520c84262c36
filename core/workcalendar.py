"""China's working calendar: public holidays and 调休 (weekend days made working days).

The official arrangement comes from chinese-calendar, which ships the State Council's notices
year by year. Its data ends with the last year published when the package was released
(chinese-calendar 1.11.0 covers 2004-2026); for a later year the verdict is None and the team's
config (``holidays`` and ``makeup_workdays``) and its weekly working days decide.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=1)
def covered_years() -> range:
    """The years the packaged data covers."""
    years = {day.year for day in chinese_calendar.holidays} | {
        day.year for day in chinese_calendar.workdays
    }
    return range(min(years), max(years) + 1)


def china_says(day: date) -> bool | None:
    """True on a 调休 working day, False on a public holiday (its weekend days included), None on
    an ordinary day or a year the packaged data does not cover."""
    if day in chinese_calendar.workdays:
        return True
    if day in chinese_calendar.holidays:
        return False
    return None
