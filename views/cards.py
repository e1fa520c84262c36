"""The customer form filled in from a business card, as the rep checks it."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from core.i18n import Catalogs


def card_review(
    texts: Catalogs,
    lang: str,
    values: Mapping[str, str],
    fields: Sequence[str],
    *,
    question: bool = False,
) -> str:
    """Each field read from the card (or a dash where the card had none), to confirm or fix;
    ``question``: the card came outside any form, so ask whether to create a customer."""
    header = "cards.review_question" if question else "cards.review_header"
    lines = [texts.t(lang, header), ""]
    for name in fields:
        label = texts.t(lang, f"customers.field_{name}")
        value = values.get(name)
        shown = html.escape(value).replace("\n", " · ") if value else "—"
        lines.append(f"<b>{label}</b>: {shown}")
    lines += ["", texts.t(lang, "cards.review_hint")]
    return "\n".join(lines)
