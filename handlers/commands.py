"""The command catalogue: which commands exist, for which roles, described in both languages.

/help and the Telegram command menus are rendered from this one list.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)
from telegram.error import TelegramError

from core.i18n import LANGUAGES, Catalogs
from core.registry import Registry
from models.common import Role

log = logging.getLogger(__name__)

EVERYONE = frozenset(Role)
MANAGERS = frozenset({Role.MANAGER, Role.ADMIN})


@dataclass(frozen=True)
class Command:
    name: str
    roles: frozenset[Role]
    # Order in /help and the menu: lower first.
    order: int = 100

    @property
    def description_key(self) -> str:
        return f"commands.{self.name}"


COMMANDS: Registry[Command] = Registry("command")


def declare(name: str, roles: Collection[Role] = EVERYONE, order: int = 100) -> Command:
    return COMMANDS.add(name, Command(name=name, roles=frozenset(roles), order=order))


def commands_for(role: Role | None) -> list[Command]:
    if role is None:
        return []
    listed = [c for c in COMMANDS.values() if role in c.roles]
    return sorted(listed, key=lambda c: (c.order, c.name))


def _bot_commands(texts: Catalogs, lang: str, role: Role | None) -> list[BotCommand]:
    wanted = commands_for(role) if role else [c for c in COMMANDS.values() if c.roles == EVERYONE]
    wanted = sorted(wanted, key=lambda c: (c.order, c.name))
    return [BotCommand(c.name, texts.t(lang, c.description_key)[:256]) for c in wanted]


async def publish_default_menus(bot: Bot, texts: Catalogs, default_language: str) -> None:
    """The menu everyone sees before their own is set: the commands every role has, in their
    client's language, else (no language_code, or one we do not speak) the configured one."""
    await bot.set_my_commands(
        _bot_commands(texts, default_language, None), scope=BotCommandScopeDefault()
    )
    for lang in LANGUAGES:
        await bot.set_my_commands(
            _bot_commands(texts, lang, None), scope=BotCommandScopeDefault(), language_code=lang
        )


# Who gets the cockpit (webapp/) in the chat's menu button.
COCKPIT_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN})


async def publish_personal_menu(
    bot: Bot, texts: Catalogs, chat_id: int, role: Role | None, lang: str, cockpit_url: str = ""
) -> None:
    """A registered person's menu shows their role's commands in their language; with the
    cockpit on (``cockpit_url``), managers, directors and admins get it as the menu button."""
    try:
        if role is None:
            await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
        else:
            await bot.set_my_commands(
                _bot_commands(texts, lang, role), scope=BotCommandScopeChat(chat_id)
            )
        if cockpit_url:
            button = (
                MenuButtonWebApp(texts.t(lang, "webapp.menu_button"), WebAppInfo(cockpit_url))
                if role in COCKPIT_ROLES
                else MenuButtonDefault()
            )
            await bot.set_chat_menu_button(chat_id=chat_id, menu_button=button)
    except TelegramError as exc:
        # The menu is a convenience; /help always works, so a failure here is only logged.
        log.warning("could not set the command menu for chat %s: %s", chat_id, exc)
