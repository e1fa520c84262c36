"""Onboarding and access, as people experience it in the chat."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlmodel import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.db import transaction
from models.audit import AuditEntry
from models.common import Role
from models.invite import Invite
from sandbox.harness import LocalBot
from tests.conftest import ADMIN_ID
from tests.helpers import join, make_invite, payload_from, team_id, user_by_tg

NOT_REGISTERED_EN = "you are not registered yet"


@pytest.mark.parametrize(
    ("role_label", "team_label", "role", "team"),
    [
        ("sales rep", "North", Role.REP, "north"),
        ("sales manager", "South", Role.MANAGER, "south"),
        ("director", None, Role.DIRECTOR, None),
        ("admin", None, Role.ADMIN, None),
    ],
)
async def test_admin_invites_each_role_and_the_link_registers_them(
    local_bot: LocalBot, role_label: str, team_label: str | None, role: Role, team: str | None
) -> None:
    admin = await local_bot.chat(ADMIN_ID, "Ada", language_code="en")
    replies = await admin.send("/invite")
    assert "Choose the role" in replies[-1].text
    replies = await admin.tap(role_label)
    if team_label is not None:
        assert "Which team" in replies[-1].text
        replies = await admin.tap(team_label)
    link_text = replies[-1].text
    assert "t.me/salesbot_demo_bot?start=inv_" in link_text
    assert "works once" in link_text

    newcomer = await local_bot.chat(2001, "Li Lei", language_code="zh-hans")
    replies = await newcomer.send(f"/start {payload_from(link_text)}")
    assert "欢迎" in replies[0].text
    user = await user_by_tg(local_bot.runtime, 2001)
    assert user is not None and user.role == role and user.language == "zh"
    expected_team = await team_id(local_bot.runtime, team) if team else None
    assert user.team_id == expected_team
    async with transaction(local_bot.runtime.sessions) as session:
        invite = (await session.exec(select(Invite))).one()
        actions = (await session.exec(select(AuditEntry.action))).all()
    assert invite.used_by_id == user.id and invite.used_at is not None
    assert {"invite.created", "user.registered", "invite.used"} <= set(actions)


async def test_expired_used_and_forged_invites_are_refused(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    short = await make_invite(runtime, Role.REP, "north", ttl=timedelta(hours=1))
    await runtime.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    late = await local_bot.chat(2101, "Late", language_code="en")
    replies = await late.send(f"/start {short}")
    assert "expired" in replies[-1].text
    assert await user_by_tg(runtime, 2101) is None

    once = await make_invite(runtime, Role.REP, "north")
    first = await local_bot.chat(2102, "First", language_code="en")
    await first.send(f"/start {once}")
    second = await local_bot.chat(2103, "Second", language_code="en")
    replies = await second.send(f"/start {once}")
    assert "already been used" in replies[-1].text
    assert await user_by_tg(runtime, 2103) is None

    replies = await second.send("/start inv_forged-code-123")
    assert "not valid" in replies[-1].text
    replies = await second.send("/help")
    assert NOT_REGISTERED_EN in replies[-1].text


async def test_unregistered_user_is_refused_everywhere(local_bot: LocalBot) -> None:
    stranger = await local_bot.chat(2201, "Stranger", language_code="en")
    for text in ("/start", "/help", "/me", "/lang", "/invite", "/users", "/cancel", "/nope", "hi"):
        replies = await stranger.send(text)
        assert len(replies) == 1, text
        assert NOT_REGISTERED_EN in replies[0].text, text
    # A keyboard the person should never have had (say, from before their record was removed).
    assert local_bot.app is not None
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("English", callback_data="lang|en")]])
    await local_bot.app.bot.send_message(2201, "Language?", reply_markup=markup)
    replies = await stranger.tap("English")
    assert NOT_REGISTERED_EN in replies[-1].text
    assert await user_by_tg(local_bot.runtime, 2201) is None

    chinese = await local_bot.chat(2202, "陌生人", language_code="zh-hans")
    replies = await chinese.send("/help")
    assert "您还没有注册" in replies[-1].text


async def test_deactivated_user_loses_access_at_once(local_bot: LocalBot) -> None:
    manager = await join(local_bot, 2301, "Mia", Role.MANAGER, "north")
    rep = await join(local_bot, 2302, "Ray", Role.REP, "north")
    await rep.send("/lang")  # leaves a keyboard in the rep's chat

    replies = await manager.send("/users")
    assert "Ray" in replies[-1].text
    replies = await manager.tap("Deactivate Ray")
    replies = await manager.tap("Yes, deactivate")
    assert "deactivated" in (await manager.last_reply()).text

    replies = await rep.send("/help")
    assert "switched off" in replies[-1].text
    replies = await rep.tap("简体中文")
    assert "switched off" in replies[-1].text
    user = await user_by_tg(local_bot.runtime, 2302)
    assert user is not None and not user.active and user.language == "en"
    async with transaction(local_bot.runtime.sessions) as session:
        entry = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "user.deactivated"))
        ).one()
    assert entry.entity_id == user.id and entry.before and entry.before["active"] is True


async def test_lang_switches_every_later_reply(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 2401, "Lin", Role.REP, "north", lang="en")
    assert "What you can do" in (await rep.send("/help"))[-1].text
    await rep.send("/lang")
    replies = await rep.tap("简体中文")
    assert "语言已切换" in (await rep.last_reply()).text
    assert "您可以使用" in (await rep.send("/help"))[-1].text
    assert "角色" in (await rep.send("/me"))[-1].text
    assert "没有理解" in (await rep.send("hello?"))[-1].text
    await rep.send("/lang")
    await rep.tap("English")
    assert "What you can do" in (await rep.send("/help"))[-1].text
    menus = await local_bot.client.commands()
    assert any("2401" in str(scope) for scope in menus), menus
    del replies


async def test_help_differs_by_role(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 2501, "Rex", Role.REP, "north")
    manager = await join(local_bot, 2502, "Max", Role.MANAGER, "north")
    rep_help = (await rep.send("/help"))[-1].text
    manager_help = (await manager.send("/help"))[-1].text
    assert "/invite" not in rep_help and "/users" not in rep_help
    assert "/invite" in manager_help and "/users" in manager_help
    assert "/me" in rep_help and "/lang" in rep_help
    replies = await rep.send("/invite")
    assert "not available for your role" in replies[-1].text


async def test_manager_invites_reps_to_their_own_team_only(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    manager = await join(local_bot, 2601, "Meg", Role.MANAGER, "south")
    replies = await manager.send("/invite")
    payload = payload_from(replies[-1].text)
    code = payload.removeprefix("inv_")
    async with transaction(runtime.sessions) as session:
        digest = hashlib.sha256(code.encode()).hexdigest()
        invite = (await session.exec(select(Invite).where(Invite.code_hash == digest))).one()
        stored = (await session.exec(select(Invite.code_hash, Invite.code_hint))).all()
    # Only a hash of the code is kept: a copy of the database hands out no working link.
    assert all(code not in (code_hash, hint) for code_hash, hint in stored)
    assert invite.code_hint == code[:4]
    assert invite.role == Role.REP
    assert invite.team_id == await team_id(runtime, "south")
    newcomer = await local_bot.chat(2602, "Sam")
    await newcomer.send(f"/start {payload}")
    user = await user_by_tg(runtime, 2602)
    assert user is not None and user.team_id == await team_id(runtime, "south")


async def test_second_manager_for_a_team_is_refused(local_bot: LocalBot) -> None:
    await join(local_bot, 2701, "Mo", Role.MANAGER, "north")
    admin = await local_bot.chat(ADMIN_ID, "Ada")
    await admin.send("/invite")
    await admin.tap("sales manager")
    replies = await admin.tap("North")
    assert "already has a manager" in replies[-1].text


async def test_invite_form_survives_a_restart(local_bot: LocalBot) -> None:
    admin = await local_bot.chat(ADMIN_ID, "Ada")
    await admin.send("/invite")
    await admin.tap("sales rep")
    await local_bot.restart()
    replies = await admin.tap("South")
    payload = payload_from(replies[-1].text)
    newcomer = await local_bot.chat(2801, "Sue")
    await newcomer.send(f"/start {payload}")
    user = await user_by_tg(local_bot.runtime, 2801)
    assert user is not None and user.team_id == await team_id(local_bot.runtime, "south")


async def test_cancel_and_stale_buttons(local_bot: LocalBot) -> None:
    admin = await local_bot.chat(ADMIN_ID, "Ada")
    await admin.send("/invite")
    replies = await admin.tap("Cancel")
    assert "Cancelled" in replies[-1].text

    first = await admin.send("/invite")
    replies = await admin.send("a manager please")
    assert "choose one of the buttons" in replies[0].text
    assert "Choose the role" in replies[-1].text
    replies = await admin.tap("sales rep", message_id=first[-1].message_id)
    assert "no longer works" in replies[-1].text
    replies = await admin.send("/cancel")
    assert "Cancelled" in replies[-1].text
    replies = await admin.send("/cancel")
    assert "nothing to cancel" in replies[-1].text
    async with transaction(local_bot.runtime.sessions) as session:
        assert (await session.exec(select(Invite))).first() is None
