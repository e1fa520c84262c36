"""/customers: search, the customer card, creating and editing customers, inline search.

A rep sees their team's customers only: every id from a button, a typed ``#C12`` or an inline
result goes through ``services.customers.get_visible``.
"""

from __future__ import annotations

import html
from typing import Any

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from core.errors import UserFacingError
from core.periods import local_today
from handlers import card_photos, visit_review
from handlers.commands import EVERYONE, declare
from handlers.context import Ctx
from handlers.customer_fields import (
    ALL_FIELDS,
    expect_text,
    field_answer,
    field_prompt,
)
from handlers.forms import (
    FORMS,
    Form,
    FormInput,
    InputError,
    Prompt,
    continue_form,
    register_form,
    start_form,
)
from handlers.turn import Turn, turn_handler
from models.common import Role
from models.customer import Customer
from services import customers, plans
from services.customers import CustomerExistsError, CustomerInput
from views.customers import CARD, EDIT, LOG_VISIT, PLAN_VISIT, CardData, customer_card

INLINE_LIMIT = 20
CREATORS = frozenset({Role.REP, Role.MANAGER})
EDIT_FIELDS = ("name", "contact", "phone", "address", "region", "industry", "tier", "status",
               "notes", "location")  # fmt: skip

declare("customers", roles=EVERYONE, order=20)


async def show_card(turn: Turn, customer: Customer, edit_message_id: int | None = None) -> None:
    """The customer card with its actions: log a visit, plan, edit."""
    assert customer.id is not None
    owners = await customers.names_of(turn.session, [customer.owner_id])
    last = await customers.last_visit_at(turn.session, customer.id)
    team = await turn.team(customer.team_id)
    card = CardData(
        customer, owner=owners.get(customer.owner_id or 0),
        last_visit=local_today(last, team.timezone) if last else None,
        due_on=plans.due_on(customer, last, team.rules), can_visit=_can_visit(turn, customer),
    )  # fmt: skip
    text, buttons = customer_card(turn.deps.texts, turn.lang, card)
    if edit_message_id is not None:
        turn.edit(edit_message_id, text, buttons)
    else:
        turn.say(text, buttons)


