"""The history of a request reads in the reader's language, the system's own reasons included."""

from __future__ import annotations

import pytest

from core.i18n import load_catalogs
from views.approval_cards import reason_text


@pytest.mark.parametrize(
    ("lang", "shown"),
    [("zh", "8 个工作小时内无人审批"), ("en", "no decision in 8 working hours")],
)
def test_the_escalation_reason_is_in_the_readers_language(lang: str, shown: str) -> None:
    texts = load_catalogs()
    reason = "no decision in 8 working hours"  # as the sweep writes it into the audit log
    assert reason_text(texts, lang, "approval.escalated", reason) == shown


def test_a_persons_reason_is_shown_as_typed_and_escaped() -> None:
    texts = load_catalogs()
    typed = "no decision in 8 working hours <b>really</b>"
    assert reason_text(texts, "zh", "approval.rejected", typed) == (
        "no decision in 8 working hours &lt;b&gt;really&lt;/b&gt;"
    )
