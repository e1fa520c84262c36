"""Asking for one customer field in a form, shared by the customer forms and /visit."""

from __future__ import annotations

import html
from typing import Any

from core.errors import UserFacingError
from handlers.forms import FormInput, InputError, Prompt
from handlers.turn import Turn
from models.customer import CustomerStatus, Tier
from services import customers
from views.customers import status_label, tier_label

# Fields asked in a form, in order; the first ones are the short form used inside /visit.
SHORT_FIELDS = ("name", "contact", "phone", "tier")
ALL_FIELDS = ("name", "contact", "phone", "tier", "address", "region", "industry", "status",
              "notes")  # fmt: skip
OPTIONAL_FIELDS = frozenset(ALL_FIELDS) - {"name"}
CHOICE_FIELDS = ("region", "industry")


async def field_prompt(turn: Turn, field: str, team_id: int | None, current: Any = None) -> Prompt:
    """The question for one field; Skip is offered for optional fields."""
    if field == "tier":
        # the cadence the team's /due applies, not a fixed one (teams override it in config.toml)
        rules = (await turn.team(team_id)).rules if team_id is not None else None
        cadence = (rules or turn.deps.settings.team("")).visits.cadence_days
        text = turn.t("customers.ask_tier", a=cadence.A, b=cadence.B, c=cadence.C)
    else:
        text = turn.t(f"customers.ask_{field}")
    if current not in (None, ""):
        text += "\n" + turn.t("customers.current_value", value=html.escape(str(current)))
    choices: list[list[tuple[str, str]]] = []
    if field == "tier":
        choices = [[(tier_label(turn.deps.texts, turn.lang, tier), tier) for tier in Tier]]
    elif field == "status":
        labels = [(status_label(turn.deps.texts, turn.lang, s), str(s)) for s in CustomerStatus]
        choices = [labels]
    elif field in CHOICE_FIELDS and team_id is not None:
        common = await customers.common_values(turn.session, team_id, field)
        options = [(value[:30], f"v:{index}") for index, value in enumerate(common)]
        choices = [options[i : i + 3] for i in range(0, len(options), 3)]
    return Prompt(text, choices, skippable=field in OPTIONAL_FIELDS)


async def field_answer(turn: Turn, field: str, team_id: int | None, answer: FormInput) -> Any:
    """The validated value of one field (None when skipped); InputError re-asks the step."""
    if answer.skipped:
        if field not in OPTIONAL_FIELDS:
            raise InputError("forms.use_buttons")
        return None
    if field in ("tier", "status"):
        raw = answer.choice or answer.text or ""
    elif field in CHOICE_FIELDS and answer.choice and answer.choice.startswith("v:"):
        common = await customers.common_values(turn.session, team_id or 0, field)
        index = answer.choice[2:]
        if not index.isdigit() or int(index) >= len(common):
            raise InputError("forms.use_buttons")
        return common[int(index)]
    elif answer.choice is not None:
        raise InputError("forms.use_buttons")
    else:
        raw = expect_text(answer)
    try:
        value = customers.clean_field(field, raw)
    except UserFacingError as error:
        raise InputError(error.key, **error.params) from None
    return str(value) if field in ("tier", "status") else value


def expect_text(answer: FormInput) -> str:
    """The typed text of an answer; anything else (a photo, a location...) is refused."""
    if answer.text is None or answer.photo_file_id or answer.document_file_id:
        raise InputError("forms.expect_text")
    if answer.text == "":
        raise InputError("forms.expect_text")
    return answer.text
