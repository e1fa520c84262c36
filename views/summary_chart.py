"""The summary's chart: one PNG in the reader's language, visits against target per rep and money
collected per rep. Rep names are drawn exactly as typed: never as mathtext or LaTeX.

Chinese is drawn with Noto Sans SC, which ships as a file inside the ``pylopdf-fonts-zh-cn``
dependency (nothing is downloaded at run time); a font installed on the system is the fallback.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from babel.numbers import format_currency, format_decimal

from core.i18n import BABEL_LOCALES, Catalogs
from services.summary.core import TeamSummary, metrics
from views.summary_periods import window_words

log = logging.getLogger(__name__)

# Telegram refuses photos whose sides add up to more than 10,000 px (and whose ratio passes 20).
DPI = 150
MAX_HEIGHT_PX = 8000
WIDTH_INCHES = 8.5
# Legible in Telegram's preview on a phone, which shows the picture about 400 px wide.
NAME_SIZE = 11
TITLE_SIZE = 13
FONT_PACKAGE = "pylopdf-fonts-zh-cn"
SYSTEM_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
)
_font_lock = threading.Lock()


@cache
def cjk_font() -> str | None:
    """The family name of a font with Chinese glyphs: the shipped Noto Sans SC, else one found
    on the system, else None (logged once, naming the package that brings one)."""
    from matplotlib import font_manager

    with _font_lock:
        try:
            import pylopdf_fonts_zh_cn

            path = pylopdf_fonts_zh_cn.sans_path()
            font_manager.fontManager.addfont(str(path))
            return str(font_manager.FontProperties(fname=str(path)).get_name())
        except (ImportError, OSError, RuntimeError):
            installed = {font.name for font in font_manager.fontManager.ttflist}
            found = next((name for name in SYSTEM_CJK_FONTS if name in installed), None)
    if found is None:
        log.warning(
            "no font with Chinese glyphs: Chinese names and titles in the summary chart will "
            "show as boxes. Install the Python package %s (a dependency of salesbot) or a "
            "system CJK font (Debian: apt-get install fonts-noto-cjk)",
            FONT_PACKAGE,
        )
    return found


def _as_number(value: object) -> float:
    return float(value) if isinstance(value, int | float | Decimal) else 0.0


def plain_text(**properties: Any) -> dict[str, Any]:
    """Text properties under which a string is drawn exactly as typed: a rep named
    ``Ann $\\x$`` is not mathtext (which raises on it) nor LaTeX."""
    return {"parse_math": False, "usetex": False, **properties}


def money_tick(currency: str, lang: str) -> Any:
    """Axis ticks as whole amounts with the currency sign and separators: ``¥50,000``."""
    from matplotlib.ticker import FuncFormatter

    locale = BABEL_LOCALES.get(lang, "en")
    return FuncFormatter(
        lambda value, _: format_currency(
            value, currency, format="¤#,##0", locale=locale, currency_digits=False
        )
    )


def count_tick(lang: str) -> Any:
    from matplotlib.ticker import FuncFormatter

    locale = BABEL_LOCALES.get(lang, "en")
    return FuncFormatter(lambda value, _: format_decimal(int(value), locale=locale))


def chart_labels(texts: Catalogs, lang: str, summary: TeamSummary) -> dict[str, str]:
    """Every text the chart draws besides rep names and numbers, from the reader's catalog."""
    period = window_words(texts, lang, summary.window)
    by_key = {m.key: m for m in metrics()}
    labels = {
        "visits_title": texts.t(lang, "summary.chart.visits_title", period=period),
        "collected_title": texts.t(lang, "summary.chart.collected_title"),
        "visits_axis": texts.t(lang, "summary.chart.visits_axis"),
        "money_axis": texts.t(lang, "summary.chart.money_axis"),
        "none": texts.t(lang, "summary.chart.no_reps"),
    }
    for key in ("in_person", "phone"):
        labels[key] = texts.t(lang, f"summary.chart.{key}")
        target = summary.target(by_key[key]) if key in by_key else None
        if target:
            labels[f"{key}_target"] = texts.t(
                lang, f"summary.chart.{key}_target_{summary.window.kind}", target=target
            )
    return labels


