"""Multi-step forms whose state lives in the database.

A form is a small class: ``prompt`` says what to ask at a step (text, buttons), ``accept`` takes
the answer and names the next step (or None when the form is done). The engine stores the state
after every step, adds Cancel (and Skip) buttons, marks stale buttons, and re-asks after bad input.
A field reached from a form's summary also gets a Back button to that summary, draft intact.
"""

from __future__ import annotations

import copy
import functools
import html
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from telegram import Update

from core.errors import UserFacingError
from core.registry import Registry
from handlers.error_text import error_text, say_error
from handlers.replies import Button, Keyboard, split_text
from handlers.turn import ALL_ROLES, Turn, after_reply
from models.common import Role
from models.form import FormState
from services import forms as form_store
from views.callbacks import StaleButton
from views.forms import FORM, FormChoice

# The route of every form button (handlers/fallback.py).
CALLBACK_PATTERN = FORM.pattern
CANCEL = "~c"
SKIP = "~s"
SEARCH = "~q"
BACK = "~b"
# Form data key of the current buttons' labels (see _typed_labels).
LABELS = "_labels"
# Form data key: the current step offers customer search (see search_button).
SEARCHABLE = "_search"
# Form data key of the finished HTML of the message that carries the current buttons, so that
# closing the prompt re-sends exactly what was sent (see _close_prompt).
SHOWN = "_shown"
# Form data key a form sets while a field is edited from its summary (the field's step goes
# back to the summary afterwards), and the engine's copy of the draft as the summary showed it,
# which Back restores (an edit may have cleared the field first: photos, receipts).
RETURN = "_return"
DRAFT = "_draft"
_ENGINE_KEYS = frozenset({LABELS, SEARCHABLE, SHOWN, DRAFT, RETURN, "_seq"})


class InputError(UserFacingError):
    """The answer does not fit the step; the text says what to send instead, then we re-ask."""


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    accuracy: float | None
    live: bool


@dataclass(frozen=True)
class FormInput:
    text: str | None = None
    choice: str | None = None
    location: Location | None = None
    photo_file_id: str | None = None
    document_file_id: str | None = None
    document_name: str | None = None
    voice_file_id: str | None = None
    message_id: int | None = None

    @property
    def skipped(self) -> bool:
        return self.choice == SKIP


@dataclass
class Prompt:
    text: str
    choices: list[list[tuple[str, str]]] = field(default_factory=list)
    skippable: bool = False
    cancellable: bool = True
    location_button: str | None = None
    # Offer customer search under the choices (see search_button); the text is what inline
    # mode types into the chat first. The step's accept() takes a typed fragment.
    search: str | None = None


class Form(ABC):
    name: ClassVar[str]
    first_step: ClassVar[str]
    roles: ClassVar[frozenset[Role]] = ALL_ROLES
    # Steps whose prompt is updated in place when a button keeps the form at that step (e.g.
    # ticking customers in a list), instead of closing it and asking again in a new message.
    in_place_steps: ClassVar[frozenset[str]] = frozenset()
    # The step that shows the whole draft before it is saved, and the label of the button that
    # returns there from a field being edited (see RETURN).
    summary_step: ClassVar[str | None] = None
    back_key: ClassVar[str] = ""
    # The command that opens the form, to name it when something sent does not fit its step.
    command: ClassVar[str] = ""

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        """Fill initial data and return the first step; None when nothing is left to ask.

        Raise UserFacingError to refuse to start.
        """
        return self.first_step

    def cancelled(self, turn: Turn, data: dict[str, Any]) -> str:
        """What a person who cancels this form is told (what was already saved stays)."""
        return turn.t("forms.cancelled")

    @abstractmethod
    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt: ...

    @abstractmethod
    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        """Store the answer in ``data`` and return the next step, or None when the form is done."""


FORMS: Registry[Form] = Registry("form")


def register_form(form: Form) -> Form:
    return FORMS.add(form.name, form)


def _ttl(turn: Turn) -> timedelta:
    return timedelta(hours=turn.deps.settings.runtime.form_ttl_hours)


def callback_data(state: FormState, value: str) -> str:
    return FORM.pack(FormChoice(state.token, int(state.data.get("_seq", 0)), value))


