"""What a fake user can do; each act creates exactly one Update for the bot."""

from __future__ import annotations

import re
import time
from typing import Any

from sandbox.api_messages import photo_sizes
from sandbox.errors import ApiError, ControlError
from sandbox.formatting import utf16_len
from sandbox.media import DEFAULT_PNG, DEFAULT_VOICE, image_size
from sandbox.models import (
    CallbackQueryRecord,
    InlineQueryRecord,
    StoredMessage,
    buttons_named,
)
from sandbox.state import SandboxState
from sandbox.strictness import MAX_CAPTION, MAX_TEXT, FormattedText, format_text

CALLBACK_ID_BASE = 4_000_000_000_000_000_000
INLINE_ID_BASE = 5_000_000_000_000_000_000
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


def command_entities(text: str) -> list[dict[str, Any]]:
    """Telegram marks a leading ``/command`` or ``/command@botname``."""
    match = _COMMAND.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}]


def _plain(text: str, *, limit: int, what: str) -> FormattedText:
    if utf16_len(text) > limit:
        raise ControlError(f"{what} longer than {limit} UTF-16 code units")
    return FormattedText(text, text)


def _publish(state: SandboxState, message: StoredMessage) -> dict[str, Any]:
    update_id = state.push_update("message", state.message_json(message))
    return {"update_id": update_id, "message_id": message.message_id}


def send_text(
    state: SandboxState, user_id: int, text: str, reply_to_message_id: int | None = None
) -> dict[str, Any]:
    user = state.ensure_user(user_id)
    if not text.strip():
        raise ControlError("a user cannot send an empty text")
    plain = _plain(text, limit=MAX_TEXT, what="text")
    if (
        reply_to_message_id is not None
        and state.find_message(user.id, reply_to_message_id) is None
    ):
        raise ControlError(f"message {reply_to_message_id} not found in chat {user.id}")
    message = state.add_message(
        user.id,
        from_bot=False,
        kind="text",
        text=FormattedText(plain.text, plain.raw, None, command_entities(text)),
        reply_to_message_id=reply_to_message_id,
    )
    return _publish(state, message)


def _pick_button(
    buttons: list[dict[str, Any]], data: str | None, button_text: str | None, index: int | None
) -> dict[str, Any]:
    chosen: list[dict[str, Any]] = []
    if sum(value is not None for value in (data, button_text, index)) != 1:
        raise ControlError("give exactly one of data, button_text or index")
    if data is not None:
        chosen = [b for b in buttons if b.get("callback_data") == data]
    elif button_text is not None:
        chosen = [b for b in buttons if b.get("text") == button_text]
    elif index is not None and 1 <= index <= len(buttons):
        chosen = [buttons[index - 1]]
    if not chosen:
        texts = [b.get("text") for b in buttons]
        raise ControlError(f"no such button; the message has {texts}")
    if "callback_data" not in chosen[0]:
        raise ControlError(f"button {chosen[0].get('text')!r} has no callback_data")
    return chosen[0]


def _newest_with_label(state: SandboxState, chat_id: int, label: str) -> tuple[int, str]:
    """The newest bot message of the chat with a button whose text contains ``label``, and that
    button's text: the button a person means by its label, found where the chat is kept."""
    for message in sorted(state.chat_messages(chat_id), key=lambda m: -m.message_id):
        if not message.from_bot or message.deleted:
            continue
        texts = buttons_named((b.get("text", "") for b in message.callback_buttons()), label)
        if len(texts) > 1:
            raise ControlError(f"button label {label!r} is ambiguous: {texts}")
        if texts:
            return message.message_id, texts[0]
    raise ControlError(f"no button {label!r} in chat {chat_id}")


