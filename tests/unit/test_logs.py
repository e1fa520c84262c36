"""Log lines never show the bot token or the webhook secret: messages, API parameters at DEBUG,
exception texts, tracebacks and uvicorn's own lines."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from telegram import Bot

from bot.http_server import server_config
from bot.logs import REDACTED, EveryMinute, setup_logging
from core.settings import WebhookSettings
from sandbox import Sandbox

TOKEN = "123456789:AAE-real-looking-token_value"
SECRET = "webhook-secret-" + "k" * 32


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What salesbot's log handler writes, at DEBUG."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    # As configured with a stray newline and spaces; the bot uses the stripped token.
    setup_logging("DEBUG", secrets=[f"  {TOKEN}\n", SECRET])
    output = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(output)
    try:
        yield output
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


async def test_api_parameters_at_debug_show_neither_token_nor_secret(logged: io.StringIO) -> None:
    with Sandbox(bot_token=TOKEN) as sandbox:
        async with Bot(TOKEN, base_url=sandbox.base_url) as bot:
            await bot.set_webhook("https://bot.example.com/telegram", secret_token=SECRET)
    text = logged.getvalue()
    assert "setWebhook" in text and REDACTED in text  # PTB did log the parameters
    assert TOKEN not in text and SECRET not in text


def test_exception_texts_and_tracebacks_are_redacted(logged: io.StringIO) -> None:
    try:
        raise RuntimeError(f"could not reach https://api.telegram.org/bot{TOKEN}/getMe")
    except RuntimeError:
        logging.getLogger("salesbot.test").exception("start-up failed with %s", SECRET)
    text = logged.getvalue()
    assert "Traceback" in text and "RuntimeError" in text
    assert TOKEN not in text and SECRET not in text


def test_uvicorn_lines_go_through_the_redacting_handler(logged: io.StringIO) -> None:
    settings = WebhookSettings(secret_token=SecretStr(SECRET))
    server_config(Starlette(), settings)  # configures uvicorn's loggers as `run --webhook` does
    logging.getLogger("uvicorn.error").error("invalid request: %s", SECRET)
    text = logged.getvalue()
    assert "invalid request" in text and SECRET not in text


def test_a_repeated_warning_is_let_through_once_a_minute() -> None:
    gate = EveryMinute()
    assert gate.allow() == 0
    assert [gate.allow() for _ in range(5)] == [None] * 5
    gate._next_at = 0.0  # a minute later
    assert gate.allow() == 5
