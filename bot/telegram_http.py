"""How the bot's Bot API calls travel: PTB's request interface, implemented on aiohttp.

A turn makes two or three Bot API calls, and on a busy morning their client-side cost is a
large part of the event loop's work. PTB's own HTTPXRequest cost about 490 µs of CPU a
sendMessage on the benchmark machine; over httpx-aiohttp's transport 530 µs with PTB's work
around it (measured again in round 10), most of it httpx building and checking the request and
reading the response in pure Python. Straight on aiohttp (C-accelerated HTTP/1.1,
asyncio-native sockets) the same call costs 350 µs.

PTB maps what comes back itself (``BaseRequest._request_wrapper``: RetryAfter, BadRequest,
Forbidden, ChatMigrated from the status and the JSON), so this class only moves bytes and
turns transport failures into PTB's TimedOut and NetworkError, as HTTPXRequest does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from core.settings import TelegramSettings

# PTB's own defaults: a connection per concurrent call, and one for long polling.
CALLS_POOL = 256
POLLING_POOL = 1
# Long polling waits up to the poll timeout for updates; its read timeout must outlast it.
POLL_READ_MARGIN = 10.0
# How long the next long poll may wait for the updates of the last one to be handled.
POLL_DEFER_SECONDS = 0.01
# PTB's defaults for the two timeouts salesbot does not configure.
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _chosen(value: Any, default: float | None) -> float | None:
    """A call's own timeout, or this request's default when PTB passed none (its documented
    test: ``is BaseRequest.DEFAULT_NONE``)."""
    return default if value is BaseRequest.DEFAULT_NONE else value


def _total(*parts: float | None) -> float | None:
    """Several timeouts as one bound (None, no bound, if any of them is None). aiohttp has no
    write timeout, so a stalled upload is bounded by the sum of all four."""
    return None if any(part is None for part in parts) else sum(p for p in parts if p)


class AiohttpRequest(BaseRequest):
    """One aiohttp session with its own connection pool; PTB calls ``initialize`` inside the
    running loop before the first request and ``shutdown`` at the end."""

    def __init__(
        self, *, pool: int, connect_timeout: float, read_timeout: float, write_timeout: float
    ) -> None:
        self._pool = pool
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        body, headers, uploads = _body(request_data)
        read = _chosen(read_timeout, self._read_timeout)
        connect = _chosen(connect_timeout, self._connect_timeout)
        pool = _chosen(pool_timeout, POOL_TIMEOUT)
        write = _chosen(write_timeout, MEDIA_WRITE_TIMEOUT if uploads else self._write_timeout)
        timeout = aiohttp.ClientTimeout(
            total=_total(pool, connect, write, read),
            connect=_total(pool, connect),
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout, proxy=self._proxy(url)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's own timeouts are TimeoutErrors too
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error

    def _proxy(self, url: str) -> str | None:
        """The proxy the environment names for ``url`` (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, as
        httpx honoured them), looked up once per API address: aiohttp's own ``trust_env``
        reads the environment and looks for a .netrc file on every call, 100 µs of each."""
        base = url.rpartition("/")[0]
        if base not in self._proxies:
            parts = urlsplit(url)
            proxies = getproxies()
            named = proxies.get(parts.scheme) or proxies.get("all")
            bypass = parts.hostname is None or proxy_bypass(parts.hostname)
            self._proxies[base] = None if bypass else named
        return self._proxies[base]


def _body(
    request_data: RequestData | None,
) -> tuple[bytes | aiohttp.FormData | None, dict[str, str] | None, bool]:
    """The request's body as PTB's HTTPXRequest sends it: form-encoded parameters, or a
    multipart form when files are uploaded; and whether it uploads files."""
    if request_data is None:
        return None, None, False
    files = request_data.multipart_data
    if not files:
        return request_data.url_encoded_parameters().encode("ascii"), _FORM, False
    # Names as httpx sends them (UTF-8 in quotes): quoted, a Chinese file name would reach the
    # chat as "%E5%91%A8%E6%8A%A5.xlsx".
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form, None, True


class PollingRequest(AiohttpRequest):
    """getUpdates' request. The next long poll waits until the updates the last one brought
    are handled, at most ``POLL_DEFER_SECONDS``: sending it costs the event loop about half a
    millisecond (PTB building the call, the request written), and sent at once it lands in the
    middle of the turn that has just begun, whose reply then waits for it (measured: a typed
    note's reply 0.5-0.7 ms later on PostgreSQL). Updates that arrive meanwhile wait for the
    poll at Telegram, at most that long, and come in the next batch; a long turn (a summary's
    chart) holds no one up beyond the bound. ``handled`` is set once the application exists:
    its update queue's ``join``, which PTB releases as each update's handling ends."""

    handled: Callable[[], Awaitable[None]] | None = None

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if self.handled is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_DEFER_SECONDS):
                    await self.handled()
        return await super().do_request(*args, **kwargs)


def calls_request(settings: TelegramSettings) -> AiohttpRequest:
    """For every Bot API call except getUpdates."""
    return AiohttpRequest(
        pool=CALLS_POOL, connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout, write_timeout=settings.read_timeout,
    )  # fmt: skip


def polling_request(settings: TelegramSettings) -> PollingRequest:
    """For getUpdates, on a connection of its own so a long poll never holds up a reply."""
    return PollingRequest(
        pool=POLLING_POOL, connect_timeout=settings.connect_timeout,
        read_timeout=settings.poll_timeout + POLL_READ_MARGIN,
        write_timeout=settings.read_timeout,
    )  # fmt: skip
