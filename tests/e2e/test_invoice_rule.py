"""The company's invoice rule: an invoice request shows the collected share of its contract; below
the team's minimum (60% by default) the approver's card marks it, or the request is refused when
the team says so. A discount card shows what the customer still owes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.db import transaction
from models.approval import RequestStatus
from sandbox.harness import Chat, LocalBot
from services.collection_actions import record_payment
from services.users import Actor
from tests.approval_helpers import REP, requests, team_of, text_of, texts
from tests.collection_helpers import add_receivable
from tests.conftest import write_config
from tests.customer_helpers import add_customer
from tests.helpers import user_by_tg

JOBS_UNDER_TEST = ("approvals_sweep",)
REFUSE = "\n[defaults.collections]\nrefuse_invoice_below = true\n"


@pytest.fixture
def config_path(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    return write_config(tmp_path, getattr(request, "param", ""))


async def contract(bot: LocalBot, customer_id: int, *, amount: str, paid: str) -> None:
    """Contract HT-1 of ``amount`` of which ``paid`` is collected."""
    receivable_id = await add_receivable(
        bot.runtime, "HT-1", customer=customer_id, owner_tg=REP, amount=amount,
        due=date(2026, 12, 31),
    )  # fmt: skip
    if Decimal(paid):
        await pay(bot, receivable_id, paid)


async def pay(bot: LocalBot, receivable_id: int, amount: str) -> None:
    rep = await user_by_tg(bot.runtime, REP)
    async with transaction(bot.runtime.sessions) as session:
        await record_payment(
            session, actor=Actor.of(rep), settings=bot.runtime.settings,
            receivable_ids=[receivable_id], amount=Decimal(amount), now=bot.runtime.clock.now(),
        )  # fmt: skip


async def invoice(rep: Chat, number: str = "HT-1") -> str:
    await rep.send("/invoice")
    await rep.tap("Hangzhou Huafeng")
    await rep.send(number)
    return texts(await rep.send("20000"))


async def test_below_the_share_is_marked_on_the_card(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    customer = await add_customer(local_bot.runtime, "north", "Hangzhou Huafeng", owner_tg=REP)
    assert customer.id is not None
    await contract(local_bot, customer.id, amount="100000", paid="45000.50")
    summary = await invoice(people.rep)
    # The rep already sees it on the summary, before submitting.
    assert "only 45% collected (CN¥45,000.50 of CN¥100,000.00)" in summary, summary
    await people.rep.tap("Submit")
    await local_bot.drain_outbox()
    card = text_of(await people.manager.last_reply())
    assert "⚠️ Contract HT-1: only 45% collected" in card and "60% required" in card
    (request,) = await requests(local_bot)
    assert request.status == RequestStatus.PENDING


async def test_enough_collected_is_shown_without_a_mark(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    customer = await add_customer(local_bot.runtime, "north", "Hangzhou Huafeng", owner_tg=REP)
    assert customer.id is not None
    await contract(local_bot, customer.id, amount="100000", paid="60000")
    await invoice(people.rep)
    await people.rep.tap("Submit")
    await local_bot.drain_outbox()
    card = text_of(await people.manager.last_reply())
    assert "Contract HT-1: 60% collected" in card and "⚠️" not in card


async def test_unknown_contract_is_said_on_the_card(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    await add_customer(local_bot.runtime, "north", "Hangzhou Huafeng", owner_tg=REP)
    await invoice(people.rep, "HT-404")
    await people.rep.tap("Submit")
    await local_bot.drain_outbox()
    card = text_of(await people.manager.last_reply())
    assert "Contract HT-404 is not among this customer's receivables" in card


@pytest.mark.parametrize("config_path", [REFUSE], indirect=True)
async def test_refused_below_the_share_when_the_team_says_so(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    customer = await add_customer(local_bot.runtime, "north", "Hangzhou Huafeng", owner_tg=REP)
    assert customer.id is not None
    await contract(local_bot, customer.id, amount="100000", paid="10000")
    await people.rep.send("/invoice")
    await people.rep.tap("Hangzhou Huafeng")
    # Said at once at the contract step, and the contract is asked again.
    reply = texts(await people.rep.send("HT-1"))
    assert "No invoice yet: only 10% of contract HT-1 is collected" in reply, reply
    assert "Which contract?" in reply
    await people.rep.send("HT-2")  # not imported yet: nothing to check
    summary = texts(await people.rep.send("20000"))
    assert "please check" in summary and "HT-2 is not among" not in summary
    # The back office imports HT-2 before the rep submits: submit checks again.
    await add_receivable(
        local_bot.runtime, "HT-2", customer=customer.id, owner_tg=REP, amount="50000",
        due=date(2026, 12, 31),
    )  # fmt: skip
    reply = texts(await people.rep.tap("Submit"))
    assert "only 0% of contract HT-2 is collected" in reply, reply
    assert await requests(local_bot) == []
    summary = texts(await people.rep.send("HT-404"))
    assert "please check" in summary
    await people.rep.tap("Submit")
    (request,) = await requests(local_bot)
    assert request.details["contract"] == "HT-404"


async def test_discount_card_shows_the_customers_open_balance(local_bot: LocalBot) -> None:
    people = await team_of(local_bot)
    customer = await add_customer(local_bot.runtime, "north", "Hangzhou Huafeng", owner_tg=REP)
    assert customer.id is not None
    await contract(local_bot, customer.id, amount="100000", paid="30000")
    await add_receivable(
        local_bot.runtime, "HT-2", customer=customer.id, owner_tg=REP, amount="5000.25",
        due=date(2026, 12, 1),
    )  # fmt: skip
    await people.rep.send("/discount")
    await people.rep.tap("Hangzhou Huafeng")
    await people.rep.send("Q-1")
    await people.rep.send("1000")
    await people.rep.send("900")
    await people.rep.tap("Skip")
    await people.rep.tap("Submit")
    await local_bot.drain_outbox()
    card = text_of(await people.manager.last_reply())
    assert "Open balance: CN¥75,000.25" in card, card
