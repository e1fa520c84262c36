"""Showing UTC instants in a team's timezone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def to_local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


# What a Chinese reader calls the zones a team is likely to use.
ZONE_NAMES_ZH = {
    "Asia/Shanghai": "北京时间",
    "Asia/Chongqing": "北京时间",
    "Asia/Hong_Kong": "香港时间",
}


def format_local(moment: datetime, timezone: str, lang: str = "en") -> str:
    """``2026-11-27 14:05 (Asia/Shanghai)``, in Chinese ``2026-11-27 14:05（北京时间）``."""
    shown = f"{to_local(moment, timezone):%Y-%m-%d %H:%M}"
    if lang == "zh":
        return f"{shown}（{ZONE_NAMES_ZH.get(timezone, timezone)}）"
    return f"{shown} ({timezone})"
