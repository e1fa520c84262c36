"""/report: [which day] -> summary -> problem for the manager -> tomorrow's plan -> the card
(Submit, or Edit a part). The visits and plan of the day are filled in by the services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from core.errors import UserFacingError
from core.periods import format_short_day
from handlers.forms import Form, FormInput, InputError, Prompt, register_form
from handlers.report_forms import answer_text, back_or, part_chosen, refused, sections_of
from handlers.turn import Turn
from models.report import ProblemStatus
from services import reports, weekly_reports
from views import reports as views

PARTS = ("summary", "problem", "tomorrow")


class DailyReportForm(Form):
    name = "report"
    first_step = "summary"
    command = "/report"
    summary_step = "review"
    back_key = "reports.back_to_card"
    roles = reports.REPORTERS

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        """The day given (a reminder's button), or today, or a choice with a missed day."""
        if data.get("day"):
            return await _load(turn, data, date.fromisoformat(data["day"]))
        days = await reports.report_days(turn.session, turn.actor, await turn.team())
        if days.missed is not None and days.today_open:
            data["choices"] = [days.today.isoformat(), days.missed.isoformat()]
            return "day"
        if days.today_open or days.missed is not None:
            return await _load(turn, data, days.today if days.today_open else days.missed)
        raise UserFacingError("reports.no_report_due", day=days.today)

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        return await _PROMPTS[step](turn, data)

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        return await _ACCEPTS[step](turn, data, answer)


async def _load(turn: Turn, data: dict[str, Any], day: date | None) -> str:
    """The draft of ``day``: a new report, or the submitted one opened on its card."""
    assert day is not None
    draft = await reports.draft_daily(
        turn.session, actor=turn.actor, day=day, team=await turn.team()
    )
    data.update(
        day=day.isoformat(), late=draft.late, sections=[s.to_json() for s in draft.sections],
        tomorrow=draft.tomorrow.isoformat() if draft.tomorrow else None,
        planned=draft.tomorrow_planned,
    )  # fmt: skip
    if draft.report is None:
        return "summary"
    problem = draft.problem
    live = problem is not None and problem.status != ProblemStatus.WITHDRAWN
    data.update(
        report_id=draft.report.id, summary=draft.report.summary,
        problem=problem.text if problem is not None and live else None,
        plan=draft.report.tomorrow_plan,
    )  # fmt: skip
    turn.say_key("reports.editing", day=day)
    return "review"


# -- prompts ------------------------------------------------------------------------------


async def _ask_day(turn: Turn, data: dict[str, Any]) -> Prompt:
    today, missed = (date.fromisoformat(d) for d in data["choices"])
    return Prompt(turn.t("reports.ask_day"), [
        [(turn.t("reports.day_today", day=format_short_day(today, turn.lang)),
          f"d:{today.isoformat()}")],
        [(turn.t("reports.day_missed", day=format_short_day(missed, turn.lang)),
          f"d:{missed.isoformat()}")],
    ])  # fmt: skip


async def _ask_summary(turn: Turn, data: dict[str, Any]) -> Prompt:
    return Prompt(views.daily_draft(
        turn.deps.texts, turn.lang, day=date.fromisoformat(data["day"]),
        late=bool(data.get("late")), sections=sections_of(data),
    ))  # fmt: skip


async def _ask_problem(turn: Turn, data: dict[str, Any]) -> Prompt:
    return Prompt(turn.t("reports.ask_problem"), [[(turn.t("reports.no_problem"), "none")]])


async def _ask_tomorrow(turn: Turn, data: dict[str, Any]) -> Prompt:
    planned = data.get("planned") or []
    text = views.ask_tomorrow(
        turn.deps.texts,
        turn.lang,
        date.fromisoformat(data["tomorrow"]),
        planned,
        after=date.fromisoformat(data["day"]),
    )
    keep = [[(turn.t("reports.keep_plan"), "keep")]] if planned else []
    return Prompt(text, keep, skippable=True)


async def _ask_part(turn: Turn, data: dict[str, Any]) -> Prompt:
    labels = [(turn.t(f"reports.part_{part}"), part) for part in PARTS
              if part != "tomorrow" or data.get("tomorrow")]  # fmt: skip
    back = [(turn.t("reports.back_to_card"), "back")]
    return Prompt(turn.t("reports.ask_part"), [labels, back])


async def _ask_review(turn: Turn, data: dict[str, Any]) -> Prompt:
    card = views.daily_card(
        turn.deps.texts, turn.lang, day=date.fromisoformat(data["day"]),
        sections=sections_of(data), summary=data.get("summary"), problem=data.get("problem"),
        tomorrow_plan=data.get("plan"), late=bool(data.get("late")),
    )  # fmt: skip
    submit = turn.t("reports.save_changes" if data.get("report_id") else "reports.submit")
    return Prompt(card, [[(submit, "submit"), (turn.t("reports.edit"), "edit")]])


# -- answers ------------------------------------------------------------------------------


async def _day(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    chosen = (answer.choice or "").removeprefix("d:")
    if chosen not in data["choices"]:
        raise InputError("forms.use_buttons")
    try:
        return await _load(turn, data, date.fromisoformat(chosen))
    except UserFacingError as error:
        raise InputError(error.key, **error.params) from None


async def _summary(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    data["summary"] = answer_text(answer, reports.MAX_SUMMARY)
    return back_or(data, "problem")


async def _problem(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    no_problem = answer.choice == "none"
    data["problem"] = None if no_problem else answer_text(answer, reports.MAX_PROBLEM)
    return back_or(data, "tomorrow" if data.get("tomorrow") else "review")


async def _tomorrow(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    if answer.skipped:
        data["plan"] = None
    elif answer.choice == "keep" and data.get("planned"):
        data["plan"] = "\n".join(f"• {name}" for name in data["planned"])
    else:
        data["plan"] = answer_text(answer, reports.MAX_PLAN)
    return back_or(data, "review")


async def _part(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    return part_chosen(data, answer, PARTS)


async def _review(turn: Turn, data: dict[str, Any], answer: FormInput) -> str | None:
    if answer.choice == "edit":
        return "edit"
    if answer.choice != "submit":
        raise InputError("forms.use_buttons")
    team = await turn.team()
    day = date.fromisoformat(data["day"])
    content = reports.DailyContent(data.get("summary"), data.get("problem"), data.get("plan"))
    try:
        async with turn.session.begin_nested():
            done = await reports.submit_daily(
                turn.session, actor=turn.actor, day=day, content=content, team=team,
                report_id=data.get("report_id"),
            )  # fmt: skip
    except UserFacingError as error:
        refused(turn, error)
        return None
    turn.say(views.daily_submitted(
        turn.deps.texts, turn.lang, day=day, created=done.created, late=done.report.late,
        problem_open=done.problem is not None and done.problem.status == ProblemStatus.OPEN,
        weekly_due=weekly_reports.week_window(team.rules, day).last_working_day == day,
    ))  # fmt: skip
    return None


PromptFn = Callable[[Turn, dict[str, Any]], Awaitable[Prompt]]
AcceptFn = Callable[[Turn, dict[str, Any], FormInput], Awaitable[str | None]]
_PROMPTS: dict[str, PromptFn] = {
    "day": _ask_day, "summary": _ask_summary, "problem": _ask_problem,
    "tomorrow": _ask_tomorrow, "edit": _ask_part, "review": _ask_review,
}  # fmt: skip
_ACCEPTS: dict[str, AcceptFn] = {
    "day": _day, "summary": _summary, "problem": _problem, "tomorrow": _tomorrow,
    "edit": _part, "review": _review,
}  # fmt: skip

DAILY_FORM = register_form(DailyReportForm())
