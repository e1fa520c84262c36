"""Webhook mode: the same conversations over webhook delivery, the secret token, duplicates."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import func, select

from bot.app import Runtime
from core.db import transaction
from models.invite import Invite
from models.processed_update import ProcessedUpdate
from sandbox import Sandbox
from sandbox.client import SandboxClient
from sandbox.harness import WEBHOOK_SECRET, LocalBot
from tests.conftest import ADMIN_ID
from tests.helpers import payload_from, user_by_tg

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def command_update(update_id: int, user_id: int, text: str) -> dict[str, object]:
    sender = {"id": user_id, "is_bot": False, "first_name": "Ada", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 100_000,
            "date": 1_790_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Ada"},
            "from": sender,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


async def test_a_conversation_over_the_webhook(webhook_bot: LocalBot) -> None:
    info = await webhook_bot.client.webhook()
    assert info["info"]["url"] == webhook_bot.webhook_url
    admin = await webhook_bot.chat(ADMIN_ID, "Ada")
    await admin.send("/invite")
    await admin.tap("sales rep")
    replies = await admin.tap("North")
    newcomer = await webhook_bot.chat(4001, "Nia")
    await newcomer.send(f"/start {payload_from(replies[-1].text)}")
    user = await user_by_tg(webhook_bot.runtime, 4001)
    assert user is not None and user.active


async def test_missing_or_wrong_secret_is_refused(webhook_bot: LocalBot) -> None:
    update = command_update(900_000_001, ADMIN_ID, "/help")
    async with httpx.AsyncClient() as http:
        missing = await http.post(webhook_bot.webhook_url, json=update)
        wrong = await http.post(
            webhook_bot.webhook_url, json=update, headers={SECRET_HEADER: "guess"}
        )
        garbage = await http.post(
            webhook_bot.webhook_url, content=b"{not json", headers={SECRET_HEADER: WEBHOOK_SECRET}
        )
        health = await http.get(webhook_bot.webhook_url.replace("/telegram", "/health"))
    assert missing.status_code == 403 and wrong.status_code == 403
    assert garbage.status_code == 400
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}  # no details without the health token
    async with transaction(webhook_bot.runtime.sessions) as session:
        count = (await session.exec(select(func.count()).select_from(ProcessedUpdate))).one()
    assert count == 0  # refused requests were never handled


async def test_a_repeated_delivery_is_acknowledged_and_ignored(webhook_bot: LocalBot) -> None:
    await webhook_bot.client.add_user(ADMIN_ID, "Ada")
    first = command_update(900_000_002, ADMIN_ID, "/invite")
    async with httpx.AsyncClient() as http:
        for _ in range(3):
            answer = await http.post(
                webhook_bot.webhook_url, json=first, headers={SECRET_HEADER: WEBHOOK_SECRET}
            )
            assert answer.status_code == 200
    prompts = [
        m
        for m in await webhook_bot.client.bot_messages(ADMIN_ID)
        if "Choose the role" in (m.text or "")
    ]
    assert len(prompts) == 1
    admin = await webhook_bot.chat(ADMIN_ID, "Ada")
    await admin.tap("director")
    async with transaction(webhook_bot.runtime.sessions) as session:
        invites = (await session.exec(select(func.count()).select_from(Invite))).one()
    assert invites == 1


async def _post(bot: LocalBot, content: bytes, **headers: str) -> int:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            bot.webhook_url, content=content, headers={SECRET_HEADER: WEBHOOK_SECRET, **headers}
        )
    return answer.status_code


async def test_only_a_json_object_is_an_update(webhook_bot: LocalBot) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    for body in (b"[1, 2]", b'"text"', b"42", b"null", nested, b'{"no": "update_id"}',
                 b'{"update_id": 1, "message": [1]}'):  # fmt: skip
        assert await _post(webhook_bot, body) == 400, body[:20]
    async with transaction(webhook_bot.runtime.sessions) as session:
        count = (await session.exec(select(func.count()).select_from(ProcessedUpdate))).one()
    assert count == 0


async def test_a_body_over_the_cap_is_refused_before_it_is_read(webhook_bot: LocalBot) -> None:
    cap = webhook_bot.runtime.settings.webhook.max_body_bytes
    assert await _post(webhook_bot, b" " * (cap + 1)) == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked encoding
        for _ in range(cap // 65_536 + 2):
            yield b" " * 65_536

    async with httpx.AsyncClient() as http:
        answer = await http.post(
            webhook_bot.webhook_url, content=chunks(), headers={SECRET_HEADER: WEBHOOK_SECRET}
        )
    assert answer.status_code == 413
    # A normal update still goes through afterwards.
    update = command_update(900_000_010, ADMIN_ID, "/help")
    async with httpx.AsyncClient() as http:
        ok = await http.post(webhook_bot.webhook_url, json=update,
                             headers={SECRET_HEADER: WEBHOOK_SECRET})  # fmt: skip
    assert ok.status_code == 200


async def test_a_slow_body_is_cut_off(runtime: Runtime, webhook_bot: LocalBot) -> None:
    runtime.settings.webhook.read_timeout_seconds = 0.2

    async def slowly() -> AsyncIterator[bytes]:
        yield b'{"update_id": 1,'
        await asyncio.sleep(1)
        yield b' "message": {}}'

    async with httpx.AsyncClient() as http:
        answer = await http.post(
            webhook_bot.webhook_url, content=slowly(), headers={SECRET_HEADER: WEBHOOK_SECRET}
        )
    assert answer.status_code == 408


async def test_health_details_need_the_health_token(
    runtime: Runtime, sandbox: Sandbox, sandbox_client: SandboxClient
) -> None:
    runtime.settings.webhook.health_token = SecretStr("h" * 40)
    bot = LocalBot(runtime=runtime, sandbox=sandbox, client=sandbox_client, webhook=True)
    await bot.start()
    try:
        url = bot.webhook_url.replace("/telegram", "/health")
        async with httpx.AsyncClient() as http:
            anonymous = await http.get(url)
            wrong = await http.get(url, headers={"Authorization": "Bearer " + "x" * 40})
            allowed = await http.get(url, headers={"Authorization": "Bearer " + "h" * 40})
    finally:
        await bot.stop()
    assert anonymous.json() == {"status": "ok"} and wrong.json() == {"status": "ok"}
    details = allowed.json()
    assert details["database"] == "ok" and details["sender"]["running"] is True
    assert "instance" in details


async def test_wrong_secrets_do_not_flood_the_log(
    webhook_bot: LocalBot, caplog: pytest.LogCaptureFixture
) -> None:
    update = command_update(900_000_020, ADMIN_ID, "/help")
    with caplog.at_level(logging.WARNING, logger="bot.webhook"):
        async with httpx.AsyncClient() as http:
            for attempt in range(25):
                answer = await http.post(
                    webhook_bot.webhook_url, json=update, headers={SECRET_HEADER: f"g{attempt}"}
                )
                assert answer.status_code == 403
    refused = [r for r in caplog.records if "wrong secret" in r.getMessage()]
    assert len(refused) == 1