def _unpacked(data: str | None) -> FormChoice | None:
    """A form button's parts; None for data the form codec did not pack (stale or forged)."""
    try:
        return FORM.unpack(data)
    except StaleButton:
        return None


async def start_form(turn: Turn, form: Form, data: dict[str, Any] | None = None) -> None:
    """Open ``form`` for the sender (replacing any open form) and ask its first question."""
    if turn.user is None or turn.actor.role not in form.roles:
        raise UserFacingError("access.role_not_allowed")
    values = dict(data or {})
    first_step = await form.prepare(turn, values)
    if first_step is None:
        await form_store.discard(turn.session, turn.actor.telegram_id)
        return
    state = await form_store.open_form(
        turn.session, telegram_id=turn.actor.telegram_id, form=form.name,
        step=first_step, data=values, now=turn.now, ttl=_ttl(turn),
    )  # fmt: skip
    await _ask(turn, form, state, first_step, values)


async def ask_again(turn: Turn, form: Form, opened_by: Callable[[dict[str, Any]], bool]) -> bool:
    """The sender's open ``form``, if ``opened_by`` recognises its data, asks its current
    question again and keeps what was answered so far: for a second tap on the button that
    opened it. False when no such form is open."""
    state = await form_store.load(turn.session, turn.actor.telegram_id, turn.now)
    if state is None or state.form != form.name or not opened_by(state.data):
        return False
    await _ask(turn, form, state, state.step, dict(state.data))
    return True


async def _ask(
    turn: Turn,
    form: Form,
    state: FormState,
    step: str,
    data: dict[str, Any],
    edit_message_id: int | None = None,
) -> None:
    data["_seq"] = int(data.get("_seq", 0)) + 1
    prompt = await form.prompt(turn, step, data)
    back = turn.t(form.back_key) if _can_go_back(form, step, data) else None
    data[LABELS] = _typed_labels(turn, prompt, back)
    data[SEARCHABLE] = prompt.search is not None
    data[SHOWN] = _text_with_buttons(turn, prompt)
    await form_store.save(turn.session, state, step=step, data=data, now=turn.now, ttl=_ttl(turn))
    rows: Keyboard = [
        [Button(label, data=callback_data(state, value)) for label, value in row]
        for row in prompt.choices
    ]
    if prompt.search is not None:
        rows.append([search_button(turn, state, prompt.search)])
    controls: list[Button] = []
    if back is not None:
        controls.append(Button(back, data=callback_data(state, BACK)))
    if prompt.skippable:
        controls.append(Button(turn.t("forms.skip"), data=callback_data(state, SKIP)))
    if prompt.cancellable:
        controls.append(Button(turn.t("forms.cancel"), data=callback_data(state, CANCEL)))
    if controls:
        rows.append(controls)
    if edit_message_id is not None and not prompt.location_button:
        turn.edit(edit_message_id, prompt.text, rows)
        return
    if prompt.location_button:
        # Telegram allows one keyboard a message: the location request is a reply keyboard, so
        # the inline Skip/Cancel buttons travel on a second short message, remembered once it
        # is out, so that the location shared instead retires it.
        turn.say(prompt.text, location_button=prompt.location_button)
        kept = functools.partial(_remember_prompt, turn, state.token, turn.now)
        turn.say(turn.t("forms.or_use_buttons"), rows, on_sent=kept)
        return
    turn.say(prompt.text, rows)


async def _remember_prompt(turn: Turn, token: str, saved_at: datetime, message_id: int) -> None:
    telegram_id = turn.actor.telegram_id
    await after_reply(
        turn.deps,
        lambda session: form_store.remember_prompt(
            session, telegram_id, token, saved_at, message_id
        ),
    )


def search_button(turn: Turn, state: FormState, query: str) -> Button:
    """The one place that builds the customer search button. Telegram refuses (400) a button
    that opens inline mode when the bot's inline mode is off, so then the button asks for a
    typed fragment instead, which every search step accepts."""
    label = turn.t("customers.search")
    if turn.deps.inline_mode:
        return Button(label, inline_query=query)
    return Button(label, data=callback_data(state, SEARCH))


