"""Helpers for the collections tests: the sample company, receivables, clock moves, reading the
outbox and the balances."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlmodel import col, select

from bot.app import Runtime
from core.clock import ManualClock
from core.db import transaction
from models.common import Role
from models.customer import Customer
from models.outbox import OutboxMessage
from models.receivable import Receivable
from sandbox.harness import Chat, LocalBot
from services import receivables, users
from services.customer_import import import_customers, read_table
from services.customers import name_key
from tests.helpers import join, user_by_tg

DATA = Path(__file__).parent / "data"
# The owners named in the sample files, as salesbot users.
SAMPLE_REPS = {"张三": (4001, "north"), "李四": (4002, "north"), "王五": (4003, "north"),
               "赵六": (4004, "south"), "钱七": (4005, "south")}  # fmt: skip
ZONES = {"north": ZoneInfo("Asia/Shanghai"), "south": ZoneInfo("Europe/Berlin")}


async def sample_reps(bot: LocalBot) -> dict[str, Chat]:
    """The sample files' owners as reps, each with the name the files use as employee code."""
    chats = {}
    for name, (tg, team) in SAMPLE_REPS.items():
        chats[name] = await join(bot, tg, name, Role.REP, team)
        await set_code(bot.runtime, tg, name)
    return chats


async def set_code(runtime: Runtime, telegram_id: int, code: str) -> None:
    """What an admin does with `salesbot user code`."""
    user = await user_by_tg(runtime, telegram_id)
    assert user is not None and user.id is not None
    async with transaction(runtime.sessions) as session:
        await users.set_employee_code(
            session, actor=None, target_id=user.id, code=code, now=runtime.clock.now()
        )


async def import_sample_customers(runtime: Runtime) -> None:
    table = read_table(DATA / "customers_sample.csv")
    async with transaction(runtime.sessions) as session:
        report = await import_customers(session, table, team_id=None, now=runtime.clock.now())
    assert len(report.imported) == 40


def sparse_xlsx(
    rows: list[list[object]], far_cell: tuple[int, int], *, dimension: bool = True
) -> bytes:
    """An XLSX with ``rows`` and one more cell far away (row, column): a few KB that openpyxl
    pads to every cell of the sheet's size, which the sheet declares (or, without
    ``dimension``, does not)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    sheet.cell(row=far_cell[0], column=far_cell[1], value="x")
    plain = io.BytesIO()
    book.save(plain)
    if dimension:
        return plain.getvalue()
    crafted = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source,
        zipfile.ZipFile(crafted, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension ref=\"[^\"]*\" />", b"", data)
            target.writestr(info, data)
    return crafted.getvalue()


async def customer_id(runtime: Runtime, name: str) -> int:
    async with transaction(runtime.sessions) as session:
        query = select(Customer).where(col(Customer.name_key) == name_key(name))
        customer = (await session.exec(query)).one()
    assert customer.id is not None
    return customer.id


async def add_receivable(
    runtime: Runtime,
    number: str,
    *,
    customer: int,
    owner_tg: int | None,
    amount: str,
    due: date,
    issued: date | None = None,
    currency: str = "CNY",
) -> int:
    owner = await user_by_tg(runtime, owner_tg) if owner_tg else None
    async with transaction(runtime.sessions) as session:
        found = await session.get(Customer, customer)
        assert found is not None
        receivable = Receivable(
            team_id=found.team_id, customer_id=customer, owner_id=owner.id if owner else None,
            document_no=number, amount=Decimal(amount), currency=currency,
            issued_on=issued or date(2026, 10, 1), due_on=due, created_at=runtime.clock.now(),
            updated_at=runtime.clock.now(),
        )  # fmt: skip
        session.add(receivable)
        await session.flush()
        assert receivable.id is not None
        return receivable.id


async def add_customer_in(runtime: Runtime, team: str, name: str, owner_tg: int | None) -> int:
    from tests.customer_helpers import add_customer

    customer = await add_customer(runtime, team, name, owner_tg=owner_tg)
    assert customer.id is not None
    return customer.id


async def at_local(bot: LocalBot, team: str, day: date, clock: time = time(10, 0)) -> None:
    """Move the clock to ``clock`` on ``day`` in the team's timezone (due jobs run), then
    deliver the outbox."""
    moment = datetime.combine(day, clock, tzinfo=ZONES[team]).astimezone(UTC)
    assert isinstance(bot.runtime.clock, ManualClock)
    await bot.runtime.clock.set(moment)
    await bot.drain_outbox()


async def balance(runtime: Runtime, receivable_id: int) -> Decimal:
    async with transaction(runtime.sessions) as session:
        docs = await receivables.documents(
            session, col(Receivable.id) == receivable_id, open_only=False
        )
    return docs[0].balance


async def receivable(runtime: Runtime, receivable_id: int) -> Receivable:
    async with transaction(runtime.sessions) as session:
        found = await session.get(Receivable, receivable_id)
    assert found is not None
    return found


async def outbox_rows(runtime: Runtime, kind: str | None = None) -> list[OutboxMessage]:
    async with transaction(runtime.sessions) as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if kind is not None:
            query = query.where(col(OutboxMessage.kind) == kind)
        return list((await session.exec(query)).all())


async def last_id(chat: Chat) -> int:
    return max((m.message_id for m in await chat.messages()), default=0)
