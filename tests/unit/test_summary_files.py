"""The summary's message, chart and workbook in both languages, with Chinese names."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest

from core.i18n import load_catalogs
from core.periods import week_period
from core.settings import TeamSettings
from services.summary.core import RepLine, Sheet, TeamSummary, Window
from services.team_context import TeamContext
from views import summary as render
from views.summary_chart import chart_png
from views.summary_workbook import workbook_xlsx

NOW = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)


def summary() -> TeamSummary:
    rules = TeamSettings(name="华东", timezone="Asia/Shanghai")
    period = week_period(date(2026, 11, 28), "Asia/Shanghai")
    window = Window(1, "Asia/Shanghai", "week", "2026-W48", period, NOW)
    team = TeamContext(team_id=1, key="east", name="华东", rules=rules, now=NOW)
    reps = [
        RepLine(1, "王伟", {"in_person": 12, "phone": 18, "next_visits": ["杭州华丰建材"]}),
        RepLine(2, "Li Na", {"in_person": 3, "phone": 25, "next_visits": []}),
    ]
    sheet = Sheet("visits", ["rep", "when"], [["王伟", NOW]])
    return TeamSummary(
        team=team, window=window, reps=reps, totals={"in_person": 15, "phone": 43},
        previous={"in_person": 10, "phone": 43}, four_back={"in_person": 20, "phone": 40},
        sheets=[sheet],
    )  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_message_chart_and_workbook(lang: str) -> None:
    texts = load_catalogs()
    data = summary()
    text = render.message(texts, lang, data)
    assert "王伟" in text and "杭州华丰建材" in text
    # In person: 15 now, 10 last week, 20 four weeks ago; money and counts signed with arrows.
    assert "↑5 +50%" in text and "↓5 −25%" in text
    png = chart_png(texts, lang, data)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
    book = openpyxl.load_workbook(io.BytesIO(workbook_xlsx(texts, lang, data)))
    first = book.worksheets[0]
    rows = list(first.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [
        "王伟",
        "Li Na",
        texts.t(lang, "summary.col.team_total"),
    ]
    visits = book.worksheets[1]
    assert visits.cell(2, 2).value.isoformat() == "2026-11-28T08:30:00"  # in the team's time


UNTRUSTED = ['=WEBSERVICE("http://x")', "+1", "-2", "@SUM(A1)", "\t=1", "\r=1", "Ann $\\x$"]


def test_names_that_look_like_mathtext_are_drawn_as_typed() -> None:
    data = summary()
    data.reps[:] = [RepLine(i, name, {"in_person": i}) for i, name in enumerate(
        ["Ann $\\x$", "$$", "$\\frac{", "\\$ 5 $", "$x^2$ and $y$"], start=1
    )]  # fmt: skip
    png = chart_png(load_catalogs(), "en", data)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_formula_like_texts_are_string_cells_and_numbers_stay_numbers() -> None:
    data = summary()
    data.reps[:] = [
        RepLine(i, text, {"in_person": i, "next_visits": [text]})
        for i, text in enumerate(UNTRUSTED, start=1)
    ]
    data.sheets[:] = [
        Sheet("visits", ["rep", "when", "notes"],
              [[text, NOW, text] for text in UNTRUSTED])
    ]  # fmt: skip
    book = openpyxl.load_workbook(io.BytesIO(workbook_xlsx(load_catalogs(), "en", data)))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    # XML reads a bare carriage return back as a line feed; it stays text all the same.
    typed = [text.replace("\r", "\n") for text in UNTRUSTED]
    first, visits = book.worksheets
    assert [c.value for c in first["A"][1:-1]] == typed
    for cell in [*first["A"][1:-1], *visits["A"][1:], *visits["C"][1:]]:
        assert cell.data_type == "s", cell.coordinate
        assert cell.quotePrefix == cell.value.startswith(("=", "+", "-", "@", "\t", "\n"))
    in_person = [cell for cell in first["B"][1:]]
    assert [c.value for c in in_person[:-1]] == list(range(1, len(UNTRUSTED) + 1))
    assert {c.data_type for c in in_person} == {"n"}
    assert {c.data_type for c in visits["B"][1:]} == {"d"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_chart_draws_only_the_readers_texts_with_the_shipped_cjk_font(lang: str) -> None:
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from views import summary_chart

    texts = load_catalogs()
    data = summary()
    data.reps[0].values["collected"] = Decimal("52000")
    drawn: list[str] = []
    savefig = Figure.savefig

    def record(figure: Figure, *args: object, **kwargs: object) -> None:
        drawn.extend(t.get_text() for t in figure.findobj(Text) if t.get_text())
        savefig(figure, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Figure, "savefig", record)
        # Drawn here, not in the drawing process, so that the patch sees the figure.
        png = summary_chart.draw_chart(summary_chart.chart_data(texts, lang, data))
    assert png.startswith(b"\x89PNG")
    assert summary_chart.cjk_font() == "Noto Sans SC"  # shipped by pylopdf-fonts-zh-cn
    labels = set(summary_chart.chart_labels(texts, lang, data).values())
    names = {rep.name for rep in data.reps}
    for text in drawn:
        if text in names:
            continue
        if text in labels:
            continue
        # Tick labels: counts, and money with the currency sign and thousands separators.
        assert re.fullmatch(r"(CN)?¥?[\d,]+", text), text
    assert labels - {summary_chart.chart_labels(texts, lang, data)["none"]} <= set(drawn)
    assert not [t for t in drawn if "#1" in t]
    assert any(re.fullmatch(r"(CN)?¥\d{1,3}(,\d{3})+", t) for t in drawn), drawn
    assert all("." not in t for t in drawn if re.fullmatch(r"[\d.,]+", t))  # whole visits


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_workbook_has_frozen_headers_filters_formats_and_no_codes(lang: str) -> None:
    texts = load_catalogs()
    data = summary()
    data.reps[0].values["collected"] = Decimal("52000.5")
    data.sheets[:] = [
        Sheet("visits", ["when", "rep", "kind", "purpose", "flagged"],
              [[NOW, "王伟", "in_person", "revisit", False],
               [NOW, "Li Na", "phone", "collection", True]],
              codes={"kind": "summary.code.kind_", "purpose": "visits.purpose_"}),
        Sheet("approvals", ["when", "rep", "request_type", "amount", "status"],
              [[NOW, "王伟", "expense", Decimal("1280.5"), "approved"]],
              codes={"request_type": "approvals.type_", "status": "summary.code.approval_"}),
        Sheet("receivables", ["document", "balance", "due_on", "status"],
              [["INV-1", Decimal("9000"), date(2026, 11, 1), "open"]],
              codes={"status": "summary.code.receivable_"}),
    ]  # fmt: skip
    book = openpyxl.load_workbook(io.BytesIO(workbook_xlsx(texts, lang, data)))
    assert book.sheetnames[0] == texts.t(lang, "summary.sheet.summary")
    codes = {"in_person", "phone", "revisit", "collection", "expense", "approved", "open",
             "True", "False"}  # fmt: skip
    for sheet in book.worksheets:
        assert sheet.freeze_panes in ("A2", "B2"), sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
        header = [cell.value for cell in sheet[1]]
        assert all(cell.font.b for cell in sheet[1])
        for column in range(1, len(header) + 1):
            letter = openpyxl.utils.get_column_letter(column)
            assert sheet.column_dimensions[letter].width >= 8, (sheet.title, letter)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                assert str(cell.value) not in codes, (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, datetime):
                    assert cell.number_format in ("yyyy-mm-dd hh:mm", "yyyy-mm-dd")
    summary_sheet = book.worksheets[0]
    collected = texts.t(lang, "summary.metric.collected")
    column = [c.value for c in summary_sheet[1]].index(collected) + 1
    assert summary_sheet.cell(2, column).number_format == "#,##0.00"
    visits = book.worksheets[1]
    assert visits.cell(2, 3).value == texts.t(lang, "summary.code.kind_in_person")
    assert visits.cell(3, 5).value == texts.t(lang, "summary.yes")
    approvals = book.worksheets[2]
    assert approvals.cell(2, 4).number_format == "#,##0.00"
    assert approvals.cell(2, 5).value == texts.t(lang, "summary.code.approval_approved")