@dataclass(frozen=True)
class ChartData:
    """What the chart shows, as plain values, so it can be drawn in another process."""

    lang: str
    currency: str
    labels: dict[str, str]
    names: list[str]
    # Per rep, for each of in_person and phone the summary counts; None when not counted.
    counts: dict[str, list[float]]
    targets: dict[str, float]
    # Money collected per rep; None when the summary has no money column.
    collected: list[float] | None


def chart_data(texts: Catalogs, lang: str, summary: TeamSummary) -> ChartData:
    labels = chart_labels(texts, lang, summary)
    by_key = {m.key: m for m in metrics()}
    counts: dict[str, list[float]] = {}
    targets: dict[str, float] = {}
    for key in ("in_person", "phone"):
        if key in by_key:
            counts[key] = [_as_number(rep.values.get(key)) for rep in summary.reps] or [0.0]
            target = summary.target(by_key[key])
            if target:
                targets[key] = float(target)
    money = "collected" in by_key and by_key["collected"].format == "money"
    collected = [_as_number(rep.values.get("collected")) for rep in summary.reps] or [0.0]
    return ChartData(
        lang=lang, currency=summary.window.currency, labels=labels,
        names=[rep.name for rep in summary.reps] or [labels["none"]], counts=counts,
        targets=targets, collected=collected if money else None,
    )  # fmt: skip


_drawer: ProcessPoolExecutor | None = None
_drawer_lock = threading.Lock()


def _warm() -> None:
    """Imports matplotlib and registers the font in the drawing process, before the first chart."""
    from matplotlib.backends import backend_agg  # noqa: F401

    cjk_font()


def drawer() -> ProcessPoolExecutor:
    """One process that draws charts, started at the first chart and kept (warm) for the next.

    matplotlib holds the GIL for most of its work: drawn in a thread, the chart and the
    workbook (XlsxWriter, also pure Python) take turns instead of running side by side.
    'forkserver', not fork: the bot's process has threads and an event loop."""
    global _drawer
    with _drawer_lock:
        if _drawer is None:
            context = multiprocessing.get_context("forkserver")
            _drawer = ProcessPoolExecutor(1, mp_context=context, initializer=_warm)
        return _drawer


def chart_png(texts: Catalogs, lang: str, summary: TeamSummary) -> bytes:
    """Visits against target per rep and money collected per rep (see ``draw_chart``), drawn in
    the drawing process; called from a worker thread, which waits for it without the GIL."""
    data = chart_data(texts, lang, summary)
    global _drawer
    try:
        return drawer().submit(draw_chart, data).result()
    except BrokenProcessPool:
        # The drawing process died (killed, out of memory): the next chart starts a new one.
        with _drawer_lock:
            _drawer = None
        log.exception("the chart process stopped; drawing this chart in the bot's process")
        return draw_chart(data)


