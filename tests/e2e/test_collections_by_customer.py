"""/collections by customer: a line per customer (what they owe, the overdue part, the worst
delay, a broken promise), worst first, a button each, paged; a customer's documents each open
their card and actions; every document is reachable however many there are."""

from __future__ import annotations

from datetime import date, timedelta

from core.db import transaction
from models.common import Role
from models.receivable import Promise, PromiseStatus
from sandbox.client import SandboxMessage
from sandbox.harness import Chat, LocalBot
from tests.collection_helpers import add_customer_in, add_receivable, at_local
from tests.helpers import join

# No scheduled job runs: the reminders would land in the middle of the chat.
JOBS_UNDER_TEST = ()
TODAY = date(2026, 11, 24)


async def shown(chat: Chat, message_id: int) -> SandboxMessage:
    """A bot message as it reads now (the /collections buttons edit it in place)."""
    return next(m for m in await chat.bot_messages() if m.message_id == message_id)


async def documents_of_customer(rep: Chat, message_id: int, label: str) -> list[str]:
    """Open a customer from the list, page through its documents, come back: their numbers."""
    await rep.tap(label, message_id=message_id)
    numbers: list[str] = []
    while True:
        page = await shown(rep, message_id)
        numbers += [b.split(" · ")[0] for b in page.button_texts() if " · " in b]
        if "Next ▶" not in page.button_texts():
            break
        await rep.tap("Next ▶", message_id=message_id)
    await rep.tap("Back to customers", message_id=message_id)
    return numbers


async def test_collections_grouped_by_customer_every_document_reachable(
    local_bot: LocalBot,
) -> None:
    rep = await join(local_bot, 3002, "Rick", Role.REP, "north")
    runtime = local_bot.runtime
    expected: set[str] = set()
    # One customer with 10 documents (more than a page), nine with one each (ten customers:
    # more than a page too), due from 2 to 50 days ago, one of them not yet due.
    big = await add_customer_in(runtime, "north", "Big Harbour Trading", 3002)
    for n in range(10):
        number = f"INV-{n + 1:05d}"
        await add_receivable(runtime, number, customer=big, owner_tg=3002, amount="1000",
                             due=TODAY - timedelta(days=10 + n))  # fmt: skip
        expected.add(number)
    late: int | None = None
    for n in range(9):
        customer = await add_customer_in(runtime, "north", f"Customer {n + 1}", 3002)
        number = f"INV-{n + 11:05d}"
        due = TODAY + timedelta(days=5) if n == 8 else TODAY - timedelta(days=2 + n)
        rid = await add_receivable(runtime, number, customer=customer, owner_tg=3002,
                                   amount="500", due=due)  # fmt: skip
        late = rid if n == 0 else late
        expected.add(number)
    async with transaction(runtime.sessions) as session:
        assert late is not None
        session.add(Promise(receivable_id=late, promised_on=TODAY - timedelta(days=1),
                            amount=500, status=PromiseStatus.BROKEN,
                            created_at=runtime.clock.now()))  # fmt: skip
    await at_local(local_bot, "north", TODAY)

    first = (await rep.send("/collections"))[-1]
    text = first.text or ""
    assert "Open: CN¥14,500.00 (documents: 19)" in text
    assert "By customer, most overdue first (10), page 1 of 2:" in text
    lines = [line for line in text.split("\n") if line.startswith("• ")]
    assert len(lines) == 8
    # A broken promise first, then the longest delay.
    assert lines[0].startswith(
        "• Customer 1 CN¥500.00 (1 document) · all overdue · 2 days overdue"
    )
    assert "⚠️ promise broken" in lines[0] and "longest" not in lines[0]
    assert lines[1] == (
        "• Big Harbour Trading CN¥10,000.00 (10 documents) · all overdue · longest 19 days overdue"
    )
    assert "Customer 9" not in text  # on the second page
    labels = first.button_texts()
    assert labels[0] == "⚠️ Customer 1 · CN¥500.00" and labels[-1] == "Next ▶"

    reached: list[str] = []
    page_labels = [b for b in labels if " · " in b]
    for label in page_labels:
        reached += await documents_of_customer(rep, first.message_id, label)
        back = await shown(rep, first.message_id)
        assert "page 1 of 2" in (back.text or "")  # back where it was
    await rep.tap("Next ▶", message_id=first.message_id)
    second = await shown(rep, first.message_id)
    assert "page 2 of 2" in (second.text or "")
    assert "• Customer 9 CN¥500.00 (1 document) · due in 5 days" in (second.text or "")
    assert "◀ Previous" in second.button_texts() and "Next ▶" not in second.button_texts()
    for label in [b for b in second.button_texts() if " · " in b]:
        reached += await documents_of_customer(rep, first.message_id, label)
        assert "page 2 of 2" in ((await shown(rep, first.message_id)).text or "")
    assert sorted(reached) == sorted(expected)  # every document, each once
    assert len(reached) == 19

    # A customer's page lists number, amount, due date and status, and opens the card.
    await rep.tap("◀ Previous", message_id=first.message_id)
    await rep.tap("Big Harbour Trading", message_id=first.message_id)
    docs = await shown(rep, first.message_id)
    text = docs.text or ""
    assert "Big Harbour Trading: CN¥10,000.00 open in 10 documents" in text
    assert "• INV-00010 · CN¥1,000.00 · 19 days overdue (due Thu 5 Nov)" in text
    await rep.tap("Next ▶", message_id=first.message_id)
    card = await rep.tap("INV-00001", message_id=first.message_id)
    assert "INV-00001" in (card[-1].text or "") and "10 days overdue" in (card[-1].text or "")
    assert "✅ Collected in full" in card[-1].button_texts()
    # The card is a new message; its last button leads back to the customer's documents.
    assert card[-1].button_texts()[-1] == "📂 This customer's documents"
    await rep.tap("This customer's documents", message_id=card[-1].message_id)
    again = await shown(rep, card[-1].message_id)
    assert "Big Harbour Trading: CN¥10,000.00 open in 10 documents" in (again.text or "")
    assert "⬅️ Back to customers" in again.button_texts()


