"""/plan, /today, /week and /due.

The morning message is computed by ``services.plans.morning_list`` and rendered by
``views.plans.render_morning``; sending it at each team's configured time is the scheduler's job.
"""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import UserFacingError
from core.periods import format_day, format_short_day
from handlers.commands import declare
from handlers.customer_fields import expect_text
from handlers.forms import Form, FormInput, InputError, Prompt, register_form, start_form
from handlers.turn import Turn, turn_handler
from handlers.visit_form import VISIT_FORM, VISITORS
from models.visit import VisitPurpose
from services import customers, plans, route, visits
from services.dates import parse_date
from services.plans import working_days
from views.plans import (
    PLAN,
    REMOVE,
    START_PLANNING,
    TodayData,
    due_page,
    saved_text,
    today_page,
    week_page,
)
from views.route import ROUTE, route_page

MAX_CANDIDATES = 10
MAX_SELECTED = 20

declare("today", roles=VISITORS, order=12)
declare("week", roles=VISITORS, order=13)
declare("plan", roles=VISITORS, order=14)
declare("due", roles=VISITORS, order=15)


class PlanForm(Form):
    """Choose a day, tick customers (overdue ones first), optionally a purpose; repeat."""

    name = "plan"
    first_step = "day"
    command = "/plan"
    roles = VISITORS
    in_place_steps = frozenset({"customers"})

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        data.setdefault("selected", [])
        data.setdefault("names", {})
        if data.get("customer_id"):
            customer = await customers.get_visible(
                turn.session, turn.actor, int(data["customer_id"])
            )
            data["selected"] = [customer.id]
            data["names"] = {str(customer.id): customer.name}
        return "day"

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        team = await turn.team()
        rules, today = team.rules, team.today
        if step == "day":
            days = working_days(rules, today, 6)
            options = [(format_short_day(d, turn.lang), f"d:{d.isoformat()}") for d in days]
            return Prompt(turn.t("plans.ask_day"), [options[i : i + 2] for i in range(0, 6, 2)])
        day = date.fromisoformat(data["day"])
        if step == "customers":
            return await self._customers_prompt(turn, data, day)
        if step == "purpose":
            options = [(turn.t(f"visits.purpose_{p}"), str(p)) for p in VisitPurpose]
            rows = [options[i : i + 2] for i in range(0, 5, 2)]
            return Prompt(turn.t("plans.ask_purpose"), rows, skippable=True)
        following = working_days(rules, day + timedelta(days=1), 1)
        rows = [[(turn.t("plans.finish"), "finish")]]
        if following:
            label = turn.t("plans.plan_next_day", day=format_short_day(following[0], turn.lang))
            rows.insert(0, [(label, f"d:{following[0].isoformat()}")])
        return Prompt(turn.t("plans.ask_more"), rows, cancellable=False)

    async def _customers_prompt(self, turn: Turn, data: dict[str, Any], day: date) -> Prompt:
        selected = [int(i) for i in data["selected"]]
        names: dict[str, str] = data["names"]
        team = await turn.team()
        due = await plans.due_customers(
            turn.session, turn.actor, team.today, team.rules, MAX_CANDIDATES
        )
        due_ids = {d.customer.id for d in due}
        # The day's plan stays listed, an entry unticked included, so a slip can be undone.
        planned = [int(i) for i in data.get("planned") or []]
        candidates = {cid: names.get(str(cid), "") for cid in planned + selected}
        for cid, name in data.get("results") or []:
            candidates.setdefault(int(cid), name)
        for entry in due:
            if len(candidates) >= MAX_CANDIDATES + len(selected):
                break
            candidates.setdefault(entry.customer.id or 0, entry.customer.name)
        rows = []
        done_ids = {int(i) for i in data.get("done") or []}
        for cid, name in candidates.items():
            if cid in done_ids:
                label = turn.t("plans.entry_done", name=name)
            else:
                mark = "✅ " if cid in selected else "⏰ " if cid in due_ids else ""
                label = f"{mark}{name}"
            rows.append([(label[:60], f"t:{cid}")])
        rows.append([(turn.t("plans.done", count=len(selected)), "done")])
        text = turn.t("plans.ask_customers", day=format_day(day, turn.lang))
        if data.get("planned"):
            text += "\n" + turn.t("plans.already_planned", count=len(data["planned"]))
        if data.get("query"):
            text += "\n" + turn.t("plans.search_results", query=html.escape(data["query"]))
        return Prompt(text, rows)

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        today = (await turn.team()).today
        if step == "day":
            await _open_day(turn, data, _chosen_day(turn, answer, today))
            return "customers"
        if step == "customers":
            return await self._toggle(turn, data, answer)
        if step == "purpose":
            if not answer.skipped and answer.choice not in tuple(VisitPurpose):
                raise InputError("forms.use_buttons")
            purpose = None if answer.skipped else VisitPurpose(answer.choice or "")
            await _save(turn, data, purpose, today)
            return "more"
        if answer.choice == "finish":
            turn.say_key("plans.finished")
            return None
        day = _chosen_day(turn, answer, today)
        data.update(selected=[], names={}, results=[], query="")
        await _open_day(turn, data, day)
        return "customers"

    async def _toggle(self, turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
        selected: list[int] = [int(i) for i in data["selected"]]
        if answer.choice == "done":
            planned = {int(i) for i in data.get("planned") or []}
            if not selected and not planned:
                raise InputError("plans.choose_some")
            if any(cid not in planned for cid in selected):
                return "purpose"
            # Only removals (or nothing): the purpose is asked for new entries alone.
            await _save(turn, data, None, (await turn.team()).today)
            return "more"
        if answer.choice and answer.choice.startswith("t:"):
            raw = answer.choice[2:]
            customer_id = int(raw) if raw.isdigit() else -1
        elif answer.choice is not None:
            raise InputError("forms.use_buttons")
        else:
            if answer.text is None or answer.photo_file_id or answer.document_file_id:
                raise InputError("plans.tap_or_type")
            text = expect_text(answer)
            # Buttons carry no numbers: a short number is a miss, not a search (phone numbers,
            # three digits or more, are searched).
            if text.isdigit() and len(text) < 3:
                raise InputError("plans.no_such_number", number=text)
            ref = customers.customer_ref(text)
            if ref is None:
                found = await customers.search(turn.session, turn.actor, text)
                data["results"] = [[c.id, c.name] for c in found.customers]
                data["query"] = text[:60]
                return "customers"
            customer_id = ref
        try:
            customer = await customers.get_visible(turn.session, turn.actor, customer_id)
        except UserFacingError as error:
            raise InputError(error.key, **error.params) from None
        if customer.team_id != turn.actor.team_id:
            raise InputError("customers.not_found")
        if customer_id in {int(i) for i in data.get("done") or []}:
            raise InputError("plans.done_stays", name=customer.name)
        if customer_id in selected:
            selected.remove(customer_id)
        elif len(selected) >= MAX_SELECTED:
            raise InputError("plans.too_many", limit=MAX_SELECTED)
        else:
            selected.append(customer_id)
            data["names"][str(customer_id)] = customer.name
        data["selected"] = selected
        return "customers"


def _chosen_day(turn: Turn, answer: FormInput, today: date) -> date:
    if answer.choice and answer.choice.startswith("d:"):
        try:
            chosen = date.fromisoformat(answer.choice[2:])
        except ValueError:
            raise InputError("forms.use_buttons") from None
    elif answer.choice is not None:
        raise InputError("forms.use_buttons")
    else:
        text = expect_text(answer)
        parsed = parse_date(text, today)
        if parsed is None:
            raise InputError("visits.date_unreadable", text=text[:40])
        chosen = parsed
    if chosen < today:
        raise InputError("visits.date_in_past", day=format_day(chosen, turn.lang))
    if (chosen - today).days > plans.MAX_PLAN_AHEAD_DAYS:
        raise InputError("plans.day_too_far", days=plans.MAX_PLAN_AHEAD_DAYS)
    if answer.choice is None:
        turn.say_key("visits.date_understood", day=format_day(chosen, turn.lang))
    return chosen


async def _open_day(turn: Turn, data: dict[str, Any], day: date) -> None:
    """Start the day's list from its plan: planned customers ticked (done ones fixed), plus any
    customer the form was opened with."""
    lines = await plans.plan_lines(turn.session, turn.actor.user_id, day)
    planned = [line.customer.id or 0 for line in lines]
    extra = [int(i) for i in data.get("selected") or [] if int(i) not in planned]
    data["day"] = day.isoformat()
    data["planned"] = planned
    data["done"] = [line.customer.id or 0 for line in lines if line.done]
    data["selected"] = planned + extra
    data["names"].update({str(line.customer.id): line.customer.name for line in lines})


async def _save(
    turn: Turn, data: dict[str, Any], purpose: VisitPurpose | None, today: date
) -> None:
    day = date.fromisoformat(data["day"])
    selected = [int(i) for i in data["selected"]]
    planned = [int(i) for i in data.get("planned") or []]
    try:
        async with turn.session.begin_nested():
            change = await plans.change_day(
                turn.session, actor=turn.actor, day=day,
                add_ids=[cid for cid in selected if cid not in planned],
                remove_ids=[cid for cid in planned if cid not in selected],
                purpose=purpose, today=today, now=turn.now,
            )  # fmt: skip
    except UserFacingError as error:
        raise InputError(error.key, **error.params) from None
    turn.say(saved_text(turn.deps.texts, turn.lang, change, reopened=bool(planned)))


PLAN_FORM = register_form(PlanForm())


@turn_handler(roles=VISITORS)
async def plan_command(turn: Turn) -> None:
    """Plan visits for a day (and the next days, one after another)."""
    await start_form(turn, PLAN_FORM)


@turn_handler(roles=VISITORS)
async def today_command(turn: Turn) -> None:
    """Today's plan vs what was done, open follow-ups, and the week's progress."""
    team = await turn.team()
    stops = await route.day_stops(turn.session, turn.actor.user_id, team)
    data = TodayData(
        overview=await plans.day_overview(
            turn.session, turn.actor.user_id, team.today, team.rules
        ),
        overdue_follow_ups=[(s.plan, s.customer) for s in stops.overdue],
        progress=await visits.progress(turn.session, turn.actor.user_id, team),
        timezone=team.timezone,
        stops=stops.by_plan(),
        routable=stops.has_position and any(s.customer.has_location for s in stops.all),
        has_position=stops.has_position,
    )
    turn.say(*today_page(turn.deps.texts, turn.lang, data))


@turn_handler(roles=VISITORS)
async def on_route_button(turn: Turn) -> None:
    """Order today's stops from my last location, with navigation links."""
    ROUTE.unpack(turn.update.callback_query.data if turn.update.callback_query else None)
    team = await turn.team()
    planned = await route.plan_route(turn.session, turn.actor.user_id, team)
    if planned is None:
        turn.say(turn.t("nearby.share_first"), location_button=turn.t("visits.send_location"))
        return
    page = route_page(turn.deps.texts, turn.lang, planned, team.rules.visits.map_app)
    turn.say(*page)


@turn_handler(roles=VISITORS)
async def week_command(turn: Turn) -> None:
    """The ISO week day by day: planned, done, visits by kind; totals against the targets."""
    team = await turn.team()
    days = await plans.week_overview(turn.session, turn.actor.user_id, team.today, team.rules)
    progress = await visits.progress(turn.session, turn.actor.user_id, team)
    turn.say(week_page(turn.deps.texts, turn.lang, days, team.today, progress))


@turn_handler(roles=VISITORS)
async def due_command(turn: Turn) -> None:
    """My customers overdue for a visit by their tier's cadence, most overdue first."""
    team = await turn.team()
    due = await plans.due_customers(turn.session, turn.actor, team.today, team.rules, limit=30)
    cadence = team.rules.visits.cadence_days
    turn.say(*due_page(turn.deps.texts, turn.lang, due, (cadence.A, cadence.B, cadence.C)))


@turn_handler(roles=VISITORS)
async def on_plan_button(turn: Turn) -> None:
    """Log the visit of a plan entry (mine only), or start planning."""
    pressed = PLAN.unpack(turn.update.callback_query.data if turn.update.callback_query else None)
    if pressed.action == START_PLANNING:
        await start_form(turn, PLAN_FORM)
        return
    plan = await plans.own_plan(turn.session, turn.actor, pressed.plan_id)
    if pressed.action == REMOVE:
        await plans.remove_plan(turn.session, actor=turn.actor, plan_id=plan.id or 0, now=turn.now)
        turn.say_key("plans.removed")
        return
    if plan.done_visit_id is not None:
        raise UserFacingError("plans.already_done")
    await start_form(turn, VISIT_FORM, {"customer_id": plan.customer_id, "plan_id": plan.id})


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("plan", plan_command))
    app.add_handler(CommandHandler("today", today_command))
    app.add_handler(CommandHandler("week", week_command))
    app.add_handler(CommandHandler("due", due_command))
    app.add_handler(CallbackQueryHandler(on_plan_button, pattern=PLAN.pattern))
    app.add_handler(CallbackQueryHandler(on_route_button, pattern=ROUTE.pattern))
