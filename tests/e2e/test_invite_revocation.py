"""Invite links that should no longer work: revoked from /invite or the command line, or made by
someone who was deactivated since."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli import app
from core.clock import SystemClock
from core.db import transaction
from models.audit import AuditEntry
from models.common import Role
from models.invite import Invite
from models.user import User
from sandbox.harness import LocalBot
from tests.conftest import ADMIN_ID
from tests.helpers import join, payload_from, user_by_tg

WITHDRAWN_EN = "This invite was withdrawn"
WITHDRAWN_ZH = "此邀请已被撤回"


async def cli(config: Path, *args: str) -> tuple[int, str]:
    """`salesbot ...` against the running bot's database (a thread: the CLI runs its own loop)."""
    result = await asyncio.to_thread(CliRunner().invoke, app, [*args, "--config", str(config)])
    return result.exit_code, result.output


async def invite_rows(bot: LocalBot) -> list[Invite]:
    async with transaction(bot.runtime.sessions) as session:
        return list((await session.exec(select(Invite).order_by(col(Invite.id)))).all())


async def revocations(bot: LocalBot) -> list[AuditEntry]:
    async with transaction(bot.runtime.sessions) as session:
        query = select(AuditEntry).where(AuditEntry.action == "invite.revoked")
        return list((await session.exec(query.order_by(col(AuditEntry.id)))).all())


async def test_manager_revokes_a_link_from_invite_and_the_newcomer_is_told_kindly(
    local_bot: LocalBot,
) -> None:
    manager = await join(local_bot, 3001, "Meg", Role.MANAGER, "south")
    first = payload_from((await manager.send("/invite"))[-1].text)
    # With a link not used yet, /invite lists it first instead of making another one.
    replies = await manager.send("/invite")
    listing = replies[-1]
    assert "Invites not used yet (1)" in listing.text
    assert f"inv_{first.removeprefix('inv_')[:4]}…" in listing.text and "sales rep" in listing.text
    assert "(Europe/Berlin)" in listing.text  # South's timezone, not the default
    assert first not in listing.text  # the full link cannot be shown again
    replies = await manager.tap("New invite")
    second = payload_from(replies[-1].text)

    # Another team's manager cannot revoke it, and learns nothing about it.
    other = await join(local_bot, 3002, "Oscar", Role.MANAGER, "north")
    await other.send("/help")
    rows = await invite_rows(local_bot)
    mine = [row for row in rows if row.created_by_id is not None]
    replies = await other.tap_data(
        (await other.last_reply()).message_id, f"inv|r|{mine[0].id}", forged=True
    )
    assert "That invite was not found" in replies[-1].text

    await manager.send("/invite")
    replies = await manager.tap(f"Revoke #{mine[0].id}")
    listing = await manager.last_reply()
    assert f"Invite #{mine[0].id}" in listing.text and "revoked" in listing.text
    assert "Invites not used yet (1)" in listing.text
    assert listing.button_texts() == [f"🚫 Revoke #{mine[1].id}", "➕ New invite"]

    newcomer = await local_bot.chat(3003, "Li Lei", language_code="zh-hans")
    replies = await newcomer.send(f"/start {first}")
    assert WITHDRAWN_ZH in replies[-1].text and "经理" in replies[-1].text
    assert await user_by_tg(local_bot.runtime, 3003) is None
    english = await local_bot.chat(3004, "Lee", language_code="en")
    replies = await english.send(f"/start {first}")
    assert WITHDRAWN_EN in replies[-1].text and "ask your manager" in replies[-1].text
    # The other link still works.
    await english.send(f"/start {second}")
    assert (await user_by_tg(local_bot.runtime, 3004)) is not None

    (entry,) = await revocations(local_bot)
    meg = await user_by_tg(local_bot.runtime, 3001)
    assert meg is not None and entry.actor_id == meg.id and entry.entity_id == mine[0].id
    # Tapping Revoke on the old list again: already revoked.
    replies = await manager.tap_data(listing.message_id, f"inv|r|{mine[0].id}", forged=True)
    assert "already used or revoked" in replies[-1].text


