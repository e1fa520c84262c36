"""The report forms: the daily report (/report), the weekly report (/weekly) and a manager's
answer to a problem. Each opens on a draft the services fill from the day's or week's data;
nothing is stored before Submit, and a submitted report opens again on its card to be edited.

Daily:  [day] -> summary -> problem -> tomorrow's plan -> card (Submit / Edit a part)
Weekly: summary -> feedback -> next week's key visits (tick customers) -> which day -> card
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from handlers.customer_fields import expect_text
from handlers.forms import Form, FormInput, InputError, Prompt, register_form
from handlers.turn import Turn
from handlers.visit_form import rules_of
from models.report import ProblemStatus
from services import customers, plans, report_texts, reports
from services.errors import UserFacingError
from services.periods import format_day, format_short_day
from services.report_sections import Section

DAILY_PARTS = ("summary", "problem", "tomorrow")
WEEKLY_PARTS = ("summary", "feedback", "keys")
MAX_CANDIDATES = 10


def _text(answer: FormInput, limit: int) -> str:
    """A typed answer within ``limit`` characters; buttons, photos, voice... are refused."""
    if answer.choice is not None:
        raise InputError("forms.use_buttons")
    text = expect_text(answer).strip()
    if not text:
        raise InputError("forms.expect_text")
    if len(text) > limit:
        raise InputError("reports.text_too_long", limit=limit, length=len(text))
    return text


def _after(data: dict[str, Any], natural: str) -> str:
    """Go on to ``natural``, or back to the card when one part was being edited."""
    if data.pop("_return", None):
        return "review"
    return natural


def _sections(data: dict[str, Any]) -> list[Section]:
    return report_texts.stored_sections(data.get("sections") or [])


async def _submit_failed(turn: Turn, error: UserFacingError) -> None:
    """A refusal at Submit (the day closed meanwhile...) ends the form with the reason."""
    turn.say(turn.t(error.key, **error.params))


# -- daily --------------------------------------------------------------------------------


class DailyReportForm(Form):
    name = "report"
    first_step = "summary"
    roles = reports.REPORTERS

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        rules = await rules_of(turn)
        if data.get("day"):
            return await self._load(turn, data, date.fromisoformat(data["day"]))
        days = await reports.report_days(turn.session, turn.actor, rules, turn.now)
        if days.missed is not None and days.today_open:
            data["choices"] = [days.today.isoformat(), days.missed.isoformat()]
            return "day"
        if days.today_open:
            return await self._load(turn, data, days.today)
        if days.missed is not None:
            return await self._load(turn, data, days.missed)
        raise UserFacingError("reports.no_report_due", day=days.today)

    async def _load(self, turn: Turn, data: dict[str, Any], day: date) -> str:
        rules = await rules_of(turn)
        draft = await reports.draft_daily(
            turn.session, actor=turn.actor, day=day, rules=rules, now=turn.now
        )
        data.update(
            day=day.isoformat(), late=draft.late, sections=[s.to_json() for s in draft.sections],
            tomorrow=draft.tomorrow.isoformat() if draft.tomorrow else None,
            planned=draft.tomorrow_planned,
        )  # fmt: skip
        if draft.report is None:
            return "summary"
        live = draft.problem is not None and draft.problem.status != ProblemStatus.WITHDRAWN
        data.update(
            report_id=draft.report.id, summary=draft.report.summary,
            problem=draft.problem.text if draft.problem is not None and live else None,
            plan=draft.report.tomorrow_plan,
        )  # fmt: skip
        turn.say_key("reports.editing", day=day)
        return "review"

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        t = turn.t
        if step == "day":
            today, missed = (date.fromisoformat(d) for d in data["choices"])
            return Prompt(t("reports.ask_day"), [
                [(t("reports.day_today", day=format_short_day(today, turn.lang)),
                  f"d:{today.isoformat()}")],
                [(t("reports.day_missed", day=format_short_day(missed, turn.lang)),
                  f"d:{missed.isoformat()}")],
            ])  # fmt: skip
        day = date.fromisoformat(data["day"])
        if step == "summary":
            lines = [t("reports.draft_header", day=format_day(day, turn.lang))]
            if data.get("late"):
                lines.append(t("reports.draft_late"))
            lines += ["", *report_texts.section_lines(turn.deps.texts, turn.lang,
                                                     _sections(data))]  # fmt: skip
            lines += ["", t("reports.ask_summary")]
            return Prompt("\n".join(lines))
        if step == "problem":
            return Prompt(t("reports.ask_problem"), [[(t("reports.no_problem"), "none")]])
        if step == "tomorrow":
            tomorrow = format_short_day(date.fromisoformat(data["tomorrow"]), turn.lang)
            planned = data.get("planned") or []
            if planned:
                listed = "\n".join(f"• {html.escape(name)}" for name in planned)
                text = t("reports.ask_tomorrow_planned", day=tomorrow, plan=listed)
                return Prompt(text, [[(t("reports.keep_plan"), "keep")]], skippable=True)
            return Prompt(t("reports.ask_tomorrow", day=tomorrow), skippable=True)
        if step == "edit":
            labels = [(t(f"reports.part_{part}"), part) for part in DAILY_PARTS
                      if part != "tomorrow" or data.get("tomorrow")]  # fmt: skip
            return Prompt(t("reports.ask_part"), [labels, [(t("reports.back_to_card"), "back")]])
        card = report_texts.daily_card(
            turn.deps.texts, turn.lang, day=day, sections=_sections(data),
            summary=data.get("summary"), problem=data.get("problem"),
            tomorrow_plan=data.get("plan"), late=bool(data.get("late")),
        )  # fmt: skip
        submit = "reports.save_changes" if data.get("report_id") else "reports.submit"
        return Prompt(card, [[(t(submit), "submit"), (t("reports.edit"), "edit")]])

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        if step == "day":
            chosen = (answer.choice or "").removeprefix("d:")
            if chosen not in data["choices"]:
                raise InputError("forms.use_buttons")
            try:
                return await self._load(turn, data, date.fromisoformat(chosen))
            except UserFacingError as error:
                raise InputError(error.key, **error.params) from None
        if step == "summary":
            data["summary"] = _text(answer, reports.MAX_SUMMARY)
            return _after(data, "problem")
        if step == "problem":
            data["problem"] = (
                None if answer.choice == "none" else _text(answer, reports.MAX_PROBLEM)
            )
            return _after(data, "tomorrow" if data.get("tomorrow") else "review")
        if step == "tomorrow":
            if answer.skipped:
                data["plan"] = None
            elif answer.choice == "keep" and data.get("planned"):
                data["plan"] = "\n".join(f"• {name}" for name in data["planned"])
            else:
                data["plan"] = _text(answer, reports.MAX_PLAN)
            data.pop("_return", None)
            return "review"
        if step == "edit":
            if answer.choice == "back":
                return "review"
            if answer.choice not in DAILY_PARTS:
                raise InputError("forms.use_buttons")
            data["_return"] = True
            return answer.choice
        if answer.choice == "edit":
            return "edit"
        if answer.choice != "submit":
            raise InputError("forms.use_buttons")
        await self._submit(turn, data)
        return None

    async def _submit(self, turn: Turn, data: dict[str, Any]) -> None:
        rules = await rules_of(turn)
        day = date.fromisoformat(data["day"])
        content = reports.DailyContent(data.get("summary"), data.get("problem"), data.get("plan"))
        try:
            async with turn.session.begin_nested():
                done = await reports.submit_daily(
                    turn.session, actor=turn.actor, day=day, content=content, rules=rules,
                    now=turn.now, report_id=data.get("report_id"),
                )  # fmt: skip
        except UserFacingError as error:
            await _submit_failed(turn, error)
            return
        if not done.created:
            key = "reports.updated"
        else:
            key = "reports.submitted_late" if done.report.late else "reports.submitted"
        lines = [turn.t(key, day=format_day(day, turn.lang))]
        if done.problem is not None and done.problem.status == ProblemStatus.OPEN:
            lines.append(turn.t("reports.problem_noted"))
        if reports.week_window(rules, day).last_working_day == day:
            lines.append(turn.t("reports.weekly_hint"))
        turn.say("\n".join(lines))


# -- weekly -------------------------------------------------------------------------------


class WeeklyReportForm(Form):
    name = "weekly"
    first_step = "summary"
    roles = reports.REPORTERS
    in_place_steps = frozenset({"keys"})

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        rules = await rules_of(turn)
        draft = await reports.draft_weekly(
            turn.session, actor=turn.actor, rules=rules, now=turn.now
        )
        window = draft.window
        data.update(
            first=window.week.first.isoformat(), last=window.week.last.isoformat(),
            next_days=[day.isoformat() for day in window.next_days], late=draft.late,
            sections=[s.to_json() for s in draft.sections], keys=[], names={}, selected=[],
        )  # fmt: skip
        if draft.report is None:
            return "summary"
        report = draft.report
        visits = await reports.key_visit_customers(turn.session, report)
        data.update(
            report_id=report.id, summary=report.summary, feedback=report.feedback,
            keys=[[c.id, day.isoformat()] for day, c in visits],
            names={str(c.id): c.name for _, c in visits},
            selected=list(dict.fromkeys(c.id for _, c in visits)),
        )  # fmt: skip
        turn.say_key("reports.weekly_editing")
        return "review"

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        t = turn.t
        if step == "summary":
            first, last = date.fromisoformat(data["first"]), date.fromisoformat(data["last"])
            lines = [t("reports.weekly_draft_header", first=format_short_day(first, turn.lang),
                       last=format_short_day(last, turn.lang))]  # fmt: skip
            if data.get("late"):
                lines.append(t("reports.weekly_draft_late"))
            lines += ["", *report_texts.section_lines(turn.deps.texts, turn.lang,
                                                     _sections(data))]  # fmt: skip
            lines += ["", t("reports.ask_weekly_summary")]
            return Prompt("\n".join(lines))
        if step == "feedback":
            return Prompt(t("reports.ask_feedback"), skippable=True)
        if step == "keys":
            return await self._keys_prompt(turn, data)
        if step == "when":
            days = [date.fromisoformat(d) for d in data["next_days"]]
            options = [(format_short_day(d, turn.lang), f"d:{d.isoformat()}") for d in days]
            rows = [options[i : i + 3] for i in range(0, len(options), 3)]
            rows.append([(t("reports.spread"), "spread")])
            return Prompt(t("reports.ask_when", count=len(data["selected"])), rows)
        if step == "edit":
            labels = [(t(f"reports.weekly_part_{part}"), part) for part in WEEKLY_PARTS
                      if part != "keys" or data.get("next_days")]  # fmt: skip
            return Prompt(t("reports.ask_part"), [labels, [(t("reports.back_to_card"), "back")]])
        names: dict[str, str] = data.get("names") or {}
        keys = [(date.fromisoformat(day), names.get(str(cid), "?")) for cid, day in data["keys"]]
        card = report_texts.weekly_card(
            turn.deps.texts, turn.lang,
            first=date.fromisoformat(data["first"]), last=date.fromisoformat(data["last"]),
            sections=_sections(data), summary=data.get("summary"),
            feedback=data.get("feedback"), key_visits=sorted(keys), late=bool(data.get("late")),
        )  # fmt: skip
        submit = "reports.save_changes" if data.get("report_id") else "reports.submit"
        return Prompt(card, [[(t(submit), "submit"), (t("reports.edit"), "edit")]])

    async def _keys_prompt(self, turn: Turn, data: dict[str, Any]) -> Prompt:
        rules = await rules_of(turn)
        selected = [int(i) for i in data["selected"]]
        names: dict[str, str] = data["names"]
        first_next = date.fromisoformat(data["next_days"][0])
        due = await plans.due_customers(turn.session, turn.actor, first_next, rules,
                                        MAX_CANDIDATES)  # fmt: skip
        due_ids = {entry.customer.id for entry in due}
        candidates: dict[int, str] = {cid: names.get(str(cid), "") for cid in selected}
        for cid, name in data.get("results") or []:
            candidates.setdefault(int(cid), name)
        for entry in due:
            if len(candidates) >= MAX_CANDIDATES + len(selected):
                break
            candidates.setdefault(entry.customer.id or 0, entry.customer.name)
        rows = []
        for cid, name in candidates.items():
            mark = "✅ " if cid in selected else "⏰ " if cid in due_ids else ""
            rows.append([(f"{mark}{name}"[:60], f"t:{cid}")])
        rows.append([(turn.t("reports.keys_done", count=len(selected)), "done")])
        text = turn.t("reports.ask_keys",
                      first=format_short_day(first_next, turn.lang))  # fmt: skip
        if data.get("query"):
            text += "\n" + turn.t("plans.search_results", query=html.escape(data["query"]))
        return Prompt(text, rows, skippable=True)

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        if step == "summary":
            data["summary"] = _text(answer, reports.MAX_SUMMARY)
            return _after(data, "feedback")
        if step == "feedback":
            data["feedback"] = None if answer.skipped else _text(answer, reports.MAX_FEEDBACK)
            return _after(data, "keys" if data.get("next_days") else "review")
        if step == "keys":
            return await self._toggle(turn, data, answer)
        if step == "when":
            return self._assign_days(data, answer)
        if step == "edit":
            if answer.choice == "back":
                return "review"
            if answer.choice not in WEEKLY_PARTS:
                raise InputError("forms.use_buttons")
            data["_return"] = answer.choice != "keys"
            return answer.choice
        if answer.choice == "edit":
            return "edit"
        if answer.choice != "submit":
            raise InputError("forms.use_buttons")
        await self._submit(turn, data)
        return None

    async def _toggle(self, turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
        selected = [int(i) for i in data["selected"]]
        if answer.skipped:
            data.update(selected=[], keys=[])
            return "review"
        if answer.choice == "done":
            if not selected:
                data["keys"] = []
                return "review"
            return "when"
        if answer.choice and answer.choice.startswith("t:"):
            raw = answer.choice[2:]
            customer_id = int(raw) if raw.isdigit() else -1
        elif answer.choice is not None:
            raise InputError("forms.use_buttons")
        else:
            text = expect_text(answer)
            ref = customers.customer_ref(text)
            if ref is None:
                found = await customers.search(turn.session, turn.actor, text)
                if not found.customers:
                    raise InputError("reports.no_customer_found", query=html.escape(text[:40]))
                data["results"] = [[c.id, c.name] for c in found.customers]
                data["query"] = text[:60]
                return "keys"
            customer_id = ref
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
        return "keys"

    def _assign_days(self, data: dict[str, Any], answer: FormInput) -> str:
        days: list[str] = data["next_days"]
        selected = [int(i) for i in data["selected"]]
        if answer.choice == "spread":
            data["keys"] = [[cid, days[n % len(days)]] for n, cid in enumerate(selected)]
        elif answer.choice and answer.choice.removeprefix("d:") in days:
            day = answer.choice.removeprefix("d:")
            data["keys"] = [[cid, day] for cid in selected]
        else:
            raise InputError("forms.use_buttons")
        return "review"

    async def _submit(self, turn: Turn, data: dict[str, Any]) -> None:
        rules = await rules_of(turn)
        content = reports.WeeklyContent(
            data.get("summary"), data.get("feedback"),
            [(int(cid), date.fromisoformat(day)) for cid, day in data["keys"]],
        )  # fmt: skip
        try:
            async with turn.session.begin_nested():
                done = await reports.submit_weekly(
                    turn.session, actor=turn.actor, content=content, rules=rules, now=turn.now,
                    report_id=data.get("report_id"),
                )  # fmt: skip
        except UserFacingError as error:
            await _submit_failed(turn, error)
            return
        if not done.created:
            key = "reports.weekly_updated"
        else:
            key = (
                "reports.weekly_submitted_late" if done.report.late else "reports.weekly_submitted"
            )
        lines = [turn.t(key)]
        if done.planned:
            lines.append(turn.t("reports.next_week_planned", count=len(done.planned)))
            lines += [f"• {format_short_day(day, turn.lang)}: {html.escape(customer.name)}"
                      for day, customer in done.planned]  # fmt: skip
        turn.say("\n".join(lines))


# -- a manager's answer -------------------------------------------------------------------


class ProblemReplyForm(Form):
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
        return Prompt(
            turn.t(
                "reports.ask_reply", name=html.escape(data["name"]),
                day=format_short_day(date.fromisoformat(data["day"]), turn.lang),
                problem=html.escape(report_texts.shorten(data["problem"], 600)),
            )
        )  # fmt: skip

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        text = _text(answer, reports.MAX_REPLY)
        try:
            async with turn.session.begin_nested():
                await reports.answer_problem(
                    turn.session, actor=turn.actor, problem_id=int(data["problem_id"]),
                    text=text, texts=turn.deps.texts, now=turn.now,
                )  # fmt: skip
        except UserFacingError as error:
            await _submit_failed(turn, error)
            return None
        turn.say_key("reports.reply_sent", name=html.escape(data["name"]))
        return None


DAILY_FORM = register_form(DailyReportForm())
WEEKLY_FORM = register_form(WeeklyReportForm())
REPLY_FORM = register_form(ProblemReplyForm())
