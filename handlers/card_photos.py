"""A business-card photo read before its turn, and the customer form's card steps.

OCR takes about a second, so it runs before the turn's transaction (which holds the person's
lock and, on SQLite, the database's write lock) and off the event loop: the photo is downloaded
and read first, then the turn runs with the reading (``reading_of``). Only photos the person's
state can use are read: outside any form, or at a step that asks for a new customer.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.error import TelegramError

from core.errors import UserFacingError
from handlers.context import Ctx
from handlers.customer_fields import field_answer, field_prompt
from handlers.forms import FormInput, InputError, Prompt
from handlers.turn import Turn
from models.common import Role
from services import card_text, customers, forms, team_context, users, visit_review
from services.card_reader import CardReader, NotAnImage, OcrUnavailable
from services.card_text import CardFields
from views.callbacks import StaleButton
from views.cards import card_review
from views.forms import FORM
from views.visit_review import READ_CARD

log = logging.getLogger(__name__)

CARD_READ_SECONDS = 10.0
# Telegram's largest photo size is 1280 px; anything much bigger than that is not a photo.
MAX_PHOTO_BYTES = 10 * 1024 * 1024
READER = CardReader(time_limit=CARD_READ_SECONDS)
CREATORS = frozenset({Role.REP, Role.MANAGER})
# Form steps at which a photo is a business card for a new customer.
CARD_STEPS = {
    "customers": frozenset({"query", "c_name"}),
    "visit": frozenset({"customer", "pick", "c_name"}),
}
# The fields the card review shows, each correctable.
REVIEW_FIELDS = ("name", "contact", "phone", "address", "notes")
OCR_MISSING, TOO_SLOW, NOT_A_CARD = "ocr_missing", "too_slow", "not_a_card"


@dataclass
class CardScan:
    """What was read from one photo: the customer's values, or why nothing."""

    file_id: str
    values: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


_READINGS: dict[int, CardScan] = {}


def reading_of(turn: Turn) -> CardScan | None:
    """The card read from this update's photo before the turn, if it was one to read."""
    return _READINGS.get(turn.update.update_id)


async def read_before_turn(update: Update, ctx: Ctx) -> bool:
    """Read the photo of ``update`` as a card when the sender's state wants one; True if read.
    The result waits for the turn in ``_READINGS`` until ``forget`` drops it."""
    message = update.effective_message
    sender = update.effective_user
    if message is None or not message.photo or sender is None:
        return False
    if not await _wants_card(ctx, sender.id):
        return False
    photo = message.photo[-1]
    _READINGS[update.update_id] = await _scan(ctx, photo.file_id, photo.file_size or 0)
    return True


async def read_chosen_card(update: Update, ctx: Ctx) -> bool:
    """A tap on "Read as a business card" for a photo sent outside any form (the photo was
    offered to a visit first, see handlers.visit_review): read that photo before the turn."""
    query = update.callback_query
    sender = update.effective_user
    if query is None or sender is None:
        return False
    try:
        pressed = FORM.unpack(query.data)
    except StaleButton:
        return False
    if pressed.value != READ_CARD:
        return False
    deps = ctx.deps
    async with deps.sessions() as session:
        state = await forms.load(session, sender.id, deps.clock.now())
    if state is None or state.token != pressed.token or not state.data.get("photo"):
        return False
    _READINGS[update.update_id] = await _scan(ctx, str(state.data["photo"]), 0)
    return True


def forget(update: Update) -> None:
    _READINGS.pop(update.update_id, None)


async def _wants_card(ctx: Ctx, telegram_id: int) -> bool:
    deps = ctx.deps
    async with deps.sessions() as session:
        user = await users.by_telegram_id(session, telegram_id)
        if user is None or not user.active or Role(user.role) not in CREATORS:
            return False
        state = await forms.load(session, telegram_id, deps.clock.now())
        if state is None:
            # A rep at (or just back from) a visit is first asked where the photo belongs;
            # the card is read only if they say it is one (read_chosen_card).
            if user.team_id is None:
                return True
            team = await team_context.resolve(
                session, deps.settings, user.team_id, deps.clock.now()
            )
            return not await visit_review.photo_targets(session, user.id or 0, team)
    return state.step in CARD_STEPS.get(state.form, frozenset())


