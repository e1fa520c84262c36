"""Bulk import of customers: encodings, headers, bad rows by row number, re-runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import col, func, select

from bot.app import Runtime
from core.db import transaction
from models.audit import AuditEntry
from models.common import Role
from models.customer import Customer, CustomerStatus, Tier
from services.customer_import import (
    MAX_ROWS,
    ImportFileError,
    import_customers,
    read_table,
    read_table_data,
)
from tests.collection_helpers import sparse_xlsx
from tests.helpers import add_user, team_id
from views.imports import customer_import_lines

DATA = Path(__file__).parent.parent / "data"
SAMPLE_ERRORS = {42: "name is empty", 43: "tier 'D'", 44: "'找前台' is not a phone", 45: "row 5"}


async def _import(runtime: Runtime, path: Path, team: str | None = "north"):  # type: ignore[no-untyped-def]
    table = read_table(path)
    async with transaction(runtime.sessions) as session:
        team_ref = await team_id(runtime, team) if team else None
        return await import_customers(session, table, team_id=team_ref, now=runtime.clock.now())


async def _sample_owners(runtime: Runtime, team: str = "north") -> None:
    """The people the sample files name in 负责人, by the codes an admin gave them."""
    for number, name in enumerate(["张三", "李四", "王五", "赵六", "钱七"], start=1):
        await add_user(runtime, 4000 + number, f"Rep {number}", Role.REP, team, code=name)


async def _count(runtime: Runtime) -> int:
    async with transaction(runtime.sessions) as session:
        return int((await session.exec(select(func.count()).select_from(Customer))).one())


@pytest.mark.parametrize("file_name", ["customers_sample.csv", "customers_sample_gbk.csv"])
async def test_sample_file_imports_good_rows_and_reports_bad_ones(
    runtime: Runtime, file_name: str
) -> None:
    await _sample_owners(runtime)
    report = await _import(runtime, DATA / file_name)
    assert len(report.imported) == 40
    errors = dict(report.errors)
    assert sorted(errors) == sorted(SAMPLE_ERRORS)
    for row, fragment in SAMPLE_ERRORS.items():
        assert fragment in errors[row], (row, errors[row])
    assert await _count(runtime) == 40
    async with transaction(runtime.sessions) as session:
        shanghai = (
            await session.exec(
                select(Customer).where(Customer.name == "上海新天地零售有限责任公司")
            )
        ).one()
        created = (
            await session.exec(
                select(func.count()).where(col(AuditEntry.action) == "customer.created")
            )
        ).one()
    # Full-width digits folded; a Chinese mobile shown in groups, searchable by its digits.
    assert shanghai.phone == "139 9887 5457" and shanghai.phone_key == "13998875457"
    assert shanghai.tier == Tier.B and shanghai.status == CustomerStatus.ACTIVE
    assert shanghai.latitude == pytest.approx(31.230845) and shanghai.source == "import"
    assert created == 40
    text = "\n".join(customer_import_lines(report))
    assert "row 42: ERROR" in text and "Imported 40 customers" in text


async def test_rerun_creates_no_duplicates(runtime: Runtime) -> None:
    await _sample_owners(runtime)
    await _import(runtime, DATA / "customers_sample.csv")
    again = await _import(runtime, DATA / "customers_sample_gbk.csv")
    assert again.imported == []
    assert len(again.already_present) == 40 + 1  # the in-file duplicate now matches the DB
    assert await _count(runtime) == 40


async def test_messy_csv_with_english_headers(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "messy.csv"
    path.write_text(
        "Name,Phone,Tier,Status,Owner,Latitude,Longitude,Color\n"
        "Acme Ltd,+86 138 0013 8000,a,active,,,,red\n"
        "ACME  ltd.,13800138001,B,,,,,\n"  # the same name once spaces and case are folded
        "Beta Co,138-0013-8000,C,,,,,\n"  # the same phone as Acme
        "Gamma,12345678901234567890,C,,,,,\n"
        "Delta,,,,Nobody,91,10,\n"
        "Epsilon,,,sleeping,,,,\n"
        ",,,,,,,\n"
        "Zeta,(021) 6234-5678,,,,31.2,121.4,\n",
        encoding="utf-8",
    )
    report = await _import(runtime, path)
    errors = dict(report.errors)
    assert [name for _, name in report.imported] == ["Acme Ltd", "Zeta"]
    assert "duplicate of row 2" in errors[3]
    assert "already belongs to Acme Ltd (row 2)" in errors[4]
    assert "not a phone number" in errors[5]
    assert "out of range" in errors[6]
    assert "status 'sleeping'" in errors[7]
    assert report.ignored_columns == ["Color"]


async def test_xlsx_and_owner_team(runtime: Runtime, tmp_path: Path) -> None:
    south = await team_id(runtime, "south")
    await add_user(runtime, 77, "Wang Wu", Role.REP, "south", code="王五")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["客户名称", "电话", "负责人", "等级"])
    sheet.append(["华南五金", 13912345678, "王五", "A类"])
    sheet.append(["无主客户", None, "陌生人", "B"])
    path = tmp_path / "customers.xlsx"
    book.save(path)
    report = await _import(runtime, path, team=None)
    assert [name for _, name in report.imported] == ["华南五金"]
    assert "owner 陌生人 is not an employee code or @username" in dict(report.errors)[3]
    async with transaction(runtime.sessions) as session:
        customer = (await session.exec(select(Customer))).one()
    assert customer.team_id == south and customer.phone_key == "13912345678"
    assert customer.tier == Tier.A and customer.owner_id is not None


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    no_name = tmp_path / "no_name.csv"
    no_name.write_text("电话,地址\n123,x\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="no customer name column"):
        read_table(no_name)
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF")
    with pytest.raises(ImportFileError, match=r"only \.csv and \.xlsx"):
        read_table(pdf)
    with pytest.raises(ImportFileError, match="does not exist"):
        read_table(tmp_path / "missing.csv")


def test_sheets_larger_than_the_caps_are_refused_before_they_are_read() -> None:
    header = ["客户名称", "电话"]
    declared = sparse_xlsx([header, ["甲公司", "13800000000"]], (5000, 16384))
    with pytest.raises(ImportFileError, match="declares 5,000 rows × 16,384 columns") as big:
        read_table_data("big.xlsx", declared)
    assert big.value.key == "collections.import_sheet_too_large"
    # Without a declared size the reader pads no further than the column cap...
    undeclared = sparse_xlsx([header, ["甲公司", "13800000000"]], (5000, 16384), dimension=False)
    table = read_table_data("sparse.xlsx", undeclared)
    assert [row.values for row in table.rows] == [{"name": "甲公司", "phone": "13800000000"}]
    # ...and stops at the row cap.
    tall = sparse_xlsx([header], (MAX_ROWS + 5, 1), dimension=False)
    with pytest.raises(ImportFileError, match="too large"):
        read_table_data("tall.xlsx", tall)
    tall_csv = ("客户名称\n" + "甲\n" * MAX_ROWS).encode()
    with pytest.raises(ImportFileError, match="too large"):
        read_table_data("tall.csv", tall_csv)
    with pytest.raises(ImportFileError, match="took more than") as slow:
        read_table_data("slow.csv", "客户名称\n甲\n".encode(), time_limit=-1)
    assert slow.value.key == "collections.import_too_slow"
