"""Run the real Application against the sandbox and talk to it as people do.

Used by the end-to-end tests, the benchmarks and `salesbot demo`. Waiting is exact, not timed:
after acting, a chat waits until the bot has finished processing that very update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

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
from bot.context import SalesApp
from bot.db import transaction
from bot.sandbox import Sandbox
from bot.sandbox.client import SandboxClient, SandboxMessage
from models.outbox import OutboxMessage, OutboxStatus

DEFAULT_TOKEN = "123456789:SANDBOX-token"  # noqa: S105 (the sandbox accepts any token)
PROCESS_TIMEOUT = 30.0
# Rows due within this many seconds (a retry after backoff) still count as work to wait for.
DRAIN_HORIZON = 10


class UpdateTracker:
    """Knows which update ids the Application has finished processing."""

    def __init__(self) -> None:
        self._events: dict[int, asyncio.Event] = {}

    def _event(self, update_id: int) -> asyncio.Event:
        return self._events.setdefault(update_id, asyncio.Event())

    def mark(self, update_id: int) -> None:
        self._event(update_id).set()

    async def wait(self, update_id: int) -> None:
        async with asyncio.timeout(PROCESS_TIMEOUT):
            await self._event(update_id).wait()


@dataclass
class LocalBot:
    """A running Application polling the sandbox."""

    runtime: Runtime
    sandbox: Sandbox
    client: SandboxClient
    token: str = DEFAULT_TOKEN
    app: SalesApp | None = None
    tracker: UpdateTracker = field(default_factory=UpdateTracker)
    poll_timeout: int = 1
    scheduler: bool = True
    background: Background | None = None

    async def start(self) -> None:
        self.app = build_application_for(self.runtime, self.sandbox, self.token)
        update_processor(self.app).listeners.append(self.tracker.mark)
        await self.app.initialize()
        await after_initialize(self.app)
        await self.app.start()
        self.background = await start_background(self.app, scheduler=self.scheduler)
        assert self.app.updater is not None
        await self.app.updater.start_polling(
            poll_interval=0.0,
            timeout=self.poll_timeout,
            allowed_updates=["message", "callback_query", "inline_query"],
        )

    async def stop(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        assert app.updater is not None
        if app.updater.running:
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
        within the next few seconds (retries included)."""
        if self.background is not None:
            self.background.sender.wake()
        async with asyncio.timeout(60):
            while await self.outbox_due() > 0:  # noqa: ASYNC110 (the state lives in the DB)
                await asyncio.sleep(0.05)

    async def outbox_due(self) -> int:
        now = self.runtime.clock.now()
        async with transaction(self.runtime.sessions) as session:
            query = (
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                    col(OutboxMessage.next_attempt_at) <= now + timedelta(seconds=DRAIN_HORIZON),
                )
            )
            return int((await session.exec(query)).one())

    async def chat(
        self, user_id: int, first_name: str, language_code: str = "en", last_name: str = ""
    ) -> Chat:
        await self.client.add_user(
            user_id, first_name, last_name=last_name or None, language_code=language_code
        )
        return Chat(self, user_id)


def build_application_for(runtime: Runtime, sandbox: Sandbox, token: str) -> SalesApp:
    return build_application(
        runtime, token=token, api_url=sandbox.base_url, file_url=sandbox.base_file_url
    )


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

    async def tap(self, label: str, message_id: int | None = None) -> list[SandboxMessage]:
        """Press the button labelled ``label`` (exact text, or a unique fragment of it)."""
        message = await self._message_with_button(label, message_id)
        text = self._resolve_label(message, label)
        mark = await self._mark()
        update_id = await self.client.press(self.user_id, message.message_id, button_text=text)
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

    async def send_photo(self, caption: str | None = None) -> list[SandboxMessage]:
        mark = await self._mark()
        await self._settle(await self.client.send_photo(self.user_id, caption=caption))
        return await self.replies_since(mark)

    async def send_document(
        self, file_name: str, content: bytes, mime_type: str = "application/octet-stream"
    ) -> list[SandboxMessage]:
        mark = await self._mark()
        update_id = await self.client.send_document(self.user_id, file_name, mime_type, content)
        await self._settle(update_id)
        return await self.replies_since(mark)

    async def send_voice(self, duration: int = 5) -> list[SandboxMessage]:
        mark = await self._mark()
        await self._settle(await self.client.send_voice(self.user_id, duration))
        return await self.replies_since(mark)

    async def messages(self) -> list[SandboxMessage]:
        return await self.client.messages(self.user_id)

    async def bot_messages(self) -> list[SandboxMessage]:
        return [m for m in await self.messages() if m.from_bot]

    async def last_reply(self) -> SandboxMessage:
        sent = await self.bot_messages()
        assert sent, "the bot has not sent anything to this chat"
        return sent[-1]

    async def _mark(self) -> int:
        messages = await self.messages()
        return max((m.message_id for m in messages), default=0)

    async def replies_since(self, mark: int) -> list[SandboxMessage]:
        """Bot messages sent after ``mark``, plus older bot messages edited since."""
        return [m for m in await self.messages() if m.from_bot and m.message_id > mark]

    async def _message_with_button(self, label: str, message_id: int | None) -> SandboxMessage:
        candidates = [m for m in await self.bot_messages() if m.buttons]
        if message_id is not None:
            candidates = [m for m in candidates if m.message_id == message_id]
        for message in reversed(candidates):
            if _matching(message.button_texts(), label):
                return message
        shown = [m.button_texts() for m in candidates[-3:]]
        raise AssertionError(f"no button {label!r}; latest buttons: {shown}")

    @staticmethod
    def _resolve_label(message: SandboxMessage, label: str) -> str:
        found = _matching(message.button_texts(), label)
        if len(found) > 1 and label not in found:
            raise AssertionError(f"button label {label!r} is ambiguous: {found}")
        return label if label in found else found[0]


def _matching(texts: Iterable[str], label: str) -> list[str]:
    texts = list(texts)
    if label in texts:
        return [label]
    return [text for text in texts if label.lower() in text.lower()]
