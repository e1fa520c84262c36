"""Bot API methods about the bot itself: identity, updates, commands, webhook."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from sandbox.errors import bad_request
from sandbox.models import WebhookConfig
from sandbox.params import Params
from sandbox.state import SandboxState
from sandbox.strictness import check_commands, check_web_app

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)


async def get_me(state: SandboxState, params: Params) -> dict[str, Any]:
    return state.bot_user(full=True)


async def get_updates(state: SandboxState, params: Params) -> list[dict[str, Any]]:
    limit = min(max(params.get_int("limit") or 100, 1), 100)
    timeout = max(params.get_float("timeout") or 0.0, 0.0)
    allowed = params.get_json("allowed_updates")
    if allowed is not None and not isinstance(allowed, list):
        raise bad_request("can't parse allowed_updates JSON object")
    return await state.get_updates(params.get_int("offset"), limit, timeout, allowed)


def _commands_key(params: Params) -> tuple[dict[str, Any], str, tuple[Any, ...]]:
    scope = params.get_json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    language = params.get_str("language_code") or ""
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("invalid language code specified")
    key = (scope["type"], scope.get("chat_id"), scope.get("user_id"), language)
    return scope, language, key


async def set_my_commands(state: SandboxState, params: Params) -> bool:
    commands = check_commands(params.get_json("commands"))
    scope, language, key = _commands_key(params)
    if commands:
        state.commands[key] = {"scope": scope, "language_code": language, "commands": commands}
    else:
        state.commands.pop(key, None)
    return True


async def get_my_commands(state: SandboxState, params: Params) -> list[dict[str, str]]:
    _, _, key = _commands_key(params)
    entry = state.commands.get(key)
    return list(entry["commands"]) if entry else []


async def delete_my_commands(state: SandboxState, params: Params) -> bool:
    _, _, key = _commands_key(params)
    state.commands.pop(key, None)
    return True


MENU_BUTTON_TYPES = frozenset({"default", "commands", "web_app"})


async def set_chat_menu_button(state: SandboxState, params: Params) -> bool:
    chat_id = params.get_int("chat_id")
    if chat_id is not None:
        state.chat(chat_id)
    button = params.get_json("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in MENU_BUTTON_TYPES:
        raise bad_request("can't parse menu button JSON object")
    if button["type"] == "web_app":
        text = button.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad_request("can't parse menu button JSON object")
        check_web_app(button.get("web_app"), "menu button")
    state.menu_buttons[chat_id] = button
    return True


async def get_chat_menu_button(state: SandboxState, params: Params) -> dict[str, Any]:
    return state.menu_buttons.get(params.get_int("chat_id"), {"type": "default"})


async def set_webhook(state: SandboxState, params: Params) -> bool:
    url = params.get_str("url") or ""
    if params.get_bool("drop_pending_updates"):
        state.updates.clear()
    if not url:
        state.webhook = None
        state.notify()
        return True
    parts = urlsplit(url)
    # Telegram wants HTTPS; plain HTTP is allowed here for receivers on 127.0.0.1.
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.get_str("secret_token")
    if secret is not None and not _SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.get_int("max_connections") or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = params.get_json("allowed_updates")
    if allowed is not None and not isinstance(allowed, list):
        raise bad_request("can't parse allowed_updates JSON object")
    state.webhook = WebhookConfig(
        url=url,
        secret_token=secret,
        max_connections=max_connections,
        allowed_updates=allowed or None,
    )
    state.notify()
    return True


async def delete_webhook(state: SandboxState, params: Params) -> bool:
    if params.get_bool("drop_pending_updates"):
        state.updates.clear()
    state.webhook = None
    state.notify()
    return True


def webhook_info(state: SandboxState) -> dict[str, Any]:
    config = state.webhook
    if config is None:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(state.updates),
        }
    info: dict[str, Any] = {
        "url": config.url,
        "has_custom_certificate": False,
        "pending_update_count": len(state.pending_updates(config.allowed_updates)),
        "max_connections": config.max_connections,
    }
    if config.allowed_updates:
        info["allowed_updates"] = config.allowed_updates
    if config.last_error_date is not None:
        info["last_error_date"] = config.last_error_date
        info["last_error_message"] = config.last_error_message
    return info


async def get_webhook_info(state: SandboxState, params: Params) -> dict[str, Any]:
    return webhook_info(state)


async def accept(state: SandboxState, params: Params) -> bool:
    """logOut and close: nothing to do locally, Telegram just answers true."""
    return True
