"""The control API under /control: act as users, read chats, configure the sandbox."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import acts
from sandbox.api_setup import webhook_info
from sandbox.errors import ControlError
from sandbox.faults import Fault
from sandbox.models import SandboxUser
from sandbox.state import SandboxState

_MISSING: Any = object()


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ControlError("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ControlError("the body must be a JSON object")
    return data


def _get(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = body.get(name)
    if value is None:
        if default is _MISSING:
            raise ControlError(f"missing field {name!r}")
        return default
    # bool is an int subclass, but True is never a valid id or number here.
    if isinstance(value, bool) and kind is not bool:
        raise ControlError(f"field {name!r} has the wrong type")
    if not isinstance(value, kind):
        raise ControlError(f"field {name!r} has the wrong type")
    return value


def _int(body: dict[str, Any], name: str, default: Any = _MISSING) -> Any:
    return _get(body, name, int, default)


def _str(body: dict[str, Any], name: str, default: Any = _MISSING) -> Any:
    return _get(body, name, str, default)


def _float(body: dict[str, Any], name: str, default: Any = _MISSING) -> Any:
    value = _get(body, name, (int, float), default)
    return None if value is None else float(value)


def _bytes(body: dict[str, Any], name: str, default: Any = _MISSING) -> Any:
    value = _str(body, name, default)
    if not isinstance(value, str):
        return value
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ControlError(f"field {name!r} is not valid base64") from None


def _ok(data: Any = None) -> JSONResponse:
    return JSONResponse({"ok": True} if data is None else data)


class ControlApi:
    """Handlers for the control endpoints; all state access stays in the sandbox loop."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        post, get, delete = ["POST"], ["GET"], ["DELETE"]
        return [
            Route("/users", self.add_user, methods=post),
            Route("/users/{user_id:int}/blocked", self.set_blocked, methods=post),
            Route("/send_message", self.send_message, methods=post),
            Route("/press", self.press, methods=post),
            Route("/send_location", self.send_location, methods=post),
            Route("/send_photo", self.send_photo, methods=post),
            Route("/send_document", self.send_document, methods=post),
            Route("/send_voice", self.send_voice, methods=post),
            Route("/send_contact", self.send_contact, methods=post),
            Route("/send_group_message", self.send_group_message, methods=post),
            Route("/inline_query", self.inline_query, methods=post),
            Route("/inline_answers/{query_id}", self.inline_answer, methods=get),
            Route("/choose_inline_result", self.choose_inline_result, methods=post),
            Route("/chats/{chat_id:int}/messages", self.messages, methods=get),
            Route("/callback_answers/{query_id}", self.callback_answer, methods=get),
            Route("/files/{file_id}", self.file_bytes, methods=get),
            Route("/events", self.events, methods=get),
            Route("/violations", self.violations, methods=get),
            Route("/violations", self.clear_violations, methods=delete),
            Route("/commands", self.commands, methods=get),
            Route("/webhook", self.webhook, methods=get),
            Route("/faults", self.add_fault, methods=post),
            Route("/faults", self.list_faults, methods=get),
            Route("/faults", self.clear_faults, methods=delete),
            Route("/limits", self.set_limits, methods=post),
            Route("/config", self.configure, methods=post),
            Route("/reset", self.reset, methods=post),
        ]

    async def add_user(self, request: Request) -> Response:
        body = await _body(request)
        user = self.state.upsert_user(
            SandboxUser(
                id=_int(body, "id"),
                first_name=_str(body, "first_name"),
                last_name=_str(body, "last_name", None),
                username=_str(body, "username", None),
                # "" is a client that reports no language (Telegram then omits the field).
                language_code=_str(body, "language_code", "en") or None,
            )
        )
        return _ok(user.to_api() | {"blocked": user.blocked})

    async def set_blocked(self, request: Request) -> Response:
        body = await _body(request)
        user = self.state.ensure_user(request.path_params["user_id"])
        user.blocked = _get(body, "blocked", bool, _MISSING)
        return _ok(user.to_api() | {"blocked": user.blocked})

    async def send_message(self, request: Request) -> Response:
        body = await _body(request)
        return _ok(
            acts.send_text(
                self.state,
                _int(body, "user_id"),
                _str(body, "text"),
                _int(body, "reply_to_message_id", None),
            )
        )

    async def press(self, request: Request) -> Response:
        body = await _body(request)
        result = acts.press(
            self.state,
            _int(body, "user_id"),
            _int(body, "message_id", None),
            data=_str(body, "data", None),
            button_text=_str(body, "button_text", None),
            index=_int(body, "index", None),
            forged=_get(body, "forged", bool, False),
            label=_str(body, "label", None),
        )
        return _ok(result)

    async def send_location(self, request: Request) -> Response:
        body = await _body(request)
        result = acts.send_location(
            self.state,
            _int(body, "user_id"),
            _float(body, "latitude"),
            _float(body, "longitude"),
            _float(body, "horizontal_accuracy", None),
            _int(body, "live_period", None),
        )
        return _ok(result)

    async def send_photo(self, request: Request) -> Response:
        body = await _body(request)
        result = acts.send_photo(
            self.state,
            _int(body, "user_id"),
            _bytes(body, "content_b64", None),
            _str(body, "caption", None),
        )
        return _ok(result)

    async def send_document(self, request: Request) -> Response:
        body = await _body(request)
        result = acts.send_document(
            self.state,
            _int(body, "user_id"),
            _str(body, "file_name"),
            _str(body, "mime_type"),
            _bytes(body, "content_b64"),
            _str(body, "caption", None),
        )
        return _ok(result)

    async def send_voice(self, request: Request) -> Response:
        body = await _body(request)
        result = acts.send_voice(
            self.state,
            _int(body, "user_id"),
            _int(body, "duration"),
            _bytes(body, "content_b64", None),
        )
        return _ok(result)

    async def send_contact(self, request: Request) -> Response:
        body = await _body(request)
        result = acts.send_contact(
            self.state,
            _int(body, "user_id"),
            _str(body, "phone_number"),
            _str(body, "first_name"),
            _int(body, "contact_user_id", None),
            _get(body, "own", bool, True),
        )
        return _ok(result)

    async def inline_query(self, request: Request) -> Response:
        body = await _body(request)
        result = acts.inline_query(
            self.state,
            _int(body, "user_id"),
            _str(body, "query"),
            _str(body, "offset", ""),
            _str(body, "chat_type", "sender"),
        )
        return _ok(result)

    async def send_group_message(self, request: Request) -> Response:
        body = await _body(request)
        result = acts.send_group_text(
            self.state,
            _int(body, "user_id"),
            _int(body, "chat_id"),
            _str(body, "text"),
            _str(body, "chat_type", "group"),
        )
        return _ok(result)

    async def inline_answer(self, request: Request) -> Response:
        query = self.state.inline_queries.get(request.path_params["query_id"])
        if query is None:
            raise ControlError("unknown inline query", status=404)
        if query.answer is None:
            raise ControlError("the bot has not answered yet", status=404)
        return _ok(query.answer)

    async def choose_inline_result(self, request: Request) -> Response:
        body = await _body(request)
        result = acts.choose_inline_result(
            self.state,
            _int(body, "user_id"),
            _str(body, "inline_query_id"),
            _str(body, "result_id"),
        )
        return _ok(result)

    async def messages(self, request: Request) -> Response:
        chat_id = request.path_params["chat_id"]
        return _ok([m.control_json() for m in self.state.chat_messages(chat_id)])

    async def callback_answer(self, request: Request) -> Response:
        query = self.state.callback_queries.get(request.path_params["query_id"])
        if query is None:
            raise ControlError("unknown callback query", status=404)
        if query.answer is None:
            raise ControlError("the bot has not answered yet", status=404)
        return _ok(query.answer)

    async def file_bytes(self, request: Request) -> Response:
        stored = self.state.files.get(request.path_params["file_id"])
        if stored is None:
            raise ControlError("unknown file_id", status=404)
        return Response(stored.data, media_type=stored.mime_type or "application/octet-stream")

    async def events(self, request: Request) -> Response:
        try:
            since = int(request.query_params.get("since", "0"))
        except ValueError:
            raise ControlError("since must be an integer") from None
        return _ok(self.state.events_since(since))

    async def commands(self, request: Request) -> Response:
        return _ok(list(self.state.commands.values()))

    async def webhook(self, request: Request) -> Response:
        config = self.state.webhook
        return _ok(
            {
                "info": webhook_info(self.state),
                "secret_token": config.secret_token if config else None,
                "deliveries": list(self.state.deliveries),
            }
        )

    async def add_fault(self, request: Request) -> Response:
        fault = Fault.from_json(await _body(request))
        self.state.faults.add(fault)
        return _ok(fault.to_json())

    async def list_faults(self, request: Request) -> Response:
        return _ok([fault.to_json() for fault in self.state.faults.faults])

    async def clear_faults(self, request: Request) -> Response:
        self.state.faults.clear()
        return _ok()

    async def set_limits(self, request: Request) -> Response:
        body = await _body(request)
        per_chat = _int(body, "per_chat_per_second", 1)
        overall = _int(body, "global_per_second", 30)
        if per_chat < 1 or overall < 1:
            raise ControlError("limits must be >= 1")
        self.state.limiter.configure(_get(body, "enabled", bool, _MISSING), per_chat, overall)
        return _ok()

    async def configure(self, request: Request) -> Response:
        body = await _body(request)
        timeout = _float(body, "webhook_timeout", self.state.webhook_timeout)
        delay = _float(body, "webhook_retry_delay", self.state.webhook_retry_delay)
        if timeout <= 0 or delay < 0:
            raise ControlError("webhook_timeout must be > 0 and webhook_retry_delay >= 0")
        inline_mode = _get(body, "inline_mode", bool, self.state.inline_mode)
        self.state.webhook_timeout, self.state.webhook_retry_delay = timeout, delay
        self.state.inline_mode = inline_mode
        return _ok()

    async def violations(self, request: Request) -> Response:
        return JSONResponse(self.state.violations)

    async def clear_violations(self, request: Request) -> Response:
        taken, self.state.violations = self.state.violations, []
        return JSONResponse(taken)

    async def reset(self, request: Request) -> Response:
        self.state.clear()
        return _ok()


async def control_error(request: Request, exc: Exception) -> Response:
    status = exc.status if isinstance(exc, ControlError) else 400
    return JSONResponse({"error": str(exc)}, status_code=status)
