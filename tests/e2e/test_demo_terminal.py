"""The demo's terminal: buttons that send no callback, refused and mistyped input, a failure
inside one line, the clock in the team's timezone and the played person's language."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from models.common import Role
from sandbox.demo import run_demo
from sandbox.demo_terminal import DemoUser, Terminal
from sandbox.harness import Chat, LocalBot

VISITOR = DemoUser(700001, "Ann Lee", Role.REP, None, "en")


async def test_buttons_without_callback_and_bad_input_are_one_line_each(
    local_bot: LocalBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines: list[str] = []
    errors = tmp_path / "demo-errors.log"
    terminal = Terminal(local_bot, (VISITOR,), files=tmp_path / "files", errors=errors,
                        out=lines.append)  # fmt: skip
    await terminal.open_all()
    assert local_bot.app is not None
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("📖 Guide", url="https://example.com/guide")],
            [InlineKeyboardButton("📋 Copy", copy_text=CopyTextButton("INV-00009"))],
            [InlineKeyboardButton("Old", callback_data="stale:1")],
        ]
    )
    await local_bot.app.bot.send_message(VISITOR.telegram_id, "Pick one", reply_markup=keyboard)
    await terminal.refresh()
    assert lines[-4:] == ["🤖 Pick one", "     [1] 📖 Guide", "     [2] 📋 Copy", "     [3] Old"]

    async def said(line: str) -> list[str]:
        start = len(lines)
        assert await terminal.handle(line)
        return lines[start:]

    assert await said("1") == ["↪️ This button opens https://example.com/guide"]
    assert await said("2") == ["↪️ This button (copy_text) works only in the Telegram app."]
    assert not any(line.startswith("⚠️") for line in await said("3"))  # a real callback
    assert await said("x" * 5000) == [
        "⚠️ Telegram would refuse this: text longer than 4096 UTF-16 code units"
    ]
    assert await said(":loc 95 10") == [
        "⚠️ Telegram would refuse this: latitude/longitude out of range"
    ]
    assert await said(":loc north") == [
        "Say :loc LATITUDE LONGITUDE, e.g. :loc 30.276849 120.160030"
    ]
    assert await said(":contact Wang") == [
        "Say :contact NAME PHONE, e.g. :contact Wang Fang +8613800138000"
    ]
    await said(":contact Wang Fang +8613800138000")
    shared = [m for m in await local_bot.client.messages(VISITOR.telegram_id) if m.contact]
    # Someone else's contact from the address book: no Telegram user id of the sender's own.
    assert shared[-1].contact == {"phone_number": "+8613800138000", "first_name": "Wang Fang"}
    assert await said(f":doc {tmp_path / 'missing.csv'}") == [
        f"There is no file {tmp_path / 'missing.csv'}."
    ]
    assert await said(":teleport") == ["There is no demo command :teleport; :help lists them."]
    assert await said(":as Nobody") == ["No such demo person; :who lists them."]

    async def broken(self: Chat, text: str) -> None:
        raise RuntimeError("the line was lost")

    monkeypatch.setattr(Chat, "send", broken)
    assert await said("hello") == [
        f"⚠️ The demo could not do that (RuntimeError: the line was lost); the details are in "
        f"{errors}. You can carry on."
    ]
    assert "Traceback" in errors.read_text(encoding="utf-8")
    assert terminal.failures == 1


async def test_the_clock_is_the_teams_and_the_language_the_persons(tmp_path: Path) -> None:
    lines: list[str] = []
    script = [":wait 2h", ":as Liu Yang", ":wait 90m", ":as Wang Wei", "/lang", "1", ":who"]
    start = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    await run_demo(script, data_dir=tmp_path, out=lines.append, start=start)
    out = "\n".join(lines)
    # Wang Wei (Chinese) is played first: the demo speaks Chinese, on Shanghai time.
    assert lines[0].startswith("salesbot 演示")
    assert "演示时钟：2026-11-27 10:00 (Asia/Shanghai)" in lines[0]
    assert "⏩ 演示时钟现在是 2026-11-27 12:00 (Asia/Shanghai)。" in out
    assert "You are now Liu Yang (sales manager)." in out
    assert "⏩ The demo clock is now 2026-11-27 13:30 (Asia/Shanghai)." in out
    # Wang Wei switches the bot to English: the demo follows.
    assert "您现在扮演 Wang Wei（销售代表）。" in out
    assert lines[-8:] == [
        "  1. Zhou Min — director, all teams",
        "  2. Chen Jing — sales manager, north",
        "  3. Liu Yang — sales manager, south",
        " *4. Wang Wei — sales rep, north",
        "  5. Li Na — sales rep, north",
        "  6. Zhang Lei — sales rep, north",
        "  7. Zhao Hui — sales rep, south",
        "  8. Sun Li — sales rep, south",
    ]
