"""The summary's chart: one PNG, visits (and money collected) per rep. Rep names are drawn
exactly as typed: never as mathtext or LaTeX."""

from __future__ import annotations

import io
from decimal import Decimal
from functools import cache
from typing import Any

from core.i18n import Catalogs, period_label
from services.summary.core import TeamSummary, metrics

# Telegram refuses photos whose sides add up to more than 10,000 px.
MAX_CHART_INCHES = 60.0
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


def plain_text(**properties: Any) -> dict[str, Any]:
    """Text properties under which a string is drawn exactly as typed: a rep named
    ``Ann $\\x$`` is not mathtext (which raises on it) nor LaTeX."""
    return {"parse_math": False, "usetex": False, **properties}


def chart_png(texts: Catalogs, lang: str, summary: TeamSummary) -> bytes:
    """Visits against target per rep (and, when collections report money, collected per rep):
    horizontal bars, one row a rep, so a team of a hundred stays readable.

    Drawn on its own Figure with no pyplot and no global rcParams, so that charts can be made
    in worker threads, off the event loop, side by side.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.text import Text

    font = cjk_font()
    # Without a CJK font, Chinese labels would render as boxes (and warn): fall back to English
    # titles and rep numbers, which the message and workbook also show.
    label_lang = lang if font or lang == "en" else "en"
    family = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    names = [
        rep.name if font or _ascii(rep.name) else f"#{i + 1}" for i, rep in enumerate(summary.reps)
    ] or ["—"]
    by_key = {m.key: m for m in metrics()}
    money = "collected" in by_key and by_key["collected"].format == "money"
    height = min(MAX_CHART_INCHES, max(3.6, 0.28 * len(names) + 1.6))
    figure = Figure(figsize=(12 if money else 7.5, height), dpi=100)
    FigureCanvasAgg(figure)
    axes_list = figure.subplots(1, 2 if money else 1, squeeze=False)
    axes = axes_list[0][0]
    positions = list(range(len(names)))
    thickness = 0.4
    bars = ((-thickness / 2, "in_person", "C0"), (thickness / 2, "phone", "C1"))
    for offset, key, color in bars:
        metric = by_key.get(key)
        if metric is None:
            continue
        counts = [_as_number(rep.values.get(key)) for rep in summary.reps] or [0.0]
        axes.barh(
            [p + offset for p in positions], counts, thickness, color=color,
            label=texts.t(label_lang, f"summary.chart.{key}"),
        )  # fmt: skip
        target = summary.target(metric)
        if target is not None:
            axes.axvline(target, linestyle="dashed", color=color, linewidth=1)
    axes.set_yticks(positions, names, **plain_text(fontsize=8, fontfamily=family))
    axes.invert_yaxis()
    axes.set_title(
        texts.t(
            label_lang,
            "summary.chart.visits_title",
            label=period_label(summary.window.label, label_lang),
        ),
        **plain_text(fontsize=10, fontfamily=family),
    )
    legend = axes.legend(prop=FontProperties(family=family, size=8), loc="lower right")
    for entry in legend.get_texts():
        entry.update(plain_text())
    if money:
        money_axes = axes_list[0][1]
        amounts = [_as_number(rep.values.get("collected")) for rep in summary.reps] or [0.0]
        money_axes.barh(positions, amounts, color="C2")
        money_axes.set_yticks(positions, [""] * len(positions))
        money_axes.invert_yaxis()
        money_axes.set_title(
            texts.t(label_lang, "summary.chart.collected_title"),
            **plain_text(fontsize=10, fontfamily=family),
        )
    figure.tight_layout()
    # Whatever text the layout created on its way (tick labels included) is plain too.
    for text in figure.findobj(Text):
        text.update(plain_text())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
