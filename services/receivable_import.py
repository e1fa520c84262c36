"""Import of receivables from the back office's CSV or XLSX exports.

``salesbot import receivables FILE`` or a manager sending the file to the bot. Headers in Chinese
or English: 单据号 document number, 客户名称 customer, 金额 amount, 币种 currency, 开票日期 issue
date, 到期日 due date, 负责人 owner rep. The files are read by the customer importer's reader
(UTF-8 with or without BOM, GBK, XLSX).

The document number identifies a receivable: importing the same file again updates what changed
and never duplicates. Every row is checked on its own; bad rows (unknown customer or rep, bad
dates, amounts that are not positive, a document of another team) are reported by their row
number (the header is row 1) and skipped, the good rows are imported.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import type_coerce
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.money import ZERO, Money
from core.settings import Settings
from models.common import Role
from models.customer import Customer
from models.receivable import Receivable, ReceivableStatus
from models.team import Team
from models.user import User
from services import audit
from services.customer_import import Table, fold, read_table, read_table_data
from services.customers import name_key
from services.money import MAX_AMOUNT, MoneyUnreadable, normalize_currency, parse_money
from services.receivables import MAX_DOCUMENT_NO, paid_subquery, snapshot
from services.team_context import TeamContext, context_of
from services.users import Actor, OwnerDirectory, OwnerMatch, owner_directory

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "document_no": ("单据号", "单号", "单据编号", "发票号", "发票号码", "合同号", "合同编号",
                    "document no", "document number", "document", "doc no", "invoice no",
                    "invoice number", "invoice", "contract no", "contract", "number"),
    "customer": ("客户名称", "客户名", "客户", "公司名称", "customer", "customer name", "name",
                 "company"),
    "amount": ("金额", "应收金额", "单据金额", "合同金额", "amount", "total", "sum"),
    "currency": ("币种", "货币", "币别", "currency"),
    "issued_on": ("开票日期", "单据日期", "签订日期", "日期", "issue date", "issued",
                  "invoice date", "date"),
    "due_on": ("到期日", "到期日期", "应收日期", "付款日期", "due date", "due", "due on"),
    "owner": ("负责人", "业务员", "销售", "owner", "owner rep", "rep", "sales rep"),
}  # fmt: skip
REQUIRED = ("document_no", "customer", "amount", "due_on")
_DAY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")
_COMPACT_DAY = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def read_receivables(path: Path) -> Table:
    """The rows of a receivables file on disk."""
    return read_table(path, HEADER_ALIASES, REQUIRED)


def read_receivables_data(name: str, data: bytes, *, time_limit: float | None = None) -> Table:
    """The rows of a receivables file sent to the bot (refused after ``time_limit`` s)."""
    return read_table_data(name, data, HEADER_ALIASES, REQUIRED, time_limit=time_limit)


def parse_day(text: str) -> date | None:
    """``2026-11-20``, ``2026/11/20``, ``2026年11月20日``, ``20261120``; None otherwise."""
    folded = unicodedata.normalize("NFKC", text).strip()
    folded = re.split(r"[ T]", folded, maxsplit=1)[0] if folded else folded
    match = _DAY.match(folded) or _COMPACT_DAY.match(folded)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


@dataclass(frozen=True)
class RowNote:
    """A problem with one row: a text key and its parameters."""

    row: int
    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReceivableImportReport:
    """What an import did, row by row (shown by views.imports.receivable_import_lines)."""

    created: list[tuple[int, str]] = field(default_factory=list)
    updated: list[tuple[int, str]] = field(default_factory=list)
    unchanged: list[tuple[int, str]] = field(default_factory=list)
    errors: list[RowNote] = field(default_factory=list)
    warnings: list[RowNote] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    # How many rows (new, updated or unchanged) each team got, by team name.
    teams: Counter[str] = field(default_factory=Counter)


class _RowError(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class _Row:
    document_no: str
    team_id: int
    customer_id: int
    owner_id: int | None
    amount: Decimal
    currency: str
    issued_on: date
    due_on: date

    def values(self) -> tuple[Any, ...]:
        return (self.customer_id, self.owner_id, self.amount, self.currency, self.issued_on,
                self.due_on)  # fmt: skip


@dataclass
class _Context:
    settings: Settings
    now: datetime
    team_id: int | None
    teams: dict[int, TeamContext]
    owners: OwnerDirectory
    by_id: dict[int, User]
    customers: dict[tuple[int, str], Customer]
    customer_teams: dict[str, set[int]]


async def _context(
    session: AsyncSession, settings: Settings, team_id: int | None, now: datetime
) -> _Context:
    """What the rows may name. With ``team_id`` only that team's people and customers exist
    for the import, so a manager's file learns nothing about other teams."""
    roles = (Role.REP, Role.MANAGER)
    owners = await owner_directory(session, team_id=team_id, roles=roles)
    users = (
        await session.exec(
            select(User).where(col(User.active).is_(True), col(User.role).in_(roles))
        )
    ).all()
    by_id = {user.id: user for user in users if user.id is not None}
    customers: dict[tuple[int, str], Customer] = {}
    customer_teams: dict[str, set[int]] = {}
    query = select(Customer)
    if team_id is not None:
        query = query.where(col(Customer.team_id) == team_id)
    for customer in (await session.exec(query)).all():
        customers[(customer.team_id, customer.name_key)] = customer
        customer_teams.setdefault(customer.name_key, set()).add(customer.team_id)
    teams = {
        t.id: context_of(t, settings, now)
        for t in (await session.exec(select(Team))).all()
        if t.id is not None
    }
    return _Context(settings, now, team_id, teams, owners, by_id, customers, customer_teams)


