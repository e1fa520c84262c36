"""How the bot's Bot API calls travel: PTB's httpx request over aiohttp's connection pool.

A turn makes two or three Bot API calls, and on a busy morning their client-side cost is a
large part of the event loop's work. httpx's own pool (httpcore over anyio, h11 in pure
Python) cost about 490 µs of CPU a call on the benchmark machine; through `httpx-aiohttp`'s
transport (aiohttp's C-accelerated HTTP/1.1 and asyncio-native sockets) the same call costs
about 290 µs. httpx still builds every request and reads every response, so PTB's timeouts,
its error mapping (TimedOut, NetworkError, RetryAfter) and the multipart uploads are as before.
"""

from __future__ import annotations

import httpx
from httpx_aiohttp import AiohttpTransport
from telegram.request import HTTPXRequest

from core.settings import TelegramSettings

# PTB's own defaults: a connection per concurrent call, and one for long polling.
CALLS_POOL = 256
POLLING_POOL = 1
# Long polling waits up to the poll timeout for updates; its read timeout must outlast it.
POLL_READ_MARGIN = 10.0


def _request(settings: TelegramSettings, *, pool: int, read_timeout: float) -> HTTPXRequest:
    return HTTPXRequest(
        connection_pool_size=pool,
        connect_timeout=settings.connect_timeout,
        read_timeout=read_timeout,
        write_timeout=settings.read_timeout,
        httpx_kwargs={"transport": AiohttpTransport(limits=httpx.Limits(max_connections=pool))},
    )


def calls_request(settings: TelegramSettings) -> HTTPXRequest:
    """For every Bot API call except getUpdates."""
    return _request(settings, pool=CALLS_POOL, read_timeout=settings.read_timeout)


def polling_request(settings: TelegramSettings) -> HTTPXRequest:
    """For getUpdates, on a connection of its own so a long poll never holds up a reply."""
    return _request(
        settings, pool=POLLING_POOL, read_timeout=settings.poll_timeout + POLL_READ_MARGIN
    )