async def test_a_chinese_manager_reads_each_customer_once_and_goes_back_to_the_team(
    local_bot: LocalBot,
) -> None:
    """All of one document overdue reads "全部逾期 · 逾期 71 天" (no repeated amount, no 最长);
    several documents all overdue keep "最长逾期"; the rep's page leads back to the team."""
    manager = await join(local_bot, 3201, "陈静", Role.MANAGER, "north", lang="zh")
    await join(local_bot, 3202, "王伟", Role.REP, "north")
    runtime = local_bot.runtime
    one = await add_customer_in(runtime, "north", "杭州远航医药", 3202)
    await add_receivable(runtime, "INV-1", customer=one, owner_tg=3202, amount="18000",
                         due=TODAY - timedelta(days=71))  # fmt: skip
    two = await add_customer_in(runtime, "north", "成都华丰机械", 3202)
    for n, late in enumerate((5, 30)):
        await add_receivable(runtime, f"INV-{n + 2}", customer=two, owner_tg=3202,
                             amount="1000", due=TODAY - timedelta(days=late))  # fmt: skip
    await at_local(local_bot, "north", TODAY)

    await manager.send("/collections")
    page = (await manager.tap("王伟"))[-1]
    text = page.text or ""
    print(text, page.button_texts())
    assert "• 杭州远航医药 ¥18,000.00（1 张单据）· 全部逾期 · 逾期 71 天" in text
    assert "• 成都华丰机械 ¥2,000.00（2 张单据）· 全部逾期 · 最长逾期 30 天" in text
    assert "逾期 ¥18,000.00" not in text
    assert page.button_texts()[-1] == "⬅️ 返回团队列表"
    team = (await manager.tap("⬅️ 返回团队列表"))[-1]
    assert "• 王伟：未回款 ¥20,000.00（3 张单据）" in (team.text or "")
    # Back on the team page, the manager keeps the button to their own list.
    assert team.button_texts() == ["王伟", "📋 我自己的应收"]
