"""The rep's field day through the sandbox: proof the manager keeps, check-in from a shared
location, /nearby, and /today as a route with navigation links."""

from __future__ import annotations

from datetime import timedelta

from core.clock import ManualClock
from models.common import Role
from sandbox.harness import Chat, LocalBot
from tests.customer_helpers import add_customer, audit_actions, visits_of
from tests.helpers import join

SHOP = (30.276849, 120.160030)


def _clock(local_bot: LocalBot) -> ManualClock:
    clock = local_bot.runtime.clock
    assert isinstance(clock, ManualClock)
    return clock


async def _phone_visit(chat: Chat, customer: str, note: str) -> None:
    await chat.send("/visit")
    await chat.tap(customer)
    await chat.tap("Phone")
    await chat.send(note)
    await chat.tap("Save")


async def test_a_deleted_visit_stays_visible_to_the_manager(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    manager = await join(local_bot, 7001, "Chen", Role.MANAGER, "north")
    rep = await join(local_bot, 7002, "Wang", Role.REP, "north")
    await add_customer(runtime, "north", "Alpha Co", owner_tg=7002)
    await _phone_visit(rep, "Alpha Co", "Called about the order.")
    await _clock(local_bot).advance(timedelta(minutes=30))
    await rep.send("/visits")
    await rep.tap("🗑 1")
    await rep.tap("Yes, delete")
    assert "Visit deleted" in (await rep.last_reply()).text
    assert await visits_of(runtime, 7002) == []

    replies = await manager.send("/team")
    assert "Wang: 🤝 0/15 · 📞 0/20 · 🆕 0/8 · 🗑 1 deleted" in replies[-1].text
    await manager.tap("Wang")
    detail = await manager.last_reply()
    assert "Wang — 0 visits this week" in detail.text
    assert "Alpha Co" in detail.text and "<s>" in (detail.raw_text or "")
    assert "🗑 Deleted by Wang on Tue 24 Nov at 09:30" in detail.text
    entries = await audit_actions(runtime, "visit")
    assert [e.action for e in entries] == ["visit.created", "visit.deleted"]
