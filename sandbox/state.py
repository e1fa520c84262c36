"""All mutable sandbox state. It lives in the sandbox's event loop and nowhere else."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import mimetypes
import time
from pathlib import PurePosixPath
from typing import Any

from sandbox.errors import ApiError, bad_request, forbidden
from sandbox.faults import FaultQueue
from sandbox.flood import FloodLimiter
from sandbox.formatting import escaped_markup
from sandbox.models import (
    CallbackQueryRecord,
    InlineQueryRecord,
    SandboxUser,
    StoredFile,
    StoredMessage,
    WebhookConfig,
    message_content_api,
)

DEFAULT_BOT_ID = 1000000001
MAX_EVENTS = 100_000
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


def token_bot_id(token: str | None) -> int | None:
    """The bot id of a well-formed token (``<digits>:<secret>``), else None."""
    if token is None:
        return None
    head, sep, tail = token.partition(":")
    if not sep or not tail or not head.isdigit():
        return None
    return int(head)


def update_type(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


class SandboxState:
    """Users, chats, updates, files, queries, settings and the event log."""

    def __init__(
        self, bot_token: str | None, bot_username: str, *, inline_mode: bool = False
    ) -> None:
        self.bot_token = bot_token
        self.bot_username = bot_username
        # BotFather leaves inline mode off for a new bot; reset() returns to this setting.
        self.default_inline_mode = inline_mode
        self.bot_id = token_bot_id(bot_token) or DEFAULT_BOT_ID
        # Counters survive reset(): a running bot keeps its getUpdates offset and its
        # dedupe keys, so reused ids would silently swallow new updates.
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self.group_message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._event_seq = itertools.count(1)
        self.closing = asyncio.Event()
        self._changed = asyncio.Event()
        self.poll_generation = 0
        self.clear()

    def clear(self) -> None:
        self.users: dict[int, SandboxUser] = {}
        self.messages: dict[int, StoredMessage] = {}
        self.updates: list[dict[str, Any]] = []
        self.allowed_updates: list[str] | None = None
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.inline_queries: dict[str, InlineQueryRecord] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.commands: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook: WebhookConfig | None = None
        self.deliveries: list[dict[str, Any]] = []
        self.faults = FaultQueue()
        self.limiter = FloodLimiter()
        self.events: list[dict[str, Any]] = []
        # What the bot showed that Telegram accepts but no person should see (see check_shown).
        self.violations: list[dict[str, Any]] = []
        self.webhook_timeout = 10.0
        self.webhook_retry_delay = 1.0
        self.inline_mode = self.default_inline_mode
        self.notify()

    # -- waking waiters (long polls, the webhook worker) ---------------------------

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def change_marker(self) -> asyncio.Event:
        """The event the next change will set; take it before looking, then wait on it."""
        return self._changed

    async def wait_marker(self, marker: asyncio.Event, max_wait: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(marker.wait(), max_wait)

    async def wait_changed(self, max_wait: float | None) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max_wait)

    async def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the sandbox shuts down."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), seconds)

    def begin_shutdown(self) -> None:
        self.closing.set()
        self.notify()

    # -- bot identity --------------------------------------------------------------

    def bot_user(self, *, full: bool = False) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "SalesBot",
            "username": self.bot_username,
        }
        if full:
            user |= {
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": self.inline_mode,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        return user

    # -- users and chats -----------------------------------------------------------

    def upsert_user(self, user: SandboxUser) -> SandboxUser:
        old = self.users.get(user.id)
        if old is not None:
            user.blocked = old.blocked
        self.users[user.id] = user
        return user

    def ensure_user(self, user_id: int) -> SandboxUser:
        user = self.users.get(user_id)
        if user is None:
            user = self.upsert_user(SandboxUser(id=user_id, first_name=f"User{user_id}"))
        return user

    def chat(self, chat_id: int | None, *, sending: bool = False) -> SandboxUser:
        user = self.users.get(chat_id) if chat_id is not None else None
        if user is None:
            raise bad_request("chat not found")
        if sending and user.blocked:
            raise forbidden("bot was blocked by the user")
        return user

    # -- messages ------------------------------------------------------------------

    def add_message(
        self, chat_id: int, *, from_bot: bool, kind: str, **fields: Any
    ) -> StoredMessage:
        now = time.time()
        message = StoredMessage(
            message_id=next(self._message_ids),
            chat_id=chat_id,
            from_bot=from_bot,
            kind=kind,
            date=int(now),
            at=now,
            **fields,
        )
        self.messages[message.message_id] = message
        return message

    def find_message(self, chat_id: int, message_id: int | None) -> StoredMessage | None:
        message = self.messages.get(message_id) if message_id is not None else None
        if message is None or message.chat_id != chat_id or message.deleted:
            return None
        return message

    def chat_messages(self, chat_id: int) -> list[StoredMessage]:
        return [m for m in self.messages.values() if m.chat_id == chat_id]

    def message_json(self, message: StoredMessage, *, with_reply: bool = True) -> dict[str, Any]:
        user = self.ensure_user(message.chat_id)
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self.bot_user() if message.from_bot else user.to_api(),
            "chat": user.chat_api(),
            "date": message.date,
        }
        if message.via_bot:
            data["via_bot"] = self.bot_user()
        replied = self.messages.get(message.reply_to_message_id or 0)
        if with_reply and replied is not None:
            data["reply_to_message"] = self.message_json(replied, with_reply=False)
        data.update(message_content_api(message))
        return data

    # -- what people see -------------------------------------------------------------

    def check_shown(
        self, method: str, chat_id: int, message_id: int | None, shown: str | None,
        markup: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """Record escaped markup in a text or a button the bot sends (see escaped_markup)."""
        labels = [
            str(button.get("text", ""))
            for row in (markup or {}).get("inline_keyboard", []) for button in row
        ]  # fmt: skip
        for where, text in [("text", shown or ""), *(("button", label) for label in labels)]:
            for rule, found in escaped_markup(text, self.supplied_texts):
                self.violations.append({
                    "method": method, "chat_id": chat_id, "message_id": message_id,
                    "where": where, "rule": rule, "found": found, "text": text[:300],
                })  # fmt: skip

    def supplied_texts(self) -> list[str]:
        """Every text a person gave: names, messages, captions, file names, contacts, queries."""
        texts: list[str] = []
        for user in self.users.values():
            texts += [user.first_name, user.last_name or "", user.username or ""]
        for message in self.messages.values():
            if not message.from_bot and not message.via_bot:  # via_bot: the bot's own text
                texts += [message.text.text if message.text else ""]
                texts += [message.caption.text if message.caption else ""]
                texts += _strings(message.content)
        texts += [query.query for query in self.inline_queries.values()]
        return [text for text in texts if text]

    # -- files ---------------------------------------------------------------------

    def store_file(
        self, data: bytes, *, folder: str, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        number = next(self._file_ids)
        suffix = PurePosixPath(file_name or "").suffix
        if not suffix and mime_type:
            suffix = mimetypes.guess_extension(mime_type) or ""
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{number:07d}sbx",
            file_unique_id=f"AgAD{number:07d}",
            file_path=f"{folder}/file_{number}{suffix}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    # -- queries -------------------------------------------------------------------

    def new_query_id(self, base: int) -> str:
        return str(base + next(self._query_ids))

    # -- updates -------------------------------------------------------------------

    def push_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, kind: payload})
        self.notify()
        return update_id

    def confirm_updates(self, offset: int) -> None:
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def drop_update(self, update_id: int) -> None:
        """A webhook delivery was accepted: that update is done."""
        self.updates = [u for u in self.updates if u["update_id"] != update_id]

    def pending_updates(self, allowed: list[str] | None) -> list[dict[str, Any]]:
        if not allowed:
            return list(self.updates)
        return [u for u in self.updates if update_type(u) in allowed]

    async def get_updates(
        self, offset: int | None, limit: int, poll_seconds: float, allowed: list[str] | None
    ) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        self.poll_generation += 1
        generation = self.poll_generation
        self.notify()  # an older poll still waiting is terminated, as on Telegram
        if offset is not None:
            self.confirm_updates(offset)
        if allowed is not None:
            self.allowed_updates = allowed or None
        deadline = asyncio.get_running_loop().time() + poll_seconds
        while True:
            found = self.pending_updates(self.allowed_updates)[:limit]
            remaining = deadline - asyncio.get_running_loop().time()
            if found or remaining <= 0 or self.closing.is_set():
                return found
            await self.wait_changed(remaining)
            if self.poll_generation != generation:
                raise ApiError(409, POLL_CONFLICT)
            if self.webhook is not None:
                raise ApiError(409, WEBHOOK_CONFLICT)

    # -- event log -----------------------------------------------------------------

    def start_event(
        self, method: str, chat_id: int | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "seq": next(self._event_seq),
            "method": method,
            "chat_id": chat_id,
            "params": params,
            "status": None,
            "description": None,
            "fault": None,
            "at": time.time(),
            "mono": time.monotonic(),
        }
        self.events.append(event)
        if len(self.events) > MAX_EVENTS:
            del self.events[: len(self.events) - MAX_EVENTS]
        return event

    def events_since(self, seq: int) -> list[dict[str, Any]]:
        return [event for event in self.events if event["seq"] > seq]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []
