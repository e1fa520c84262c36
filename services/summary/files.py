"""The summary's attachments: one PNG chart and an XLSX workbook with the detail sheets."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import Catalogs
from services.summary.core import TeamSummary, metrics

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
)


@cache
def cjk_font() -> str | None:
    """An installed font with Chinese glyphs, or None (then labels are kept to ASCII)."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _as_number(value: object) -> float:
    return float(value) if isinstance(value, int | float | Decimal) else 0.0


def _ascii(text: str) -> bool:
    return text.isascii()


def chart_png(texts: Catalogs, lang: str, summary: TeamSummary) -> bytes:
    """Visits against target per rep (and, when collections report money, collected per rep)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.figure import Figure

    font = cjk_font()
    # Without a CJK font, Chinese labels would render as boxes (and warn): fall back to English
    # titles and rep numbers, which the message and workbook also show.
    label_lang = lang if font or lang == "en" else "en"
    names = [
        rep.name if font or _ascii(rep.name) else f"#{i + 1}" for i, rep in enumerate(summary.reps)
    ]
    money = [m for m in metrics() if m.format == "money" and m.key == "collected"]
    rows = 2 if money else 1
    figure: Figure = pyplot.figure(figsize=(max(6.0, 0.6 * len(names) + 2), 3.6 * rows), dpi=100)
    if font:
        matplotlib.rcParams["font.family"] = [font, "DejaVu Sans"]
    try:
        axes = figure.add_subplot(rows, 1, 1)
        positions = list(range(len(names)))
        width = 0.38
        by_key = {m.key: m for m in metrics()}
        for offset, key in ((-width / 2, "in_person"), (width / 2, "phone")):
            metric = by_key.get(key)
            if metric is None:
                continue
            counts = [_as_number(rep.values.get(key)) for rep in summary.reps]
            axes.bar(
                [p + offset for p in positions], counts, width,
                label=texts.t(label_lang, f"summary.chart.{key}"),
            )  # fmt: skip
            target = summary.target(metric)
            if target is not None:
                axes.hlines(
                    target, -0.5, max(len(names) - 0.5, 0.5), linestyles="dashed",
                    colors="C0" if key == "in_person" else "C1", linewidth=1,
                )  # fmt: skip
        axes.set_title(
            texts.t(label_lang, "summary.chart.visits_title", label=summary.window.label)
        )
        axes.set_xticks(positions, names, rotation=30, ha="right", fontsize=8)
        axes.legend(fontsize=8)
        if money:
            money_axes = figure.add_subplot(rows, 1, 2)
            amounts = [_as_number(rep.values.get("collected")) for rep in summary.reps]
            money_axes.bar(positions, amounts, color="C2")
            money_axes.set_title(texts.t(label_lang, "summary.chart.collected_title"))
            money_axes.set_xticks(positions, names, rotation=30, ha="right", fontsize=8)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        pyplot.close(figure)


def _cell(value: Any, timezone: str) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return value  # openpyxl writes Decimal as an exact number
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, date | int | float | str | bool) or value is None:
        return value
    return str(value)


def workbook_xlsx(texts: Catalogs, lang: str, summary: TeamSummary) -> bytes:
    """A "summary" sheet (one row per rep, team totals last) and the areas' detail sheets."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    timezone = summary.window.timezone
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = texts.t(lang, "summary.sheet.summary")[:31]
    shown = metrics()
    sheet.append([texts.t(lang, "summary.col.rep")] + [texts.t(lang, m.label) for m in shown])
    for rep in summary.reps:
        sheet.append([rep.name] + [_cell(rep.values.get(m.key), timezone) for m in shown])
    sheet.append(
        [texts.t(lang, "summary.col.team_total")]
        + [_cell(summary.totals.get(m.key), timezone) for m in shown]
    )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for detail in summary.sheets:
        page = book.create_sheet(texts.t(lang, f"summary.sheet.{detail.name}")[:31])
        page.append([texts.t(lang, header) for header in detail.headers])
        for row in detail.rows:
            page.append([_cell(value, timezone) for value in row])
        for cell in page[1]:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
