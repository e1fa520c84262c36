"""The /visit form. A phone visit: customer -> 📞 -> what happened -> summary card (purpose
from the plan or the last visit, next step optional there) -> Save. An in-person visit starts
with a check-in: customer -> 🚶 -> location -> checked in (the visit is open); Check out later
opens this form on "what happened" -> photos -> summary -> Save, which stores the time on
site. Skipping the location logs an in-person visit afterwards, without a check-in. The draft
lives in the form state, so it survives a restart. Editing a saved visit (from /visits) opens
the same form on its summary card; a checked-in visit keeps its place, time and kind.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import col

from core.errors import UserFacingError
from core.periods import format_clock, format_day, format_short_day, local_moment, local_today
from core.settings import TeamSettings
from handlers import card_photos, checkin_card
from handlers.customer_fields import (
    SHORT_FIELDS,
    expect_text,
    field_answer,
    field_prompt,
)
from handlers.customers import duplicate_prompt
from handlers.forms import (
    Form,
    FormInput,
    InputError,
    Prompt,
    register_form,
)
from handlers.turn import Turn
from handlers.visit_photos import stamp_visit_photos
from models.common import Role
from models.customer import Customer
from models.receivable import Receivable
from models.visit import CheckinSource, VisitKind, VisitPurpose
from services import customers, receivables, visit_cards, visits
from services.customers import CustomerInput
from services.dates import parse_date, parse_moment
from services.plans import working_days
from services.team_context import TeamContext
from services.visits import Checkin, VisitDraft
from views import collections as collection_views
from views.buttons import Keyboard
from views.visits import (
    CheckinVerdict,
    SummaryCard,
    checked_in_text,
    checked_out_card,
    checked_out_line,
    checkin_text,
    saved_text,
    summary_text,
)

VISITORS = frozenset({Role.REP, Role.MANAGER})
# Steps that belong to the field being edited from the summary: the form goes on through them
# and returns to the summary afterwards.
CHAINED = frozenset({"pick", "dup", "store_loc", "follow_up", "date", "card"} |
                    {f"c_{f}" for f in SHORT_FIELDS} |
                    {f"fix_{f}" for f in card_photos.REVIEW_FIELDS})  # fmt: skip
EDITABLE = ("customer", "kind", "purpose", "time", "notes", "location", "photos", "next",
            "follow_up")  # fmt: skip
IN_PERSON_ONLY = frozenset({"location", "photos"})
# What a check-in proved stays as it was: not editable on a checked-in visit.
CHECKIN_PROOF = frozenset({"customer", "kind", "time", "location"})
MAX_FOLLOW_UP_DAYS = 366
RECENT_BUTTONS = 6


async def rules_of(turn: Turn) -> TeamSettings:
    """The rules of the sender's team (its context: ``await turn.team()``)."""
    return (await turn.team()).rules


def _after(data: dict[str, Any], natural: str) -> str:
    """Go on to ``natural``, or back to the summary when a field was being edited."""
    if natural in CHAINED:
        return natural
    if data.pop("_return", None) or natural == "summary":
        return "summary"
    return natural


def _int(raw: str) -> int:
    if not raw.isdigit():
        raise InputError("forms.use_buttons")
    return int(raw)


def date_choices(turn: Turn) -> list[list[tuple[str, str]]]:
    return [
        [(turn.t("visits.date_tomorrow"), "t:1"), (turn.t("visits.date_in_3_days"), "t:3")],
        [(turn.t("visits.date_next_week"), "t:w"), (turn.t("visits.date_pick"), "pick")],
    ]


def _quick_date(choice: str, today: date) -> date | None:
    if choice == "t:1":
        return today + timedelta(days=1)
    if choice == "t:3":
        return today + timedelta(days=3)
    if choice == "t:w":
        return today + timedelta(days=7 - today.weekday())
    if choice.startswith("d:"):
        try:
            return date.fromisoformat(choice[2:])
        except ValueError:
            return None
    return None