async def _scan(ctx: Ctx, file_id: str, size: int) -> CardScan:
    if size > MAX_PHOTO_BYTES:
        return CardScan(file_id, problem=NOT_A_CARD)
    try:
        image = bytes(await (await ctx.bot.get_file(file_id)).download_as_bytearray())
        lines = await READER.read(image)
    except OcrUnavailable:
        return CardScan(file_id, problem=OCR_MISSING)
    except TimeoutError:
        log.warning("a card was not read within %s s", CARD_READ_SECONDS)
        return CardScan(file_id, problem=TOO_SLOW)
    except (NotAnImage, TelegramError) as error:
        log.info("a card photo could not be read: %s", error)
        return CardScan(file_id, problem=NOT_A_CARD)
    found = card_text.extract(lines)
    if not found.is_card:
        return CardScan(file_id, problem=NOT_A_CARD)
    return CardScan(file_id, values=customer_values(found))


def customer_values(found: CardFields) -> dict[str, str]:
    """The customer form's values from a card; a value the form would refuse is left out."""
    raw = {
        "name": found.company or "",
        "contact": found.person or "",
        "phone": found.phone or "",
        "address": found.address or "",
        "notes": "\n".join(
            part
            for part in (
                found.title,
                *(f"☎ {number}" for number in found.landlines if number != found.phone),
                *(f"📱 {number}" for number in found.mobiles[1:]),
                f"✉ {found.email}" if found.email else None,
            )
            if part
        ),
    }
    values: dict[str, str] = {}
    for name, text in raw.items():
        if not text:
            continue
        try:
            values[name] = str(customers.clean_field(name, text))
        except UserFacingError:
            continue
    return values


# -- the card steps of a form -------------------------------------------------------------


def take_card(turn: Turn, data: dict[str, Any], answer: FormInput) -> str | None:
    """A photo at a step that creates a customer: fill the form from the card ("card"), or
    say why not and ask for the name by hand ("c_name"). None when the answer is no photo."""
    if answer.photo_file_id is None:
        return None
    scan = reading_of(turn)
    if scan is None or scan.problem is not None:
        turn.say_key(f"cards.{scan.problem if scan else NOT_A_CARD}")
        data["new"] = {}
        return "c_name"
    data["new"] = dict(scan.values, card_file_id=scan.file_id)
    data["card_file_id"] = scan.file_id
    return "card"


def review_prompt(turn: Turn, data: dict[str, Any]) -> Prompt:
    values = data.get("new") or {}
    question = bool(data.get("outside"))
    text = card_review(turn.deps.texts, turn.lang, values, REVIEW_FIELDS, question=question)
    labels = [(turn.t("cards.fix", field=turn.t(f"customers.field_{f}")), f"fix:{f}")
              for f in REVIEW_FIELDS]  # fmt: skip
    rows = [labels[i : i + 3] for i in range(0, len(labels), 3)]
    rows.append([(turn.t("cards.save"), "save")])
    return Prompt(text, rows)


def review_answer(data: dict[str, Any], answer: FormInput) -> str:
    """The review's buttons: correct a field ("fix_<field>"), or "save"."""
    choice = answer.choice or ""
    if choice == "save":
        return "save" if (data.get("new") or {}).get("name") else "fix_name"
    if choice.startswith("fix:") and choice[4:] in REVIEW_FIELDS:
        return f"fix_{choice[4:]}"
    raise InputError("forms.use_buttons")


async def fix_prompt(turn: Turn, data: dict[str, Any], field_name: str) -> Prompt:
    current = (data.get("new") or {}).get(field_name)
    return await field_prompt(turn, field_name, turn.actor.team_id, current)


async def fix_answer(turn: Turn, data: dict[str, Any], answer: FormInput, field_name: str) -> str:
    """A corrected (or skipped) field; back to the review."""
    value = await field_answer(turn, field_name, turn.actor.team_id, answer)
    new = data.setdefault("new", {})
    if value is None:
        new.pop(field_name, None)
    else:
        new[field_name] = value
    return "card"


async def duplicate_of(turn: Turn, data: dict[str, Any]) -> bool:
    """Before saving: a customer of the team with the same name or phone goes into
    ``data["dup"]`` (True), to be offered instead."""
    new = data.get("new") or {}
    team_id = turn.actor.team_id
    if team_id is None:
        return False
    phone = None if data.get("same_phone") else new.get("phone")
    found = await customers.find_duplicate(
        turn.session, team_id, name=new.get("name"), phone=phone
    )
    if found is None:
        return False
    data["dup"] = {"id": found[0].id, "name": found[0].name, "by": found[1]}
    return True


def shown_name(data: dict[str, Any]) -> str:
    return html.escape(str((data.get("new") or {}).get("name") or ""))
