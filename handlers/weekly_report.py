"""/weekly, on the team's last working day of the week: summary -> customer and market feedback
-> next week's key visits (tick customers, then a day or "spread over the week") -> the card.
On Submit the key visits become next week's plan entries (services.reports / services.plans)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from core.errors import UserFacingError
from core.periods import format_short_day
from handlers.customer_fields import expect_text
from handlers.forms import Form, FormInput, InputError, Prompt, register_form
from handlers.report_forms import answer_text, back_or, part_chosen, refused, sections_of
from handlers.turn import Turn
from services import customers, plans, reports, weekly_reports
from views import reports as views

PARTS = ("summary", "feedback", "keys")
MAX_CANDIDATES = 10


class WeeklyReportForm(Form):
    name = "weekly"
    first_step = "summary"
    command = "/weekly"
    summary_step = "review"
    back_key = "reports.back_to_card"
    roles = reports.REPORTERS
    in_place_steps = frozenset({"keys"})

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        """The week's draft, or the submitted report opened on its card."""
        draft = await weekly_reports.draft_weekly(
            turn.session, actor=turn.actor, team=await turn.team()
        )
        window = draft.window
        data.update(
            first=window.week.first.isoformat(), last=window.week.last.isoformat(),
            next_days=[day.isoformat() for day in window.next_days], late=draft.late,
            sections=[s.to_json() for s in draft.sections], keys=[], names={}, selected=[],
        )  # fmt: skip
        if draft.report is None:
            return "summary"
        visits = await weekly_reports.key_visit_customers(turn.session, draft.report)
        data.update(
            report_id=draft.report.id, summary=draft.report.summary,
            feedback=draft.report.feedback, keys=[[c.id, day.isoformat()] for day, c in visits],
            names={str(c.id): c.name for _, c in visits},
            selected=list(dict.fromkeys(c.id for _, c in visits)),
        )  # fmt: skip
        turn.say_key("reports.weekly_editing")
        return "review"

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        return await _PROMPTS[step](turn, data)

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        return await _ACCEPTS[step](turn, data, answer)


def _day(raw: str) -> date:
    return date.fromisoformat(raw)


# -- prompts ------------------------------------------------------------------------------


async def _ask_summary(turn: Turn, data: dict[str, Any]) -> Prompt:
    return Prompt(views.weekly_draft(
        turn.deps.texts, turn.lang, first=_day(data["first"]), last=_day(data["last"]),
        late=bool(data.get("late")), sections=sections_of(data),
    ))  # fmt: skip


async def _ask_feedback(turn: Turn, data: dict[str, Any]) -> Prompt:
    return Prompt(turn.t("reports.ask_feedback"), skippable=True)


async def _ask_keys(turn: Turn, data: dict[str, Any]) -> Prompt:
    """Picked customers first, then search results, then customers due for a visit."""
    rules = (await turn.team()).rules
    selected = [int(i) for i in data["selected"]]
    first_next = _day(data["next_days"][0])
    due = await plans.due_customers(turn.session, turn.actor, first_next, rules, MAX_CANDIDATES)
    due_ids = {entry.customer.id for entry in due}
    candidates: dict[int, str] = {cid: data["names"].get(str(cid), "") for cid in selected}
    for cid, name in data.get("results") or []:
        candidates.setdefault(int(cid), name)
    for entry in due[: max(0, MAX_CANDIDATES + len(selected) - len(candidates))]:
        candidates.setdefault(entry.customer.id or 0, entry.customer.name)
    rows = []
    for cid, name in candidates.items():
        mark = "✅ " if cid in selected else "⏰ " if cid in due_ids else ""
        rows.append([(f"{mark}{name}"[:60], f"t:{cid}")])
    rows.append([(turn.t("reports.keys_done", count=len(selected)), "done")])
    text = views.ask_keys(turn.deps.texts, turn.lang, first_next, data.get("query"))
    return Prompt(text, rows, skippable=True)


async def _ask_when(turn: Turn, data: dict[str, Any]) -> Prompt:
    days = [_day(d) for d in data["next_days"]]
    options = [(format_short_day(d, turn.lang), f"d:{d.isoformat()}") for d in days]
    rows = [options[i : i + 3] for i in range(0, len(options), 3)]
    rows.append([(turn.t("reports.spread"), "spread")])
    count = len(data["selected"])
    return Prompt(turn.tn("reports.ask_when", count, count=count), rows)


async def _ask_part(turn: Turn, data: dict[str, Any]) -> Prompt:
    labels = [(turn.t(f"reports.weekly_part_{part}"), part) for part in PARTS
              if part != "keys" or data.get("next_days")]  # fmt: skip
    back = [(turn.t("reports.back_to_card"), "back")]
    return Prompt(turn.t("reports.ask_part"), [labels, back])


