"""Webhook delivery: POST updates, in parallel up to max_connections but one person's in order,
retrying until each is accepted."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from sandbox.models import WebhookConfig
from sandbox.state import SandboxState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class WebhookWorker:
    """One task in the sandbox loop that posts updates to the webhook, as Telegram does."""

    def __init__(
        self,
        state: SandboxState,
        run_response_call: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    ) -> None:
        self.state = state
        # Runs the Bot API call a webhook's JSON response may carry (BotApi.run_response_call).
        self.run_response_call = run_response_call
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._attempts: dict[int, int] = {}

    def start(self) -> None:
        self._client = httpx.AsyncClient(trust_env=False)
        self._task = asyncio.create_task(self._run(), name="sandbox-webhook")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        """Deliver like Telegram: up to max_connections requests at once, but one person's
        updates strictly one after another (the next only once the previous was accepted)."""
        state = self.state
        in_flight: dict[int, asyncio.Task[bool]] = {}
        busy: dict[int, float] = {}  # person -> monotonic time before which nothing is sent
        while not state.closing.is_set():
            marker = state.change_marker()
            config = state.webhook
            pending = state.pending_updates(config.allowed_updates) if config else []
            now = time.monotonic()
            started = False
            seen: set[int] = set()
            for update in pending if config else []:
                person = _person(update)
                if person in seen:
                    continue  # an earlier update of this person is still to go first
                seen.add(person)
                update_id = update["update_id"]
                if update_id in in_flight or busy.get(person, 0.0) > now:
                    continue
                if len(in_flight) >= config.max_connections:  # type: ignore[union-attr]
                    break
                busy[person] = float("inf")
                task = asyncio.create_task(self._attempt(config, update))  # type: ignore[arg-type]
                in_flight[update_id] = task
                task.add_done_callback(
                    functools.partial(self._finished, update_id, person, in_flight, busy)
                )
                started = True
            if not started:
                waits = [t - now for t in busy.values() if now < t < float("inf")]
                await state.wait_marker(marker, min(waits) if waits else None)

    async def _attempt(self, config: WebhookConfig, update: dict[str, Any]) -> bool:
        update_id = update["update_id"]
        attempt = self._attempts[update_id] = self._attempts.get(update_id, 0) + 1
        return await self._deliver(config, update, attempt)

    def _finished(
        self,
        update_id: int,
        person: int,
        in_flight: dict[int, asyncio.Task[bool]],
        busy: dict[int, float],
        task: asyncio.Task[bool],
    ) -> None:
        in_flight.pop(update_id, None)
        accepted = not task.cancelled() and task.exception() is None and task.result()
        if accepted:
            self._attempts.pop(update_id, None)
            self.state.drop_update(update_id)
            busy.pop(person, None)
        else:
            busy[person] = time.monotonic() + self.state.webhook_retry_delay
        self.state.notify()

    async def _deliver(self, config: WebhookConfig, update: dict[str, Any], attempt: int) -> bool:
        if self._client is None:
            raise RuntimeError("the webhook worker was not started")
        headers = {SECRET_HEADER: config.secret_token} if config.secret_token else {}
        entry: dict[str, Any] = {
            "update_id": update["update_id"],
            "attempt": attempt,
            "url": config.url,
            "status": None,
            "error": None,
            "at": time.time(),
            "mono": time.monotonic(),
        }
        self.state.deliveries.append(entry)
        try:
            response = await self._client.post(
                config.url, json=update, headers=headers, timeout=self.state.webhook_timeout
            )
        except httpx.TimeoutException:
            entry["error"] = "Read timeout expired"
        except httpx.HTTPError as exc:
            entry["error"] = f"Connection failed: {type(exc).__name__}"
        else:
            if response.is_success:
                # Run before the delivery shows as accepted: whoever waits for that sees its
                # effect too.
                await self._carried_call(response)
            entry["status"] = response.status_code
            if response.is_success:
                return True
            entry["error"] = (
                f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}"
            )
        config.last_error_date = int(time.time())
        config.last_error_message = entry["error"]
        return False

    async def _carried_call(self, response: httpx.Response) -> None:
        """Telegram runs a method the webhook answered with. Only a JSON answer is read here;
        Telegram also reads form-encoded ones, which salesbot does not send."""
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json" or self.run_response_call is None:
            return
        try:
            body = response.json()
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("method"), str):
            await self.run_response_call(body)


def _person(update: dict[str, Any]) -> int:
    """Whose update this is: updates of one person are delivered in order."""
    for kind in ("message", "callback_query", "inline_query", "chosen_inline_result"):
        body = update.get(kind)
        if isinstance(body, dict):
            sender = body.get("from") or body.get("chat") or {}
            return int(sender.get("id", 0))
    return 0
