"""The Bot API endpoints: auth, event log, faults, flood limits, then the method."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from sandbox import api_messages, api_queries, api_setup
from sandbox.errors import ApiError, too_many_requests
from sandbox.faults import Fault
from sandbox.params import Params, read_params
from sandbox.state import SandboxState, token_bot_id

logger = logging.getLogger(__name__)

Handler = Callable[[SandboxState, Params], Awaitable[Any]]
AbortConnection = Callable[[Request], Awaitable[None]]

METHODS: dict[str, Handler] = {
    "getMe": api_setup.get_me,
    "getUpdates": api_setup.get_updates,
    "sendMessage": api_messages.send_message,
    "editMessageText": api_messages.edit_message_text,
    "editMessageReplyMarkup": api_messages.edit_message_reply_markup,
    "editMessageCaption": api_messages.edit_message_caption,
    "deleteMessage": api_messages.delete_message,
    "answerCallbackQuery": api_queries.answer_callback_query,
    "answerInlineQuery": api_queries.answer_inline_query,
    "sendPhoto": api_messages.send_photo,
    "sendDocument": api_messages.send_document,
    "sendMediaGroup": api_messages.send_media_group,
    "sendLocation": api_messages.send_location,
    "sendChatAction": api_messages.send_chat_action,
    "getFile": api_messages.get_file,
    "setMyCommands": api_setup.set_my_commands,
    "getMyCommands": api_setup.get_my_commands,
    "deleteMyCommands": api_setup.delete_my_commands,
    "setChatMenuButton": api_setup.set_chat_menu_button,
    "getChatMenuButton": api_setup.get_chat_menu_button,
    "setWebhook": api_setup.set_webhook,
    "deleteWebhook": api_setup.delete_webhook,
    "getWebhookInfo": api_setup.get_webhook_info,
    "logOut": api_setup.accept,
    "close": api_setup.accept,
}
# Telegram matches method names case-insensitively.
_CANONICAL = {name.lower(): name for name in METHODS}
SENDING = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendLocation", "sendMediaGroup"})
EDITS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})


class _Dropped(Exception):
    """A "drop" fault fired: the connection is gone, nothing is answered."""


class _NoResponse(Response):
    """Sends nothing: the transport was aborted on purpose."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None


def _envelope_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.envelope(), status_code=error.code)


def _chat_id(params: Params | None) -> int | None:
    if params is None:
        return None
    try:
        return params.get_int("chat_id")
    except ApiError:
        return None


class BotApi:
    """Serves ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``."""

    def __init__(self, state: SandboxState, abort_connection: AbortConnection) -> None:
        self.state = state
        self.abort_connection = abort_connection

    def authorize(self, token: str) -> None:
        if self.state.bot_token is not None:
            if token != self.state.bot_token:
                raise ApiError(401, "Unauthorized")
            return
        bot_id = token_bot_id(token)
        if bot_id is None:
            raise ApiError(404, "Not Found")
        self.state.bot_id = bot_id

    async def method_endpoint(self, request: Request) -> Response:
        given = request.path_params["method"]
        name = _CANONICAL.get(given.lower(), given)
        params: Params | None = None
        parse_error: ApiError | None = None
        try:
            params = await read_params(request)
        except ApiError as exc:
            parse_error = exc
        event = self.state.start_event(name, _chat_id(params), params.for_log() if params else {})
        try:
            self.authorize(request.path_params["token"])
            if parse_error is not None or params is None:
                raise parse_error or ApiError(400, "Bad Request")
            if name not in METHODS:
                raise ApiError(404, "Not Found")
            result = await self.call(name, params, event, request)
        except ApiError as exc:
            event["status"], event["description"] = exc.code, exc.description
            return _envelope_response(exc)
        except _Dropped:
            event["status"], event["description"] = "dropped", "connection dropped (fault)"
            return _NoResponse()
        except Exception:
            # A sandbox bug: answer like a Telegram outage and keep serving.
            logger.exception("sandbox failed on %s", name)
            event["status"], event["description"] = 500, "Internal Server Error"
            return _envelope_response(ApiError(500, "Internal Server Error"))
        event["status"] = "ok"
        return JSONResponse({"ok": True, "result": result})

    async def run_response_call(self, body: dict[str, Any]) -> None:
        """The Bot API call a webhook's response carried (``{"method": ..., params}``), run as
        Telegram runs it: like any call (its limits apply), with no result for anyone; an
        unknown method or bad parameters are dropped, as Telegram drops them. Recorded as an
        event with ``via: "webhook response"``."""
        given = str(body.get("method"))
        name = _CANONICAL.get(given.lower(), given)
        params = Params({k: v for k, v in body.items() if k != "method"}, {})
        event = self.state.start_event(name, _chat_id(params), params.for_log())
        event["via"] = "webhook response"
        try:
            if name not in METHODS:
                raise ApiError(404, "Not Found")
            if name in SENDING or name in EDITS:
                retry_after = self.state.limiter.admit(
                    event["chat_id"], counts_globally=name in SENDING, now=time.monotonic()
                )
                if retry_after is not None:
                    raise too_many_requests(retry_after)
            await METHODS[name](self.state, params)
        except ApiError as exc:
            event["status"], event["description"] = exc.code, exc.description
            return
        event["status"] = "ok"

    async def call(
        self, name: str, params: Params, event: dict[str, Any], request: Request
    ) -> Any:
        fault = self.state.faults.take(name, event["chat_id"])
        if fault is not None:
            event["fault"] = fault.kind
            await self.apply_fault(fault, request)
        if name in SENDING or name in EDITS:
            retry_after = self.state.limiter.admit(
                event["chat_id"], counts_globally=name in SENDING, now=time.monotonic()
            )
            if retry_after is not None:
                raise too_many_requests(retry_after)
        return await METHODS[name](self.state, params)

    async def apply_fault(self, fault: Fault, request: Request) -> None:
        if fault.kind == "429":
            raise too_many_requests(fault.retry_after)
        if fault.kind == "5xx":
            raise ApiError(fault.status, fault.description)
        if fault.kind == "drop":
            await self.abort_connection(request)
            raise _Dropped
        await self.state.sleep(fault.delay)

    async def file_endpoint(self, request: Request) -> Response:
        try:
            self.authorize(request.path_params["token"])
        except ApiError as exc:
            return _envelope_response(exc)
        stored = self.state.files_by_path.get(request.path_params["file_path"])
        if stored is None:
            return _envelope_response(ApiError(404, "Not Found"))
        return Response(stored.data, media_type=stored.mime_type or "application/octet-stream")
