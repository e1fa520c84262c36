"""``SandboxClient``: an async client of the sandbox's control API."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx


class SandboxError(Exception):
    """The control API refused a call (e.g. pressing a button that does not exist)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class InlineButton:
    """One inline keyboard button of a bot message."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class SandboxMessage:
    """A message of a private chat as the control API reports it."""

    message_id: int
    from_bot: bool
    kind: str
    text: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    caption: str | None = None
    reply_markup: dict[str, Any] | None = None
    file: dict[str, Any] | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    date: int = 0
    at: float = 0.0
    chat_id: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)
    raw_caption: str | None = None
    location: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    via_bot: bool = False
    # Set on each photo of an album (sendMediaGroup), the same for all of them.
    media_group_id: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SandboxMessage:
        known = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in known})

    @property
    def buttons(self) -> list[list[InlineButton]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            [
                InlineButton(
                    text=button.get("text", ""),
                    callback_data=button.get("callback_data"),
                    url=button.get("url"),
                    raw=button,
                )
                for button in row
            ]
            for row in rows
        ]

    def button_texts(self) -> list[str]:
        """The texts of all inline buttons, row by row."""
        return [button.text for row in self.buttons for button in row]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class SandboxClient:
    """Act as users and inspect/configure a running ``Sandbox``."""

    def __init__(self, control_url: str, *, timeout: float = 30.0, keepalive: bool = True) -> None:
        """``keepalive=False`` for hundreds of people acting at once on a loaded machine: a
        connection the server closes after idling can be reused at that very moment (ReadError),
        and an act cannot be retried safely."""
        self.control_url = control_url.rstrip("/")
        limits = httpx.Limits() if keepalive else httpx.Limits(max_keepalive_connections=0)
        self._http = httpx.AsyncClient(
            base_url=self.control_url, timeout=timeout, trust_env=False, limits=limits
        )

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- transport -----------------------------------------------------------------

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        payload = None if body is None else {k: v for k, v in body.items() if v is not None}
        response = await self._http.request(method, path, json=payload)
        if response.is_success:
            return response.json()
        try:
            message = str(response.json().get("error", response.text))
        except ValueError:
            message = response.text or response.reason_phrase
        raise SandboxError(message, response.status_code)

    async def _get_or_none(self, path: str) -> Any:
        try:
            return await self._request("GET", path)
        except SandboxError as exc:
            if exc.status == 404:
                return None
            raise

    async def act(self, action: str, **body: Any) -> dict[str, Any]:
        """Any act endpoint (``send_message``, ``press``...) with its full JSON answer."""
        result: dict[str, Any] = await self._request("POST", f"/{action}", body)
        return result

    # -- users ---------------------------------------------------------------------

    async def add_user(
        self,
        id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> dict[str, Any]:
        """``language_code=None``: a client that reports no language."""
        body = {
            "id": id,
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code or "",
        }
        result: dict[str, Any] = await self._request("POST", "/users", body)
        return result

    async def set_blocked(self, user_id: int, blocked: bool = True) -> None:
        await self._request("POST", f"/users/{user_id}/blocked", {"blocked": blocked})

    # -- acting as a user (each returns the new update's id) -----------------------

    async def send_message(
        self, user_id: int, text: str, *, reply_to_message_id: int | None = None
    ) -> int:
        result = await self.act(
            "send_message", user_id=user_id, text=text, reply_to_message_id=reply_to_message_id
        )
        return int(result["update_id"])

    async def press(
        self,
        user_id: int,
        message_id: int,
        data: str | None = None,
        button_text: str | None = None,
        *,
        index: int | None = None,
        forged: bool = False,
    ) -> int:
        result = await self.act(
            "press",
            user_id=user_id,
            message_id=message_id,
            data=data,
            button_text=button_text,
            index=index,
            forged=forged or None,
        )
        return int(result["update_id"])

    async def press_label(self, user_id: int, label: str) -> int:
        """Tap the button whose text contains ``label`` on the newest bot message that has one,
        in one request (the sandbox finds the message): for load generators, whose every
        request shares the event loop with the bot they measure."""
        result = await self.act("press", user_id=user_id, label=label)
        return int(result["update_id"])

    async def send_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        *,
        horizontal_accuracy: float | None = None,
        live_period: int | None = None,
    ) -> int:
        result = await self.act(
            "send_location",
            user_id=user_id,
            latitude=latitude,
            longitude=longitude,
            horizontal_accuracy=horizontal_accuracy,
            live_period=live_period,
        )
        return int(result["update_id"])

    async def send_photo(
        self, user_id: int, *, caption: str | None = None, content: bytes | None = None
    ) -> int:
        content_b64 = None if content is None else _b64(content)
        result = await self.act(
            "send_photo", user_id=user_id, caption=caption, content_b64=content_b64
        )
        return int(result["update_id"])

    async def send_document(
        self,
        user_id: int,
        file_name: str,
        mime_type: str,
        content: bytes,
        *,
        caption: str | None = None,
    ) -> int:
        result = await self.act(
            "send_document",
            user_id=user_id,
            file_name=file_name,
            mime_type=mime_type,
            content_b64=_b64(content),
            caption=caption,
        )
        return int(result["update_id"])

    async def send_voice(
        self, user_id: int, duration: int, *, content: bytes | None = None
    ) -> int:
        content_b64 = None if content is None else _b64(content)
        result = await self.act(
            "send_voice", user_id=user_id, duration=duration, content_b64=content_b64
        )
        return int(result["update_id"])

    async def send_contact(
        self,
        user_id: int,
        phone_number: str,
        first_name: str,
        *,
        contact_user_id: int | None = None,
        own: bool = True,
    ) -> int:
        """Share a contact: by default the user's own (as the request_contact button does);
        ``own=False`` shares someone else's from the address book."""
        result = await self.act(
            "send_contact",
            user_id=user_id,
            phone_number=phone_number,
            first_name=first_name,
            contact_user_id=contact_user_id,
            own=own,
        )
        return int(result["update_id"])

    async def inline_query(
        self, user_id: int, query: str, *, offset: str = "", chat_type: str = "sender"
    ) -> tuple[int, str]:
        result = await self.act(
            "inline_query", user_id=user_id, query=query, offset=offset, chat_type=chat_type
        )
        return int(result["update_id"]), str(result["inline_query_id"])

    async def send_group_message(
        self, user_id: int, chat_id: int, text: str, *, chat_type: str = "group"
    ) -> int:
        """A member of a group the bot is in types ``text`` there; returns the update id."""
        result = await self.act(
            "send_group_message", user_id=user_id, chat_id=chat_id, text=text, chat_type=chat_type
        )
        return int(result["update_id"])

    async def inline_answer(self, inline_query_id: str) -> list[dict[str, Any]] | None:
        """The bot's results for an inline query, or None while it has not answered."""
        answer = await self._get_or_none(f"/inline_answers/{inline_query_id}")
        return None if answer is None else list(answer["results"])

    async def choose_inline_result(
        self, user_id: int, inline_query_id: str, result_id: str
    ) -> int:
        result = await self.act(
            "choose_inline_result",
            user_id=user_id,
            inline_query_id=inline_query_id,
            result_id=result_id,
        )
        return int(result["update_id"])

    # -- reading -------------------------------------------------------------------

    async def messages(self, chat_id: int) -> list[SandboxMessage]:
        data = await self._request("GET", f"/chats/{chat_id}/messages")
        return [SandboxMessage.from_json(item) for item in data]

    async def bot_messages(self, chat_id: int) -> list[SandboxMessage]:
        """The bot's messages in a chat, deleted ones left out."""
        return [m for m in await self.messages(chat_id) if m.from_bot and not m.deleted]

    async def wait_for_bot_message(
        self, chat_id: int, *, after_message_id: int = 0, max_wait: float = 10.0
    ) -> SandboxMessage:
        """Poll until the bot posts a message newer than ``after_message_id``."""
        async with asyncio.timeout(max_wait):
            while True:
                for message in await self.bot_messages(chat_id):
                    if message.message_id > after_message_id:
                        return message
                await asyncio.sleep(0.02)

    async def callback_answer(self, callback_query_id: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = await self._get_or_none(
            f"/callback_answers/{callback_query_id}"
        )
        return result

    async def file_bytes(self, file_id: str) -> bytes:
        response = await self._http.get(f"/files/{file_id}")
        if not response.is_success:
            raise SandboxError(f"unknown file_id {file_id!r}", response.status_code)
        return response.content

    async def events(self, since: int = 0) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._request("GET", f"/events?since={since}")
        return result

    async def violations(self) -> list[dict[str, Any]]:
        """What the bot showed that no person should see, e.g. markup escaped twice (one dict
        each: method, chat_id, message_id, where, rule, found, text)."""
        result: list[dict[str, Any]] = await self._request("GET", "/violations")
        return result

    async def take_violations(self) -> list[dict[str, Any]]:
        """The violations so far, cleared: for a test that provokes one on purpose."""
        result: list[dict[str, Any]] = await self._request("DELETE", "/violations")
        return result

    async def commands(self) -> list[dict[str, Any]]:
        """Stored command lists: ``{scope, language_code, commands}`` entries."""
        result: list[dict[str, Any]] = await self._request("GET", "/commands")
        return result

    async def webhook(self) -> dict[str, Any]:
        """``{info: WebhookInfo, secret_token, deliveries: [...]}``."""
        result: dict[str, Any] = await self._request("GET", "/webhook")
        return result

    # -- configuration -------------------------------------------------------------

    async def add_fault(
        self,
        kind: str,
        method: str = "*",
        *,
        chat_id: int | None = None,
        count: int = 1,
        retry_after: int | None = None,
        status: int | None = None,
        delay: float | None = None,
    ) -> dict[str, Any]:
        body = {
            "kind": kind,
            "method": method,
            "chat_id": chat_id,
            "count": count,
            "retry_after": retry_after,
            "status": status,
            "delay": delay,
        }
        result: dict[str, Any] = await self._request("POST", "/faults", body)
        return result

    async def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._request("GET", "/faults")
        return result

    async def clear_faults(self) -> None:
        await self._request("DELETE", "/faults")

    async def set_limits(
        self, enabled: bool, per_chat_per_second: int = 1, global_per_second: int = 30
    ) -> None:
        body = {
            "enabled": enabled,
            "per_chat_per_second": per_chat_per_second,
            "global_per_second": global_per_second,
        }
        await self._request("POST", "/limits", body)

    async def configure(
        self,
        *,
        webhook_timeout: float | None = None,
        webhook_retry_delay: float | None = None,
        inline_mode: bool | None = None,
    ) -> None:
        """Change settings; None keeps one as it is. ``inline_mode`` is what getMe reports as
        ``supports_inline_queries`` (a bot reads it at start-up); reset() turns it back."""
        body = {
            "webhook_timeout": webhook_timeout,
            "webhook_retry_delay": webhook_retry_delay,
            "inline_mode": inline_mode,
        }
        await self._request("POST", "/config", body)

    async def reset(self) -> None:
        await self._request("POST", "/reset")
