"""The bot's Bot API transport (bot/telegram_http.py) against a small HTTP server on 127.0.0.1:
what it sends, how transport failures reach PTB, and the long poll waiting for the updates in
hand."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import BodyPartReader, web
from telegram import InputFile
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

import bot.telegram_http as telegram_http
from bot.telegram_http import AiohttpRequest, PollingRequest
from handlers.retry import flood_wait


@dataclass
class FakeApi:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def api() -> AsyncIterator[FakeApi]:
    fake = FakeApi(url="")

    async def method(request: web.Request) -> web.Response:
        name = request.match_info["method"]
        entry: dict[str, Any] = {"method": name, "headers": dict(request.headers)}
        if request.content_type == "multipart/form-data":
            parts = {}
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                assert isinstance(part, BodyPartReader)
                parts[part.name] = (
                    part.filename,
                    part.headers.get("Content-Type"),
                    await part.read(),
                )
            entry["parts"] = parts
        else:
            entry["form"] = dict(await request.post())
        fake.received.append(entry)
        fake.arrived.set()
        if name == "slow":
            await fake.release.wait()
        if name == "flood":
            body = (
                b'{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after'
                b' 3", "parameters": {"retry_after": 3}}'
            )
            return web.Response(status=429, body=body, content_type="application/json")
        return web.Response(body=b'{"ok": true, "result": true}', content_type="application/json")

    app = web.Application()
    app.router.add_post("/bot/{method}", method)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}/bot"
    try:
        yield fake
    finally:
        fake.release.set()
        await runner.cleanup()


def _request(**timeouts: float) -> AiohttpRequest:
    options = {"connect_timeout": 5.0, "read_timeout": 5.0, "write_timeout": 5.0, **timeouts}
    return AiohttpRequest(pool=4, **options)


def _data(**parameters: Any) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in parameters.items()])


async def test_a_call_sends_its_parameters_form_encoded_as_ptb_does(api: FakeApi) -> None:
    async with _request() as request:
        keyboard = {"inline_keyboard": [[{"text": "✅ 保存", "callback_data": "f|1|save"}]]}
        status, body = await request.do_request(
            f"{api.url}/sendMessage", "POST",
            _data(chat_id=42, text="拜访已保存 <b>&</b>", reply_markup=keyboard),
        )  # fmt: skip
    assert status == 200 and body == b'{"ok": true, "result": true}'
    sent = api.received[0]
    assert sent["form"] == {
        "chat_id": "42",
        "text": "拜访已保存 <b>&</b>",
        "reply_markup": json.dumps(keyboard),
    }
    assert sent["headers"]["User-Agent"] == BaseRequest.USER_AGENT


async def test_an_upload_goes_as_a_multipart_form_with_its_file_name_and_type(
    api: FakeApi,
) -> None:
    document = InputFile(b"PK\x03\x04 workbook", filename="周报.xlsx")
    async with _request() as request:
        await request.do_request(
            f"{api.url}/sendDocument", "POST", _data(chat_id=42, document=document)
        )
    parts = api.received[0]["parts"]
    assert parts["chat_id"][::2] == (None, b"42")
    assert parts["document"] == ("周报.xlsx", document.mimetype, b"PK\x03\x04 workbook")


async def test_telegrams_answers_reach_ptbs_own_error_mapping(api: FakeApi) -> None:
    async with _request() as request:
        with pytest.raises(RetryAfter) as raised:
            await request.post(f"{api.url}/flood", _data(chat_id=42))
    assert flood_wait(raised.value) == 3


async def test_an_answer_that_does_not_come_in_time_is_a_timeout(api: FakeApi) -> None:
    async with _request(read_timeout=0.05) as request:
        with pytest.raises(TimedOut):
            await request.do_request(f"{api.url}/slow", "POST", _data(chat_id=42))


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: the connection is refused
        async with _request() as request:
            with pytest.raises(NetworkError) as raised:
                await request.do_request(f"http://127.0.0.1:{port}/bot/getMe", "POST")
    assert not isinstance(raised.value, TimedOut)
    assert "aiohttp.ClientConnectorError" in raised.value.message


async def test_the_next_long_poll_waits_for_the_updates_in_hand(api: FakeApi) -> None:
    order: list[str] = []
    handled = asyncio.Event()

    async def updates_handled() -> None:
        order.append("waiting")
        await handled.wait()
        order.append("handled")

    async with PollingRequest(
        pool=1, connect_timeout=5.0, read_timeout=5.0, write_timeout=5.0
    ) as request:
        request.handled = updates_handled
        poll = asyncio.create_task(
            request.do_request(f"{api.url}/getUpdates", "POST", _data(offset=7, timeout=30))
        )
        while not order:
            await asyncio.sleep(0)
        assert not api.arrived.is_set()  # the poll is held back while the updates are handled
        handled.set()
        await poll
    assert order == ["waiting", "handled"]
    assert api.received[0]["form"] == {"offset": "7", "timeout": "30"}


async def test_a_long_turn_holds_the_next_poll_back_only_briefly(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram_http, "POLL_DEFER_SECONDS", 0.001)

    async def never_handled() -> None:
        await asyncio.Event().wait()

    async with PollingRequest(
        pool=1, connect_timeout=5.0, read_timeout=5.0, write_timeout=5.0
    ) as request:
        request.handled = never_handled
        status, _ = await request.do_request(f"{api.url}/getUpdates", "POST", _data(offset=7))
    assert status == 200 and api.received[0]["method"] == "getUpdates"


async def test_a_proxy_named_by_the_environment_carries_the_calls(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where api.telegram.org is out of reach, a proxy is named in the environment, as for httpx.
    monkeypatch.setenv("HTTP_PROXY", api.url.removesuffix("/bot"))
    monkeypatch.setenv("NO_PROXY", "localhost")
    async with _request() as request:
        status, _ = await request.do_request("http://api.telegram.invalid/bot/getMe", "POST")
    assert status == 200
    assert api.received[0]["headers"]["Host"] == "api.telegram.invalid"


async def test_no_proxy_exempts_an_address(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with _request() as request:
        status, _ = await request.do_request(f"{api.url}/getMe", "POST")
    assert status == 200
