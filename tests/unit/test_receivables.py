"""Receivables services: import rules, balances and payments, the dunning plan, aging, and the
collected share an invoice request shows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import col, select

from bot.app import Runtime
from core.db import transaction
from core.errors import UserFacingError
from core.settings import load_settings
from models.audit import AuditEntry
from models.common import Role
from models.customer import Customer
from models.outbox import OutboxMessage
from models.receivable import Receivable
from models.team import Team
from models.user import User
from services import (
    approvals,
    collection_actions,
    dunning,
    invoice_rule,
    receivable_aging,
    receivables,
)
from services.receivable_aging import Scope
from services.receivable_import import (
    import_receivables,
    parse_day,
    read_receivables,
    read_receivables_data,
)
from services.team_context import context_of
from services.users import Actor
from tests.collection_helpers import DATA, add_receivable, customer_id
from tests.conftest import write_config
from tests.helpers import add_user, team_id
from views import collection_notices  # noqa: F401  (the reminder's view)
from views.collections import invoice_share
from views.render import renderer


@dataclass
class Company:
    runtime: Runtime
    rep: Actor
    manager: Actor
    south_rep: Actor


async def _person(runtime: Runtime, telegram_id: int, name: str, role: Role, team: str) -> Actor:
    # The sample files name owners by what is here their employee code.
    return Actor.of(await add_user(runtime, telegram_id, name, role, team, code=name))


@pytest.fixture
async def company(runtime: Runtime) -> AsyncIterator[Company]:
    rep = await _person(runtime, 4001, "张三", Role.REP, "north")
    await _person(runtime, 4002, "李四", Role.REP, "north")
    await _person(runtime, 4003, "王五", Role.REP, "north")
    manager = await _person(runtime, 4010, "Mona", Role.MANAGER, "north")
    south_rep = await _person(runtime, 4004, "赵六", Role.REP, "south")
    await _person(runtime, 4005, "钱七", Role.REP, "south")
    from tests.collection_helpers import import_sample_customers

    await import_sample_customers(runtime)
    yield Company(runtime, rep, manager, south_rep)


async def _import(runtime: Runtime, path: Path, team: str | None = None):  # type: ignore[no-untyped-def]
    table = read_receivables(path)
    async with transaction(runtime.sessions) as session:
        return await import_receivables(
            session, table, settings=runtime.settings,
            team_id=await team_id(runtime, team) if team else None, now=runtime.clock.now(),
        )  # fmt: skip


def test_dates_in_back_office_formats() -> None:
    assert parse_day("2026-11-20") == date(2026, 11, 20)
    assert parse_day("2026/11/2") == date(2026, 11, 2)
    assert parse_day("2026年11月20日") == date(2026, 11, 20)
    assert parse_day("２０２６－１１－２０") == date(2026, 11, 20)
    assert parse_day("20261120") == date(2026, 11, 20)
    assert parse_day("2026-11-20 00:00:00") == date(2026, 11, 20)
    for bad in ("2026-02-30", "20/11/2026", "tomorrow", "", "2026-13-01"):
        assert parse_day(bad) is None, bad


async def test_sample_import_reports_each_bad_row(company: Company) -> None:
    report = await _import(company.runtime, DATA / "receivables_sample.csv")
    assert len(report.created) == 30 and report.updated == [] and report.unchanged == []
    errors = {note.row: (note.key, note.params) for note in report.errors}
    assert errors == {
        32: ("collections.import_not_positive", {"value": "-500"}),
        33: ("collections.import_bad_due_date", {"value": "2026-02-30"}),
        34: ("collections.import_unknown_customer", {"name": "不存在客户"}),
    }
    warnings = [(n.row, n.key) for n in report.warnings]
    assert (35, "collections.import_repeated_same") in warnings
    assert all(key != "collections.import_due_before_issue" for _, key in warnings)
    async with transaction(company.runtime.sessions) as session:
        imported = (await session.exec(select(AuditEntry).where(
            AuditEntry.action == "receivable.imported"))).all()  # fmt: skip
    assert len(imported) == 30 and all(entry.entity_id for entry in imported)


async def test_reimport_updates_without_duplicating(company: Company, tmp_path: Path) -> None:
    runtime = company.runtime
    await _import(runtime, DATA / "receivables_sample.csv")
    async with transaction(runtime.sessions) as session:
        doc = (await session.exec(select(Receivable).where(
            Receivable.document_no == "INV-00003"))).one()  # fmt: skip
        doc.reminded_step, doc.dunning_round = 7, 0
        session.add(doc)
    text = (DATA / "receivables_sample.csv").read_text(encoding="utf-8-sig")
    changed = tmp_path / "again.csv"
    changed.write_text(
        text.replace("INV-00003,46000,CNY,2026-08-11,2026-09-04", "INV-00003,46000,CNY,"
                     "2026-08-11,2026-12-31", 1), encoding="gbk",
    )  # fmt: skip
    report = await _import(runtime, changed)
    assert [n for _, n in report.updated] == ["INV-00003"] and len(report.unchanged) == 29
    async with transaction(runtime.sessions) as session:
        doc = (await session.exec(select(Receivable).where(
            Receivable.document_no == "INV-00003"))).one()  # fmt: skip
        count = len((await session.exec(select(Receivable))).all())
    assert count == 30 and doc.due_on == date(2026, 12, 31)
    # A new due date starts the schedule again.
    assert doc.reminded_step is None and doc.dunning_round == 1


async def test_import_refuses_what_would_break_balances_or_teams(company: Company) -> None:
    runtime = company.runtime
    customer = await customer_id(runtime, "北京嘉禾化工股份有限公司")
    rid = await add_receivable(runtime, "X-1", customer=customer, owner_tg=4003, amount="1000",
                               due=date(2026, 12, 1))  # fmt: skip
    async with transaction(runtime.sessions) as session:
        await collection_actions.record_payment(
            session, actor=company.manager, settings=runtime.settings, receivable_ids=[rid],
            amount=Decimal("600"), now=runtime.clock.now(),
        )  # fmt: skip
    csv = ("单据号,客户名称,金额,币种,到期日,负责人\n"
           "X-1,北京嘉禾化工股份有限公司,500,CNY,2026-12-01,王五\n"
           "X-1,北京嘉禾化工股份有限公司,1000,USD,2026-12-01,王五\n"
           "X-2,北京嘉禾化工股份有限公司,1000,XYZ,2026-12-01,王五\n"
           "X-3,北京嘉禾化工股份有限公司,一千,CNY,2026-12-01,王五\n"
           "X-4,北京嘉禾化工股份有限公司,1000,CNY,2026-12-01,陌生人\n"
           "X-5,北京嘉禾化工股份有限公司,1000,CNY,2026-12-01,赵六\n"
           ",北京嘉禾化工股份有限公司,1000,CNY,2026-12-01,王五\n"
           "X-6,北京嘉禾化工股份有限公司,＄1200,,2026/12/01,\n")  # fmt: skip
    table = read_receivables_data("x.csv", csv.encode())
    async with transaction(runtime.sessions) as session:
        report = await import_receivables(
            session, table, settings=runtime.settings,
            team_id=await team_id(runtime, "north"), now=runtime.clock.now(),
        )  # fmt: skip
    keys = {note.row: note.key.removeprefix("collections.import_") for note in report.errors}
    assert keys == {
        2: "below_paid", 3: "currency_paid", 4: "bad_currency", 5: "bad_amount",
        6: "unknown_rep", 7: "unknown_rep", 8: "no_number",
    }  # fmt: skip
    # A rep of another team is as unknown to a team's import as a stranger.
    notes = {note.row: note.params for note in report.errors}
    assert notes[6] == {"name": "陌生人"} and notes[7] == {"name": "赵六"}
    assert [n for _, n in report.created] == ["X-6"]
    async with transaction(runtime.sessions) as session:
        x6 = (await session.exec(select(Receivable).where(Receivable.document_no == "X-6"))).one()
    wang = await _owner(runtime, "王五")
    assert x6.currency == "USD" and x6.amount == Decimal("1200") and x6.owner_id == wang
    assert x6.issued_on == date(2026, 11, 24)  # no issue date: the day of the import


async def _owner(runtime: Runtime, name: str) -> int:
    async with transaction(runtime.sessions) as session:
        user = (await session.exec(select(User).where(User.display_name == name))).one()
    assert user.id is not None
    return user.id


async def test_xlsx_with_real_dates_and_numbers(company: Company, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["客户名称", "单据号", "金额", "开票日期", "到期日", "负责人"])
    sheet.append(["北京嘉禾化工股份有限公司", "XL-1", 250000.0, datetime(2026, 11, 1),  # noqa: DTZ001
                  datetime(2026, 12, 1), "王五"])  # fmt: skip  # noqa: DTZ001
    sheet.append(["北京嘉禾化工股份有限公司", 20261101, 99.5, "2026-11-01", "2026-12-01", ""])
    path = tmp_path / "ar.xlsx"
    book.save(path)
    report = await _import(company.runtime, path, team="north")
    assert [n for _, n in report.created] == ["XL-1", "20261101"] and report.errors == []
    async with transaction(company.runtime.sessions) as session:
        xl = (await session.exec(select(Receivable).where(Receivable.document_no == "XL-1"))).one()
    assert xl.amount == Decimal("250000") and xl.due_on == date(2026, 12, 1)


async def test_payments_are_exact_and_never_exceed_the_balance(company: Company) -> None:
    runtime = company.runtime
    customer = await customer_id(runtime, "北京嘉禾化工股份有限公司")
    older = await add_receivable(runtime, "P-1", customer=customer, owner_tg=4001,
                                 amount="0.30", due=date(2026, 11, 1))  # fmt: skip
    newer = await add_receivable(runtime, "P-2", customer=customer, owner_tg=4001,
                                 amount="1000.10", due=date(2026, 11, 20))  # fmt: skip
    usd = await add_receivable(runtime, "P-3", customer=customer, owner_tg=4001,
                               amount="10", due=date(2026, 11, 20), currency="USD")  # fmt: skip
    settings, now = runtime.settings, runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        with pytest.raises(UserFacingError) as refused:
            await collection_actions.record_payment(
                session, actor=company.rep, settings=settings, receivable_ids=[older, newer],
                amount=Decimal("1000.41"), now=now,
            )  # fmt: skip
    assert refused.value.key == "collections.overpayment"
    assert refused.value.params["balance"] == "¥1,000.40"  # in the rep's language (zh)
    async with transaction(runtime.sessions) as session:
        with pytest.raises(UserFacingError, match="mixed_currencies"):
            await collection_actions.record_payment(
                session, actor=company.rep, settings=settings, receivable_ids=[older, usd],
                amount=Decimal("1"), now=now,
            )  # fmt: skip
        await collection_actions.record_payment(
            session, actor=company.rep, settings=settings, receivable_ids=[older],
            amount=Decimal("0.10"), now=now,
        )  # fmt: skip
        # The rest pays the oldest first: 0.20 (0.1 + 0.2 is exactly 0.3 here) then 1000.10.
        result = await collection_actions.record_payment(
            session, actor=company.rep, settings=settings, receivable_ids=[older, newer],
            amount=Decimal("1000.30"), now=now,
        )  # fmt: skip
    assert [(p.document_no, p.amount, p.balance) for p in result.lines] == [
        ("P-1", Decimal("0.20"), Decimal("0")), ("P-2", Decimal("1000.10"), Decimal("0")),
    ]  # fmt: skip
    async with transaction(runtime.sessions) as session:
        docs = await receivables.documents(session, col(Receivable.id).in_([older, newer]),
                                           open_only=False)  # fmt: skip
    assert [(d.paid, d.balance, d.receivable.status) for d in docs] == [
        (Decimal("0.30"), Decimal("0"), "paid"), (Decimal("1000.10"), Decimal("0"), "paid"),
    ]  # fmt: skip
    async with transaction(runtime.sessions) as session:
        with pytest.raises(UserFacingError, match="nothing_open"):
            await collection_actions.record_payment(
                session, actor=company.rep, settings=settings, receivable_ids=[older],
                amount=None, now=now,
            )  # fmt: skip
        with pytest.raises(UserFacingError, match="nothing_open"):  # not theirs
            await collection_actions.record_payment(
                session, actor=company.south_rep, settings=settings, receivable_ids=[usd],
                amount=None, now=now,
            )  # fmt: skip


async def test_aging_groups_in_sql_by_rep_currency_and_bucket(company: Company) -> None:
    runtime = company.runtime
    customer = await customer_id(runtime, "北京嘉禾化工股份有限公司")
    today = date(2026, 11, 24)
    rows = [("G-1", "4001", "100", date(2026, 11, 25), "CNY"),  # not due
            ("G-2", "4001", "200", today, "CNY"),  # due today: 0-30
            ("G-3", "4001", "300", date(2026, 10, 25), "CNY"),  # 30 days: 0-30
            ("G-4", "4002", "400", date(2026, 10, 24), "CNY"),  # 31 days
            ("G-5", "4002", "500", date(2026, 8, 26), "USD"),  # 90 days: 61-90
            ("G-6", "4002", "600", date(2026, 8, 25), "USD")]  # 91 days: 90+  # fmt: skip
    for number, owner, amount, due, currency in rows:
        await add_receivable(runtime, number, customer=customer, owner_tg=int(owner),
                             amount=amount, due=due, currency=currency)  # fmt: skip
    async with transaction(runtime.sessions) as session:
        north = await session.exec(select(Team).where(Team.key == "north"))
        aging = await receivable_aging.aging(
            session, runtime.settings, Scope(team_id=north.one().id), runtime.clock.now()
        )
    total = aging.total
    assert total.count == 6
    assert total.buckets == {
        "CNY": {"current": Decimal("100"), "0-30": Decimal("500"), "31-60": Decimal("400")},
        "USD": {"61-90": Decimal("500"), "90+": Decimal("600")},
    }
    assert total.totals(receivables.OVERDUE_BUCKETS) == {"CNY": Decimal("900"),
                                                         "USD": Decimal("1100")}  # fmt: skip
    zhang, li = await _owner(runtime, "张三"), await _owner(runtime, "李四")
    assert aging.reps[zhang].count == 3 and aging.reps[li].totals() == {
        "CNY": Decimal("400"), "USD": Decimal("1100"),
    }  # fmt: skip
    assert aging.rep_names[zhang] == "张三"


async def test_collected_share_for_an_invoice_request(company: Company, tmp_path: Path) -> None:
    runtime = company.runtime
    customer = await customer_id(runtime, "北京嘉禾化工股份有限公司")
    contract = await add_receivable(runtime, "HT-1", customer=customer, owner_tg=4001,
                                    amount="10000", due=date(2026, 12, 31))  # fmt: skip
    async with transaction(runtime.sessions) as session:
        assert await invoice_rule.check_invoice_request(
            session, runtime.settings, contract_no="NOPE") is None  # fmt: skip
        await collection_actions.record_payment(
            session, actor=company.rep, settings=runtime.settings, receivable_ids=[contract],
            amount=Decimal("5999.99"), now=runtime.clock.now(),
        )  # fmt: skip
        check = await invoice_rule.check_invoice_request(
            session, runtime.settings, contract_no="HT-1"
        )
    assert check is not None and check.below and not check.refused
    assert check.share.percent == Decimal("59.9") and check.threshold_percent == 60
    text = invoice_share(runtime.texts, "en", check)
    assert "only 59.9% collected (CN¥5,999.99 of CN¥10,000.00), below the 60%" in text
    approvals.refuse_invoice(check, "en")  # marked on the card, not refused, by default
    # A team whose config refuses invoices below the share.
    strict_settings = load_settings(
        write_config(tmp_path, "[teams.north.collections]\nrefuse_invoice_below = true\n")
    )
    async with transaction(runtime.sessions) as session:
        strict = await invoice_rule.check_invoice_request(
            session, strict_settings, contract_no="HT-1"
        )
        with pytest.raises(UserFacingError, match="invoice_refused"):
            approvals.refuse_invoice(strict, "en")
        await collection_actions.record_payment(
            session, actor=company.rep, settings=runtime.settings, receivable_ids=[contract],
            amount=Decimal("0.01"), now=runtime.clock.now(),
        )  # fmt: skip
        enough = await invoice_rule.check_invoice_request(
            session, runtime.settings, contract_no="HT-1"
        )
    assert enough is not None and not enough.below and enough.share.percent == Decimal("60.0")
    assert "60% collected" in invoice_share(runtime.texts, "en", enough)


async def test_a_dunning_run_is_idempotent_and_groups_by_customer(company: Company) -> None:
    runtime = company.runtime
    customer = await customer_id(runtime, "北京嘉禾化工股份有限公司")
    await add_receivable(runtime, "D-1", customer=customer, owner_tg=4001, amount="100",
                         due=date(2026, 11, 10))  # fmt: skip
    await add_receivable(runtime, "D-2", customer=customer, owner_tg=4001, amount="200",
                         due=date(2026, 11, 20))  # fmt: skip
    later = await add_receivable(runtime, "D-3", customer=customer, owner_tg=4001,
                                 amount="300", due=date(2027, 3, 1))  # fmt: skip

    async def run(day: date) -> dunning.DunningRun:
        async with transaction(runtime.sessions) as session:
            team = (await session.exec(select(Team).where(Team.key == "north"))).one()
            return await dunning.run_dunning(
                session, render=renderer(runtime.texts),
                team=context_of(team, runtime.settings, runtime.clock.now()), today=day,
                now=runtime.clock.now(),
            )  # fmt: skip

    first = await run(date(2026, 11, 24))
    # Never reminded: the first step, however old D-1 (14 days overdue) is; no escalation yet.
    assert len(first.reminders) == 1 and first.copies == 0
    assert (await run(date(2026, 11, 24))).reminders == []
    assert (await run(date(2026, 11, 25))).reminders == []
    async with transaction(runtime.sessions) as session:
        [row] = (await session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == "dunning.reminder"))).all()  # fmt: skip
        d3 = await session.get(Receivable, later)
    assert "D-1" in row.text and "D-2" in row.text and "D-3" not in row.text
    assert row.idempotency_key.startswith(f"dun:{customer}:-3:") and d3 is not None
    assert d3.reminded_step is None
    # Three days later both climb one step: the customer's next reminder, listing both again.
    third = await run(date(2026, 11, 27))
    assert len(third.reminders) == 1


async def test_a_company_import_never_duplicates_a_document_of_another_team(
    company: Company,
) -> None:
    """A document whose owner moved to another team keeps its one balance: the company-wide
    import refuses to create a second one there."""
    runtime = company.runtime
    customer = await customer_id(runtime, "北京嘉禾化工股份有限公司")
    await add_receivable(runtime, "X-9", customer=customer, owner_tg=4003, amount="1000",
                         due=date(2026, 12, 1))  # fmt: skip
    south = await team_id(runtime, "south")
    async with transaction(runtime.sessions) as session:  # the customer moves to South
        moved = await session.get(Customer, customer)
        assert moved is not None
        moved.team_id = south
        session.add(moved)
    csv = ("单据号,客户名称,金额,币种,到期日,负责人\n"
           "X-9,北京嘉禾化工股份有限公司,1000,CNY,2026-12-01,赵六\n")  # fmt: skip
    table = read_receivables_data("x.csv", csv.encode())
    async with transaction(runtime.sessions) as session:
        report = await import_receivables(
            session, table, settings=runtime.settings, team_id=None, now=runtime.clock.now()
        )
    assert report.created == []
    assert [(n.key, n.params) for n in report.errors] == [
        ("collections.import_number_in_other_team", {"number": "X-9", "team": "North"})
    ]
    async with transaction(runtime.sessions) as session:
        found = await session.exec(select(Receivable).where(Receivable.document_no == "X-9"))
        assert len(found.all()) == 1


async def test_overdue_check_follows_the_open_documents_rule(runtime: Runtime) -> None:
    """The one-statement check a visit's purpose starts from agrees with ``documents``: an
    overdue document still owed counts; one paid off, written off, disputed, marked paid or not
    yet due does not."""
    from models.receivable import (
        Adjustment,
        AdjustmentKind,
        AdjustmentStatus,
        Payment,
        ReceivableStatus,
    )
    from services.visits import default_purpose
    from tests.collection_helpers import add_customer_in

    await add_user(runtime, 4001, "张三", Role.REP, "north")
    today, now = date(2026, 12, 4), runtime.clock.now()
    cases = {
        "owed": ("1000", date(2026, 11, 30), None),
        "paid off": ("1000", date(2026, 11, 30), "payment"),
        "written off": ("1000", date(2026, 11, 30), "write_off"),
        "pending write-off": ("1000", date(2026, 11, 30), "pending"),
        "disputed": ("1000", date(2026, 11, 30), ReceivableStatus.DISPUTED),
        "marked paid": ("1000", date(2026, 11, 30), ReceivableStatus.PAID),
        "not yet due": ("1000", date(2026, 12, 20), None),
    }
    expected = {"owed": True, "pending write-off": True}
    for name, (amount, due, settle) in cases.items():
        customer = await add_customer_in(runtime, "north", f"Customer {name}", 4001)
        rid = await add_receivable(runtime, f"INV-{name}", customer=customer, owner_tg=4001,
                                   amount=amount, due=due)  # fmt: skip
        async with transaction(runtime.sessions) as session:
            if settle == "payment":
                session.add(Payment(receivable_id=rid, amount=Decimal(amount),
                                    paid_on=date(2026, 12, 1), recorded_at=now))  # fmt: skip
            elif settle in ("write_off", "pending"):
                applied = settle == "write_off"
                session.add(Adjustment(
                    receivable_id=rid, kind=AdjustmentKind.WRITE_OFF, amount=Decimal(amount),
                    currency="CNY", reason="bankrupt", created_at=now,
                    status=AdjustmentStatus.APPLIED if applied else AdjustmentStatus.PENDING,
                    applied_on=date(2026, 12, 2) if applied else None,
                ))  # fmt: skip
            elif isinstance(settle, ReceivableStatus):
                document = await session.get(Receivable, rid)
                assert document is not None
                document.status = settle
        async with transaction(runtime.sessions) as session:
            rule = await receivables.documents(
                session, col(Receivable.customer_id) == customer, col(Receivable.due_on) < today,
                col(Receivable.status) != ReceivableStatus.DISPUTED,
            )  # fmt: skip
            check = bool(
                (await session.exec(select(receivables.overdue_exists(customer, today)))).one()
            )
            rep = (await session.exec(select(User).where(col(User.telegram_id) == 4001))).one()
            assert rep.id is not None
            purpose = await default_purpose(session, rep.id, customer, today)
        assert check == bool(rule) == expected.get(name, False), name
        assert (purpose == "collection") == expected.get(name, False), name
