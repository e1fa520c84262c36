"""The summary's workbook: a "summary" sheet (one row per rep, team totals last) and the areas'
detail sheets. Every text is a string cell shown as typed, never a formula."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from core.i18n import Catalogs
from services.summary.core import TeamSummary, metrics

# What a spreadsheet reads as the start of a formula (or, with tab and CR, what hides one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _value(value: Any, timezone: str) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return value  # openpyxl writes Decimal as an exact number
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, date | int | float | str | bool) or value is None:
        return value
    return str(value)


def _cell(sheet: Any, value: Any, timezone: str) -> Any:
    """One cell of the workbook. Every text (a rep's name, a note, a header) is a string cell
    that shows as typed: ``=WEBSERVICE(...)``, ``+1``, ``@SUM(A1)`` are never formulas, not even
    after someone edits the cell in Excel (the quote prefix)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = _value(value, timezone)
    if not isinstance(value, str):
        return WriteOnlyCell(sheet, value=value)
    # Control characters make the file unreadable for Excel (openpyxl refuses them).
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl made a leading "=" a formula
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


def workbook_xlsx(texts: Catalogs, lang: str, summary: TeamSummary) -> bytes:
    """The workbook in the reader's language, written in openpyxl's streaming mode: a team of
    hundreds of reps has thousands of rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    timezone = summary.window.timezone
    book = Workbook(write_only=True)
    bold = Font(bold=True)

    def add_sheet(title: str, headers: list[str], rows: list[list[Any]]) -> None:
        sheet = book.create_sheet(title[:31])
        header_cells = []
        for header in headers:
            cell = _cell(sheet, header, timezone)
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in rows:
            sheet.append([_cell(sheet, value, timezone) for value in row])

    shown = metrics()
    rows: list[list[Any]] = [
        [rep.name] + [rep.values.get(m.key) for m in shown] for rep in summary.reps
    ]
    rows.append(
        [texts.t(lang, "summary.col.team_total")] + [summary.totals.get(m.key) for m in shown]
    )
    add_sheet(
        texts.t(lang, "summary.sheet.summary"),
        [texts.t(lang, "summary.col.rep")]
        + [texts.t(lang, f"summary.metric.{m.key}") for m in shown],
        rows,
    )
    for detail in summary.sheets:
        add_sheet(
            texts.t(lang, f"summary.sheet.{detail.name}"),
            [texts.t(lang, f"summary.col.{column}") for column in detail.columns],
            detail.rows,
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
