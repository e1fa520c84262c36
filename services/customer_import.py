"""Bulk import of customers from the back office's CSV or XLSX exports.

Accepts Chinese or English headers, UTF-8 (with or without BOM), GBK/GB18030 and UTF-16 CSV,
and XLSX. Every row is checked on its own: good rows are imported, bad rows are reported by their
row number in the file (the header is row 1), and customers already in salesbot are skipped, so
the same file can be imported again without creating duplicates.
"""

from __future__ import annotations

import csv
import io
import math
import time
import zipfile
from collections import Counter
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.customer import Customer, CustomerStatus, Tier
from models.team import Team
from models.user import User
from services.customers import (
    MAX_LENGTHS,
    CustomerInput,
    create_customer,
    fold,
    name_key,
    parse_status,
    parse_tier,
    phone_parts,
)
from services.geo import valid_point
from services.users import OwnerDirectory, OwnerMatch, owner_directory

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("客户名称", "客户名", "客户", "名称", "公司名称", "单位名称", "customer",
             "customer name", "name", "company", "company name"),
    "contact": ("联系人", "联系人姓名", "contact", "contact person", "contact name"),
    "phone": ("电话", "联系电话", "手机", "手机号", "电话号码", "phone", "telephone", "mobile",
              "tel", "phone number"),
    "address": ("地址", "详细地址", "address"),
    "region": ("区域", "地区", "片区", "region", "area"),
    "industry": ("行业", "所属行业", "industry", "sector"),
    "tier": ("等级", "客户等级", "级别", "分级", "tier", "grade", "level", "class"),
    "status": ("状态", "客户状态", "status"),
    "owner": ("负责人", "业务员", "销售", "归属", "owner", "owner rep", "rep", "sales rep"),
    "latitude": ("纬度", "latitude", "lat"),
    "longitude": ("经度", "longitude", "lon", "lng", "long"),
    "notes": ("备注", "说明", "notes", "note", "remarks", "comment", "comments"),
}  # fmt: skip
_ALIAS_TO_FIELD = {fold(alias).lower(): key for key, names in HEADER_ALIASES.items()
                   for alias in names}  # fmt: skip


# What a file sent to the bot or given to the command line may hold. A back office's export has a
# few thousand rows and a dozen columns; the caps keep a sheet that declares millions of cells
# (a few KB zipped) from taking the bot's memory and time.
MAX_ROWS = 20_000
MAX_COLUMNS = 64
# Uncompressed size of all parts of an XLSX (shared strings are read into memory at once).
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024


