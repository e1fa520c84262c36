"""The checks that make the sandbox as strict as the real Bot API.

Every failure is an ``ApiError`` carrying Telegram's own wording, so that the bot's
error handling is exercised against the messages it will see in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import bad_request
from sandbox.formatting import HtmlParseError, parse_html, utf16_len

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
MAX_INLINE_RESULTS = 50
MARKUP_ERROR = "can't parse reply keyboard markup JSON object"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
# Buttons that open inline mode: Telegram refuses them while the bot's inline mode is off.
SWITCH_INLINE_ACTIONS = frozenset(
    {"switch_inline_query", "switch_inline_query_current_chat", "switch_inline_query_chosen_chat"}
)
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


@dataclass(frozen=True)
class FormattedText:
    """What the user sees (``text`` + ``entities``) and what the bot sent (``raw``)."""

    text: str
    raw: str
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)


def format_text(raw: str, parse_mode: str | None, entities: Any = None) -> FormattedText:
    mode = (parse_mode or "").strip()
    if not mode:
        given = entities if isinstance(entities, list) else []
        return FormattedText(raw, raw, None, given)
    lowered = mode.lower()
    if lowered == "html":
        try:
            text, parsed = parse_html(raw)
        except HtmlParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
        return FormattedText(text, raw, mode, parsed)
    if lowered in ("markdownv2", "markdown"):
        # Lenient on purpose: the bot is expected to use HTML; keep the text as sent.
        return FormattedText(raw, raw, mode, [])
    raise bad_request("unsupported parse_mode")


def check_text(text: FormattedText) -> None:
    if not text.text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text.text) > MAX_TEXT:
        raise bad_request("message is too long")


def check_caption(caption: FormattedText | None) -> None:
    if caption is not None and utf16_len(caption.text) > MAX_CAPTION:
        raise bad_request("message caption is too long")


def check_reply_markup(markup: Any, *, inline_mode: bool) -> dict[str, Any] | None:
    """Validate any reply_markup; return it unchanged (None when absent). ``inline_mode`` is
    what the bot's getMe says (``supports_inline_queries``)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request(MARKUP_ERROR)
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"], inline_mode=inline_mode)
    elif "keyboard" in markup:
        _check_reply_keyboard(markup["keyboard"])
    elif markup.get("remove_keyboard") is not True and markup.get("force_reply") is not True:
        raise bad_request(MARKUP_ERROR)
    return markup


def check_inline_markup(markup: Any, *, inline_mode: bool) -> dict[str, Any] | None:
    """Edits and inline results accept inline keyboards only."""
    checked = check_reply_markup(markup, inline_mode=inline_mode)
    if checked is not None and "inline_keyboard" not in checked:
        raise bad_request(MARKUP_ERROR)
    return checked


def _rows(rows: Any) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(MARKUP_ERROR)
    return rows


def _check_inline_keyboard(rows: Any, *, inline_mode: bool) -> None:
    for row in _rows(rows):
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(MARKUP_ERROR)
            actions = [name for name in INLINE_ACTIONS if name in button]
            if len(actions) != 1:
                raise bad_request(MARKUP_ERROR)
            if not inline_mode and actions[0] in SWITCH_INLINE_ACTIONS:
                raise bad_request("BUTTON_TYPE_INVALID")
            if "callback_data" in button:
                check_callback_data(button["callback_data"])
            if "web_app" in button:
                check_web_app(button["web_app"], "inline keyboard button")


def check_web_app(web_app: Any, where: str) -> None:
    """A Mini App's address: Telegram opens HTTPS pages only."""
    url = web_app.get("url") if isinstance(web_app, dict) else None
    if not isinstance(url, str) or not url:
        raise bad_request(MARKUP_ERROR)
    if not url.startswith("https://"):
        raise bad_request(f"{where} Web App URL '{url}' is invalid: Only HTTPS links are allowed")


def check_callback_data(data: Any) -> None:
    if not isinstance(data, str) or not 0 < len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
        raise bad_request("BUTTON_DATA_INVALID")


def _check_reply_keyboard(rows: Any) -> None:
    for row in _rows(rows):
        for button in row:
            text = button.get("text") if isinstance(button, dict) else button
            if not isinstance(text, str) or not text:
                raise bad_request(MARKUP_ERROR)


def inline_part(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """The part of a markup that belongs to the message (reply keyboards do not)."""
    if markup is not None and "inline_keyboard" in markup:
        return markup
    return None


def check_callback_answer_text(text: str | None) -> None:
    if text is not None and len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")


def check_chat_action(action: str | None) -> None:
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")


def check_commands(commands: Any) -> list[dict[str, str]]:
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    checked: list[dict[str, str]] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not _COMMAND_RE.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 0 < len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        checked.append({"command": command, "description": description})
    return checked


def check_inline_results(results: Any, *, inline_mode: bool) -> list[dict[str, Any]]:
    if not isinstance(results, list):
        raise bad_request("can't parse inline query results JSON object")
    if len(results) > MAX_INLINE_RESULTS:
        raise bad_request("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("type"), str):
            raise bad_request("can't parse inline query result JSON object")
        result_id = result.get("id")
        if not isinstance(result_id, str) or not 0 < len(result_id.encode()) <= 64:
            raise bad_request("RESULT_ID_INVALID")
        if result_id in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(result_id)
        check_inline_markup(result.get("reply_markup"), inline_mode=inline_mode)
        content = result.get("input_message_content")
        if result["type"] == "article" and not isinstance(content, dict):
            raise bad_request("can't parse input message content JSON object")
        if isinstance(content, dict) and "message_text" in content:
            text = format_text(str(content["message_text"]), content.get("parse_mode"))
            if not text.text.strip():
                raise bad_request("MESSAGE_EMPTY")
            if utf16_len(text.text) > MAX_TEXT:
                raise bad_request("MESSAGE_TOO_LONG")
    return results
