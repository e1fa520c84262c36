"""What the operator's commands print: plain text tables, aligned for a terminal."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from core.settings import WEEKDAYS, Settings, TeamSettings
from models.team import Team


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart; the header underlined with dashes."""
    widths = [
        max(display_width(cell) for cell in column) for column in zip(header, *rows, strict=True)
    ]

    def line(cells: Sequence[str]) -> str:
        padded = [cell + " " * (width - display_width(cell))
                  for cell, width in zip(cells, widths, strict=True)]  # fmt: skip
        return "  ".join(padded).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def day_ranges(days: Sequence[str]) -> str:
    """``mon-fri``, ``mon-wed,fri``: runs of consecutive weekdays joined by a dash."""
    indexes = sorted(WEEKDAYS.index(day) for day in days)
    runs: list[list[int]] = []
    for index in indexes:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return ",".join(
        WEEKDAYS[run[0]] if len(run) == 1 else f"{WEEKDAYS[run[0]]}-{WEEKDAYS[run[-1]]}"
        for run in runs
    )


TEAM_HEADER = (
    "KEY", "NAME", "STATE", "TIMEZONE", "LANG", "WORKING DAYS", "HOURS", "HOLIDAYS",
    "TARGETS visits/calls/new",
)  # fmt: skip


def _team_cells(key: str, name: str, state: str, rules: TeamSettings) -> list[str]:
    targets = rules.targets
    return [
        key, name, state, rules.timezone, rules.language, day_ranges(rules.working_days),
        f"{rules.workday_start:%H:%M}-{rules.workday_end:%H:%M}", str(len(rules.holidays)),
        f"{targets.in_person_per_week}/{targets.phone_per_week}/"
        f"{targets.new_customers_per_month}",
    ]  # fmt: skip


def team_table(settings: Settings, stored: Sequence[Team]) -> list[str]:
    """Every team declared in config.toml or kept in the database, with its effective settings.

    A declared team the bot has not created yet is marked "new"; a stored team no longer
    declared is archived (the bot archives it at its next start) and has no settings to show.
    """
    by_key = {team.key: team for team in stored}
    rows: list[list[str]] = []
    for key, rules in settings.team_settings.items():
        team = by_key.get(key)
        name = rules.name or key
        if team is None:
            state = "new (created when the bot starts)"
        elif team.archived:
            state = "archived (restored when the bot starts)"
        else:
            state = "active"
        rows.append(_team_cells(key, name, state, rules))
    for team in stored:
        if team.key not in settings.team_settings:
            state = "ARCHIVED (no longer in config.toml)"
            rows.append([team.key, team.name, state, team.timezone, *["-"] * 5])
    return text_table(TEAM_HEADER, rows)


def settings_lines(values: dict[str, Any], prefix: str = "") -> list[str]:
    """``section.field = value`` lines for a nested settings dump, one per leaf."""
    lines: list[str] = []
    for field, value in values.items():
        name = f"{prefix}{field}"
        if isinstance(value, dict) and value:
            lines.extend(settings_lines(value, f"{name}."))
        elif isinstance(value, list):
            lines.append(f"{name} = {', '.join(str(item) for item in value) or '(none)'}")
        else:
            lines.append(f"{name} = {'(none)' if value in (None, {}) else value}")
    return lines