def press(
    state: SandboxState,
    user_id: int,
    message_id: int | None,
    *,
    data: str | None = None,
    button_text: str | None = None,
    index: int | None = None,
    forged: bool = False,
    label: str | None = None,
) -> dict[str, Any]:
    """A tap on a button of a bot message. ``forged`` sends ``data`` whether or not the message
    has such a button, as a modified client can: bots must treat callback data as untrusted.
    Without a message id, ``label`` (part of a button's text) names the button of the newest
    message that has one: one request, as a finger's tap, for load generators."""
    user = state.ensure_user(user_id)
    if message_id is None:
        if label is None or forged:
            raise ControlError("a press needs a message_id, or a label to find the button by")
        message_id, button_text = _newest_with_label(state, user.id, label)
    elif label is not None:
        raise ControlError("give a label only without a message_id")
    message = state.find_message(user.id, message_id)
    if message is None or not message.from_bot:
        raise ControlError(f"no bot message {message_id} in chat {user.id}")
    buttons = message.callback_buttons()
    if forged:
        if data is None or not 1 <= len(data.encode()) <= 64:
            raise ControlError("a forged press needs data of 1 to 64 bytes")
        button = {"callback_data": data}
    elif not buttons:
        raise ControlError(f"message {message_id} has no inline keyboard")
    else:
        button = _pick_button(buttons, data, button_text, index)
    query_id = state.new_query_id(CALLBACK_ID_BASE)
    state.callback_queries[query_id] = CallbackQueryRecord(
        query_id, user.id, message_id, button["callback_data"]
    )
    payload = {
        "id": query_id,
        "from": user.to_api(),
        "message": state.message_json(message),
        "chat_instance": str(-7_000_000_000_000_000_000 + user.id),
        "data": button["callback_data"],
    }
    update_id = state.push_update("callback_query", payload)
    return {"update_id": update_id, "callback_query_id": query_id}


def send_location(
    state: SandboxState,
    user_id: int,
    latitude: float,
    longitude: float,
    horizontal_accuracy: float | None = None,
    live_period: int | None = None,
) -> dict[str, Any]:
    user = state.ensure_user(user_id)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ControlError("latitude/longitude out of range")
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if horizontal_accuracy is not None:
        location["horizontal_accuracy"] = horizontal_accuracy
    if live_period is not None:
        location["live_period"] = live_period
    message = state.add_message(
        user.id, from_bot=False, kind="location", content={"location": location}
    )
    return _publish(state, message)


def _caption(caption: str | None) -> FormattedText | None:
    return None if caption is None else _plain(caption, limit=MAX_CAPTION, what="caption")


def send_photo(
    state: SandboxState, user_id: int, content: bytes | None = None, caption: str | None = None
) -> dict[str, Any]:
    user = state.ensure_user(user_id)
    data = DEFAULT_PNG if content is None else content
    if image_size(data) is None:
        raise ControlError("photo content must be a PNG, GIF or JPEG image")
    stored = state.store_file(data, folder="photos", file_name=None, mime_type=None)
    message = state.add_message(
        user.id,
        from_bot=False,
        kind="photo",
        caption=_caption(caption),
        content={"photo": photo_sizes(state, stored)},
        file=stored,
    )
    return _publish(state, message)


def send_document(
    state: SandboxState,
    user_id: int,
    file_name: str,
    mime_type: str,
    content: bytes,
    caption: str | None = None,
) -> dict[str, Any]:
    user = state.ensure_user(user_id)
    stored = state.store_file(
        content, folder="documents", file_name=file_name, mime_type=mime_type
    )
    document = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_name": file_name,
        "mime_type": mime_type,
        "file_size": stored.size,
    }
    message = state.add_message(
        user.id,
        from_bot=False,
        kind="document",
        caption=_caption(caption),
        content={"document": document},
        file=stored,
    )
    return _publish(state, message)


def send_voice(
    state: SandboxState, user_id: int, duration: int, content: bytes | None = None
) -> dict[str, Any]:
    user = state.ensure_user(user_id)
    data = DEFAULT_VOICE if content is None else content
    stored = state.store_file(data, folder="voice", file_name=None, mime_type="audio/ogg")
    voice = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "duration": duration,
        "mime_type": "audio/ogg",
        "file_size": stored.size,
    }
    message = state.add_message(
        user.id, from_bot=False, kind="voice", content={"voice": voice}, file=stored
    )
    return _publish(state, message)


