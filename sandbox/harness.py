"""Run the real Application against the sandbox and talk to it as people do.

Used by the end-to-end tests, the benchmarks and `salesbot demo`. Waiting is exact, not timed:
after acting, a chat waits until the bot has finished processing that very update.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import uvicorn
from sqlalchemy import func
from sqlmodel import col, select

from bot.app import (
    Background,
    Runtime,
    after_initialize,
    build_application,
    start_background,
    stop_background,
    update_processor,
)
from bot.http_server import server_config
from bot.webhook import webhook_asgi
from core.clock import ManualClock
from core.db import transaction
from handlers.context import SalesApp
from models.outbox import OutboxMessage, OutboxStatus
from sandbox.client import SandboxClient, SandboxMessage
from sandbox.models import buttons_named

WEBHOOK_SECRET = "sandbox-webhook-secret-0123456789abcdef"  # noqa: S105 (a test fixture value)
DEFAULT_TOKEN = "123456789:SANDBOX-token"  # noqa: S105 (the sandbox accepts any token)
PROCESS_TIMEOUT = 30.0
# Rows due within this many seconds (a retry after backoff) still count as work to wait for.
DRAIN_HORIZON = 10


class SandboxEndpoint(Protocol):
    """Where the bot finds the sandbox's Bot API: one in this process (``sandbox.Sandbox``)
    or in a process of its own (the benchmarks')."""

    @property
    def base_url(self) -> str: ...

    @property
    def base_file_url(self) -> str: ...


class UpdateTracker:
    """Knows which update ids the Application has finished processing."""

    def __init__(self) -> None:
        self._events: dict[int, asyncio.Event] = {}

    def _event(self, update_id: int) -> asyncio.Event:
        return self._events.setdefault(update_id, asyncio.Event())

    def mark(self, update_id: int) -> None:
        self._event(update_id).set()

    async def wait(self, update_id: int, seconds: float = PROCESS_TIMEOUT) -> None:
        async with asyncio.timeout(seconds):
            await self._event(update_id).wait()


@dataclass
class LocalBot:
    """A running Application polling the sandbox."""

    runtime: Runtime
    sandbox: SandboxEndpoint
    client: SandboxClient
    token: str = DEFAULT_TOKEN
    app: SalesApp | None = None
    tracker: UpdateTracker = field(default_factory=UpdateTracker)
    poll_timeout: int = 1
    scheduler: bool = True
    background: Background | None = None
    # Serve a webhook (as `salesbot run --webhook` does) instead of polling.
    webhook: bool = False
    webhook_url: str = ""
    _server: uvicorn.Server | None = None
    _server_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.app = build_application(
            self.runtime,
            token=self.token,
            api_url=self.sandbox.base_url,
            file_url=self.sandbox.base_file_url,
            polling=not self.webhook,
        )
        update_processor(self.app).listeners.append(self.tracker.mark)
        await self.app.initialize()
        await after_initialize(self.app)
        await self.app.start()
        self.background = await start_background(self.app, scheduler=self.scheduler)
        if self.webhook:
            await self._serve_webhook()
            return
        assert self.app.updater is not None
        await self.app.updater.start_polling(
            poll_interval=0.0,
            timeout=self.poll_timeout,
            allowed_updates=["message", "callback_query", "inline_query"],
        )

    async def _serve_webhook(self) -> None:
        """Serve the webhook app on a free local port and register it with the sandbox."""
        assert self.app is not None and self.background is not None
        asgi = webhook_asgi(self.app, self.runtime, WEBHOOK_SECRET, self.background)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.webhook_url = f"http://127.0.0.1:{sock.getsockname()[1]}/telegram"
        # The production server settings (limits, timeouts, logging); the socket is ours.
        self._server = uvicorn.Server(server_config(asgi, self.runtime.settings.webhook))
        self._server_task = asyncio.get_running_loop().create_task(
            self._server.serve(sockets=[sock])
        )
        async with asyncio.timeout(PROCESS_TIMEOUT):
            while not self._server.started:  # noqa: ASYNC110 (uvicorn offers no event for this)
                await asyncio.sleep(0.01)
        await self.app.bot.set_webhook(self.webhook_url, secret_token=WEBHOOK_SECRET)

    async def stop(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        if self._server is not None and self._server_task is not None:
            self._server.should_exit = True
            await self._server_task
            self._server = self._server_task = None
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if self.background is not None:
            await stop_background(app, self.background)
            self.background = None
        if app.running:
            await app.stop()
        await app.shutdown()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def drain_outbox(self) -> None:
        """Wait (up to a minute) until the sender has dealt with every message due now or
        within the next few seconds (retries included). A frozen manual clock is moved on to
        the next retry when nothing else is due, as time would pass for a real bot."""
        if self.background is not None:
            self.background.sender.wake()
        clock = self.runtime.clock
        async with asyncio.timeout(60):
            while True:
                now = clock.now()
                due_now, next_retry = await self._outbox_state(now)
                if due_now:
                    await asyncio.sleep(0.05)
                    continue
                if next_retry is None:
                    return
                if isinstance(clock, ManualClock) and not clock.ticking:
                    await clock.set(max(next_retry, now))
                    if self.background is not None:
                        self.background.sender.wake()
                else:
                    await asyncio.sleep(0.05)

    async def _outbox_state(self, now: datetime) -> tuple[int, datetime | None]:
        """Messages due now, and the earliest retry within the drain horizon."""
        horizon = now + timedelta(seconds=DRAIN_HORIZON)
        active = col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
        async with transaction(self.runtime.sessions) as session:
            due = await session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    active,
                    (col(OutboxMessage.next_attempt_at) <= now)
                    | (col(OutboxMessage.status) == OutboxStatus.SENDING),
                )
            )
            later = await session.exec(
                select(func.min(OutboxMessage.next_attempt_at)).where(
                    active, col(OutboxMessage.next_attempt_at) <= horizon
                )
            )
            return int(due.one()), later.one()

    async def outbox_due(self) -> int:
        """Messages due now or within the drain horizon."""
        now = self.runtime.clock.now()
        due, later = await self._outbox_state(now)
        return due + (1 if later is not None and later > now else 0)

    async def chat(
        self, user_id: int, first_name: str, language_code: str | None = "en", last_name: str = ""
    ) -> Chat:
        await self.client.add_user(
            user_id, first_name, last_name=last_name or None, language_code=language_code
        )
        return Chat(self, user_id)


