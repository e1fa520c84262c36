"""How the cockpit is opened from the chat: the menu button of managers, directors and admins
(a rep keeps the default one), and 📊 under the summary message; Telegram (the sandbox)
refuses a Mini App address that is not HTTPS."""

from __future__ import annotations

import pytest
from telegram import MenuButtonWebApp, WebAppInfo
from telegram.error import BadRequest

from models.common import Role
from sandbox.harness import LocalBot
from tests.helpers import join
from tests.web.conftest import PUBLIC_URL


async def test_managers_get_the_cockpit_in_their_menu_and_reps_do_not(
    local_bot: LocalBot,
) -> None:
    assert local_bot.app is not None
    bot = local_bot.app.bot
    manager = await join(local_bot, 7001, "Chen Jing", Role.MANAGER, "north", lang="zh")
    rep = await join(local_bot, 7002, "Li Na", Role.REP, "north")
    director = await join(local_bot, 7003, "Zhao Min", Role.DIRECTOR, None)
    shown = await bot.get_chat_menu_button(manager.user_id)
    assert isinstance(shown, MenuButtonWebApp)
    assert shown.web_app.url == PUBLIC_URL and shown.text == "📊 看板"
    assert (await bot.get_chat_menu_button(rep.user_id)).type == "default"
    assert isinstance(await bot.get_chat_menu_button(director.user_id), MenuButtonWebApp)


async def test_the_summary_message_opens_the_cockpit(local_bot: LocalBot) -> None:
    manager = await join(local_bot, 7001, "Chen Jing", Role.MANAGER, "north")
    await join(local_bot, 7002, "Li Na", Role.REP, "north")
    replies = await manager.send("/summary")
    (message,) = [m for m in replies if "North" in (m.text or "")]
    buttons = [b for row in message.reply_markup["inline_keyboard"] for b in row]
    assert buttons == [{"text": "📊 Open the cockpit", "web_app": {"url": PUBLIC_URL}}]


async def test_telegram_opens_only_https_mini_apps(local_bot: LocalBot) -> None:
    assert local_bot.app is not None
    chat = await join(local_bot, 7001, "Chen Jing", Role.MANAGER, "north")
    with pytest.raises(BadRequest, match=r"(?i)only https links are allowed"):
        await local_bot.app.bot.set_chat_menu_button(
            chat_id=chat.user_id,
            menu_button=MenuButtonWebApp("📊", WebAppInfo("http://127.0.0.1:8444/app/")),
        )