class VisitForm(Form):
    name = "visit"
    first_step = "customer"
    command = "/visit"
    summary_step = "summary"
    back_key = "visits.back_to_summary"
    roles = VISITORS

    def cancelled(self, turn: Turn, data: dict[str, Any]) -> str:
        if data.get("checkout_visit_id"):
            # The check-in was saved when it happened: only the check-out is dropped.
            name = html.escape(str(data.get("customer_name", "")))
            return turn.t("visits.checkout_cancelled", customer=name)
        return super().cancelled(turn, data)

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        if "edit_visit_id" in data:
            visit, attachments = await visits.editable_visit(
                turn.session, turn.actor, int(data["edit_visit_id"]), await turn.team()
            )
            customer = await customers.get_visible(turn.session, turn.actor, visit.customer_id)
            data.update(draft_data(visits.draft_of(visit, attachments)))
            data["customer_name"] = customer.name
            data["locked"] = visit.checked_out_at is not None
            data["location_set_here"] = visit.location_set_here
            return "summary"
        if "checkout_visit_id" in data:
            opened = await visits.open_visit(turn.session, turn.actor.user_id)
            if opened is None or opened.id != int(data["checkout_visit_id"]):
                raise UserFacingError("visits.already_checked_out")
            customer = await customers.get_visible(turn.session, turn.actor, opened.customer_id)
            # Photos attached while checked in (sent outside the form) stay with the visit.
            attached = await visits.attachments_of(turn.session, opened.id or 0)
            data.update(draft_data(visits.draft_of(opened, attached)))
            data["kept_photos"] = list(data.get("photos") or [])
            data.update(customer_name=customer.name, locked=True,
                        checked_out_at=turn.now.isoformat(),
                        location_set_here=opened.location_set_here)  # fmt: skip
            # The check-in card ("card_message_id", kept in the data) changes when the visit is
            # saved: a rep who cancels is still checked in, and the card says so.
            return "notes"
        data["visited_at"] = turn.now.isoformat()
        if data.get("customer_id"):
            customer = await _own_team_customer(turn, int(data["customer_id"]))
            data["customer_name"] = customer.name
            await _default_purpose(turn, data)
            return "kind"
        return "customer"

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        return await _PROMPTS[step](turn, data)

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        return await _ACCEPTS[step](turn, data, answer)


async def _own_team_customer(turn: Turn, customer_id: int) -> Customer:
    """A customer the sender may log a visit for: visible and of their own team."""
    try:
        customer = await customers.get_visible(turn.session, turn.actor, customer_id)
    except UserFacingError as error:
        raise InputError(error.key, **error.params) from None
    if customer.team_id != turn.actor.team_id:
        raise InputError("customers.not_found")
    return customer


# -- prompts ------------------------------------------------------------------------------


async def _ask_customer(turn: Turn, data: dict[str, Any]) -> Prompt:
    team = await turn.team()
    offered = await customers.shortlist(turn.session, turn.actor, planned_on=team.today)
    planned, recent = offered.planned, offered.recent
    seen = {cid for cid, _ in planned}
    # Today's planned customers first, then the recent ones: six buttons at most.
    choices = [[(f"🗓 {name[:58]}", f"c:{cid}")] for cid, name in planned[:RECENT_BUTTONS]]
    choices += [[(name[:60], f"c:{cid}")] for cid, name in recent if cid not in seen][
        : max(0, RECENT_BUTTONS - len(choices))
    ]
    choices.append([(turn.t("customers.new"), "new")])
    key = "visits.ask_customer" if recent else "visits.ask_customer_first"
    return Prompt(turn.t(key), choices, search="")


async def _ask_pick(turn: Turn, data: dict[str, Any]) -> Prompt:
    results = data.get("results") or []
    query = html.escape(data.get("query", ""))
    if results:
        text = turn.t("customers.results", count=data.get("total", len(results)), query=query)
    else:
        text = turn.t("customers.no_results", query=query)
    choices = [[(str(name)[:60], f"c:{cid}")] for cid, name in results]
    choices.append([(turn.t("visits.new_named", name=data.get("query", "")[:40]), "new")])
    return Prompt(text, choices, search=data.get("query", ""))


async def _ask_kind(turn: Turn, data: dict[str, Any]) -> Prompt:
    name = html.escape(_customer_label(data))
    choices = [[(turn.t(f"visits.kind_{kind}"), str(kind)) for kind in VisitKind]]
    return Prompt(turn.t("visits.ask_kind", customer=name), choices)


