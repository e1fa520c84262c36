"""What the report forms share, and a manager's answer to a problem flagged in a report.

The forms themselves: handlers/daily_report.py (/report) and handlers/weekly_report.py
(/weekly). Each opens on a draft the services fill from the day's or week's data; nothing is
stored before Submit, and a submitted report opens again on its card, to be edited.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from core.errors import UserFacingError
from handlers.customer_fields import expect_text
from handlers.error_text import say_error
from handlers.forms import Form, FormInput, InputError, Prompt, register_form
from handlers.turn import Turn
from models.report import ProblemStatus
from services import reports
from services.report_sections import Section, stored_sections
from views import reports as views


def answer_text(answer: FormInput, limit: int) -> str:
    """A typed answer within ``limit`` characters; buttons, photos, voice... are refused."""
    if answer.choice is not None:
        raise InputError("forms.use_buttons")
    text = expect_text(answer).strip()
    if not text:
        raise InputError("forms.expect_text")
    if len(text) > limit:
        raise InputError("reports.text_too_long", limit=limit, length=len(text))
    return text


def back_or(data: dict[str, Any], natural: str) -> str:
    """Go on to ``natural``, or back to the card when one part was being edited."""
    return "review" if data.pop("_return", None) else natural


def sections_of(data: dict[str, Any]) -> list[Section]:
    return stored_sections(data.get("sections") or [])


def part_chosen(data: dict[str, Any], answer: FormInput, parts: tuple[str, ...]) -> str:
    """The "Edit a part" menu: the part's step (returning to the card after it), or the card."""
    if answer.choice == "back":
        return "review"
    if answer.choice not in parts:
        raise InputError("forms.use_buttons")
    data["_return"] = True
    return answer.choice


def refused(turn: Turn, error: UserFacingError) -> None:
    """A refusal at Submit (the day closed meanwhile...) ends the form with the reason."""
    say_error(turn, error)


class ProblemReplyForm(Form):
    """One step: the manager's answer, delivered to the rep through the outbox."""

    name = "problem_reply"
    first_step = "text"
    roles = reports.READERS

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        problem, rep = await reports.visible_problem(
            turn.session, turn.actor, int(data["problem_id"])
        )
        if problem.status == ProblemStatus.WITHDRAWN:
            raise UserFacingError("reports.problem_withdrawn")
        data.update(name=rep.display_name, day=problem.day.isoformat(), problem=problem.text)
        return "text"

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        return Prompt(views.ask_reply(
            turn.deps.texts, turn.lang, name=data["name"],
            day=date.fromisoformat(data["day"]), problem=data["problem"],
        ))  # fmt: skip

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        text = answer_text(answer, reports.MAX_REPLY)
        try:
            async with turn.session.begin_nested():
                await reports.answer_problem(
                    turn.session, actor=turn.actor, problem_id=int(data["problem_id"]),
                    text=text, render=turn.render, now=turn.now,
                )  # fmt: skip
        except UserFacingError as error:
            refused(turn, error)
            return None
        turn.say(views.reply_sent(turn.deps.texts, turn.lang, data["name"]))
        return None


REPLY_FORM = register_form(ProblemReplyForm())
