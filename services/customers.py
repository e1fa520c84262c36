"""Customers: the target-customer record, its validation, duplicates, search and visibility.

A rep and a manager see their own team's customers; directors and admins see every team's.
Every lookup by id goes through :func:`get_visible`, so an id from a button or an inline result
never reaches another team's customer.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, bindparam, func, literal, or_, true, union_all
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from models.common import Role
from models.customer import Customer, CustomerStatus, Tier
from models.plan import PlannedVisit
from models.user import User
from models.visit import Visit
from services import audit
from services.geo import valid_point
from services.users import Actor

SEARCH_LIMIT = 8
MAX_LENGTHS = {
    "name": 120, "contact": 60, "address": 200, "region": 60, "industry": 60, "notes": 1000,
}  # fmt: skip
TEXT_FIELDS = ("name", "contact", "phone", "address", "region", "industry", "notes")
# The fields a person edits in chat, in the order the forms ask them.
EDITABLE_FIELDS = (
    "name", "contact", "phone", "address", "region", "industry", "tier", "status", "notes",
    "location", "owner",
)  # fmt: skip

_TIER_WORDS = {"a": Tier.A, "b": Tier.B, "c": Tier.C}
_STATUS_WORDS = {
    "prospect": CustomerStatus.PROSPECT, "潜在": CustomerStatus.PROSPECT,
    "潜在客户": CustomerStatus.PROSPECT, "意向": CustomerStatus.PROSPECT,
    "active": CustomerStatus.ACTIVE, "活跃": CustomerStatus.ACTIVE,
    "活跃客户": CustomerStatus.ACTIVE, "合作中": CustomerStatus.ACTIVE,
    "dormant": CustomerStatus.DORMANT, "休眠": CustomerStatus.DORMANT,
    "休眠客户": CustomerStatus.DORMANT, "沉睡": CustomerStatus.DORMANT,
}  # fmt: skip
_PHONE_ALLOWED = re.compile(r"^\+?[0-9 ()\-./]+$")
# Text that an inline search result puts into the chat: "🏢 Name · #C12".
CUSTOMER_REF = re.compile(r"#C(\d{1,10})\b")
INLINE_CARD = re.compile(r"🏢 .* · #C\d{1,10}", re.DOTALL)


class CustomerExistsError(UserFacingError):
    """A customer with the same normalized name or phone exists in the team."""

    def __init__(self, existing: Customer, by: str) -> None:
        super().__init__(f"customers.duplicate_{by}", name=existing.name)
        self.existing = existing
        self.by = by


@dataclass
class CustomerInput:
    """The values of a new customer, already validated by :func:`clean_field`."""

    name: str
    contact: str | None = None
    phone: str | None = None
    address: str | None = None
    region: str | None = None
    industry: str | None = None
    tier: Tier = Tier.C
    status: CustomerStatus = CustomerStatus.PROSPECT
    notes: str | None = None
    owner_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    card_file_id: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomerInput:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and v is not None}
        if "tier" in values:
            values["tier"] = Tier(values["tier"])
        if "status" in values:
            values["status"] = CustomerStatus(values["status"])
        return cls(**values)


def fold(text: str) -> str:
    """Full-width to half-width, lower case, spaces collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def name_key(name: str) -> str:
    """The identity of a name: letters and digits only, folded ("ＡＢＣ 公司" == "abc公司")."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in ("L", "N"))[:120]


def phone_parts(raw: str) -> tuple[str, str] | None:
    """(shown, key) for a phone number, or None when it is not one.

    Full-width digits are folded; "+86", "0086" and "86" before a Chinese mobile are dropped from
    the key, so "+86 137 0404 9619", "137-0404-9619" and "１３７０４０４９６１９" are one number.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text or not _PHONE_ALLOWED.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not 5 <= len(digits) <= 15:
        return None
    if len(digits) == 11 and digits.startswith("1"):
        shown = f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    else:
        shown = re.sub(r"\s+", " ", text.replace("(", " (").replace(")", ") ")).strip()[:40]
    return shown, digits