async def _ask_purpose(turn: Turn, data: dict[str, Any]) -> Prompt:
    options = [(turn.t(f"visits.purpose_{p}"), str(p)) for p in VisitPurpose]
    return Prompt(turn.t("visits.ask_purpose"), [options[i : i + 2] for i in range(0, 5, 2)])


async def _ask_notes(turn: Turn, data: dict[str, Any]) -> Prompt:
    if not data.get("checked_out_at"):
        return Prompt(turn.t("visits.ask_notes"))
    out = checked_out_line(
        turn.deps.texts, turn.lang, datetime.fromisoformat(data["visited_at"]),
        datetime.fromisoformat(data["checked_out_at"]), (await turn.team()).timezone,
    )  # fmt: skip
    return Prompt(f"{out}\n{turn.t('visits.ask_notes')}")


async def _ask_location(turn: Turn, data: dict[str, Any]) -> Prompt:
    return Prompt(
        turn.t("visits.ask_location"),
        skippable=True,
        location_button=turn.t("visits.send_location"),
    )


async def _ask_store_location(turn: Turn, data: dict[str, Any]) -> Prompt:
    choices = [[(turn.t("visits.store_yes"), "yes"), (turn.t("visits.store_no"), "no")]]
    name = html.escape(_customer_label(data))
    return Prompt(turn.t("visits.ask_store_location", customer=name), choices)


async def _ask_photos(turn: Turn, data: dict[str, Any]) -> Prompt:
    count = len(data.get("photos") or [])
    if count == 0:
        return Prompt(turn.t("visits.ask_photos"), skippable=True)
    done = [[(turn.t("visits.photos_done"), "done")]]
    return Prompt(turn.t("visits.photos_added", count=count), done)


async def _ask_next(turn: Turn, data: dict[str, Any]) -> Prompt:
    return Prompt(turn.t("visits.ask_next"), date_choices(turn), skippable=True)


async def _ask_follow_up(turn: Turn, data: dict[str, Any]) -> Prompt:
    step = html.escape(data.get("next_step") or "")
    text = turn.t("visits.ask_follow_up", next_step=step) if step else turn.t("visits.ask_date")
    return Prompt(text, date_choices(turn), skippable=True)


async def _ask_date(turn: Turn, data: dict[str, Any]) -> Prompt:
    team = await turn.team()
    days = working_days(team.rules, team.today + timedelta(days=1), 10)
    options = [(format_short_day(d, turn.lang), f"d:{d.isoformat()}") for d in days]
    rows = [options[i : i + 2] for i in range(0, len(options), 2)]
    return Prompt(turn.t("visits.ask_date_typed"), rows)


async def _ask_summary(turn: Turn, data: dict[str, Any]) -> Prompt:
    card = await summary_card(turn, data, await turn.team())
    text = summary_text(turn.deps.texts, turn.lang, card)
    choices = [[(turn.t("visits.save"), "save"), (turn.t("visits.edit_field"), "edit")]]
    if not data.get("next_step") and not data.get("follow_up"):
        choices.append([(turn.t("visits.add_next"), "next")])
    return Prompt(text, choices)


async def _ask_edit(turn: Turn, data: dict[str, Any]) -> Prompt:
    fields = [f for f in EDITABLE if data.get("kind") == VisitKind.IN_PERSON or
              f not in IN_PERSON_ONLY]  # fmt: skip
    if data.get("locked"):
        fields = [f for f in fields if f not in CHECKIN_PROOF]
    labels = [(turn.t(f"visits.field_{f}"), f) for f in fields]
    choices = [labels[i : i + 3] for i in range(0, len(labels), 3)]
    choices.append([(turn.t("visits.back_to_summary"), "back")])
    return Prompt(turn.t("visits.ask_edit_field"), choices)


