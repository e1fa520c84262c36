"""Webhook delivery: POST each update, in order, retrying until it is accepted."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import httpx

from bot.sandbox.models import WebhookConfig
from bot.sandbox.state import SandboxState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class WebhookWorker:
    """One task in the sandbox loop; the next update waits for the previous one."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
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
        state = self.state
        while not state.closing.is_set():
            config = state.webhook
            pending = state.pending_updates(config.allowed_updates) if config else []
            if config is None or not pending:
                await state.wait_changed(None)
                continue
            update = pending[0]
            update_id = update["update_id"]
            attempt = self._attempts[update_id] = self._attempts.get(update_id, 0) + 1
            if await self._deliver(config, update, attempt):
                self._attempts.pop(update_id, None)
                # Accepted: confirm it and anything older that the filter skipped.
                state.confirm_updates(update_id + 1)
            else:
                await state.sleep(state.webhook_retry_delay)

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
            entry["status"] = response.status_code
            if response.is_success:
                return True
            entry["error"] = (
                f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}"
            )
        config.last_error_date = int(time.time())
        config.last_error_message = entry["error"]
        return False
