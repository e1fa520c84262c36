"""One message per person per dunning run: the rep's digest, the manager's and the director's
escalation digest, the director's threshold, and the ladder that starts friendly."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from core.db import transaction
from models.common import Role
from models.receivable import Receivable
from sandbox.harness import LocalBot
from tests.collection_helpers import add_customer_in, add_receivable, at_local, last_id
from tests.conftest import write_config
from tests.helpers import join

JOBS_UNDER_TEST = ("dunning",)
RUN_DAY = date(2026, 11, 24)  # a Tuesday


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(
        tmp_path,
        "\n[defaults.collections]\ndirector_min_amount = 10000\nstep_interval_days = 3\n",
    )


async def _history(bot: LocalBot, receivable_id: int, step: int, days_ago: int) -> None:
    """The document was last reminded at ``step``, ``days_ago`` days before the run."""
    async with transaction(bot.runtime.sessions) as session:
        found = await session.get(Receivable, receivable_id)
        assert found is not None
        found.reminded_step, found.reminded_on = step, RUN_DAY - timedelta(days=days_ago)
        session.add(found)


async def test_a_morning_run_sends_each_person_one_message(local_bot: LocalBot) -> None:
    manager = await join(local_bot, 3001, "Mona", Role.MANAGER, "north", lang="zh")
    director = await join(local_bot, 3009, "Dora", Role.DIRECTOR, None, lang="zh")
    rep = await join(local_bot, 3002, "Rick", Role.REP, "north", lang="zh")
    runtime = local_bot.runtime
    # customer: [(amount, days overdue)], the step it was last reminded at (None: never)
    book = {
        "华峰医疗": ([("20000", 35), ("15000", 40), ("8000", 50)], 14),  # -> final
        "杭州远航": ([("6000", 20), ("4000", 25)], 7),  # -> urgent
        "成都康乐": ([("1000", 33), ("1500.50", 34), ("1000", 36)], 14),  # final, small
        "德信商贸": ([("2000", 9), ("3000", 10)], 0),  # -> firm
        "明辉药房": ([("9000", 81), ("7000", 81)], None),  # never reminded -> friendly
    }
    number = 0
    for name, (docs, step) in book.items():
        customer = await add_customer_in(runtime, "north", name, 3002)
        for amount, overdue in docs:
            number += 1
            doc = await add_receivable(
                runtime, f"INV-{number:02d}", customer=customer, owner_tg=3002, amount=amount,
                due=RUN_DAY - timedelta(days=overdue),
            )  # fmt: skip
            if step is not None:
                await _history(local_bot, doc, step, days_ago=7)
    assert number == 12
    marks = {chat: await last_id(chat) for chat in (rep, manager, director)}
    await at_local(local_bot, "north", RUN_DAY)

    async def new(chat: object) -> list[str]:
        return [m.text or "" for m in await chat.bot_messages()  # type: ignore[attr-defined]
                if m.message_id > marks[chat]]  # fmt: skip

    to_rep, to_manager, to_director = await new(rep), await new(manager), await new(director)
    assert len(to_rep) == 1 and len(to_manager) == 1 and len(to_director) == 1
    digest = to_rep[0]
    assert "今日催款提醒：5 个客户，12 张单据" in digest
    # One line per customer, the most overdue first, with total, count, age and step.
    assert digest.index("明辉药房") < digest.index("华峰医疗") < digest.index("德信商贸")
    assert "⛔ 华峰医疗：¥43,000.00（3 张单据）· 逾期 50 天 · 最后提醒" in digest
    assert "🔔 明辉药房：¥16,000.00（2 张单据）· 逾期 81 天 · 温馨提醒" in digest
    assert "⚠️ 德信商贸" in digest and "❗ 杭州远航" in digest
    message = [m for m in await rep.bot_messages() if "今日催款提醒" in (m.text or "")][-1]
    assert len(message.button_texts()) == 5
    # The manager: one escalation digest, by rep then customer; no friendly or firm customers.
    escalation = to_manager[0]
    assert "逾期上报：3 个客户逾期未结清" in escalation and "👤 Rick" in escalation
    assert "华峰医疗" in escalation and "成都康乐" in escalation and "杭州远航" in escalation
    assert "明辉药房" not in escalation and "德信商贸" not in escalation
    # The director: only the final step above the threshold (¥3,500.50 stays with the manager).
    assert "华峰医疗" in to_director[0] and "成都康乐" not in to_director[0]
    # A customer's button opens its documents and the actions.
    await rep.tap("🔔 明辉药房", message_id=message.message_id)
    card = (await rep.bot_messages())[-1]
    assert "温馨提醒——明辉药房" in (card.text or "")
    assert "INV-11" in (card.text or "") and "INV-12" in (card.text or "")
    assert card.button_texts()[0] == "✅ 已全额回款"


async def test_an_old_receivable_starts_friendly_and_climbs_one_step_per_interval(
    local_bot: LocalBot,
) -> None:
    rep = await join(local_bot, 3002, "Rick", Role.REP, "north")
    await join(local_bot, 3001, "Mona", Role.MANAGER, "north")
    runtime = local_bot.runtime
    customer = await add_customer_in(runtime, "north", "Huafeng Medical", 3002)
    await add_receivable(runtime, "INV-81", customer=customer, owner_tg=3002, amount="5000",
                         due=RUN_DAY - timedelta(days=81))  # fmt: skip
    seen: list[tuple[str, str]] = []
    day = RUN_DAY
    while day <= RUN_DAY + timedelta(days=20):
        mark = await last_id(rep)
        await at_local(local_bot, "north", day)
        for message in await rep.bot_messages():
            if message.message_id > mark and "INV-81" in (message.text or ""):
                seen.append((day.isoformat(), (message.text or "").split(" — ")[0]))
        day += timedelta(days=1)
    # Every 3 days (working days only: Sat 28 Nov and Sun 29 Nov have no run), one step up.
    assert seen == [
        ("2026-11-24", "🔔 Friendly reminder"), ("2026-11-27", "📅 Payment reminder"),
        ("2026-11-30", "⚠️ Overdue"), ("2026-12-03", "❗ Urgent, long overdue"),
        ("2026-12-07", "⛔ Final reminder"),
    ]  # fmt: skip
    first = next(m for m in await rep.bot_messages() if "INV-81" in (m.text or ""))
    assert "81 days overdue" in (first.text or "")
    assert "before the due date" not in (first.text or "")
    assert "pays today" not in (first.text or "")
