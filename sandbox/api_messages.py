"""Bot API methods that send, edit and delete messages, and getFile."""

from __future__ import annotations

import time
from typing import Any

from sandbox.errors import bad_request
from sandbox.media import image_size, thumbnail_size
from sandbox.models import StoredFile, StoredMessage
from sandbox.params import Params, UploadedFile
from sandbox.state import SandboxState
from sandbox.strictness import (
    NOT_MODIFIED,
    FormattedText,
    check_caption,
    check_chat_action,
    check_inline_markup,
    check_reply_markup,
    check_text,
    format_text,
)

MEDIA_KINDS = frozenset({"photo", "document", "voice"})


def _reply_to(state: SandboxState, chat_id: int, params: Params) -> int | None:
    reply = params.get_json("reply_parameters")
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        allow = bool(reply.get("allow_sending_without_reply"))
    else:
        message_id = params.get_int("reply_to_message_id")
        allow = params.get_bool("allow_sending_without_reply")
    if message_id is None:
        return None
    if state.find_message(chat_id, int(message_id)) is None:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return int(message_id)


def _caption(params: Params) -> FormattedText | None:
    raw = params.get_str("caption")
    if raw is None:
        return None
    caption = format_text(raw, params.get_str("parse_mode"), params.get_json("caption_entities"))
    check_caption(caption)
    return caption


async def send_message(state: SandboxState, params: Params) -> dict[str, Any]:
    user = state.chat(params.get_chat_id(), sending=True)
    text = format_text(
        params.get_str("text") or "", params.get_str("parse_mode"), params.get_json("entities")
    )
    check_text(text)
    markup = check_reply_markup(params.get_json("reply_markup"), inline_mode=state.inline_mode)
    message = state.add_message(
        user.id,
        from_bot=True,
        kind="text",
        text=text,
        reply_markup=markup,
        reply_to_message_id=_reply_to(state, user.id, params),
    )
    state.check_shown("sendMessage", user.id, message.message_id, text.text, markup)
    return state.message_json(message)


def _input_file(
    state: SandboxState, params: Params, name: str, folder: str
) -> tuple[StoredFile, UploadedFile | None]:
    given = params.get_input_file(name)
    if given is None:
        raise bad_request(f"there is no {name} in the request")
    if isinstance(given, str):
        known = state.files.get(given)
        if known is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return known, None
    stored = state.store_file(
        given.data, folder=folder, file_name=given.file_name, mime_type=given.mime_type
    )
    return stored, given


async def _send_media(
    state: SandboxState, params: Params, kind: str, content: dict[str, Any], file: StoredFile
) -> dict[str, Any]:
    user = state.chat(params.get_chat_id(), sending=True)
    caption = _caption(params)
    markup = check_reply_markup(params.get_json("reply_markup"), inline_mode=state.inline_mode)
    message = state.add_message(
        user.id,
        from_bot=True,
        kind=kind,
        caption=caption,
        reply_markup=markup,
        content=content,
        file=file,
        reply_to_message_id=_reply_to(state, user.id, params),
    )
    shown = caption.text if caption else None
    state.check_shown(f"send{kind.title()}", user.id, message.message_id, shown, markup)
    return state.message_json(message)


def photo_sizes(state: SandboxState, stored: StoredFile) -> list[dict[str, Any]]:
    """Two PhotoSize entries; the thumbnail shares the bytes (the sandbox never resizes)."""
    width, height = image_size(stored.data) or (320, 320)
    thumb_w, thumb_h = thumbnail_size(width, height)
    thumb = state.store_file(
        stored.data, folder="thumbnails", file_name=stored.file_name, mime_type=stored.mime_type
    )
    return [
        {**_size_json(thumb), "width": thumb_w, "height": thumb_h},
        {**_size_json(stored), "width": width, "height": height},
    ]


def _size_json(stored: StoredFile) -> dict[str, Any]:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }


async def send_photo(state: SandboxState, params: Params) -> dict[str, Any]:
    state.chat(params.get_chat_id(), sending=True)
    stored, upload = _input_file(state, params, "photo", "photos")
    if upload is not None and image_size(upload.data) is None:
        raise bad_request("IMAGE_PROCESS_FAILED")
    return await _send_media(state, params, "photo", {"photo": photo_sizes(state, stored)}, stored)


MEDIA_GROUP_TYPES = frozenset({"photo", "video", "audio", "document"})


async def send_media_group(state: SandboxState, params: Params) -> list[dict[str, Any]]:
    """2-10 items shown as one album: photos and videos may mix, documents and audio only with
    their own kind; each item's caption is checked like any caption. No reply_markup."""
    user = state.chat(params.get_chat_id(), sending=True)
    media = params.get_json("media")
    if not isinstance(media, list) or not media:
        raise bad_request("media is empty" if media in (None, []) else "can't parse media JSON")
    if not 2 <= len(media) <= 10:
        raise bad_request("wrong number of media in the group: it must include 2-10 items")
    kinds = set()
    for item in media:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in MEDIA_GROUP_TYPES:
            raise bad_request("can't parse InputMedia: unsupported media type")
        kinds.add("visual" if kind in ("photo", "video") else kind)
    if len(kinds) > 1:
        raise bad_request("documents and audio can't be mixed with other media types")
    if params.has("reply_markup"):
        raise bad_request("sendMediaGroup can't have an inline keyboard")
    group_id = f"{user.id}{len(state.messages) + 1:06d}"
    reply_to = _reply_to(state, user.id, params)
    sent = []
    for item in media:
        given = params.get_input_file_value(item.get("media"))
        if given is None:
            raise bad_request("there is no media in the group item")
        if isinstance(given, str):
            stored = state.files.get(given)
            if stored is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
        else:
            if item["type"] == "photo" and image_size(given.data) is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            stored = state.store_file(
                given.data, folder=f"{item['type']}s", file_name=given.file_name,
                mime_type=given.mime_type,
            )  # fmt: skip
        caption = None
        if item.get("caption") is not None:
            caption = format_text(str(item["caption"]), item.get("parse_mode"),
                                  item.get("caption_entities"))  # fmt: skip
            check_caption(caption)
        content: dict[str, Any] = {"media_group_id": group_id}
        if item["type"] == "photo":
            content["photo"] = photo_sizes(state, stored)
        else:
            content[item["type"]] = {**_size_json(stored), "file_name": stored.file_name}
        sent.append((item["type"], caption, content, stored))
    messages = []
    for kind, caption, content, stored in sent:
        message = state.add_message(
            user.id, from_bot=True, kind=kind, caption=caption, content=content, file=stored,
            reply_to_message_id=reply_to,
        )  # fmt: skip
        state.check_shown("sendMediaGroup", user.id, message.message_id,
                          caption.text if caption else None)  # fmt: skip
        messages.append(state.message_json(message))
    return messages