class Chat:
    """One person's private chat with the bot."""

    def __init__(self, bot: LocalBot, user_id: int) -> None:
        self.bot = bot
        self.user_id = user_id
        self._seen = 0

    @property
    def client(self) -> SandboxClient:
        return self.bot.client

    async def _settle(self, update_id: int) -> None:
        await self.bot.tracker.wait(update_id)

    async def send(self, text: str) -> list[SandboxMessage]:
        """Type a message (or a /command) and wait until the bot has handled it."""
        mark = await self._mark()
        await self._settle(await self.client.send_message(self.user_id, text))
        return await self.replies_since(mark)

    async def reply(self, message_id: int, text: str) -> list[SandboxMessage]:
        """Swipe a message to reply to it and type ``text``."""
        mark = await self._mark()
        update_id = await self.client.send_message(
            self.user_id, text, reply_to_message_id=message_id
        )
        await self._settle(update_id)
        return await self.replies_since(mark)

    async def tap(self, label: str, message_id: int | None = None) -> list[SandboxMessage]:
        """Press the button labelled ``label`` (exact text, or a unique fragment of it)."""
        message = await self._message_with_button(label, message_id)
        text = self._resolve_label(message, label)
        mark = await self._mark(settle_pushes=False)
        update_id = await self.client.press(self.user_id, message.message_id, button_text=text)
        await self._settle(update_id)
        return await self.replies_since(mark)

    async def press(self, message_id: int, index: int) -> list[SandboxMessage]:
        """Press the ``index``-th button (1-based, row by row) of a message, as a finger does;
        a button without callback_data is refused (SandboxError) as Telegram's client would
        not send a callback for it."""
        mark = await self._mark(settle_pushes=False)
        update_id = await self.client.press(self.user_id, message_id, index=index)
        await self._settle(update_id)
        return await self.replies_since(mark)

    async def tap_data(
        self, message_id: int, data: str, *, forged: bool = False
    ) -> list[SandboxMessage]:
        """Press a button by its callback data (for stale-button tests); ``forged`` sends data
        no button of the message carries, as a modified client could."""
        mark = await self._mark()
        update_id = await self.client.press(self.user_id, message_id, data=data, forged=forged)
        await self._settle(update_id)
        return await self.replies_since(mark)

    async def share_location(
        self, latitude: float, longitude: float, accuracy: float | None = None,
        live: bool = False,
    ) -> list[SandboxMessage]:  # fmt: skip
        mark = await self._mark()
        update_id = await self.client.send_location(
            self.user_id, latitude, longitude, horizontal_accuracy=accuracy,
            live_period=60 if live else None,
        )  # fmt: skip
        await self._settle(update_id)
        return await self.replies_since(mark)

    async def send_photo(
        self, caption: str | None = None, content: bytes | None = None
    ) -> list[SandboxMessage]:
        mark = await self._mark()
        update_id = await self.client.send_photo(self.user_id, caption=caption, content=content)
        await self._settle(update_id)
        return await self.replies_since(mark)

    async def send_document(
        self, file_name: str, content: bytes, mime_type: str = "application/octet-stream"
    ) -> list[SandboxMessage]:
        mark = await self._mark()
        update_id = await self.client.send_document(self.user_id, file_name, mime_type, content)
        await self._settle(update_id)
        return await self.replies_since(mark)

    async def send_voice(
        self, duration: int = 5, content: bytes | None = None
    ) -> list[SandboxMessage]:
        mark = await self._mark()
        await self._settle(await self.client.send_voice(self.user_id, duration, content=content))
        return await self.replies_since(mark)

    async def send_contact(
        self, phone_number: str, first_name: str, *, own: bool = True
    ) -> list[SandboxMessage]:
        mark = await self._mark()
        update_id = await self.client.send_contact(self.user_id, phone_number, first_name, own=own)
        await self._settle(update_id)
        return await self.replies_since(mark)

    async def messages(self) -> list[SandboxMessage]:
        return await self.client.messages(self.user_id)

    async def bot_messages(self) -> list[SandboxMessage]:
        return [m for m in await self.messages() if m.from_bot]

    async def last_reply(self) -> SandboxMessage:
        sent = await self.bot_messages()
        assert sent, "the bot has not sent anything to this chat"
        return sent[-1]

    async def _mark(self, settle_pushes: bool = True) -> int:
        # Let pushes already under way (reminders, cards) arrive first, so that what an action
        # returns is its own answer, not a reminder that happened to land at the same moment.
        # A tap does not wait: it must be able to hit a card before its pending edit lands,
        # as a quick double tap does.
        if settle_pushes and self.bot.background is not None:
            await self.bot.drain_outbox()
        messages = await self.messages()
        return max((m.message_id for m in messages), default=0)

    async def replies_since(self, mark: int) -> list[SandboxMessage]:
        """Bot messages sent after ``mark``. An older message edited since is not among them:
        read it again with ``bot_messages``."""
        return [m for m in await self.messages() if m.from_bot and m.message_id > mark]

    async def _message_with_button(self, label: str, message_id: int | None) -> SandboxMessage:
        candidates = [m for m in await self.bot_messages() if m.buttons]
        if message_id is not None:
            candidates = [m for m in candidates if m.message_id == message_id]
        for message in reversed(candidates):
            if buttons_named(message.button_texts(), label):
                return message
        shown = [m.button_texts() for m in candidates[-3:]]
        raise AssertionError(f"no button {label!r}; latest buttons: {shown}")

    @staticmethod
    def _resolve_label(message: SandboxMessage, label: str) -> str:
        found = buttons_named(message.button_texts(), label)
        if len(found) > 1 and label not in found:
            raise AssertionError(f"button label {label!r} is ambiguous: {found}")
        return label if label in found else found[0]