class ImportFileError(Exception):
    """The file as a whole cannot be read (unknown format, no name column, too large...).

    ``key`` and ``params``, when set, say why in any language (a text key); the message is the
    English reason for the command line."""

    def __init__(self, message: str, key: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


def _too_large(rows: int | None, columns: int | None) -> ImportFileError:
    shown_rows = "?" if rows is None else f"{rows:,}"
    shown_columns = "?" if columns is None else f"{columns:,}"
    return ImportFileError(
        f"the sheet is too large: it declares {shown_rows} rows × {shown_columns} columns; at "
        f"most {MAX_ROWS:,} rows and {MAX_COLUMNS} columns can be imported",
        "collections.import_sheet_too_large", rows=shown_rows, columns=shown_columns,
        max_rows=f"{MAX_ROWS:,}", max_columns=MAX_COLUMNS,
    )  # fmt: skip


@dataclass(frozen=True)
class SourceRow:
    number: int
    values: dict[str, str]


@dataclass(frozen=True)
class Table:
    rows: list[SourceRow]
    ignored_columns: list[str]


@dataclass
class ImportReport:
    """What a customer import did (shown by views.imports.customer_import_lines)."""

    imported: list[tuple[int, str]] = field(default_factory=list)
    already_present: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    # How many of the imported rows went to each team (by team name).
    teams: Counter[str] = field(default_factory=Counter)


def decode_csv(data: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with BOM, or else GB18030 (a superset of GBK)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            "the file is neither UTF-8 nor GBK text; save it as CSV UTF-8 or as XLSX"
        ) from exc


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e6:
        return str(int(value))  # a phone number Excel stored as a number
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


Rows = Generator[tuple[int, list[str]], None, None]


def _raw_rows(name: str, data: bytes) -> Rows:
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(name, data)
    if suffix in (".csv", ".txt", ".tsv"):
        return _csv_rows(data)
    raise ImportFileError(f"{name}: only .csv and .xlsx files can be imported")


def _xlsx_rows(name: str, data: bytes) -> Rows:
    """The first sheet's rows, streamed, refused before reading when the sheet (or the unzipped
    file) is larger than the caps."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ImportFileError(f"cannot open {name} as an Excel workbook: {exc}") from exc
    if unzipped > MAX_UNZIPPED_BYTES:
        raise _too_large(None, None)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportFileError(f"cannot open {name} as an Excel workbook: {exc}") from exc

    def rows() -> Rows:
        try:
            sheet = workbook.worksheets[0]
            # Read-only sheets report the <dimension> they declare (None when it is missing);
            # openpyxl pads every row to it, so it is checked before any row is read.
            declared_rows, declared_columns = sheet.max_row, sheet.max_column
            if (declared_rows or 0) > MAX_ROWS or (declared_columns or 0) > MAX_COLUMNS:
                raise _too_large(declared_rows, declared_columns)
            values = sheet.iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS, values_only=True)
            for number, cells in enumerate(values, start=1):
                if number > MAX_ROWS:  # the dimension was missing or wrong
                    raise _too_large(None, declared_columns)
                yield number, [_cell(v) for v in cells]
        finally:
            workbook.close()

    return rows()


def _csv_rows(data: bytes) -> Rows:
    text = decode_csv(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # Row numbers as a spreadsheet shows them: one per record, even if a cell spans lines.
    for number, row in enumerate(reader, start=1):
        if number > MAX_ROWS:
            raise _too_large(None, None)
        yield number, [cell.strip() for cell in row[:MAX_COLUMNS]]


def read_table(
    path: Path,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
    required: Sequence[str] = ("name",),
) -> Table:
    """Rows of the file keyed by field name ("name", "phone"...), with their row numbers."""
    if not path.is_file():
        raise ImportFileError(f"{path} does not exist")
    return read_table_data(path.name, path.read_bytes(), aliases, required)


def read_table_data(
    name: str,
    data: bytes,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
    required: Sequence[str] = ("name",),
    *,
    time_limit: float | None = None,
) -> Table:
    """Like :func:`read_table` for a file's name and content (a file sent to the bot).

    ``aliases`` maps field names to the headers that mean them (default: the customer
    columns); a header missing any ``required`` field makes the whole file unreadable. Reading
    stops with an error after ``time_limit`` seconds.
    """
    raw = _raw_rows(name, data)
    try:
        return _read_rows(name, raw, aliases, required, time_limit)
    finally:
        raw.close()


def _read_rows(
    name: str,
    raw: Rows,
    aliases: Mapping[str, tuple[str, ...]] | None,
    required: Sequence[str],
    time_limit: float | None,
) -> Table:
    deadline = None if time_limit is None else time.monotonic() + time_limit
    alias_to_field = _ALIAS_TO_FIELD if aliases is None else _alias_map(aliases)
    header: list[str] | None = None
    for _number, cells in raw:
        if any(cells):
            header = cells
            break
    if header is None:
        raise ImportFileError(f"{name} is empty")
    columns: dict[int, str] = {}
    ignored: list[str] = []
    for index, title in enumerate(header):
        key = alias_to_field.get(fold(title).lower())
        if key is not None and key not in columns.values():
            columns[index] = key
        elif title:
            ignored.append(title)
    found = ", ".join(h for h in header if h)
    if aliases is None and "name" not in columns.values():
        raise ImportFileError(
            "no customer name column: the header needs 客户名称 (or 'name'); found " + found
        )
    missing = [key for key in required if key not in columns.values()]
    if aliases is not None and missing:
        wanted = ", ".join(f"{aliases[key][0]} ({key})" for key in missing)
        raise ImportFileError(f"missing columns: the header needs {wanted}; found {found}")
    rows = []
    for number, cells in raw:
        if deadline is not None and time.monotonic() > deadline:
            raise ImportFileError(
                f"reading the file took more than {time_limit:g} s",
                "collections.import_too_slow", seconds=f"{time_limit:g}",
            )  # fmt: skip
        if not any(cells):
            continue
        values = {key: cells[i] if i < len(cells) else "" for i, key in columns.items()}
        rows.append(SourceRow(number, values))
    return Table(rows, ignored)


def _alias_map(aliases: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {fold(alias).lower(): key for key, names in aliases.items() for alias in names}


@dataclass
class _Known:
    """Customers already in the database or earlier in the file, per team."""

    names: dict[tuple[int, str], tuple[int | None, str]] = field(default_factory=dict)
    phones: dict[tuple[int, str], tuple[int | None, str]] = field(default_factory=dict)


class _RowError(Exception):
    pass


async def import_customers(
    session: AsyncSession,
    table: Table,
    *,
    team_id: int | None,
    now: datetime,
) -> ImportReport:
    """Import the good rows of ``table`` into ``team_id`` (or each owner's team).

    The owner column names a person by employee code or @username (never by display name);
    a row whose owner matches nobody, several people, or someone outside ``team_id`` is refused.
    """
    report = ImportReport(ignored_columns=table.ignored_columns)
    owners = await owner_directory(session)
    team_names = {t.id: t.name for t in (await session.exec(select(Team))).all()}
    known = _Known()
    for customer in (await session.exec(select(Customer))).all():
        known.names[(customer.team_id, customer.name_key)] = (None, customer.name)
        if customer.phone_key:
            known.phones[(customer.team_id, customer.phone_key)] = (None, customer.name)
    for row in table.rows:
        try:
            values, owner, warnings = _check_row(row, owners)
            target_team = team_id if team_id is not None else (owner.team_id if owner else None)
            if target_team is None:
                raise _RowError(
                    "no team: give --team, or an owner who is a salesbot user with a team"
                )
            if owner is not None and owner.team_id != target_team:
                named = fold(row.values.get("owner", ""))
                raise _RowError(
                    f"owner {named} ({owner.display_name}) is not in team "
                    f"{team_names.get(target_team)}"
                )
            key = name_key(values.name)
            seen = known.names.get((target_team, key))
            if seen is not None:
                if seen[0] is None:
                    report.already_present.append((row.number, seen[1]))
                    continue
                raise _RowError(f"duplicate of row {seen[0]} ({seen[1]})")
            parts = phone_parts(values.phone) if values.phone else None
            phone_key = parts[1] if parts else None
            if phone_key and (target_team, phone_key) in known.phones:
                other_row, other_name = known.phones[(target_team, phone_key)]
                where = f"row {other_row}" if other_row else "salesbot"
                raise _RowError(f"phone {values.phone} already belongs to {other_name} ({where})")
        except _RowError as error:
            report.errors.append((row.number, str(error)))
            continue
        await create_customer(
            session, actor=None, team_id=target_team, values=values, now=now, source="import",
            allow_same_phone=True,
        )  # fmt: skip
        known.names[(target_team, key)] = (row.number, values.name)
        if phone_key:
            known.phones[(target_team, phone_key)] = (row.number, values.name)
        report.imported.append((row.number, values.name))
        report.teams[team_names.get(target_team) or str(target_team)] += 1
        report.warnings.extend((row.number, warning) for warning in warnings)
    return report


def _owner(text: str, owners: OwnerDirectory) -> User:
    """The person the owner column names, or the row is refused with the reason."""
    outcome, owner = owners.match(text)
    if outcome is OwnerMatch.AMBIGUOUS:
        raise _RowError(
            f"owner {text} matches more than one person (an employee code and a @username); "
            "use the employee code, or change one with salesbot user code"
        )
    if owner is None:
        raise _RowError(
            f"owner {text} is not an employee code or @username of an active user; "
            "set one with salesbot user code"
        )
    return owner


def _check_row(
    row: SourceRow, owners: OwnerDirectory
) -> tuple[CustomerInput, User | None, list[str]]:
    get = row.values.get
    warnings: list[str] = []
    name = fold(get("name", ""))
    if not name or not name_key(name):
        raise _RowError("customer name is empty")
    texts: dict[str, str | None] = {}
    for key in ("name", "contact", "address", "region", "industry", "notes"):
        value = fold(get(key, "")) if key != "notes" else get(key, "").strip()
        if len(value) > MAX_LENGTHS[key]:
            raise _RowError(f"{key} is longer than {MAX_LENGTHS[key]} characters")
        texts[key] = value or None
    tier_text = get("tier", "")
    tier = parse_tier(tier_text) if tier_text else Tier.C
    if tier is None:
        raise _RowError(f"tier {tier_text!r} is not A, B or C")
    status_text = get("status", "")
    status = parse_status(status_text) if status_text else CustomerStatus.PROSPECT
    if status is None:
        raise _RowError(f"status {status_text!r} is not 潜在/活跃/休眠 (prospect/active/dormant)")
    phone_text = get("phone", "")
    phone = None
    if phone_text:
        parts = phone_parts(phone_text)
        if parts is None:
            raise _RowError(f"phone {phone_text!r} is not a phone number")
        phone = parts[0]
    latitude, longitude = _coordinates(get("latitude", ""), get("longitude", ""))
    owner_text = fold(get("owner", ""))
    owner = _owner(owner_text, owners) if owner_text else None
    values = CustomerInput(
        name=name, contact=texts["contact"], phone=phone, address=texts["address"],
        region=texts["region"], industry=texts["industry"], tier=tier, status=status,
        notes=texts["notes"], owner_id=owner.id if owner else None,
        latitude=latitude, longitude=longitude,
    )  # fmt: skip
    return values, owner, warnings


def _coordinates(lat_text: str, lon_text: str) -> tuple[float | None, float | None]:
    if not lat_text and not lon_text:
        return None, None
    try:
        latitude, longitude = float(fold(lat_text)), float(fold(lon_text))
    except ValueError:
        raise _RowError(f"latitude/longitude {lat_text!r}, {lon_text!r} are not numbers") from None
    if not (math.isfinite(latitude) and math.isfinite(longitude)) or not valid_point(
        latitude, longitude
    ):
        raise _RowError(f"latitude/longitude {lat_text}, {lon_text} are out of range")
    return latitude, longitude