async def send_document(state: SandboxState, params: Params) -> dict[str, Any]:
    state.chat(params.get_chat_id(), sending=True)
    stored, _ = _input_file(state, params, "document", "documents")
    document = {**_size_json(stored), "file_name": stored.file_name, "mime_type": stored.mime_type}
    content = {"document": {k: v for k, v in document.items() if v is not None}}
    return await _send_media(state, params, "document", content, stored)


async def send_location(state: SandboxState, params: Params) -> dict[str, Any]:
    user = state.chat(params.get_chat_id(), sending=True)
    latitude = params.get_float("latitude", required=True)
    longitude = params.get_float("longitude", required=True)
    if latitude is None or not -90 <= latitude <= 90:
        raise bad_request("wrong latitude specified")
    if longitude is None or not -180 <= longitude <= 180:
        raise bad_request("wrong longitude specified")
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    for name in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
        value = params.get_float(name)
        if value is not None:
            location[name] = value if name == "horizontal_accuracy" else int(value)
    markup = check_reply_markup(params.get_json("reply_markup"), inline_mode=state.inline_mode)
    message = state.add_message(
        user.id,
        from_bot=True,
        kind="location",
        content={"location": location},
        reply_markup=markup,
        reply_to_message_id=_reply_to(state, user.id, params),
    )
    return state.message_json(message)


async def send_chat_action(state: SandboxState, params: Params) -> bool:
    state.chat(params.get_chat_id(), sending=True)
    check_chat_action(params.get_str("action"))
    return True


def _editable(state: SandboxState, params: Params) -> StoredMessage:
    if params.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = state.chat(params.get_chat_id())
    message = state.find_message(chat.id, params.get_int("message_id", required=True))
    if message is None:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _apply_edit(message: StoredMessage, method: str, markup: dict[str, Any] | None) -> None:
    now = time.time()
    message.reply_markup = markup
    message.edit_date = int(now)
    message.edits.append(
        {
            "method": method,
            "text": message.text.text if message.text else None,
            "caption": message.caption.text if message.caption else None,
            "reply_markup": markup,
            "at": now,
        }
    )


async def edit_message_text(state: SandboxState, params: Params) -> dict[str, Any]:
    message = _editable(state, params)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text = format_text(
        params.get_str("text") or "", params.get_str("parse_mode"), params.get_json("entities")
    )
    check_text(text)
    markup = check_inline_markup(params.get_json("reply_markup"), inline_mode=state.inline_mode)
    same_text = (text.text, text.entities) == (message.text.text, message.text.entities)
    if same_text and markup == message.inline_markup:
        raise bad_request(NOT_MODIFIED)
    message.text = text
    _apply_edit(message, "editMessageText", markup)
    state.check_shown("editMessageText", message.chat_id, message.message_id, text.text, markup)
    return state.message_json(message)


async def edit_message_caption(state: SandboxState, params: Params) -> dict[str, Any]:
    message = _editable(state, params)
    if message.kind not in MEDIA_KINDS:
        raise bad_request("there is no caption in the message to edit")
    caption = _caption(params)
    markup = check_inline_markup(params.get_json("reply_markup"), inline_mode=state.inline_mode)
    old = message.caption
    same = (caption.text if caption else "", caption.entities if caption else []) == (
        old.text if old else "",
        old.entities if old else [],
    )
    if same and markup == message.inline_markup:
        raise bad_request(NOT_MODIFIED)
    message.caption = caption
    _apply_edit(message, "editMessageCaption", markup)
    shown = caption.text if caption else None
    state.check_shown("editMessageCaption", message.chat_id, message.message_id, shown, markup)
    return state.message_json(message)


async def edit_message_reply_markup(state: SandboxState, params: Params) -> dict[str, Any]:
    message = _editable(state, params)
    markup = check_inline_markup(params.get_json("reply_markup"), inline_mode=state.inline_mode)
    if markup == message.inline_markup:
        raise bad_request(NOT_MODIFIED)
    _apply_edit(message, "editMessageReplyMarkup", markup)
    state.check_shown("editMessageReplyMarkup", message.chat_id, message.message_id, None, markup)
    return state.message_json(message)


async def delete_message(state: SandboxState, params: Params) -> bool:
    chat = state.chat(params.get_chat_id())
    message = state.find_message(chat.id, params.get_int("message_id", required=True))
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    return True


async def get_file(state: SandboxState, params: Params) -> dict[str, Any]:
    stored = state.files.get(params.get_str("file_id", required=True) or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.to_api()
