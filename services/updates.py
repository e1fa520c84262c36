"""Exactly-once handling of Telegram updates, and per-person serialisation across instances."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    bindparam,
    cast,
    column,
    delete,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import psycopg2
from sqlalchemy.engine import Dialect
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import begin_with_lock
from models.processed_update import ProcessedUpdate
from models.user import User
from services import forms, sql

_NULL = literal_column("'\x02'", String)
_SEPARATOR = literal_column("'\x1f'", String)


def _fingerprint(telegram_id: Any) -> Any:
    """Every column of the person's users row as one text: any change to the row, by any
    instance or tool, changes it (a timestamp would not: two changes may share a clock tick)."""
    # "||" on both databases (SQLite before 3.44 has no concat()); \x02 stands for NULL. The
    # separators are written into the SQL, so each execution binds only the update's values.
    text_of_row: Any = literal_column("''", String)
    for field in User.__table__.columns:  # type: ignore[attr-defined]
        text_of_row = text_of_row + func.coalesce(cast(field, String), _NULL) + _SEPARATOR
    return select(text_of_row).where(col(User.telegram_id) == telegram_id).scalar_subquery()


# Per dialect, the statement of ``first_delivery_of``, built once, as the SQL text it compiles to:
# building its expression (the fingerprint's ~60 SQL operators) cost more than running it, and
# so did the walk SQLAlchemy makes over an expression to find it in its compiled cache; a text
# statement's cache key is its string.
_FIRST_DELIVERY: dict[str, Any] = {}
_PARAMETERS = ("update_id", "received_at", "telegram_id")


def _first_delivery_statement(dialect: Dialect) -> Any:
    statement = _FIRST_DELIVERY.get(dialect.name)
    if statement is None:
        sender = bindparam("telegram_id", type_=BigInteger)
        received_at = ProcessedUpdate.__table__.c.received_at.type  # type: ignore[attr-defined]
        built = (
            sql.insert_for(dialect.name, ProcessedUpdate)
            .values(
                update_id=bindparam("update_id", type_=BigInteger),
                received_at=bindparam("received_at", type_=received_at),
            )
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(_fingerprint(sender), *forms.open_form_columns(sender))
        )
        # Named parameters, as text() takes them, and no casts in the text (asyncpg's dialect adds
        # them to the text's parameters when it runs it); the fingerprint's literals keep their
        # values.
        generic = psycopg2.dialect if dialect.name == "postgresql" else sqlite.dialect
        compiled = built.compile(dialect=generic(paramstyle="named"))
        literals = [
            bindparam(name, value, type_=String)
            for name, value in compiled.params.items()
            if name not in _PARAMETERS
        ]
        statement = _FIRST_DELIVERY[dialect.name] = (
            text(str(compiled))
            .bindparams(
                bindparam("update_id", type_=BigInteger),
                bindparam("received_at", type_=received_at),
                sender,
                *literals,
            )
            .columns(column("fingerprint", String), *forms.open_form_types())
        )
    return statement


async def first_delivery_of(
    session: AsyncSession, update_id: int, now: datetime, telegram_id: int
) -> tuple[bool, str | None]:
    """Record the update in the caller's transaction; False if it was handled already. In the
    same statement, the fingerprint of the sender's users row (None: no row), so that a cached
    sender is checked without a round trip of its own, and the sender's open form, kept in the
    session for ``forms.load`` (a form step needs no SELECT of its own either).

    The row commits together with the update's effects, so a delivery whose handling failed
    (and rolled back) is handled again when Telegram retries it. On PostgreSQL a second
    delivery arriving meanwhile waits on the first one's row lock and then sees the conflict.
    """
    statement = _first_delivery_statement(session.get_bind().dialect)
    row = (
        await session.exec(
            statement,
            params={"update_id": update_id, "received_at": now, "telegram_id": telegram_id},
        )
    ).first()
    if row is None:
        return False, None
    forms.remember_read(session, telegram_id, tuple(row[1:]))
    return True, row[0]


_PERSON_LOCK = text("SELECT pg_advisory_xact_lock(:key)").bindparams(
    bindparam("key", type_=BigInteger)
)


async def serialize_person(session: AsyncSession, telegram_id: int) -> None:
    """Hold a transaction-scoped lock on this person, so that two instances handling their
    updates at the same moment take turns. SQLite needs none: its writers already queue."""
    if sql.is_postgresql(session) and not await begin_with_lock(session, telegram_id):
        await session.exec(_PERSON_LOCK, params={"key": telegram_id})  # type: ignore[call-overload]


async def forget_before(session: AsyncSession, before: datetime) -> int:
    """Telegram stops retrying a delivery after a day; older ids need not be kept."""
    result = await session.exec(
        delete(ProcessedUpdate).where(col(ProcessedUpdate.received_at) < before)
    )
    return int(result.rowcount or 0)