async def _ask_review(turn: Turn, data: dict[str, Any]) -> Prompt:
    names: dict[str, str] = data.get("names") or {}
    keys = sorted((_day(day), names.get(str(cid), "?")) for cid, day in data["keys"])
    card = views.weekly_card(
        turn.deps.texts, turn.lang, first=_day(data["first"]), last=_day(data["last"]),
        sections=sections_of(data), summary=data.get("summary"),
        feedback=data.get("feedback"), key_visits=keys, late=bool(data.get("late")),
    )  # fmt: skip
    submit = turn.t("reports.save_changes" if data.get("report_id") else "reports.submit")
    return Prompt(card, [[(submit, "submit"), (turn.t("reports.edit"), "edit")]])


# -- answers ------------------------------------------------------------------------------


async def _summary(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    data["summary"] = answer_text(answer, reports.MAX_SUMMARY)
    return back_or(data, "feedback")


async def _feedback(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    data["feedback"] = None if answer.skipped else answer_text(answer, reports.MAX_FEEDBACK)
    return back_or(data, "keys" if data.get("next_days") else "review")


async def _keys(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    """Tick or untick a customer (a button, a #ref, or a search), Done, or Skip (none)."""
    selected = [int(i) for i in data["selected"]]
    if answer.skipped or (answer.choice == "done" and not selected):
        data.update(selected=[], keys=[])
        return back_or(data, "review")
    if answer.choice == "done":
        return "when"
    if answer.choice is not None:
        raw = answer.choice.removeprefix("t:")
        if not answer.choice.startswith("t:") or not raw.isdigit():
            raise InputError("forms.use_buttons")
        customer_id = int(raw)
    else:
        text = expect_text(answer)
        ref = customers.customer_ref(text)
        if ref is None:
            await _search(turn, data, text)
            return "keys"
        customer_id = ref
    await _toggle(turn, data, selected, customer_id)
    return "keys"


async def _search(turn: Turn, data: dict[str, Any], text: str) -> None:
    found = await customers.search(turn.session, turn.actor, text)
    if not found.customers:
        raise InputError("reports.no_customer_found", query=text[:40])
    data["results"] = [[c.id, c.name] for c in found.customers]
    data["query"] = text[:60]


async def _toggle(turn: Turn, data: dict[str, Any], selected: list[int], customer_id: int) -> None:
    try:
        customer = await customers.get_visible(turn.session, turn.actor, customer_id)
    except UserFacingError as error:
        raise InputError(error.key, **error.params) from None
    if customer.team_id != turn.actor.team_id:
        raise InputError("customers.not_found")
    if customer_id in selected:
        selected.remove(customer_id)
    elif len(selected) >= reports.MAX_KEY_VISITS:
        raise InputError("reports.too_many_key_visits", limit=reports.MAX_KEY_VISITS)
    else:
        selected.append(customer_id)
        data["names"][str(customer_id)] = customer.name
    data["selected"] = selected


async def _when(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    days = [_day(d) for d in data["next_days"]]
    selected = [int(i) for i in data["selected"]]
    chosen = (answer.choice or "").removeprefix("d:")
    if answer.choice == "spread":
        keys = weekly_reports.spread_over(selected, days)
    elif chosen in data["next_days"]:
        keys = [(cid, _day(chosen)) for cid in selected]
    else:
        raise InputError("forms.use_buttons")
    data["keys"] = [[cid, day.isoformat()] for cid, day in keys]
    return back_or(data, "review")


async def _part(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    return part_chosen(data, answer, PARTS)


async def _review(turn: Turn, data: dict[str, Any], answer: FormInput) -> str | None:
    if answer.choice == "edit":
        return "edit"
    if answer.choice != "submit":
        raise InputError("forms.use_buttons")
    keys = [(int(cid), _day(day)) for cid, day in data["keys"]]
    content = weekly_reports.WeeklyContent(data.get("summary"), data.get("feedback"), keys)
    try:
        async with turn.session.begin_nested():
            done = await weekly_reports.submit_weekly(
                turn.session, actor=turn.actor, content=content, team=await turn.team(),
                report_id=data.get("report_id"),
            )  # fmt: skip
    except UserFacingError as error:
        refused(turn, error)
        return None
    turn.say(views.weekly_submitted(
        turn.deps.texts, turn.lang, created=done.created, late=done.report.late,
        planned=[(day, customer.name) for day, customer in done.planned],
    ))  # fmt: skip
    return None


PromptFn = Callable[[Turn, dict[str, Any]], Awaitable[Prompt]]
AcceptFn = Callable[[Turn, dict[str, Any], FormInput], Awaitable[str | None]]
_PROMPTS: dict[str, PromptFn] = {
    "summary": _ask_summary, "feedback": _ask_feedback, "keys": _ask_keys, "when": _ask_when,
    "edit": _ask_part, "review": _ask_review,
}  # fmt: skip
_ACCEPTS: dict[str, AcceptFn] = {
    "summary": _summary, "feedback": _feedback, "keys": _keys, "when": _when, "edit": _part,
    "review": _review,
}  # fmt: skip

WEEKLY_FORM = register_form(WeeklyReportForm())
