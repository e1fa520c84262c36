"""Showing UTC instants in a team's timezone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def to_local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def format_local(moment: datetime, timezone: str) -> str:
    """``2026-11-27 14:05 (Asia/Shanghai)`` — unambiguous in both languages."""
    return f"{to_local(moment, timezone):%Y-%m-%d %H:%M} ({timezone})"