async def _ask_time(turn: Turn, data: dict[str, Any]) -> Prompt:
    team = await turn.team()
    options = []
    for minutes in (30, 60, 120, 180):
        moment = turn.now - timedelta(minutes=minutes)
        if local_today(moment, team.timezone) == team.today:
            at = format_clock(moment, team.timezone)
            label = (
                turn.t("visits.time_minutes_ago", minutes=minutes, at=at)
                if minutes < 60
                else turn.t("visits.time_hours_ago", hours=minutes // 60, at=at)
            )
            options.append((label, f"m:{minutes}"))
    return Prompt(
        turn.t("visits.ask_time"), [options[i : i + 2] for i in range(0, len(options), 2)]
    )


async def _ask_customer_field(turn: Turn, data: dict[str, Any], field: str) -> Prompt:
    prompt = await field_prompt(turn, field, turn.actor.team_id)
    query = data.get("query")
    if field == "name" and query and not data.get("new", {}).get("name"):
        prompt.choices.insert(0, [(f"✓ {query[:50]}", "q")])
    return prompt


async def _ask_dup(turn: Turn, data: dict[str, Any]) -> Prompt:
    return duplicate_prompt(turn, data, rename_label="customers.dup_rename")


# -- answers ------------------------------------------------------------------------------


async def _choose_customer(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    from_card = card_photos.take_card(turn, data, answer)
    if from_card is not None:
        data.pop("customer_id", None)
        return from_card
    if answer.choice == "new":
        data["new"] = {}
        data.pop("customer_id", None)
        return "c_name"
    if answer.choice and answer.choice.startswith("c:"):
        return await _set_customer(turn, data, _int(answer.choice[2:]))
    if answer.choice is not None:
        raise InputError("forms.use_buttons")
    text = expect_text(answer)
    ref = customers.customer_ref(text)
    if ref is not None:
        return await _set_customer(turn, data, ref)
    found = await customers.search(turn.session, turn.actor, text)
    data.update(query=text[:60], total=found.total,
                results=[[c.id, c.name] for c in found.customers])  # fmt: skip
    return "pick"


async def _set_customer(turn: Turn, data: dict[str, Any], customer_id: int) -> str:
    customer = await _own_team_customer(turn, customer_id)
    data["customer_id"], data["customer_name"] = customer.id, customer.name
    data.pop("new", None)
    data["store_location"] = False
    await _default_purpose(turn, data)
    return _after(data, "kind")


async def _default_purpose(turn: Turn, data: dict[str, Any]) -> None:
    """The purpose the summary card starts with (editable there): no step asks for it."""
    if "edit_visit_id" in data:
        return
    team = await turn.team()
    customer_id = data.get("customer_id")
    data["purpose"] = str(
        await visits.default_purpose(
            turn.session, turn.actor.user_id, int(customer_id) if customer_id else None,
            team.today,
        )
    )  # fmt: skip


async def _customer_field(turn: Turn, data: dict[str, Any], answer: FormInput, field: str) -> str:
    if field == "name":
        from_card = card_photos.take_card(turn, data, answer)
        if from_card is not None:
            return from_card
    if field == "name" and answer.choice == "q" and data.get("query"):
        answer = FormInput(text=data["query"])
    value = await field_answer(turn, field, turn.actor.team_id, answer)
    data.setdefault("new", {})[field] = value
    if field in ("name", "phone") and value and turn.actor.team_id is not None:
        duplicate = await customers.find_duplicate(
            turn.session, turn.actor.team_id, **{field: value}
        )
        if duplicate is not None and not (field == "phone" and data.get("same_phone")):
            data["dup"] = {"id": duplicate[0].id, "name": duplicate[0].name, "by": field}
            return "dup"
    index = SHORT_FIELDS.index(field)
    if index + 1 < len(SHORT_FIELDS):
        return f"c_{SHORT_FIELDS[index + 1]}"
    data["customer_name"] = data["new"]["name"]
    await _default_purpose(turn, data)
    return _after(data, "kind")


async def _dup(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    dup = data["dup"]
    if answer.choice == f"c:{dup['id']}":
        return await _set_customer(turn, data, int(dup["id"]))
    if answer.choice == "rename" and dup["by"] == "name":
        return "fix_name" if data.get("card_file_id") else "c_name"
    if answer.choice == "keep" and dup["by"] == "phone":
        data["same_phone"] = True
        if data.get("card_file_id") and await card_photos.duplicate_of(turn, data):
            return "dup"
        return "c_tier"
    raise InputError("forms.use_buttons")


async def _ask_card(turn: Turn, data: dict[str, Any]) -> Prompt:
    return card_photos.review_prompt(turn, data)


async def _card(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    """The new customer read from a card: fix a field, or go on (duplicate first, then tier)."""
    next_step = card_photos.review_answer(data, answer)
    if next_step != "save":
        return next_step
    if await card_photos.duplicate_of(turn, data):
        return "dup"
    return "c_tier"


async def _kind(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    if answer.choice not in tuple(VisitKind):
        raise InputError("forms.use_buttons")
    data["kind"] = answer.choice
    data.setdefault("purpose", str(VisitPurpose.REVISIT))
    if answer.choice == VisitKind.IN_PERSON and not data.get("_return"):
        if await visits.open_visit(turn.session, turn.actor.user_id) is not None:
            raise InputError("visits.still_checked_in")
        return "location"
    return _after(data, "notes")


async def _purpose(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    if answer.choice not in tuple(VisitPurpose):
        raise InputError("forms.use_buttons")
    data["purpose"] = answer.choice
    return _after(data, "summary")


async def _notes(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    if answer.voice_file_id is not None:
        data["voice"] = [answer.voice_file_id]
        data["notes"] = ""
    else:
        if answer.choice is not None:
            raise InputError("forms.use_buttons")
        if (
            answer.text is None
            or answer.photo_file_id
            or answer.location
            or answer.document_file_id
        ):
            raise InputError("visits.expect_notes")
        text = answer.text.strip()
        if not text or customers.is_inline_card(text):
            raise InputError("visits.expect_notes")
        if len(text) > visits.MAX_NOTES:
            raise InputError("visits.notes_too_long", limit=visits.MAX_NOTES, length=len(text))
        data["notes"], data["voice"] = text, []
    natural = "photos" if data.get("kind") == VisitKind.IN_PERSON else "summary"
    return _after(data, natural)


async def _location(turn: Turn, data: dict[str, Any], answer: FormInput) -> str | None:
    if answer.skipped:
        data["checkin"], data["store_location"] = None, False
        turn.say(turn.t("visits.no_checkin"), remove_reply_keyboard=True)
        return _after(data, "notes")
    if answer.location is None:
        raise InputError("visits.expect_location")
    loc = answer.location
    source = visits.checkin_source(loc.accuracy, loc.live)
    data["checkin"] = {"lat": loc.latitude, "lon": loc.longitude, "acc": loc.accuracy,
                       "source": str(source)}  # fmt: skip
    data["store_location"] = False
    rules = (await turn.team()).rules
    customer = await _draft_customer(turn, data)
    checkin = _checkin(data)
    assert checkin is not None
    verdict = _verdict(checkin, customer, rules.visits.checkin_radius_m)
    turn.say(checkin_text(turn.deps.texts, turn.lang, verdict), remove_reply_keyboard=True)
    if not customer.has_location:
        return "store_loc"
    return await _checked_in(turn, data, distance_shown=True)


async def _store_location(turn: Turn, data: dict[str, Any], answer: FormInput) -> str | None:
    if answer.choice not in ("yes", "no"):
        raise InputError("forms.use_buttons")
    data["store_location"] = answer.choice == "yes"
    return await _checked_in(turn, data)


async def _checked_in(
    turn: Turn, data: dict[str, Any], *, distance_shown: bool = False
) -> str | None:
    """A new visit's check-in is saved now (the visit is open) and the form ends; editing a
    visit logged afterwards only puts the location on its summary."""
    if data.get("_return") or data.get("edit_visit_id"):
        return _after(data, "summary")
    team = await turn.team()
    try:
        async with turn.session.begin_nested():
            logged = await visits.log_visit(
                turn.session, actor=turn.actor, draft=build_draft(data), team=team, check_in=True
            )
    except UserFacingError as error:
        raise InputError(error.key, **error.params) from None
    text, buttons = checked_in_text(
        turn.deps.texts, turn.lang, logged, team.timezone, distance_shown=distance_shown
    )
    assert logged.visit.id is not None
    turn.say(text, buttons, on_sent=checkin_card.keeper(turn, logged.visit.id, text, buttons))
    return None


async def _photos(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    if answer.photo_file_id is not None:
        photos = list(data.get("photos") or [])
        if len(photos) >= visits.MAX_PHOTOS:
            raise InputError("visits.too_many_photos", limit=visits.MAX_PHOTOS)
        data["photos"] = [*photos, answer.photo_file_id]
        return "photos"
    if answer.skipped or answer.choice == "done":
        if answer.skipped:
            data["photos"] = list(data.get("kept_photos") or [])
        return _after(data, "summary")
    raise InputError("visits.expect_photo")


async def _next(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    if answer.skipped:
        data["next_step"], data["follow_up"] = None, None
        data.pop("_return", None)
        return "summary"
    if answer.choice is not None:
        data["next_step"] = None
        return await _follow_up(turn, data, answer)
    text = expect_text(answer).strip()
    if len(text) > visits.MAX_NEXT_STEP:
        raise InputError("visits.next_step_too_long", limit=visits.MAX_NEXT_STEP, length=len(text))
    data["next_step"] = text
    return "follow_up"


async def _follow_up(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    if answer.skipped:
        data["follow_up"] = None
        return _after(data, "summary")
    if answer.choice == "pick":
        return "date"
    today = (await turn.team()).today
    if answer.choice is not None:
        chosen = _quick_date(answer.choice, today)
        if chosen is None:
            raise InputError("forms.use_buttons")
    else:
        text = expect_text(answer)
        chosen = parse_date(text, today)
        if chosen is None:
            raise InputError("visits.date_unreadable", text=text[:40])
    if chosen < today:
        raise InputError("visits.date_in_past", day=format_day(chosen, turn.lang))
    if (chosen - today).days > MAX_FOLLOW_UP_DAYS:
        raise InputError("visits.date_too_far")
    team = await turn.team()
    moved = next(iter(working_days(team.rules, chosen, 1)), chosen)
    if moved != chosen:
        turn.say_key("visits.follow_up_moved", day=format_day(chosen, turn.lang),
                     to=format_day(moved, turn.lang))  # fmt: skip
        chosen = moved
    elif answer.choice is None:
        turn.say_key("visits.date_understood", day=format_day(chosen, turn.lang))
    data["follow_up"] = chosen.isoformat()
    return _after(data, "summary")


async def _date(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    return await _follow_up(turn, data, answer)


async def _edit(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    if answer.choice == "back":
        return "summary"
    if answer.choice not in EDITABLE:
        raise InputError("forms.use_buttons")
    data["_return"] = True
    field = answer.choice
    if field == "photos":
        data["photos"] = []
    return field


async def _time(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    team = await turn.team()
    if answer.choice and answer.choice.startswith("m:"):
        moment = turn.now - timedelta(minutes=_int(answer.choice[2:]))
    elif answer.choice is not None:
        raise InputError("forms.use_buttons")
    else:
        text = expect_text(answer)
        typed = parse_moment(text, team.today)
        if typed is None:
            raise InputError("visits.time_unreadable", text=text[:40])
        moment = local_moment(*typed, team.timezone)
    try:
        visits.check_visit_time(moment, team)
    except UserFacingError as error:
        raise InputError(error.key, **error.params) from None
    data["visited_at"] = moment.isoformat()
    return _after(data, "summary")


async def _summary(turn: Turn, data: dict[str, Any], answer: FormInput) -> str | None:
    if answer.choice == "edit":
        return "edit"
    if answer.choice == "next":
        data["_return"] = True
        return "next"
    if answer.choice != "save":
        raise InputError("forms.use_buttons")
    team = await turn.team()
    draft = build_draft(data)
    edited = bool(data.get("edit_visit_id"))
    try:
        async with turn.session.begin_nested():
            if data.get("checkout_visit_id"):
                logged = await visits.check_out(
                    turn.session, actor=turn.actor, visit_id=int(data["checkout_visit_id"]),
                    draft=draft, checked_out_at=datetime.fromisoformat(data["checked_out_at"]),
                    team=team,
                )  # fmt: skip
            elif edited:
                logged = await visits.update_visit(
                    turn.session, actor=turn.actor, visit_id=int(data["edit_visit_id"]),
                    draft=draft, team=team,
                )  # fmt: skip
            else:
                logged = await visits.log_visit(
                    turn.session, actor=turn.actor, draft=draft, team=team
                )
    except UserFacingError as error:
        raise InputError(error.key, **error.params) from None
    card = data.get("card_message_id")
    if data.get("checkout_visit_id") and card is not None:
        # The card's Check out button goes: it says when, and how long on site.
        turn.edit(int(card), checked_out_card(
            turn.deps.texts, turn.lang, data["customer_name"], logged.visit.visited_at,
            datetime.fromisoformat(data["checked_out_at"]), team.timezone,
        ))  # fmt: skip
    elif data.get("checkout_visit_id"):
        # Checked out from /visits: the card, wherever it is in the chat, changes the same way.
        await visit_cards.show_closed(turn.session, turn.render, [logged.visit], team)
    radius = team.rules.visits.checkin_radius_m
    if draft.photo_file_ids and logged.visit.id is not None:
        visit_id, ctx = logged.visit.id, turn.ctx
        turn.after_commit.append(lambda: stamp_visit_photos(ctx, visit_id, team))
    saved = saved_text(turn.deps.texts, turn.lang, logged, team.timezone, radius, edited)
    turn.say(saved)
    offer = await _payment_offer(turn, logged) if not edited else None
    if offer is not None:
        # A message of its own: its button opens the documents in place, and the saved
        # visit's confirmation must stay in the chat.
        turn.say(*offer)
    return None


async def _payment_offer(turn: Turn, logged: visits.LoggedVisit) -> tuple[str, Keyboard] | None:
    """A collection visit to a customer who owes something offers to record the payment."""
    visit = logged.visit
    if visit.purpose != VisitPurpose.COLLECTION:
        return None
    docs = await receivables.documents(
        turn.session, col(Receivable.customer_id) == visit.customer_id,
        receivables.visibility(turn.actor),
    )  # fmt: skip
    if not docs:
        return None
    owners = {doc.receivable.owner_id for doc in docs}
    owner = turn.actor.user_id if turn.actor.user_id in owners else docs[0].receivable.owner_id
    if owner is None:
        return None  # nobody's documents: recorded from /collections by the manager
    own = [doc for doc in docs if doc.receivable.owner_id == owner]
    return collection_views.payment_offer(
        turn.deps.texts, turn.lang, logged.customer.name, own, owner
    )


PromptFn = Callable[[Turn, dict[str, Any]], Awaitable[Prompt]]
AcceptFn = Callable[[Turn, dict[str, Any], FormInput], Awaitable[str | None]]
_PROMPTS: dict[str, PromptFn] = {
    "customer": _ask_customer, "pick": _ask_pick, "dup": _ask_dup, "kind": _ask_kind,
    "purpose": _ask_purpose, "notes": _ask_notes, "location": _ask_location,
    "store_loc": _ask_store_location, "photos": _ask_photos, "next": _ask_next,
    "follow_up": _ask_follow_up, "date": _ask_date, "summary": _ask_summary, "edit": _ask_edit,
    "time": _ask_time, "card": _ask_card,
}  # fmt: skip
_ACCEPTS: dict[str, AcceptFn] = {
    "customer": _choose_customer, "pick": _choose_customer, "dup": _dup, "kind": _kind,
    "purpose": _purpose, "notes": _notes, "location": _location, "store_loc": _store_location,
    "photos": _photos, "next": _next, "follow_up": _follow_up, "date": _date,
    "summary": _summary, "edit": _edit, "time": _time, "card": _card,
}  # fmt: skip
for _field in card_photos.REVIEW_FIELDS:
    _PROMPTS[f"fix_{_field}"] = functools.partial(card_photos.fix_prompt, field_name=_field)
    _ACCEPTS[f"fix_{_field}"] = functools.partial(card_photos.fix_answer, field_name=_field)
for _field in SHORT_FIELDS:
    _PROMPTS[f"c_{_field}"] = functools.partial(_ask_customer_field, field=_field)
    _ACCEPTS[f"c_{_field}"] = functools.partial(_customer_field, field=_field)


# -- the draft ----------------------------------------------------------------------------


def _checkin(data: dict[str, Any]) -> Checkin | None:
    raw = data.get("checkin")
    if not raw:
        return None
    return Checkin(
        float(raw["lat"]), float(raw["lon"]), raw.get("acc"), CheckinSource(raw["source"])
    )


async def _draft_customer(turn: Turn, data: dict[str, Any]) -> Customer:
    """The chosen customer, or an unsaved stand-in for the one being created."""
    if data.get("customer_id"):
        return await _own_team_customer(turn, int(data["customer_id"]))
    assert turn.actor.team_id is not None
    return Customer(team_id=turn.actor.team_id, name=data.get("new", {}).get("name", ""),
                    name_key="", created_at=turn.now, updated_at=turn.now)  # fmt: skip


def _customer_label(data: dict[str, Any]) -> str:
    return str(data.get("customer_name") or data.get("new", {}).get("name") or "")


def build_draft(data: dict[str, Any]) -> VisitDraft:
    in_person = data.get("kind") == VisitKind.IN_PERSON
    new = data.get("new") if not data.get("customer_id") else None
    return VisitDraft(
        kind=VisitKind(data.get("kind") or VisitKind.PHONE),
        purpose=VisitPurpose(data.get("purpose") or VisitPurpose.REVISIT),
        visited_at=datetime.fromisoformat(data["visited_at"]),
        customer_id=data.get("customer_id"),
        new_customer=CustomerInput.from_dict(new) if new else None,
        notes=data.get("notes") or "",
        voice_file_ids=list(data.get("voice") or []),
        photo_file_ids=list(data.get("photos") or []) if in_person else [],
        checkin=_checkin(data) if in_person else None,
        next_step=data.get("next_step"),
        follow_up_on=date.fromisoformat(data["follow_up"]) if data.get("follow_up") else None,
        store_location=bool(data.get("store_location")) and in_person,
        allow_same_phone=bool(data.get("same_phone")),
    )


def draft_data(draft: VisitDraft) -> dict[str, Any]:
    checkin = draft.checkin
    return {
        "customer_id": draft.customer_id, "kind": str(draft.kind), "purpose": str(draft.purpose),
        "visited_at": draft.visited_at.isoformat(), "notes": draft.notes,
        "voice": draft.voice_file_ids, "photos": draft.photo_file_ids,
        "checkin": {"lat": checkin.latitude, "lon": checkin.longitude, "acc": checkin.accuracy_m,
                    "source": str(checkin.source)} if checkin else None,
        "next_step": draft.next_step,
        "follow_up": draft.follow_up_on.isoformat() if draft.follow_up_on else None,
    }  # fmt: skip


def _verdict(checkin: Checkin, customer: Customer, radius_m: int) -> CheckinVerdict:
    distance, flagged = visits.evaluate_checkin(VisitKind.IN_PERSON, checkin, customer, radius_m)
    return CheckinVerdict(distance, flagged, checkin.accuracy_m, checkin.source, radius_m)


async def summary_card(turn: Turn, data: dict[str, Any], team: TeamContext) -> SummaryCard:
    """The draft as the summary card shows it, with the check-in judged against the customer."""
    in_person = data.get("kind") == VisitKind.IN_PERSON
    checkin = _checkin(data) if in_person else None
    verdict = None
    if checkin is not None:
        customer = await _draft_customer(turn, data)
        verdict = _verdict(checkin, customer, team.rules.visits.checkin_radius_m)
    return SummaryCard(
        customer=_customer_label(data), new_customer=not data.get("customer_id"),
        kind=data.get("kind"), purpose=data.get("purpose"),
        visited_at=datetime.fromisoformat(data["visited_at"]), today=team.today,
        timezone=team.timezone, voice=bool(data.get("voice")), notes=data.get("notes") or "",
        checkin=verdict, store_location=bool(data.get("store_location")),
        location_set_here=bool(data.get("location_set_here")),
        on_site_minutes=_on_site(data),
        photos=len(data.get("photos") or []), next_step=data.get("next_step"),
        follow_up=date.fromisoformat(data["follow_up"]) if data.get("follow_up") else None,
    )  # fmt: skip


VISIT_FORM = register_form(VisitForm())


def _on_site(data: dict[str, Any]) -> int | None:
    if not data.get("checked_out_at"):
        return None
    elapsed = datetime.fromisoformat(data["checked_out_at"]) - datetime.fromisoformat(
        data["visited_at"]
    )
    return max(0, int(elapsed.total_seconds() // 60))