def clean_text(field_name: str, raw: str | None) -> str | None:
    """Tidy a free-text field; None when empty. Raises when too long."""
    if raw is None:
        return None
    text = fold(raw) if field_name != "notes" else raw.strip()
    if not text:
        return None
    limit = MAX_LENGTHS[field_name]
    if len(text) > limit:
        raise UserFacingError("customers.too_long", limit=limit, length=len(text))
    return text


def clean_field(field_name: str, raw: str) -> Any:
    """Validate one typed value; raises UserFacingError saying what is wrong."""
    if field_name == "name":
        name = clean_text("name", raw)
        if name is None or not name_key(name):
            raise UserFacingError("customers.name_empty")
        return name
    if field_name == "phone":
        parts = phone_parts(raw)
        if parts is None:
            raise UserFacingError("customers.phone_invalid")
        return parts[0]
    if field_name == "tier":
        tier = parse_tier(raw)
        if tier is None:
            raise UserFacingError("customers.tier_invalid", value=raw[:20])
        return tier
    if field_name == "status":
        status = parse_status(raw)
        if status is None:
            raise UserFacingError("customers.status_invalid", value=raw[:20])
        return status
    return clean_text(field_name, raw)


def parse_tier(raw: str) -> Tier | None:
    text = fold(raw).lower().removesuffix("类").removesuffix("级").strip()
    return _TIER_WORDS.get(text)


def parse_status(raw: str) -> CustomerStatus | None:
    return _STATUS_WORDS.get(fold(raw).lower())


def visibility(actor: Actor) -> ColumnElement[bool]:
    """The customers an actor may see: their team's, or all for directors and admins."""
    return _visible_to(_visibility_shape(actor), actor.team_id)


def _visibility_shape(actor: Actor) -> str:
    if actor.sees_all_teams():
        return "all"
    return "none" if actor.team_id is None else "team"


def _visible_to(shape: str, team: Any) -> ColumnElement[bool]:
    """``visibility`` by its shape; ``team`` may be a parameter, for statements built once."""
    if shape == "all":
        return true()
    if shape == "none":
        return col(Customer.id).is_(None)
    return col(Customer.team_id) == team


async def get_visible(session: AsyncSession, actor: Actor, customer_id: int) -> Customer:
    """The customer, if the actor may see it; otherwise "not found" (never "not yours")."""
    customer = await session.get(Customer, customer_id)
    if customer is None or not can_see(actor, customer):
        raise NotAllowedError("customers.not_found")
    return customer


def can_see(actor: Actor, customer: Customer) -> bool:
    return actor.sees_all_teams() or (
        actor.team_id is not None and customer.team_id == actor.team_id
    )


async def find_duplicate(
    session: AsyncSession,
    team_id: int,
    *,
    name: str | None = None,
    phone: str | None = None,
    exclude_id: int | None = None,
) -> tuple[Customer, str] | None:
    """An existing customer of the team with the same normalized name (or else phone)."""
    checks: list[tuple[str, ColumnElement[bool]]] = []
    if name:
        checks.append(("name", col(Customer.name_key) == name_key(name)))
    parts = phone_parts(phone) if phone else None
    if parts is not None:
        checks.append(("phone", col(Customer.phone_key) == parts[1]))
    for by, condition in checks:
        query = select(Customer).where(col(Customer.team_id) == team_id, condition)
        if exclude_id is not None:
            query = query.where(col(Customer.id) != exclude_id)
        found = (await session.exec(query.order_by(col(Customer.id)))).first()
        if found is not None:
            return found, by
    return None


