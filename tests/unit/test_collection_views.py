"""Collections views: the button codecs and user values escaped exactly once."""

from __future__ import annotations

from collections import Counter

import pytest

from core.i18n import load_catalogs
from services.receivable_import import ReceivableImportReport, RowNote
from views.callbacks import MAX_BYTES, StaleButton
from views.collections import ACT, OPEN, RECONCILE, Act, Open, Reconcile, text
from views.imports import receivable_import_lines

BIG = 10**17


def test_codecs_round_trip_within_telegrams_limit() -> None:
    for codec, value in [
        (ACT, Act("r", BIG, "f")),
        (ACT, Act("x", BIG, "r")),
        (OPEN, Open("u", BIG)),
        (RECONCILE, Reconcile("o", BIG)),
        (RECONCILE, Reconcile("l")),
    ]:
        data = codec.pack(value)  # type: ignore[attr-defined]
        assert len(data.encode()) <= MAX_BYTES
        assert codec.unpack(data) == value  # type: ignore[attr-defined]


@pytest.mark.parametrize("data", ["dn|d5|o", "dn|d|x|o", "co|u", "rc|5|o", "ap|1|2|3", None])
def test_malformed_data_is_a_stale_button(data: str | None) -> None:
    codec = {"dn": ACT, "co": OPEN, "rc": RECONCILE}.get((data or "dn")[:2], ACT)
    with pytest.raises(StaleButton):
        codec.unpack(data)  # type: ignore[attr-defined]


def test_user_values_are_escaped_once() -> None:
    texts = load_catalogs()
    shown = text(texts, "en", "collections.created", number="A<1>&B")
    assert "A&lt;1&gt;&amp;B" in shown and "&amp;lt;" not in shown


def test_an_import_report_is_html_in_chat_and_plain_on_the_command_line() -> None:
    texts = load_catalogs()
    report = ReceivableImportReport(
        errors=[RowNote(3, "collections.import_unknown_customer", {"name": "<Acme & Co>"})],
        teams=Counter({"North": 2}),
    )
    chat = "\n".join(receivable_import_lines(texts, "en", report))
    plain = "\n".join(receivable_import_lines(texts, "en", report, for_chat=False))
    assert "&lt;Acme &amp; Co&gt;" in chat and "North 2" in chat
    assert "<Acme & Co>" in plain and "&lt;" not in plain and "<b>" not in plain