Warning = tuple[str, dict[str, Any]]


def _check_row(values: dict[str, str], ctx: _Context) -> tuple[_Row, list[Warning]]:
    get = values.get
    number = " ".join(fold(get("document_no", "")).split())
    if not number:
        raise _RowError("collections.import_no_number")
    if len(number) > MAX_DOCUMENT_NO:
        raise _RowError("collections.import_number_too_long", limit=MAX_DOCUMENT_NO)
    customer_name = fold(get("customer", ""))
    key = name_key(customer_name)
    if not key:
        raise _RowError("collections.import_no_customer")
    owner: User | None = None
    owner_text = fold(get("owner", ""))
    if owner_text:
        outcome, owner = ctx.owners.match(owner_text)
        if outcome is OwnerMatch.AMBIGUOUS:
            raise _RowError("collections.import_ambiguous_rep", name=owner_text)
        if owner is None:
            raise _RowError("collections.import_unknown_rep", name=owner_text)
    team_id = ctx.team_id
    if team_id is None and owner is not None:
        team_id = owner.team_id
    if team_id is None:
        teams = ctx.customer_teams.get(key, set())
        if len(teams) > 1:
            raise _RowError("collections.import_ambiguous_customer", name=customer_name)
        team_id = next(iter(teams), None)
    customer = ctx.customers.get((team_id, key)) if team_id is not None else None
    if customer is None or team_id is None:
        raise _RowError("collections.import_unknown_customer", name=customer_name)
    if owner is None and customer.owner_id in ctx.by_id:
        owner = ctx.by_id[customer.owner_id or 0]
    team = ctx.teams[team_id]
    currency_text = get("currency", "").strip()
    currency = team.rules.collections.currency
    if currency_text:
        named = normalize_currency(currency_text)
        if named is None:
            raise _RowError("collections.import_bad_currency", value=currency_text)
        currency = named
    amount_text = get("amount", "").strip()
    amount, amount_currency = _read_amount(amount_text, currency)
    if currency_text and amount_currency != currency:
        raise _RowError("collections.import_bad_currency", value=amount_text)
    if amount <= 0:
        raise _RowError("collections.import_not_positive", value=amount_text)
    due_text = get("due_on", "").strip()
    due_on = parse_day(due_text)
    if due_on is None:
        raise _RowError("collections.import_bad_due_date", value=due_text)
    issued_text = get("issued_on", "").strip()
    issued_on = parse_day(issued_text) if issued_text else team.today
    if issued_on is None:
        raise _RowError("collections.import_bad_issue_date", value=issued_text)
    if due_on < issued_on:
        # A document cannot fall due before it exists: the row is a typo in the back office.
        raise _RowError(
            "collections.import_due_before_issue",
            issued=issued_on.isoformat(),
            due=due_on.isoformat(),
        )
    warnings: list[Warning] = []
    row = _Row(
        document_no=number, team_id=team_id, customer_id=customer.id or 0,
        owner_id=owner.id if owner else None, amount=amount, currency=amount_currency,
        issued_on=issued_on, due_on=due_on,
    )  # fmt: skip
    return row, warnings


