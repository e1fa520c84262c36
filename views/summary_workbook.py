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


# Excel's formats for what the bot stores: money with separators and cents, local times.
MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm"
MIN_WIDTH, MAX_WIDTH = 8, 48
# Rows looked at to size a column: enough to see its typical values, cheap on a large sheet.
WIDTH_SAMPLE = 500


def _display_width(value: Any) -> int:
    """Characters a cell needs, a Chinese character counting as two."""
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, Decimal | float):
        return len(f"{value:,.2f}")
    text = str(value) if value is not None else ""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _format_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return TIME_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    if isinstance(value, Decimal):
        return MONEY_FORMAT
    if isinstance(value, int):
        return COUNT_FORMAT
    return None


def _human(texts: Catalogs, lang: str, value: Any, prefix: str | None) -> Any:
    """A code as its label in the reader's language, a yes/no as words."""
    if isinstance(value, bool):
        return texts.t(lang, "summary.yes" if value else "summary.no")
    if prefix is not None and value not in (None, ""):
        key = f"{prefix}{value}"
        return texts.t(lang, key) if texts.has(key) else value
    return value


def workbook_xlsx(texts: Catalogs, lang: str, summary: TeamSummary) -> bytes:
    """The workbook in the reader's language: the summary sheet first, then the areas' detail
    sheets, each with a frozen bold header, filters, sized columns and number formats. Written
    in openpyxl's streaming mode: a team of hundreds of reps has thousands of rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    timezone = summary.window.timezone
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")

    def add_sheet(title: str, headers: list[str], rows: list[list[Any]], freeze: str) -> None:
        sheet = book.create_sheet(title[:31])
        for index, header in enumerate(headers, start=1):
            widths = [_display_width(header)] + [
                _display_width(_value(row[index - 1], timezone)) for row in rows[:WIDTH_SAMPLE]
            ]
            width = min(MAX_WIDTH, max(MIN_WIDTH, max(widths) + 2))
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = freeze
        last = get_column_letter(max(1, len(headers)))
        sheet.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
        header_cells = []
        for header in headers:
            cell = _cell(sheet, header, timezone)
            cell.font, cell.fill, cell.alignment = bold, fill, wrap
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in rows:
            cells = []
            for value in row:
                cell = _cell(sheet, value, timezone)
                number_format = _format_of(value)
                if number_format is not None:
                    cell.number_format = number_format
                cells.append(cell)
            sheet.append(cells)

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
        "B2",
    )
    for detail in summary.sheets:
        prefixes = [detail.codes.get(column) for column in detail.columns]
        add_sheet(
            texts.t(lang, f"summary.sheet.{detail.name}"),
            [texts.t(lang, f"summary.col.{column}") for column in detail.columns],
            [
                [
                    _human(texts, lang, value, prefix)
                    for value, prefix in zip(row, prefixes, strict=True)
                ]
                for row in detail.rows
            ],
            "A2",
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