def _snapshot(customer: Customer) -> dict[str, Any]:
    return {
        "name": customer.name, "contact": customer.contact, "phone": customer.phone,
        "address": customer.address, "region": customer.region, "industry": customer.industry,
        "tier": str(customer.tier), "status": str(customer.status),
        "owner_id": customer.owner_id, "latitude": customer.latitude,
        "longitude": customer.longitude, "notes": customer.notes, "team_id": customer.team_id,
    }  # fmt: skip


async def create_customer(
    session: AsyncSession,
    *,
    actor: Actor | None,
    team_id: int,
    values: CustomerInput,
    now: datetime,
    source: str = "chat",
    allow_same_phone: bool = False,
) -> Customer:
    """Create a customer in a team, refusing a duplicate name (or phone, unless allowed)."""
    if actor is not None and not actor.sees_all_teams() and actor.team_id != team_id:
        raise NotAllowedError()
    duplicate = await find_duplicate(
        session, team_id, name=values.name, phone=None if allow_same_phone else values.phone
    )
    if duplicate is not None:
        raise CustomerExistsError(*duplicate)
    parts = phone_parts(values.phone) if values.phone else None
    customer = Customer(
        team_id=team_id,
        name=values.name,
        name_key=name_key(values.name),
        contact=values.contact,
        phone=parts[0] if parts else None,
        phone_key=parts[1] if parts else None,
        address=values.address,
        region=values.region,
        industry=values.industry,
        tier=values.tier,
        status=values.status,
        notes=values.notes,
        owner_id=values.owner_id,
        latitude=values.latitude,
        longitude=values.longitude,
        card_file_id=values.card_file_id,
        source=source,
        created_by_id=actor.user_id if actor else None,
        created_at=now,
        updated_at=now,
    )
    session.add(customer)
    await session.flush()
    audit.record(
        session, at=now, action="customer.created", entity="customer", entity_id=customer.id,
        actor_id=actor.user_id if actor else None, actor_label="" if actor else source,
        after=_snapshot(customer),
    )  # fmt: skip
    return customer


async def update_customer(
    session: AsyncSession,
    *,
    actor: Actor,
    customer_id: int,
    changes: dict[str, Any],
    now: datetime,
    reason: str = "",
) -> Customer:
    """Change some fields of a visible customer; the audit row keeps the old and new values."""
    customer = await get_visible(session, actor, customer_id)
    if "owner_id" in changes:
        await _check_owner(session, actor, customer, changes["owner_id"])
    if changes.get("name") or changes.get("phone"):
        duplicate = await find_duplicate(
            session, customer.team_id, name=changes.get("name"), phone=changes.get("phone"),
            exclude_id=customer.id,
        )  # fmt: skip
        if duplicate is not None:
            raise CustomerExistsError(*duplicate)
    before = _snapshot(customer)
    for key, value in changes.items():
        if key == "phone":
            parts = phone_parts(value) if value else None
            customer.phone, customer.phone_key = (parts[0], parts[1]) if parts else (None, None)
        elif key == "name":
            customer.name, customer.name_key = value, name_key(value)
        elif key in ("latitude", "longitude", "owner_id", *TEXT_FIELDS, "tier", "status"):
            setattr(customer, key, value)
        else:
            raise ValueError(f"not a customer field: {key}")
    lat, lon = customer.latitude, customer.longitude
    if lat is not None and lon is not None and not valid_point(lat, lon):
        raise UserFacingError("customers.location_invalid")
    after = _snapshot(customer)
    if after == before:
        return customer
    customer.updated_at = now
    session.add(customer)
    changed = [key for key in after if after[key] != before[key]]
    audit.record(
        session, at=now, action="customer.updated", entity="customer", entity_id=customer.id,
        actor_id=actor.user_id, before={k: before[k] for k in changed},
        after={k: after[k] for k in changed}, reason=reason,
    )  # fmt: skip
    await session.flush()
    return customer