async def test_admin_sees_who_made_each_link(local_bot: LocalBot) -> None:
    manager = await join(local_bot, 3101, "Meg", Role.MANAGER, "south")
    await manager.send("/invite")
    admin = await local_bot.chat(ADMIN_ID, "Ada")
    replies = await admin.send("/invite")
    assert "made by Meg" in replies[-1].text and "South" in replies[-1].text


async def test_deactivating_the_inviter_revokes_their_links(local_bot: LocalBot) -> None:
    manager = await join(local_bot, 3201, "Mia", Role.MANAGER, "north")
    link = payload_from((await manager.send("/invite"))[-1].text)
    admin = await local_bot.chat(ADMIN_ID, "Ada")
    await admin.send("/users")
    await admin.tap("Deactivate Mia")
    await admin.tap("Yes, deactivate")

    newcomer = await local_bot.chat(3202, "Nia", language_code="en")
    replies = await newcomer.send(f"/start {link}")
    assert WITHDRAWN_EN in replies[-1].text
    assert await user_by_tg(local_bot.runtime, 3202) is None
    (invite,) = [row for row in await invite_rows(local_bot) if row.created_by_id is not None]
    assert invite.revoked_at is not None and invite.used_at is None
    (entry,) = await revocations(local_bot)
    assert entry.entity_id == invite.id and "deactivated" in entry.reason
    # Nobody else lists it as pending any more.
    replies = await admin.send("/invite")
    assert "Invites not used yet" not in replies[-1].text


async def test_link_of_a_person_deactivated_before_revocation_existed_is_refused(
    local_bot: LocalBot,
) -> None:
    manager = await join(local_bot, 3301, "Max", Role.MANAGER, "north")
    link = payload_from((await manager.send("/invite"))[-1].text)
    # Deactivated the way it was done before deactivation revoked invites: the invite stays.
    async with transaction(local_bot.runtime.sessions) as session:
        user = (await session.exec(select(User).where(User.telegram_id == 3301))).one()
        user.active = False
        session.add(user)
    newcomer = await local_bot.chat(3302, "Nia", language_code="en")
    replies = await newcomer.send(f"/start {link}")
    assert WITHDRAWN_EN in replies[-1].text
    assert await user_by_tg(local_bot.runtime, 3302) is None


async def test_command_line_lists_and_revokes_and_deactivation_revokes(
    local_bot: LocalBot, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI reads the system clock; the bot here lives on the manual one.
    monkeypatch.setattr(SystemClock, "now", lambda _self: local_bot.runtime.clock.now())
    manager = await join(local_bot, 3401, "Mo", Role.MANAGER, "south")
    first = payload_from((await manager.send("/invite"))[-1].text)
    await manager.send("/invite")
    second = payload_from((await manager.tap("New invite"))[-1].text)
    rows = [row for row in await invite_rows(local_bot) if row.created_by_id is not None]

    code, out = await cli(config_path, "invite", "list")
    assert code == 0, out
    assert f"#{rows[0].id} · inv_{first[4:8]}…" in out and "by Mo" in out and "team=south" in out
    assert first not in out and second not in out

    code, out = await cli(config_path, "invite", "revoke", f"https://t.me/bot?start={first}")
    assert code == 0 and f"Invite #{rows[0].id}" in out and "revoked" in out, out
    code, out = await cli(config_path, "invite", "revoke", f"#{rows[0].id}")
    assert code == 2 and "already used or revoked" in out
    code, out = await cli(config_path, "invite", "revoke", "#999")
    assert code == 2 and "No invite" in out

    newcomer = await local_bot.chat(3402, "Nia", language_code="en")
    assert WITHDRAWN_EN in (await newcomer.send(f"/start {first}"))[-1].text

    code, out = await cli(config_path, "user", "deactivate", "#" + str(rows[0].created_by_id))
    assert code == 0 and "Mo is deactivated; 1 unused invite(s) revoked" in out, out
    assert WITHDRAWN_EN in (await newcomer.send(f"/start {second}"))[-1].text
    code, out = await cli(config_path, "invite", "list")
    assert code == 0 and "No invites are waiting" in out
    assert [e.entity_id for e in await revocations(local_bot)] == [rows[0].id, rows[1].id]