def _text_with_buttons(turn: Turn, prompt: Prompt) -> str:
    """The text of the message the buttons travel on: a long prompt is split and its buttons go
    on the last part; a location prompt's buttons go on a short second message."""
    if prompt.location_button:
        return turn.t("forms.or_use_buttons")
    return split_text(prompt.text)[-1]


def _label_key(label: str) -> str:
    """A button's label as someone might type it: letters and digits only, case folded
    ("✅ Done" and "done", "取消 ✖" and "取消" are the same)."""
    return "".join(ch for ch in label if ch.isalnum()).casefold()


def _can_go_back(form: Form, step: str, data: dict[str, Any]) -> bool:
    return bool(
        form.summary_step and step != form.summary_step and data.get(RETURN) and DRAFT in data
    )


def _typed_labels(turn: Turn, prompt: Prompt, back: str | None = None) -> dict[str, str]:
    """The current buttons by label, so that typing a button's label works like tapping it
    (one-handed users type "完成" rather than find the button)."""
    labels = {_label_key(label): value for row in prompt.choices for label, value in row}
    if back is not None:
        labels[_label_key(back)] = BACK
    if prompt.skippable:
        labels[_label_key(turn.t("forms.skip"))] = SKIP
    if prompt.cancellable:
        labels[_label_key(turn.t("forms.cancel"))] = CANCEL
    if prompt.search is not None and not turn.deps.inline_mode:
        labels[_label_key(turn.t("customers.search"))] = SEARCH
    labels.pop("", None)
    return labels


def _as_typed_choice(answer: FormInput, data: dict[str, Any]) -> FormInput:
    if answer.text is None or answer.choice is not None or answer.photo_file_id:
        return answer
    if answer.document_file_id or answer.location is not None:
        return answer
    value = (data.get(LABELS) or {}).get(_label_key(answer.text))
    return answer if value is None else FormInput(choice=value)


def read_input(update: Update) -> FormInput:
    message = update.effective_message
    query = update.callback_query
    if query is not None:
        choice = _unpacked(query.data)
        return FormInput(
            choice=choice.value if choice is not None else "",
            message_id=query.message.message_id if query.message else None,
        )
    assert message is not None
    if message.location is not None:
        loc = message.location
        return FormInput(
            location=Location(
                latitude=loc.latitude,
                longitude=loc.longitude,
                accuracy=loc.horizontal_accuracy,
                live=loc.live_period is not None,
            )
        )
    if message.photo:
        return FormInput(photo_file_id=message.photo[-1].file_id, text=message.caption)
    if message.document is not None:
        return FormInput(
            document_file_id=message.document.file_id,
            document_name=message.document.file_name,
            text=message.caption,
        )
    if message.voice is not None:
        return FormInput(voice_file_id=message.voice.file_id)
    return FormInput(text=(message.text or "").strip())


