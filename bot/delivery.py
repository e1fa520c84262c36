"""The outbox sender: delivers queued messages within Telegram's flood limits.

- One instance at a time holds the sender role (a lease row), so the limits hold bot-wide.
- At most ``per_chat_per_second`` messages to one chat and ``global_per_second`` overall: sends
  are spaced evenly, a little below both limits, rather than sent in bursts.
- Retries follow bot/retry.py, the one policy direct replies use too: 429 pauses every send for
  ``retry_after``; 5xx and network errors are retried with exponential backoff; after
  ``max_attempts`` the row fails and the admins are alerted; 403 marks the person unreachable and
  tells their manager once.
- A row is marked "sending" (with a lease) before the API call and "sent" after Telegram accepted
  it. If the process dies in between, the lease expires and the row is sent again: at-least-once
  in that window, because Telegram offers no way to ask whether a message arrived. A graceful stop
  finishes the calls in flight and puts rows not yet sent back, so it duplicates nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, WebAppInfo
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

import views.alerts  # noqa: F401  (registers the alerts this sender queues)
from core import metrics
from core.clock import Clock
from core.db import SessionFactory, read_transaction, transaction
from core.i18n import Catalogs
from core.settings import DeliverySettings
from handlers.replies import split_text
from handlers.retry import RetryPolicy, flood_wait
from models.outbox import OutboxMessage, OutboxStatus
from services import alerts, outbox, sender_lease
from views.render import renderer

log = logging.getLogger(__name__)

CANDIDATES_PER_ROUND = 1000


def instance_name() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _markup(buttons: Sequence[Sequence[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup([[_button(b) for b in row] for row in buttons])


def _button(cell: dict[str, str]) -> InlineKeyboardButton:
    if "url" in cell:
        return InlineKeyboardButton(cell["text"], url=cell["url"])
    if "web_app" in cell:
        return InlineKeyboardButton(cell["text"], web_app=WebAppInfo(cell["web_app"]))
    return InlineKeyboardButton(cell["text"], callback_data=cell["data"])


class _Pacer:
    """Spaces sends: one chat at most every ``chat_gap`` s, all chats every ``global_gap`` s.

    Spacing is measured at the moment a request actually starts (not when it was planned), so
    an event loop that was busy for a moment cannot release a burst of late sends at once.
    """

    def __init__(self, settings: DeliverySettings) -> None:
        slack = 1 + settings.safety_margin
        self.chat_gap = slack / settings.per_chat_per_second
        self.global_gap = slack / settings.global_per_second
        self._next_global = 0.0
        self._next_chat: dict[int, float] = {}
        self._gate = asyncio.Lock()
        self.paused_until = 0.0

    def chat_ready(self, chat_id: int, now: float) -> bool:
        return self._next_chat.get(chat_id, 0.0) <= now

    async def wait_turn(self, chat_id: int, stopping: asyncio.Event) -> bool:
        """Wait until this chat and the bot may send; False if stopping meanwhile."""
        while not stopping.is_set():
            now = time.monotonic()
            chat_wait = max(self._next_chat.get(chat_id, 0.0), self.paused_until) - now
            if chat_wait > 0:
                await _sleep_unless(stopping, chat_wait)
                continue
            async with self._gate:
                wait = max(self._next_global, self.paused_until) - time.monotonic()
                if wait > 0:
                    await _sleep_unless(stopping, wait)
                now = time.monotonic()
                if stopping.is_set() or self.paused_until > now:
                    continue
                if self._next_chat.get(chat_id, 0.0) > now:
                    continue
                # Keep to the planned beat when the timer woke us a little late, so that timer
                # overshoot does not slow every send; after a longer stall start afresh.
                late = now - self._next_global
                beat = self._next_global if 0 <= late < self.global_gap / 2 else now
                self._next_global = beat + self.global_gap
                self._next_chat[chat_id] = now + self.chat_gap
                return True
        return False

    def hold_all(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    def forget_idle(self) -> None:
        now = time.monotonic()
        self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}


async def _sleep_unless(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)


class Sender:
    """Delivers the outbox; start with ``run()`` as a background task, end with ``stop()``."""

    def __init__(
        self,
        bot: Bot,
        sessions: SessionFactory,
        clock: Clock,
        settings: DeliverySettings,
        texts: Catalogs,
        instance: str | None = None,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.texts = texts
        self.render = renderer(texts)
        self.instance = instance or instance_name()
        self.pacer = _Pacer(settings)
        self.policy = RetryPolicy(settings)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._busy_chats: set[int] = set()
        self._holding = False
        self._lease_checked = 0.0
        self.sent_count = 0
        self.retry_after_count = 0

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    @property
    def holding_lease(self) -> bool:
        return self._holding

    async def run(self) -> None:
        log.info("outbox sender %s started", self.instance)
        while not self._stopping.is_set():
            try:
                await self._round()
            except Exception:
                log.exception("outbox sender round failed; retrying")
                await self._sleep(self.settings.poll_interval_seconds * 4)
        await self._drain()

    async def stop(self) -> None:
        """Finish the sends in flight, put the rest back, give up the sender role."""
        self._stopping.set()
        self._wake.set()
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        if self._holding:
            async with transaction(self.sessions) as session:
                await sender_lease.release(session, instance=self.instance, now=self.clock.now())
            self._holding = False

    async def _drain(self) -> None:
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=max(seconds, 0.0))

    async def _round(self) -> None:
        if not await self._hold_lease():
            await self._sleep(self.settings.sender_lease_seconds / 3)
            return
        now_mono = time.monotonic()
        if self.pacer.paused_until > now_mono:
            await self._sleep(self.pacer.paused_until - now_mono)
            return
        claimed = await self._claim_round()
        for row in claimed:
            assert row.id is not None
            self._busy_chats.add(row.chat_id)
            task = asyncio.get_running_loop().create_task(self._deliver(row))
            self._in_flight[row.id] = task
            task.add_done_callback(functools.partial(self._done, row.id, row.chat_id))
        # A full round books about two seconds of sending; look again before it runs dry.
        await self._sleep(1.0 if claimed else self.settings.poll_interval_seconds)

    def _done(self, row_id: int, chat_id: int, _task: asyncio.Task[None]) -> None:
        self._in_flight.pop(row_id, None)
        self._busy_chats.discard(chat_id)
        self._wake.set()

    async def _hold_lease(self) -> bool:
        now_mono = time.monotonic()
        if (
            self._holding
            and now_mono - self._lease_checked < self.settings.sender_lease_seconds / 3
        ):
            return True
        ttl = timedelta(seconds=self.settings.sender_lease_seconds)
        async with transaction(self.sessions) as session:
            state = await sender_lease.acquire(
                session, instance=self.instance, now=self.clock.now(), ttl=ttl
            )
        if state.held and not self._holding:
            log.info("outbox sender %s now holds the sender role", self.instance)
            # Whoever held it before may have just sent to some chats: honour their pacing.
            self.pacer.hold_all(self.pacer.chat_gap)
        if state.held and state.paused_until is not None:
            remaining = (state.paused_until - self.clock.now()).total_seconds()
            if remaining > 0:
                self.pacer.hold_all(remaining)
        self._holding = state.held
        self._lease_checked = now_mono
        return state.held

    async def _claim_round(self) -> list[OutboxMessage]:
        """Claim at most one row per idle chat, about two seconds' worth of sending."""
        budget = max(1, math.ceil(2 * self.settings.global_per_second)) - len(self._in_flight)
        if budget <= 0:
            return []
        now = self.clock.now()
        now_mono = time.monotonic()
        # Looking is a read: an idle poll (every poll_interval_seconds) must not take SQLite's
        # one write lock from the turns. Only rows found due are claimed, in a write
        # transaction that checks each again (another instance may have claimed it meanwhile).
        async with read_transaction(self.sessions) as session:
            candidates = await outbox.due_candidates(session, now, CANDIDATES_PER_ROUND)
        chosen: list[int] = []
        chats: set[int] = set()
        for row_id, chat_id in candidates:
            if chat_id in chats or chat_id in self._busy_chats:
                continue
            if not self.pacer.chat_ready(chat_id, now_mono + 2.0):
                continue
            chats.add(chat_id)
            chosen.append(row_id)
            if len(chosen) >= budget:
                break
        claimed: list[OutboxMessage] = []
        if chosen:
            lease = timedelta(seconds=self.settings.sending_lease_seconds)
            async with transaction(self.sessions) as session:
                claimed = await outbox.claim(session, chosen, now=now, lease=lease)
        self.pacer.forget_idle()
        return claimed

    async def _deliver(self, row: OutboxMessage) -> None:
        assert row.id is not None
        if not await self.pacer.wait_turn(row.chat_id, self._stopping):
            await self._put_back(row.id)
            return
        try:
            message_id = await self._send(row)
        except RetryAfter as exc:
            await self._on_retry_after(row, exc)
        except Forbidden as exc:
            await self._on_forbidden(row, exc)
        except BadRequest as exc:
            await self._on_bad_request(row, exc)
        except (NetworkError, TelegramError) as exc:
            await self._on_transient(row, exc)
        except _Postpone as exc:
            async with transaction(self.sessions) as session:
                await outbox.mark_retry(
                    session, row.id, at=self.clock.now() + exc.delay, error=exc.reason,
                    count_attempt=False,
                )  # fmt: skip
        except _Cancel as exc:
            async with transaction(self.sessions) as session:
                await outbox.mark_cancelled(session, row.id, reason=exc.reason)
        else:
            async with transaction(self.sessions) as session:
                await outbox.mark_sent(
                    session, row.id, now=self.clock.now(), message_id=message_id
                )
            self.sent_count += 1
            metrics.OUTBOX_SENT.inc()

    async def _put_back(self, row_id: int) -> None:
        async with transaction(self.sessions) as session:
            await outbox.mark_retry(
                session, row_id, at=self.clock.now(), error="sender stopped before sending",
                count_attempt=False,
            )  # fmt: skip

    async def _send(self, row: OutboxMessage) -> int | None:
        assert row.id is not None
        async with read_transaction(self.sessions) as session:
            if await alerts.is_unreachable(session, row.chat_id):
                raise _Cancel("recipient has blocked the bot")
        if row.edit_of_id is not None:
            return await self._edit(row)
        markup = _markup(row.buttons)
        if row.file_bytes is not None or outbox.file_id_of(row):
            return await self._send_file(row, markup)
        parts = split_text(row.text)
        meta = dict(row.meta or {})
        done = int(meta.get("parts_sent", 0))
        message_id = meta.get("last_message_id")
        for index in range(done, len(parts)):
            last = index == len(parts) - 1
            # Later parts are further messages to the same chat: keep its pace.
            if index > done and not await self.pacer.wait_turn(row.chat_id, self._stopping):
                raise _Postpone("sender stopping", timedelta(0))
            message = await self.bot.send_message(
                row.chat_id,
                parts[index],
                parse_mode=ParseMode.HTML,
                reply_markup=markup if last else None,
                disable_web_page_preview=True,
            )
            message_id = message.message_id
            if not last:
                meta.update(parts_sent=index + 1, last_message_id=message_id)
                async with transaction(self.sessions) as session:
                    await outbox.record_progress(session, row.id, meta)
        return int(message_id) if message_id is not None else None

    async def _send_file(self, row: OutboxMessage, markup: InlineKeyboardMarkup | None) -> int:
        caption_fits = len(row.text) <= MessageLimit.CAPTION_LENGTH
        upload: InputFile | str = outbox.file_id_of(row) or InputFile(
            row.file_bytes or b"", filename=row.file_name or "file"
        )
        caption = row.text if caption_fits and row.text else None
        if row.file_kind == "photo":
            message = await self.bot.send_photo(
                row.chat_id, upload, caption=caption, parse_mode=ParseMode.HTML,
                reply_markup=markup if caption_fits else None,
            )  # fmt: skip
        else:
            message = await self.bot.send_document(
                row.chat_id, upload, caption=caption, parse_mode=ParseMode.HTML,
                reply_markup=markup if caption_fits else None,
            )  # fmt: skip
        if caption_fits or not row.text:
            return message.message_id
        for part in split_text(row.text):
            if not await self.pacer.wait_turn(row.chat_id, self._stopping):
                raise _Postpone("sender stopping", timedelta(0))
            message = await self.bot.send_message(
                row.chat_id, part, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        return message.message_id

    async def _edit(self, row: OutboxMessage) -> int | None:
        async with read_transaction(self.sessions) as session:
            original = await outbox.get(session, row.edit_of_id or 0)
        if original is None or original.status in (OutboxStatus.FAILED, OutboxStatus.CANCELLED):
            raise _Cancel("the message to edit was never delivered")
        if original.status != OutboxStatus.SENT or original.telegram_message_id is None:
            raise _Postpone("the message to edit is not sent yet", timedelta(seconds=2))
        try:
            if original.file_kind is not None:
                await self.bot.edit_message_caption(
                    chat_id=original.chat_id, message_id=original.telegram_message_id,
                    caption=row.text[: MessageLimit.CAPTION_LENGTH], parse_mode=ParseMode.HTML,
                    reply_markup=_markup(row.buttons),
                )  # fmt: skip
            else:
                await self.bot.edit_message_text(
                    row.text[: MessageLimit.MAX_TEXT_LENGTH],
                    chat_id=original.chat_id, message_id=original.telegram_message_id,
                    parse_mode=ParseMode.HTML, reply_markup=_markup(row.buttons),
                    disable_web_page_preview=True,
                )  # fmt: skip
        except BadRequest as exc:
            # Already showing this content: the edit's purpose is fulfilled.
            if "not modified" not in exc.message.lower():
                raise
        return original.telegram_message_id

    async def _on_retry_after(self, row: OutboxMessage, exc: RetryAfter) -> None:
        assert row.id is not None
        seconds = flood_wait(exc)
        self.retry_after_count += 1
        metrics.TELEGRAM_429.labels("outbox").inc()
        self.pacer.hold_all(seconds)
        until = self.clock.now() + timedelta(seconds=seconds)
        log.warning("Telegram asked to wait %.0f s (flood control); pausing all sends", seconds)
        async with transaction(self.sessions) as session:
            await sender_lease.pause(session, until=until)
            await outbox.mark_retry(
                session, row.id, at=until, error=f"429 retry after {seconds:.0f}s",
                count_attempt=False,
            )  # fmt: skip

    async def _on_forbidden(self, row: OutboxMessage, exc: Forbidden) -> None:
        assert row.id is not None
        now = self.clock.now()
        async with transaction(self.sessions) as session:
            await outbox.mark_failed(session, row.id, error=f"403 {exc.message}")
            await alerts.mark_unreachable(
                session, self.render, chat_id=row.chat_id, row_id=row.id, now=now
            )
        self.wake()

    async def _on_bad_request(self, row: OutboxMessage, exc: BadRequest) -> None:
        assert row.id is not None
        log.error("outbox row %s refused by Telegram: %s", row.id, exc.message)
        await self._fail(row, f"400 {exc.message}")

    async def _on_transient(self, row: OutboxMessage, exc: TelegramError) -> None:
        assert row.id is not None
        backoff = self.policy.delay_after(exc, row.attempts)
        if backoff is None:
            await self._fail(row, f"gave up after {row.attempts} attempts: {exc}")
            return
        log.info("outbox row %s: %s; retry in %.1f s", row.id, exc, backoff)
        metrics.RETRIES.labels("outbox").inc()
        async with transaction(self.sessions) as session:
            await outbox.mark_retry(
                session, row.id, at=self.clock.now() + timedelta(seconds=backoff), error=str(exc)
            )

    async def _fail(self, row: OutboxMessage, error: str) -> None:
        assert row.id is not None
        async with transaction(self.sessions) as session:
            await outbox.mark_failed(session, row.id, error=error)
            if row.kind != "admin.alert":
                failed = alerts.DeliveryFailed(row.kind, row.chat_id, error)
                await alerts.alert_failed(
                    session,
                    self.render,
                    key=f"failed:{row.id}",
                    failed=failed,
                    now=self.clock.now(),
                )
        self.wake()


class _Postpone(Exception):
    def __init__(self, reason: str, delay: timedelta) -> None:
        super().__init__(reason)
        self.reason, self.delay = reason, delay


class _Cancel(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