class CustomerForm(Form):
    """Search customers by a fragment; create a new one in a short form."""

    name = "customers"
    first_step = "query"

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        if data.get("photo"):
            # A card sent outside any form: straight to its review (or the manual form).
            return card_photos.take_card(turn, data, FormInput(photo_file_id=data.pop("photo")))
        recent = await customers.recent_customer_names(turn.session, turn.actor)
        data["results"] = [[cid, name] for cid, name in recent]
        data["recent"] = True
        if data.get("query"):
            return await self.accept(turn, "query", data, FormInput(text=data["query"]))
        return "query"

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        team_id = turn.actor.team_id
        if step == "dup":
            return duplicate_prompt(turn, data, rename_label="customers.dup_rename")
        if step == "card":
            return card_photos.review_prompt(turn, data)
        if step.startswith("fix_"):
            return await card_photos.fix_prompt(turn, data, step[4:])
        if step.startswith("c_"):
            field = step[2:]
            prompt = await field_prompt(turn, field, team_id)
            if field in ("address", "region", "industry", "status", "notes"):
                prompt.choices.append([(turn.t("customers.save_now"), "save")])
            return prompt
        results = data.get("results") or []
        if data.get("recent"):
            text = turn.t("customers.ask_query")
            if results:
                text += "\n\n" + turn.t("customers.recent_header")
        elif results:
            text = turn.t(
                "customers.results", count=data.get("total", len(results)),
                query=html.escape(data.get("query", "")),
            )  # fmt: skip
        else:
            text = turn.t("customers.no_results", query=html.escape(data.get("query", "")))
        choices = [[(str(name)[:60], f"c:{cid}")] for cid, name in results]
        if turn.actor.role in CREATORS:
            choices.append([(turn.t("customers.new"), "new")])
        return Prompt(text, choices, search="")

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        team_id = turn.actor.team_id
        if step in ("query", "c_name") and answer.photo_file_id is not None:
            return card_photos.take_card(turn, data, answer)
        if step == "query":
            return await self._query(turn, data, answer)
        if step == "dup" and data.get("card_file_id"):
            return await self._card_duplicate(turn, data, answer)
        if step == "dup":
            return await _duplicate_answer(turn, data, answer, on_use=self._open)
        if step == "card":
            next_step = card_photos.review_answer(data, answer)
            if next_step != "save":
                return next_step
            if await card_photos.duplicate_of(turn, data):
                return "dup"
            return await self._create(turn, data)
        if step.startswith("fix_"):
            return await card_photos.fix_answer(turn, data, answer, step[4:])
        field = step[2:]
        if answer.choice == "save" and field != "name":
            return await self._create(turn, data)
        value = await field_answer(turn, field, team_id, answer)
        data.setdefault("new", {})[field] = value
        if field in ("name", "phone") and value and team_id is not None:
            duplicate = await customers.find_duplicate(turn.session, team_id, **{field: value})
            if duplicate is not None:
                data["dup"] = {"id": duplicate[0].id, "name": duplicate[0].name, "by": field}
                return "dup"
        return _next_field(field) or await self._create(turn, data)

    async def _query(self, turn: Turn, data: dict[str, Any], answer: FormInput) -> str | None:
        if answer.choice == "new":
            if turn.actor.role not in CREATORS:
                raise InputError("access.role_not_allowed")
            data["new"] = {}
            return "c_name"
        if answer.choice and answer.choice.startswith("c:"):
            return await self._open(turn, _int(answer.choice[2:]))
        if answer.choice is not None:
            raise InputError("forms.use_buttons")
        text = expect_text(answer)
        ref = customers.customer_ref(text)
        if ref is not None:
            return await self._open(turn, ref)
        found = await customers.search(turn.session, turn.actor, text)
        data.update(
            query=text[:60], recent=False, total=found.total,
            results=[[c.id, c.name] for c in found.customers],
        )  # fmt: skip
        return "query"

    async def _card_duplicate(
        self, turn: Turn, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        """The card's company (or phone) is a customer already: open it, fix the name, or
        keep the shared phone and save."""
        dup = data["dup"]
        if answer.choice == f"c:{dup['id']}":
            return await self._open(turn, int(dup["id"]))
        if answer.choice == "rename" and dup["by"] == "name":
            return "fix_name"
        if answer.choice == "keep" and dup["by"] == "phone":
            data["same_phone"] = True
            if await card_photos.duplicate_of(turn, data):
                return "dup"
            return await self._create(turn, data)
        raise InputError("forms.use_buttons")

    async def _open(self, turn: Turn, customer_id: int) -> str | None:
        customer = await _visible_or_input_error(turn, customer_id)
        await show_card(turn, customer)
        return None

    async def _create(self, turn: Turn, data: dict[str, Any]) -> str | None:
        if turn.actor.team_id is None:
            raise UserFacingError("customers.no_team")
        values = CustomerInput.from_dict(
            dict(data["new"], owner_id=turn.actor.user_id, card_file_id=data.get("card_file_id"))
        )
        try:
            async with turn.session.begin_nested():
                customer = await customers.create_customer(
                    turn.session, actor=turn.actor, team_id=turn.actor.team_id, values=values,
                    now=turn.now, allow_same_phone=bool(data.get("same_phone")),
                )  # fmt: skip
        except CustomerExistsError as error:
            raise InputError(error.key, **error.params) from None
        turn.say_key("customers.created", name=html.escape(customer.name))
        await show_card(turn, customer)
        return None


def _next_field(field: str) -> str | None:
    index = ALL_FIELDS.index(field)
    return f"c_{ALL_FIELDS[index + 1]}" if index + 1 < len(ALL_FIELDS) else None


def _int(raw: str) -> int:
    if not raw.isdigit():
        raise InputError("forms.use_buttons")
    return int(raw)


async def _visible_or_input_error(turn: Turn, customer_id: int) -> Customer:
    try:
        return await customers.get_visible(turn.session, turn.actor, customer_id)
    except UserFacingError as error:
        raise InputError(error.key, **error.params) from None


def duplicate_prompt(turn: Turn, data: dict[str, Any], rename_label: str) -> Prompt:
    """A customer with that name (or phone) exists: use it, or go on."""
    dup = data["dup"]
    text = turn.t(f"customers.duplicate_{dup['by']}", name=html.escape(dup["name"]))
    use = (turn.t("customers.use_existing", name=dup["name"][:40]), f"c:{dup['id']}")
    other = (
        (turn.t(rename_label), "rename")
        if dup["by"] == "name"
        else (turn.t("customers.dup_keep_phone"), "keep")
    )
    return Prompt(text, [[use], [other]])


async def _duplicate_answer(
    turn: Turn, data: dict[str, Any], answer: FormInput, on_use: Any
) -> str | None:
    dup = data["dup"]
    if answer.choice == f"c:{dup['id']}":
        result: str | None = await on_use(turn, int(dup["id"]))
        return result
    if answer.choice == "rename" and dup["by"] == "name":
        return "c_name"
    if answer.choice == "keep" and dup["by"] == "phone":
        data["same_phone"] = True
        return "c_tier"
    raise InputError("forms.use_buttons")


class CustomerEditForm(Form):
    """Change one field of a customer record (audited)."""

    name = "customer_edit"
    first_step = "field"

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        await customers.get_visible(turn.session, turn.actor, int(data["customer_id"]))
        return "field"

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        customer = await customers.get_visible(turn.session, turn.actor, int(data["customer_id"]))
        if step == "field":
            fields = [*EDIT_FIELDS, "owner"] if turn.actor.role is not Role.REP else EDIT_FIELDS
            labels = [(turn.t(f"customers.field_{f}"), f) for f in fields]
            rows = [labels[i : i + 3] for i in range(0, len(labels), 3)]
            name = html.escape(customer.name)
            return Prompt(turn.t("customers.ask_edit_field", name=name), rows)
        field = data["field"]
        if field == "location":
            return Prompt(
                turn.t("customers.ask_location"),
                location_button=turn.t("customers.send_location"),
            )
        if field == "owner":
            people = await customers.possible_owners(turn.session, customer.team_id)
            rows = [[(p.display_name[:40], f"o:{p.id}")] for p in people]
            rows.append([(turn.t("customers.no_owner"), "o:0")])
            return Prompt(turn.t("customers.ask_owner"), rows)
        return await field_prompt(turn, field, customer.team_id, getattr(customer, field))

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        customer_id = int(data["customer_id"])
        if step == "field":
            allowed = [*EDIT_FIELDS, "owner"] if turn.actor.role is not Role.REP else EDIT_FIELDS
            if answer.choice not in allowed:
                raise InputError("forms.use_buttons")
            data["field"] = answer.choice
            return "value"
        field = data["field"]
        changes: dict[str, Any]
        if field == "location":
            if answer.location is None:
                raise InputError("customers.expect_location")
            changes = {"latitude": answer.location.latitude,
                       "longitude": answer.location.longitude}  # fmt: skip
        elif field == "owner":
            choice = answer.choice or ""
            if not choice.startswith("o:"):
                raise InputError("forms.use_buttons")
            owner = _int(choice[2:])
            changes = {"owner_id": owner or None}
        else:
            customer = await customers.get_visible(turn.session, turn.actor, customer_id)
            changes = {field: await field_answer(turn, field, customer.team_id, answer)}
            if field in ("tier", "status") and changes[field] is None:
                return None
        try:
            async with turn.session.begin_nested():
                customer = await customers.update_customer(
                    turn.session, actor=turn.actor, customer_id=customer_id, changes=changes,
                    now=turn.now, reason="edited in chat",
                )  # fmt: skip
        except UserFacingError as error:
            raise InputError(error.key, **error.params) from None
        turn.say(turn.t("customers.updated"), remove_reply_keyboard=field == "location")
        await show_card(turn, customer)
        return None


CUSTOMER_FORM = register_form(CustomerForm())
CUSTOMER_EDIT_FORM = register_form(CustomerEditForm())


@turn_handler()
async def customers_command(turn: Turn) -> None:
    """Search customers, or start with a fragment: /customers 华丰."""
    query = " ".join(turn.ctx.args or [])
    await start_form(turn, CUSTOMER_FORM, {"query": query} if query else None)


@turn_handler()
async def on_card_button(turn: Turn) -> None:
    """Card actions: show, log a visit, plan, edit — each re-checks the customer's team."""
    query = turn.update.callback_query
    assert query is not None
    pressed = CARD.unpack(query.data)
    customer = await customers.get_visible(turn.session, turn.actor, pressed.customer_id)
    if pressed.action == EDIT:
        await start_form(turn, CUSTOMER_EDIT_FORM, {"customer_id": customer.id})
    elif pressed.action in (LOG_VISIT, PLAN_VISIT):
        if not _can_visit(turn, customer):
            raise UserFacingError("access.role_not_allowed")
        form = FORMS["visit" if pressed.action == LOG_VISIT else "plan"]
        await start_form(turn, form, {"customer_id": customer.id})
    else:
        await show_card(turn, customer)


def _can_visit(turn: Turn, customer: Customer) -> bool:
    """Log and plan visits: a rep or manager, to their own team's customers."""
    return turn.actor.role in CREATORS and customer.team_id == turn.actor.team_id


@turn_handler()
async def customer_reference(turn: Turn) -> None:
    """A message carrying ``#C12`` (an inline result): feed the open form, or show the card."""
    if await continue_form(turn):
        return
    customer_id = customers.customer_ref(turn.text)
    assert customer_id is not None
    await show_card(turn, await customers.get_visible(turn.session, turn.actor, customer_id))


def inline_result(turn: Turn, customer: Customer) -> InlineQueryResultArticle:
    details = " · ".join(
        part for part in (customer.contact, customer.phone, customer.region) if part
    )
    return InlineQueryResultArticle(
        id=f"c{customer.id}",
        title=customer.name,
        description=f"{customer.tier} · {details}" if details else str(customer.tier),
        input_message_content=InputTextMessageContent(f"🏢 {customer.name} · #C{customer.id}"),
    )


@turn_handler(registered=False)
async def inline_search(turn: Turn) -> None:
    """``@bot fragment``: the sender's visible customers; strangers get a button to the bot."""
    inline = turn.update.inline_query
    assert inline is not None
    user = turn.user
    if user is None or not user.active:
        button = InlineQueryResultsButton(turn.t("customers.inline_register"), start_parameter="x")

        async def refuse() -> None:
            await inline.answer([], cache_time=0, is_personal=True, button=button)

        turn.after_commit.append(refuse)
        return
    if inline.query.strip():
        found = await customers.search(turn.session, turn.actor, inline.query, INLINE_LIMIT)
        listed = found.customers
    else:
        listed = await customers.recent_customers(turn.session, turn.actor, INLINE_LIMIT)
    results = [inline_result(turn, customer) for customer in listed]

    async def answer() -> None:
        await inline.answer(results, cache_time=0, is_personal=True)

    turn.after_commit.append(answer)


@turn_handler()
async def photo_message(turn: Turn) -> None:
    """A photo: an answer to the open form, or (outside any form) a card to create a customer
    from; anyone who creates no customers is told what the bot understands."""
    if await continue_form(turn):
        return
    scan = card_photos.reading_of(turn)
    photo = turn.update.effective_message.photo if turn.update.effective_message else ()
    if scan is None and photo and await visit_review.offer_photo(turn, photo[-1].file_id):
        return
    if scan is None:
        turn.say_key("fallback.not_understood")
        return
    await start_form(turn, CUSTOMER_FORM, {"photo": scan.file_id, "outside": True})


async def on_photo(update: Update, ctx: Ctx) -> None:
    """Read a business card before the turn (see handlers.card_photos), then run the turn."""
    try:
        await card_photos.read_before_turn(update, ctx)
        await photo_message(update, ctx)
    finally:
        card_photos.forget(update)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("customers", customers_command))
    app.add_handler(MessageHandler(filters.PHOTO & ~filters.COMMAND, on_photo))
    app.add_handler(CallbackQueryHandler(on_card_button, pattern=CARD.pattern))
    app.add_handler(InlineQueryHandler(inline_search))
    app.add_handler(
        MessageHandler(
            filters.Regex(customers.CUSTOMER_REF) & ~filters.COMMAND, customer_reference
        )
    )
