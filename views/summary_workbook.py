"""The summary's workbook: a "summary" sheet (one row per rep, team totals last) and the areas'
detail sheets. Every text is a string cell shown as typed, never a formula.

Written with XlsxWriter in its constant-memory mode: a team of a hundred reps has tens of
thousands of cells, which openpyxl's pure-Python XML writer took about a second of CPU for (and
the chart, drawn at the same time, shares the interpreter); XlsxWriter writes them in a quarter
of that. openpyxl still reads workbooks (the customer import, the tests).
"""

from __future__ import annotations

import io
import re
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
        return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, date | int | float | str | bool) or value is None:
        return value
    return str(value)


# Characters XML 1.0 cannot hold: a workbook with one is unreadable for Excel.
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# Excel's formats for what the bot stores: money with separators and cents, local times.
MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm"
MIN_WIDTH, MAX_WIDTH = 8, 48
# Rows looked at to size a column: enough to see its typical values, cheap on a large sheet.
WIDTH_SAMPLE = 500


# Day 0 of Excel's serial dates, as it counts them from March 1900 on (it takes 1900 for a leap
# year); the summary's dates are all later.
EXCEL_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 (Excel times are local, naive)


def _serial(value: date) -> float:
    """A local date or time as Excel's serial number (what XlsxWriter's write_datetime writes,
    at a twentieth of its cost)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)  # noqa: DTZ001 (as above)
    delta = value - EXCEL_EPOCH
    return delta.days + (delta.seconds + delta.microseconds / 1e6) / 86_400


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
    sheets, each with a frozen bold header, filters, sized columns and number formats."""
    import xlsxwriter

    timezone = summary.window.timezone
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {"constant_memory": True, "in_memory": True, "strings_to_formulas": False,
         "strings_to_numbers": False, "strings_to_urls": False},
    )  # fmt: skip
    heading = {"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top"}
    styles = {
        # Text that a spreadsheet would read as a formula keeps the quote prefix: it stays
        # text even after someone edits the cell in Excel.
        ("header", False): book.add_format(heading),
        ("header", True): book.add_format({**heading, "quote_prefix": True}),
        ("text", True): book.add_format({"quote_prefix": True}),
        **{(form, False): book.add_format({"num_format": form})
           for form in (MONEY_FORMAT, COUNT_FORMAT, DATE_FORMAT, TIME_FORMAT)},
    }  # fmt: skip

    def put(sheet: Any, row: int, column: int, value: Any, kind: str = "text") -> None:
        value = _value(value, timezone)
        if value is None or value == "":
            return
        if isinstance(value, str):
            text = ILLEGAL_CHARACTERS.sub("", value)
            style = styles.get((kind, text.startswith(FORMULA_STARTS)))
            # A carriage return would be written as "_x000D_"; a line break is what was meant.
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            sheet.write_string(row, column, text, style)
        elif isinstance(value, bool):
            sheet.write_boolean(row, column, value)
        elif isinstance(value, date):  # a datetime too, as local time
            sheet.write_number(
                row, column, _serial(value), styles[(_format_of(value) or "", False)]
            )
        else:
            sheet.write_number(row, column, value, styles.get((_format_of(value) or "", False)))

    def add_sheet(title: str, headers: list[str], rows: list[list[Any]], freeze: str) -> None:
        sheet = book.add_worksheet(title[:31])
        for index, header in enumerate(headers):
            widths = [_display_width(header)] + [
                _display_width(_value(row[index], timezone)) for row in rows[:WIDTH_SAMPLE]
            ]
            sheet.set_column(index, index, min(MAX_WIDTH, max(MIN_WIDTH, max(widths) + 2)))
        sheet.freeze_panes(1, 1 if freeze == "B2" else 0)
        sheet.autofilter(0, 0, len(rows), max(1, len(headers)) - 1)
        for column, header in enumerate(headers):
            put(sheet, 0, column, header, "header")
        for number, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                put(sheet, number, column, value)

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
    book.close()
    return buffer.getvalue()