def send_contact(
    state: SandboxState,
    user_id: int,
    phone_number: str,
    first_name: str,
    contact_user_id: int | None = None,
    own: bool = True,
) -> dict[str, Any]:
    user = state.ensure_user(user_id)
    if not phone_number.strip() or not first_name.strip():
        raise ControlError("a contact needs a phone number and a first name")
    # Sharing one's own contact (the request_contact button) carries the user's id; a contact
    # from the address book carries one only when that person uses Telegram.
    contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
    if contact_user_id is not None or own:
        contact["user_id"] = user.id if contact_user_id is None else contact_user_id
    message = state.add_message(
        user.id, from_bot=False, kind="contact", content={"contact": contact}
    )
    return _publish(state, message)


def inline_query(
    state: SandboxState, user_id: int, query: str, offset: str = "", chat_type: str = "sender"
) -> dict[str, Any]:
    user = state.ensure_user(user_id)
    if not state.inline_mode:
        # Telegram's clients offer "@bot query" only for bots whose inline mode is on.
        raise ControlError("the bot's inline mode is off (turn it on with inline_mode)")
    query_id = state.new_query_id(INLINE_ID_BASE)
    state.inline_queries[query_id] = InlineQueryRecord(query_id, user.id, query, offset)
    payload = {
        "id": query_id,
        "from": user.to_api(),
        "query": query,
        "offset": offset,
        "chat_type": chat_type,
    }
    update_id = state.push_update("inline_query", payload)
    return {"update_id": update_id, "inline_query_id": query_id}


def choose_inline_result(
    state: SandboxState, user_id: int, inline_query_id: str, result_id: str
) -> dict[str, Any]:
    user = state.ensure_user(user_id)
    query = state.inline_queries.get(inline_query_id)
    if query is None or query.user_id != user.id:
        raise ControlError(f"no inline query {inline_query_id} of user {user.id}")
    if query.answer is None:
        raise ControlError("the bot has not answered this inline query")
    results = [r for r in query.answer["results"] if r.get("id") == result_id]
    if not results:
        raise ControlError(f"no result {result_id!r} in the bot's answer")
    content = results[0].get("input_message_content") or {}
    if "message_text" not in content:
        raise ControlError("only results with input_message_content.message_text can be sent")
    try:
        text = format_text(str(content["message_text"]), content.get("parse_mode"))
    except ApiError as exc:
        raise ControlError(exc.description) from None
    message = state.add_message(
        user.id,
        from_bot=False,
        kind="text",
        text=text,
        via_bot=True,
        reply_markup=results[0].get("reply_markup"),
    )
    state.check_shown("answerInlineQuery", user.id, message.message_id, text.text, None)
    return _publish(state, message)


def send_group_text(
    state: SandboxState, user_id: int, chat_id: int, text: str, chat_type: str = "group"
) -> dict[str, Any]:
    """A member types in a group (or supergroup) the bot was added to.

    The sandbox keeps no history of shared chats: it only delivers the update, and refuses
    whatever the bot sends back there ("chat not found"), which the event log records.
    """
    user = state.ensure_user(user_id)
    if chat_id >= 0 or chat_type not in ("group", "supergroup"):
        raise ControlError("a group chat has a negative id and type group or supergroup")
    plain = _plain(text, limit=MAX_TEXT, what="text")
    payload: dict[str, Any] = {
        "message_id": next(state.group_message_ids),
        "from": user.to_api(),
        "chat": {"id": chat_id, "type": chat_type, "title": f"Group {-chat_id}"},
        "date": int(time.time()),
        "text": plain.text,
    }
    entities = command_entities(text)
    if entities:
        payload["entities"] = entities
    return {"update_id": state.push_update("message", payload)}