def draw_chart(data: ChartData) -> bytes:
    """Visits against target per rep and money collected per rep: horizontal bars, one row a
    rep, names once on the left, so a team of a hundred stays readable.

    Drawn on its own Figure with no pyplot and no global rcParams, so that charts can be made
    side by side in threads of one process too.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.text import Text
    from matplotlib.ticker import MaxNLocator, NullLocator

    font = cjk_font()
    family = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    labels, names, lang = data.labels, data.names, data.lang
    money = data.collected is not None
    # A large team gets thinner rows at a lower resolution: a phone shows it scrolled anyway,
    # and drawing a 6,000-pixel picture costs seconds.
    row, dpi = (0.42, DPI) if len(names) <= 30 else (0.3, 100)
    height = min(MAX_HEIGHT_PX / dpi, max(4.0, row * len(names) + 1.8))
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    # Not sharey: a shared axis would give the money panel its own hundred (hidden) name ticks,
    # each measured by the layout and the draw; it gets the same limits and no ticks instead.
    axes_list = figure.subplots(
        1, 2 if money else 1, squeeze=False,
        gridspec_kw={"width_ratios": [3, 2] if money else [1]},
    )  # fmt: skip
    axes = axes_list[0][0]
    positions = list(range(len(names)))
    thickness = 0.4
    text_font = FontProperties(family=family, size=NAME_SIZE - 1)
    bars = ((-thickness / 2, "in_person", "#1f77b4"), (thickness / 2, "phone", "#ff7f0e"))
    # The legend as barh made it: target lines first, then the bars.
    target_lines: list[Any] = []
    bar_sets: list[Any] = []
    for offset, key, color in bars:
        counts = data.counts.get(key)
        if counts is None:
            continue
        bar_sets.append(_bars(axes, positions, offset, counts, thickness, color, labels[key]))
        target = data.targets.get(key)
        if target:
            target_lines.append(axes.axvline(
                target, linestyle="dashed", color=color, linewidth=1.5,
                label=labels[f"{key}_target"],
            ))  # fmt: skip
    name_font = FontProperties(family=family, size=NAME_SIZE)
    name_texts = _names(axes, names, name_font)
    # First rep on top, with 0.4 of a row of room above and below the bars (the default 5 %
    # margins leave empty rows above and below a long list).
    axes.set_ylim(len(names) - 0.2, -0.8)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.xaxis.set_major_formatter(count_tick(lang))
    axes.set_xlabel(labels["visits_axis"], fontproperties=text_font)
    axes.set_title(labels["visits_title"], fontproperties=FontProperties(family=family,
                   size=TITLE_SIZE))  # fmt: skip
    axes.grid(axis="x", alpha=0.3)
    legend = axes.legend(
        handles=target_lines + bar_sets, loc="upper center",
        prop=FontProperties(family=family, size=NAME_SIZE - 2),
        bbox_transform=figure.transFigure, ncol=2, frameon=False,
    )  # fmt: skip
    for entry in legend.get_texts():
        entry.update(plain_text())
    if data.collected is not None:
        money_axes = axes_list[0][1]
        amounts = data.collected
        _bars(money_axes, positions, 0.0, amounts, 0.6, "#2ca02c", None)
        if max(amounts) <= 0:
            # Nothing collected: one "¥0" tick, not matplotlib's default "-¥0 ¥0 ¥0".
            money_axes.set_xlim(0, 1)
            money_axes.set_xticks([0])
        else:
            money_axes.xaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
        money_axes.set_ylim(axes.get_ylim())
        money_axes.yaxis.set_major_locator(NullLocator())
        money_axes.xaxis.set_major_formatter(money_tick(data.currency, lang))
        money_axes.set_xlabel(labels["money_axis"], fontproperties=text_font)
        money_axes.set_title(labels["collected_title"], fontproperties=FontProperties(
            family=family, size=TITLE_SIZE))  # fmt: skip
        money_axes.grid(axis="x", alpha=0.3)
    for each in figure.axes:
        each.tick_params(axis="x", labelsize=NAME_SIZE - 2)
        each.spines[["top", "right"]].set_visible(False)
    _lay_out(figure, canvas.get_renderer(), legend, name_texts)
    # Every text is plain (tick labels included, now that the ticks exist).
    for text in figure.findobj(Text):
        text.update(plain_text())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _lay_out(figure: Any, renderer: Any, legend: Any, name_texts: list[Any]) -> None:
    """Margins from what sticks out of the axes: the longest name on the left, titles above,
    tick labels, axis label and legend below, half a tick label on the right.

    What tight layout gives, measured once and directly: tight layout asks every artist for
    its extent (a hundred name ticks, measured several times over), which cost more than the
    drawing itself. The axis decorations' sizes are matplotlib's defaults (tick 3.5 pt long,
    3.5 pt from its label, axis label 4 pt further, title 6 pt above)."""
    point = figure.dpi / 72
    pad = 1.08 * 10 * point  # tight layout's default padding: 1.08 of the 10-pt font
    width, height = figure.bbox.width, figure.bbox.height
    axes_list = figure.axes

    def size(text: Any) -> tuple[float, float]:
        if not text.get_text():
            return 0.0, 0.0
        box = text.get_window_extent(renderer)
        return box.width, box.height

    # Measured as the draw measures them, so the draw finds them in matplotlib's cache.
    name_width = max(size(text)[0] for text in name_texts)
    title = max(size(each.title)[1] for each in axes_list)
    # Tick labels exist once asked for; a few per axis (those in view), measured as drawn.
    ticks = [_tick_label_sizes(each.xaxis, size) for each in axes_list]
    tick_height = max((h for row in ticks for _, h in row), default=0.0)
    xlabel = max(size(each.xaxis.label)[1] for each in axes_list)
    legend_height = legend.get_window_extent(renderer).height
    legend_gap = legend.borderaxespad * legend.prop.get_size_in_points() * point

    left = pad + name_width + 7 * point
    # The last tick label may sit on the right edge; half of it hangs over.
    right = pad + (ticks[-1][-1][0] / 2 if ticks[-1] else 0.0)
    top = pad + title + 6 * point
    below_axes = 7 * point + tick_height + 4 * point + xlabel
    bottom = pad + legend_height + legend_gap + below_axes
    wspace = 0.0
    if len(axes_list) > 1:
        # Half of the left panel's last tick label and of the right one's first face each other.
        gap = (
            pad
            + ((ticks[0][-1][0] if ticks[0] else 0.0) + (ticks[1][0][0] if ticks[1] else 0.0)) / 2
        )
        spare = width - left - right
        wspace = 2 * gap / (spare - gap)
    figure.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height,
        bottom=bottom / height, wspace=wspace,
    )  # fmt: skip
    box = axes_list[0].get_position()
    legend.set_bbox_to_anchor(
        ((box.x0 + box.x1) / 2, box.y0 - (below_axes + point * 4) / height),
        transform=figure.transFigure,
    )


def _tick_label_sizes(
    axis: Any, size: Callable[[Any], tuple[float, float]]
) -> list[tuple[float, float]]:
    """Width and height of each tick label in view, left to right."""
    axis.get_majorticklabels()  # makes the ticks for the current limits
    low, high = sorted(axis.get_view_interval())
    ticks = sorted((tick for tick in axis.get_major_ticks() if low <= tick.get_loc() <= high),
                   key=lambda tick: tick.get_loc())  # fmt: skip
    return [size(tick.label1) for tick in ticks]


def _bars(
    axes: Any,
    positions: list[int],
    offset: float,
    widths: list[float],
    thickness: float,
    color: str,
    label: str | None,
) -> Any:
    """Horizontal bars as one collection: what barh draws, without a patch (and its
    transforms, limits and draw call) per bar — three hundred of them for a hundred reps."""
    from matplotlib.collections import PolyCollection

    half = thickness / 2
    shapes = [
        [
            (0.0, p + offset - half),
            (0.0, p + offset + half),
            (w, p + offset + half),
            (w, p + offset - half),
        ]
        for p, w in zip(positions, widths, strict=False)
    ]
    bars = PolyCollection(shapes, facecolors=color, edgecolors="none", linewidths=0, label=label)
    bars.sticky_edges.x.append(0.0)  # as barh: the axis starts at 0, no margin before it
    axes.add_collection(bars)
    axes.autoscale_view()
    return bars


def _names(axes: Any, names: list[str], font: Any) -> list[Any]:
    """A rep's name and a tick mark at each row, where the y axis's tick labels and marks would
    be (matplotlib's defaults: a 3.5-pt mark, the label 3.5 pt from it, centred on the row),
    as one line of markers and a text a name: a hundred axis ticks cost more to make, measure
    and draw than the bars."""
    from matplotlib.lines import Line2D
    from matplotlib.markers import TICKLEFT, MarkerStyle
    from matplotlib.ticker import NullLocator
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    axes.yaxis.set_major_locator(NullLocator())
    edge = blended_transform_factory(axes.transAxes, axes.transData)
    rows = list(range(len(names)))
    marks = Line2D(
        [0.0] * len(rows), rows, linestyle="none", marker=MarkerStyle(TICKLEFT), markersize=3.5,
        markeredgewidth=0.8, color="black", transform=edge, clip_on=False,
    )  # fmt: skip
    axes.add_artist(marks)
    beside = edge + ScaledTranslation(-7 / 72, 0, axes.figure.dpi_scale_trans)
    return [
        axes.text(0.0, row, name, transform=beside, ha="right", va="center_baseline",
                  fontproperties=font, clip_on=False, **plain_text())
        for row, name in zip(rows, names, strict=True)
    ]  # fmt: skip
