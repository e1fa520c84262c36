"""What an import reports, row by row: the receivables import in the reader's language (the
manager's chat and, as plain text, the command line) and the customer import (the command
line, in English)."""

from __future__ import annotations

import html
import re
from typing import Any

from core.i18n import Catalogs, join_list
from services.customer_import import ImportReport
from services.receivable_import import ReceivableImportReport

# Rows named one by one in a customer import's report before "and N more".
ROWS_SHOWN = 12
_TAG = re.compile(r"<[^>]+>")


def receivable_import_lines(
    texts: Catalogs, lang: str, report: ReceivableImportReport, *, for_chat: bool = True
) -> list[str]:
    """The report in the reader's language: HTML for chat, plain text for the command line
    (the HTML without its tags, so that a value that looks like a tag is shown as typed)."""

    def show(value: Any) -> Any:
        return html.escape(value, quote=False) if isinstance(value, str) else value

    out = [
        texts.tn(
            lang, "collections.import_summary", len(report.errors), created=len(report.created),
            updated=len(report.updated), unchanged=len(report.unchanged),
            errors=len(report.errors),
        )
    ]  # fmt: skip
    if report.teams:
        counts = join_list(
            lang, (f"{name} {count}" for name, count in sorted(report.teams.items()))
        )
        out.append(texts.t(lang, "collections.import_teams", teams=show(counts)))
    if report.ignored_columns:
        columns = ", ".join(report.ignored_columns)
        out.append(texts.t(lang, "collections.import_ignored", columns=show(columns)))
    notes = [(n, "collections.import_row_error") for n in report.errors] + [
        (n, "collections.import_row_warning") for n in report.warnings
    ]
    for note, line_key in notes:
        params = {key: show(value) for key, value in note.params.items()}
        problem = texts.t(lang, note.key, **params)
        out.append(texts.t(lang, line_key, row=note.row, problem=problem))
    if not for_chat:
        out = [html.unescape(_TAG.sub("", line)) for line in out]
    return out


def _counted(count: int, noun: str) -> str:
    """ "1 customer", "3 customers": the command line speaks English only, no catalog."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def customer_import_lines(report: ImportReport) -> list[str]:
    """The customer import's report for the command line."""
    out = [
        f"Imported {_counted(len(report.imported), 'customer')}; "
        f"{len(report.already_present)} already in salesbot (skipped); "
        f"{_counted(len(report.errors), 'row')} with errors (not imported)."
    ]
    if report.teams:
        out.append(
            "Imported per team: "
            + ", ".join(f"{name} {count}" for name, count in sorted(report.teams.items()))
        )
    if report.ignored_columns:
        out.append("Columns ignored: " + ", ".join(report.ignored_columns))
    for number, message in sorted(report.errors):
        out.append(f"  row {number}: ERROR {message}")
    grouped: dict[str, list[int]] = {}
    for number, message in sorted(report.warnings):
        grouped.setdefault(message, []).append(number)
    for message, numbers in grouped.items():
        out.append(f"  {_rows(numbers)}: warning: {message}")
    if report.already_present:
        numbers = [number for number, _ in report.already_present]
        out.append(f"  {_rows(numbers)}: skipped, already in salesbot")
    return out


def _rows(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:ROWS_SHOWN])
    more = f" and {len(numbers) - ROWS_SHOWN} more" if len(numbers) > ROWS_SHOWN else ""
    return f"row{'s' if len(numbers) > 1 else ''} {shown}{more}"