async def continue_form(turn: Turn) -> bool:
    """Feed the update to the sender's open form. False when no form is open."""
    state = await form_store.load(turn.session, turn.actor.telegram_id, turn.now)
    if state is None or state.form not in FORMS:
        return False
    form = FORMS[state.form]
    query = turn.update.callback_query
    if query is not None and not _is_current(state, query.data or ""):
        turn.say_key("forms.stale_button")
        return True
    answer = _as_typed_choice(read_input(turn.update), state.data)
    if query is None and state.prompt_message_id is not None:
        # Answered otherwise than by its buttons (a location shared): the message that carried
        # them goes, the next question (or the same one, asked again) brings its own.
        turn.delete(state.prompt_message_id)
    # Taken now: an answer may open another form in the same stored state.
    shown = state.data.get(SHOWN)
    if answer.choice == CANCEL:
        await form_store.discard(turn.session, turn.actor.telegram_id)
        _close_prompt(turn, shown, answer, turn.t("forms.cancelled_mark"))
        turn.say(form.cancelled(turn, state.data), remove_reply_keyboard=True)
        return True
    if answer.choice == SEARCH and state.data.get(SEARCHABLE):
        # The prompt and its buttons stay as they are: the rep may still tap a customer.
        turn.say(turn.t("customers.type_fragment"))
        return True
    step = state.step
    if answer.choice == BACK and form.summary_step and _can_go_back(form, step, state.data):
        data = {**state.data[DRAFT], "_seq": state.data.get("_seq", 0)}
        _close_prompt(turn, shown, answer, _chosen_label(turn, answer))
        await _ask(turn, form, state, form.summary_step, data)
        return True
    data = dict(state.data)
    # The draft as the summary shows it, for Back; accept() may change nested values in place.
    at_summary = step == form.summary_step
    before = _draft_of(state.data) if at_summary else None
    try:
        next_step = await form.accept(turn, step, data, answer)
    except InputError as error:
        if answer.location is not None or answer.photo_file_id is not None:
            _say_not_here(turn, form, answer, error)
        else:
            say_error(turn, error)
        await _ask(turn, form, state, step, data)
        return True
    in_place = next_step == step and step in form.in_place_steps
    if in_place and answer.message_id is not None and turn.update.callback_query is not None:
        await _ask(turn, form, state, step, data, edit_message_id=answer.message_id)
        return True
    if before is not None and next_step not in (None, step):
        data[DRAFT] = before
    elif next_step == form.summary_step:
        data.pop(DRAFT, None)
    _close_prompt(turn, shown, answer, _chosen_label(turn, answer))
    if next_step is None:
        # The answer may have handed over to another form (start_form): that one stays open.
        await form_store.discard(turn.session, turn.actor.telegram_id, token=state.token)
    else:
        await _ask(turn, form, state, next_step, data)
    return True


def _say_not_here(turn: Turn, form: Form, answer: FormInput, error: InputError) -> None:
    """A location or photo the step cannot use: what the step wants, and that the form stays
    open (its draft kept), so the rep shares it again once the form is finished or cancelled,
    when it starts a check-in or joins the open visit."""
    key = "forms.location_not_here" if answer.location is not None else "forms.photo_not_here"
    name = form.command or turn.t("forms.this_form")
    turn.say(f"{error_text(turn, error)}\n{turn.t(key, form=name)}")


def _draft_of(data: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in data.items() if k not in _ENGINE_KEYS})


def _is_current(state: FormState, data: str) -> bool:
    choice = _unpacked(data)
    return (
        choice is not None
        and choice.token == state.token
        and choice.seq == int(state.data.get("_seq", 0))
    )


def _chosen_label(turn: Turn, answer: FormInput) -> str:
    if answer.choice is None:
        return ""
    if answer.choice == SKIP:
        return turn.t("forms.skipped_mark")
    query = turn.update.callback_query
    if query is not None and query.message is not None:
        markup = getattr(query.message, "reply_markup", None)
        for row in markup.inline_keyboard if markup else ():
            for button in row:
                if button.callback_data == query.data:
                    return f"✓ {html.escape(button.text)}"
    return ""


def _close_prompt(turn: Turn, shown: object, answer: FormInput, mark: str) -> None:
    """Replace the tapped prompt's buttons by the answer, so old buttons cannot be tapped again.

    The text is the finished HTML the form sent (kept in its state), never HTML rebuilt from the
    message Telegram echoes back (plain text plus entities): rebuilding escapes a finished text a
    second time, and shows tags as text whenever the echo does not carry its entities."""
    query = turn.update.callback_query
    if answer.message_id is None or query is None:
        return
    if not isinstance(shown, str):
        # A form opened before its text was kept: its buttons are refused as stale anyway.
        return
    turn.edit(answer.message_id, f"{shown}\n<b>{mark}</b>" if mark else shown)


async def cancel_open_form(turn: Turn) -> str | None:
    """Drop the sender's open form; what to tell them, None when no form was open."""
    state = await form_store.load(turn.session, turn.actor.telegram_id, turn.now)
    if not await form_store.discard(turn.session, turn.actor.telegram_id):
        return None
    if state is not None and state.prompt_message_id is not None:
        turn.delete(state.prompt_message_id)
    if state is None or state.form not in FORMS:
        return turn.t("forms.cancelled")
    return FORMS[state.form].cancelled(turn, state.data)