def _read_amount(text: str, currency: str) -> tuple[Decimal, str]:
    """The row's amount, or the row's error naming what is wrong with it."""
    try:
        return parse_money(text, currency)
    except MoneyUnreadable as exc:
        if exc.reason == "too_precise" and exc.decimals == 0:
            raise _RowError("collections.import_amount_no_decimals", value=text,
                            currency=exc.currency) from None  # fmt: skip
        if exc.reason == "too_precise":
            raise _RowError("collections.import_amount_too_precise", value=text,
                            currency=exc.currency, decimals=exc.decimals) from None  # fmt: skip
        if exc.reason == "too_large":
            raise _RowError("collections.import_amount_too_large", value=text,
                            maximum=f"{MAX_AMOUNT:,}") from None  # fmt: skip
        if exc.reason == "unknown_currency":
            raise _RowError("collections.import_bad_currency", value=text) from None
        raise _RowError("collections.import_bad_amount", value=text) from None


async def import_receivables(
    session: AsyncSession,
    table: Table,
    *,
    settings: Settings,
    team_id: int | None,
    now: datetime,
    actor: Actor | None = None,
) -> ReceivableImportReport:
    """Import the good rows of ``table``: new documents are created, known ones updated.

    ``team_id`` limits the import to one team (a manager's file, or ``--team``); without it
    each row goes to its owner's team, or the one team that has the customer. The owner column
    names a person by employee code or @username, never by display name. A document number
    identifies a receivable within its team.
    """
    report = ReceivableImportReport(ignored_columns=table.ignored_columns)
    ctx = await _context(session, settings, team_id, now)
    numbers = {" ".join(fold(row.values.get("document_no", "")).split()) for row in table.rows}
    query = select(Receivable).where(col(Receivable.document_no).in_(numbers))
    if team_id is not None:
        query = query.where(col(Receivable.team_id) == team_id)
    known = {(r.team_id, r.document_no): r for r in (await session.exec(query)).all()}
    paid = await _paid_sums(session, [r.id for r in known.values() if r.id is not None])
    seen: dict[tuple[int, str], tuple[int, tuple[Any, ...]]] = {}
    for source in table.rows:
        try:
            row, warnings = _check_row(source.values, ctx)
            key = (row.team_id, row.document_no)
            first = seen.get(key)
            if first is not None:
                if first[1] == row.values():
                    report.warnings.append(
                        RowNote(source.number, "collections.import_repeated_same",
                                {"number": row.document_no, "first": first[0]})
                    )  # fmt: skip
                    continue
                raise _RowError(
                    "collections.import_repeated_different", number=row.document_no,
                    first=first[0],
                )  # fmt: skip
            existing = known.get(key)
            elsewhere = [t for (t, n) in known if n == row.document_no and t != row.team_id]
            if existing is None and elsewhere:
                # Only a company-wide import sees other teams' documents: a document whose owner
                # or customer moved must not become a second, duplicate balance.
                other = ctx.teams.get(elsewhere[0])
                raise _RowError(
                    "collections.import_number_in_other_team", number=row.document_no,
                    team=other.name if other else str(elsewhere[0]),
                )  # fmt: skip
            if existing is None:
                known[key] = await _create(session, row, ctx, actor)
                report.created.append((source.number, row.document_no))
            elif _update(session, existing, row, paid.get(existing.id or 0, ZERO), ctx, actor):
                report.updated.append((source.number, row.document_no))
            else:
                report.unchanged.append((source.number, row.document_no))
            seen[key] = (source.number, row.values())
            team = ctx.teams.get(row.team_id)
            report.teams[team.name if team else str(row.team_id)] += 1
            report.warnings.extend(RowNote(source.number, k, p) for k, p in warnings)
        except _RowError as error:
            report.errors.append(RowNote(source.number, error.key, error.params))
    await session.flush()
    return report