async def _check_owner(
    session: AsyncSession, actor: Actor, customer: Customer, owner_id: int | None
) -> None:
    if actor.role is Role.REP:
        raise NotAllowedError("customers.owner_managers_only")
    if owner_id is None:
        return
    owner = await session.get(User, owner_id)
    if owner is None or not owner.active or owner.team_id != customer.team_id:
        raise UserFacingError("customers.owner_not_in_team")


async def possible_owners(session: AsyncSession, team_id: int) -> list[User]:
    query = (
        select(User)
        .where(col(User.team_id) == team_id, col(User.active).is_(True))
        .where(col(User.role).in_([Role.REP, Role.MANAGER]))
        .order_by(col(User.display_name))
    )
    return list((await session.exec(query)).all())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class SearchResult:
    customers: list[Customer]
    total: int


async def search(
    session: AsyncSession, actor: Actor, fragment: str, limit: int = SEARCH_LIMIT
) -> SearchResult:
    """Customers whose name, contact or phone contains the fragment, the actor's own first."""
    text = fold(fragment)[:60]
    key = name_key(text)
    digits = re.sub(r"\D", "", text)
    if not key:
        return SearchResult([], 0)
    pattern = f"%{_escape_like(text.lower())}%"
    conditions: list[ColumnElement[bool]] = [
        func.lower(col(Customer.name)).like(pattern, escape="\\"),
        func.lower(col(Customer.contact)).like(pattern, escape="\\"),
        col(Customer.name_key).like(f"%{_escape_like(key)}%", escape="\\"),
    ]
    if len(digits) >= 3 and len(digits) == len(key):
        conditions.append(col(Customer.phone_key).like(f"%{digits}%"))
    where = (visibility(actor), or_(*conditions))
    total = (await session.exec(select(func.count()).select_from(Customer).where(*where))).one()
    mine_first = (col(Customer.owner_id) == actor.user_id).desc()
    query = (
        select(Customer)
        .where(*where)
        .order_by(mine_first, func.length(col(Customer.name)), col(Customer.name))
        .limit(limit)
    )
    return SearchResult(list((await session.exec(query)).all()), int(total))


@dataclass(frozen=True)
class Shortlist:
    """Customers to offer as buttons, as (id, name): the rep's plan for a day, not visited
    yet, by name; and the customers they visited most recently, then their newest own ones."""

    planned: list[tuple[int, str]]
    recent: list[tuple[int, str]]


_ID_NAME = (col(Customer.id), col(Customer.name))


def _part(number: int) -> Any:
    return literal(number).label("part")


@functools.cache
def _shortlist_statement(shape: str) -> Any:
    """One statement for every list of /visit's customer buttons (three queries before, each
    built anew on every /visit): the plan's, the last visited and the newest own customers,
    each branch ordered and limited on its own, told apart by ``part``."""
    limit = bindparam("limit", type_=Integer)
    by_name = func.row_number().over(order_by=col(Customer.name))
    planned = (
        select(_part(0), by_name.label("rank"), *_ID_NAME)
        .join(PlannedVisit, col(PlannedVisit.customer_id) == col(Customer.id))
        .where(
            col(PlannedVisit.rep_id) == bindparam("rep"),
            col(PlannedVisit.planned_on) == bindparam("day", type_=Date),
            col(PlannedVisit.done_visit_id).is_(None),
        )
        .order_by(by_name)
    )
    last = func.max(col(Visit.visited_at)).label("last")
    visited = (
        select(col(Visit.customer_id), last)
        .where(col(Visit.rep_id) == bindparam("rep"), col(Visit.deleted_at).is_(None))
        .group_by(col(Visit.customer_id))
        .subquery()
    )
    latest = func.row_number().over(order_by=visited.c.last.desc())
    recent = (
        select(_part(1), latest.label("rank"), *_ID_NAME)
        .join(visited, col(Customer.id) == visited.c.customer_id)
        .where(_visible_to(shape, bindparam("team")))
        .order_by(latest)
        .limit(limit)
    )
    # The newest own customers fill up the list; those also visited are left out below, so
    # ``limit`` of them are always enough.
    newest = func.row_number().over(
        order_by=(col(Customer.created_at).desc(), col(Customer.id).desc())
    )
    owned = (
        select(_part(2), newest.label("rank"), *_ID_NAME)
        .where(_visible_to(shape, bindparam("team")), col(Customer.owner_id) == bindparam("rep"))
        .order_by(newest)
        .limit(limit)
    )
    every = union_all(*(select(part.subquery()) for part in (planned, recent, owned))).subquery()
    return select(every.c.part, every.c.id, every.c.name).order_by(every.c.part, every.c.rank)


