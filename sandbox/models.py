"""The sandbox's records: users, files and messages, with their Bot API JSON."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.strictness import FormattedText, inline_part


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


@dataclass
class SandboxUser:
    """A fake Telegram user; their private chat with the bot has the same id."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    blocked: bool = False

    def to_api(self) -> dict[str, Any]:
        return _drop_none(
            {
                "id": self.id,
                "is_bot": False,
                "first_name": self.first_name,
                "last_name": self.last_name,
                "username": self.username,
                "language_code": self.language_code,
            }
        )

    def chat_api(self) -> dict[str, Any]:
        return _drop_none(
            {
                "id": self.id,
                "type": "private",
                "first_name": self.first_name,
                "last_name": self.last_name,
                "username": self.username,
            }
        )


@dataclass
class StoredFile:
    """File content known to the sandbox, reachable by file_id and file_path."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def to_api(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }

    def control_json(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "size": self.size,
        }


@dataclass
class StoredMessage:
    """One message of a private chat, sent by the user or by the bot."""

    message_id: int
    chat_id: int
    from_bot: bool
    kind: str
    date: int
    at: float
    text: FormattedText | None = None
    caption: FormattedText | None = None
    reply_markup: dict[str, Any] | None = None
    # Bot API fields of the content, e.g. {"photo": [...]} or {"location": {...}}.
    content: dict[str, Any] = field(default_factory=dict)
    file: StoredFile | None = None
    reply_to_message_id: int | None = None
    via_bot: bool = False
    edits: list[dict[str, Any]] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False

    @property
    def parse_mode(self) -> str | None:
        formatted = self.text or self.caption
        return formatted.parse_mode if formatted else None

    @property
    def inline_markup(self) -> dict[str, Any] | None:
        return inline_part(self.reply_markup)

    def callback_buttons(self) -> list[dict[str, Any]]:
        markup = self.inline_markup or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    def control_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "from_bot": self.from_bot,
            "kind": self.kind,
            "text": self.text.text if self.text else None,
            "raw_text": self.text.raw if self.text else None,
            "parse_mode": self.parse_mode,
            "entities": self.text.entities if self.text else [],
            "caption": self.caption.text if self.caption else None,
            "raw_caption": self.caption.raw if self.caption else None,
            "reply_markup": self.reply_markup,
            "file": self.file.control_json() if self.file else None,
            "location": self.content.get("location"),
            "contact": self.content.get("contact"),
            "media_group_id": self.content.get("media_group_id"),
            "reply_to_message_id": self.reply_to_message_id,
            "via_bot": self.via_bot,
            "edits": list(self.edits),
            "deleted": self.deleted,
            "date": self.date,
            "at": self.at,
        }


def message_content_api(message: StoredMessage) -> dict[str, Any]:
    """The content part of a Message JSON (text, media, caption, keyboard)."""
    data: dict[str, Any] = dict(message.content)
    if message.text is not None:
        data["text"] = message.text.text
        if message.text.entities:
            data["entities"] = message.text.entities
    if message.caption is not None and message.caption.text:
        data["caption"] = message.caption.text
        if message.caption.entities:
            data["caption_entities"] = message.caption.entities
    if message.inline_markup is not None:
        data["reply_markup"] = message.inline_markup
    if message.edit_date is not None:
        data["edit_date"] = message.edit_date
    return data


@dataclass
class WebhookConfig:
    """What setWebhook stored, plus the last delivery error for getWebhookInfo."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    message_id: int
    data: str
    answer: dict[str, Any] | None = None


@dataclass
class InlineQueryRecord:
    id: str
    user_id: int
    query: str
    offset: str
    answer: dict[str, Any] | None = None


def buttons_named(texts: Iterable[str], label: str) -> list[str]:
    """The button texts a person means by ``label``: the exact text, else the text without
    its icon, else every text containing it (case aside). The harness and the sandbox's
    press by label share this rule."""
    texts = list(texts)
    if label in texts:
        return [label]
    # "Approve" names "✅ Approve" rather than also "✍️ Approve with a comment".
    iconless = [text for text in texts if text.split(" ", 1)[-1] == label]
    if len(iconless) == 1:
        return iconless
    return [text for text in texts if label.lower() in text.lower()]