async def _paid_sums(session: AsyncSession, ids: list[int]) -> dict[int, Decimal]:
    """What settled each receivable so far: payments, credit notes and write-offs."""
    if not ids:
        return {}
    settled = paid_subquery()
    query = select(
        settled.c.receivable_id,
        type_coerce(settled.c.paid + settled.c.adjusted, Money()),
    ).where(settled.c.receivable_id.in_(ids))
    return {rid: total for rid, total in (await session.exec(query)).all()}  # type: ignore[call-overload]


async def _create(
    session: AsyncSession, row: _Row, ctx: _Context, actor: Actor | None
) -> Receivable:
    receivable = Receivable(
        team_id=row.team_id, customer_id=row.customer_id, owner_id=row.owner_id,
        document_no=row.document_no, amount=row.amount, currency=row.currency,
        issued_on=row.issued_on, due_on=row.due_on, source="import",
        created_by_id=actor.user_id if actor else None, created_at=ctx.now, updated_at=ctx.now,
    )  # fmt: skip
    session.add(receivable)
    await session.flush()
    audit.record(
        session, at=ctx.now, action="receivable.imported", entity="receivable",
        entity_id=receivable.id, actor_id=actor.user_id if actor else None,
        actor_label="" if actor else "import", after=snapshot(receivable),
    )  # fmt: skip
    return receivable


def _update(
    session: AsyncSession,
    receivable: Receivable,
    row: _Row,
    paid: Decimal,
    ctx: _Context,
    actor: Actor | None,
) -> bool:
    """Apply a re-imported row; False when nothing changed."""
    before = snapshot(receivable)
    if row.amount < paid:
        raise _RowError(
            "collections.import_below_paid", number=row.document_no,
            paid=f"{paid} {receivable.currency}",
        )  # fmt: skip
    if row.currency != receivable.currency and paid > 0:
        raise _RowError("collections.import_currency_paid", number=row.document_no)
    current = (receivable.customer_id, receivable.owner_id, receivable.amount,
               receivable.currency, receivable.issued_on, receivable.due_on)  # fmt: skip
    if current == row.values():
        return False
    if row.due_on != receivable.due_on:
        # A new due date starts the schedule again from it.
        receivable.reminded_step = None
        receivable.dunning_round += 1
    (receivable.customer_id, receivable.owner_id, receivable.amount, receivable.currency,
     receivable.issued_on, receivable.due_on) = row.values()  # fmt: skip
    if receivable.status != ReceivableStatus.DISPUTED:
        paid_off = receivable.amount <= paid
        # Closed by a credit note or a write-off stays closed: it was not paid.
        settled = ReceivableStatus.CLOSED if receivable.status == ReceivableStatus.CLOSED else (
            ReceivableStatus.PAID)  # fmt: skip
        receivable.status = settled if paid_off else ReceivableStatus.OPEN
        receivable.paid_at = (receivable.paid_at or ctx.now) if paid_off else None
    receivable.updated_at = ctx.now
    session.add(receivable)
    after = snapshot(receivable)
    changed = [key for key in after if after[key] != before[key]]
    audit.record(
        session, at=ctx.now, action="receivable.updated", entity="receivable",
        entity_id=receivable.id, actor_id=actor.user_id if actor else None,
        actor_label="" if actor else "import", before={k: before[k] for k in changed},
        after={k: after[k] for k in changed}, reason="re-imported",
    )  # fmt: skip
    return True