async def shortlist(
    session: AsyncSession, actor: Actor, *, planned_on: date | None = None, limit: int = 6
) -> Shortlist:
    """The customers /visit and the other pickers offer first, in one round trip; the plan's
    only for ``planned_on``."""
    params = {"rep": actor.user_id, "day": planned_on, "team": actor.team_id, "limit": limit}
    statement = _shortlist_statement(_visibility_shape(actor))
    rows = (await session.exec(statement, params=params)).all()
    planned = [(cid, name) for part, cid, name in rows if part == 0]
    recent = [(cid, name) for part, cid, name in rows if part == 1]
    seen = {cid for cid, _ in recent}
    recent += [(cid, name) for part, cid, name in rows if part == 2 and cid not in seen]
    return Shortlist(planned=planned, recent=recent[:limit])


async def recent_customer_names(
    session: AsyncSession, actor: Actor, limit: int = 6
) -> list[tuple[int, str]]:
    """Id and name of the customers the actor visited most recently, then of their newest own
    customers: what a list of buttons needs (reading whole customer rows cost more than the
    query, on every /visit)."""
    return (await shortlist(session, actor, limit=limit)).recent


async def recent_customers(session: AsyncSession, actor: Actor, limit: int = 6) -> list[Customer]:
    """``recent_customer_names``' customers, whole (an inline result shows more than a name)."""
    ids = [cid for cid, _ in await recent_customer_names(session, actor, limit)]
    if not ids:
        return []
    rows = await session.exec(select(Customer).where(col(Customer.id).in_(ids)))
    by_id = {customer.id: customer for customer in rows.all()}
    return [by_id[cid] for cid in ids if cid in by_id]


async def names_of(session: AsyncSession, user_ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {uid for uid in user_ids if uid is not None}
    if not wanted:
        return {}
    rows = await session.exec(
        select(col(User.id), col(User.display_name)).where(col(User.id).in_(wanted))
    )
    return {uid: name for uid, name in rows.all() if uid is not None}


async def last_visit_at(session: AsyncSession, customer_id: int) -> datetime | None:
    query = select(func.max(col(Visit.visited_at))).where(
        col(Visit.customer_id) == customer_id, col(Visit.deleted_at).is_(None)
    )
    return (await session.exec(query)).one()


def is_inline_card(text: str) -> bool:
    """The whole message is what an inline result sends ("🏢 Name · #C12"), not a note."""
    return INLINE_CARD.fullmatch(text.strip()) is not None


def customer_ref(text: str) -> int | None:
    """The customer id in a message that an inline search result produced (``#C12``)."""
    match = CUSTOMER_REF.search(text)
    return int(match.group(1)) if match else None


async def common_values(
    session: AsyncSession, team_id: int, field_name: str, limit: int = 6
) -> list[str]:
    """The team's most used regions or industries, to offer as buttons."""
    column = {"region": col(Customer.region), "industry": col(Customer.industry)}[field_name]
    query = (
        select(column, func.count().label("uses"))
        .where(col(Customer.team_id) == team_id, column.is_not(None))
        .group_by(column)
        .order_by(func.count().desc(), column)
        .limit(limit)
    )
    return [value for value, _ in (await session.exec(query)).all() if value]
